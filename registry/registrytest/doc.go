// Package registrytest is the conformance suite every registry.Store
// passes: memstore in memory, and sqlstore on SQLite, MySQL/MariaDB and
// PostgreSQL.
//
// # Overview
//
// A store's test calls Run with a Factory that makes fresh, empty stores:
//
//	func TestConformance(t *testing.T) {
//		registrytest.Run(t, registrytest.Factory{
//			New: func(t *testing.T) registry.Store { return newEmptyStore(t) },
//		})
//	}
//
// Run groups its subtests by repository (Devices, Targets, PushMessages,
// Deliveries, Splits, Summaries, Reads, Identifiers, CenterMessages, Concurrency) and names
// each after the rule it proves, so a failure reads as the semantic the
// store broke, for example Deliveries/FinishWithStaleToken or
// Targets/HostileUserNumsMatchLiterally.
//
// # What it proves
//
//   - Devices: upsert by (platform, uuid); one link per (user, device);
//     one active user per device; logout ownership; re-registration clears a
//     disabled token; every validation error names its field and writes
//     nothing.
//   - Targets: only active links to devices with a usable token, of the
//     listed users only, ordered by link id, paged by keyset so every target
//     comes exactly once; user_nums matched literally (quotes, LIKE
//     wildcards, case, emoji); DisableTokens matches (push_platform,
//     platform, token) exactly.
//   - Push messages: ids and the summary columns (registry.Summarize) set on
//     creation; DedupeKey and IdempotencyKey conflicts and validation errors
//     write nothing; 4-byte UTF-8 and the longest allowed values round-trip
//     byte for byte.
//   - Claims, for deliveries and center messages: only due, unclaimed or
//     expired rows, in the documented order, up to Limit; attempts counted;
//     finishing guarded by the claim token (ErrClaimLost for a stale one,
//     nothing changed); summaries follow every finish; reschedules respected.
//   - Validation is the registry's on every store: a create or a finish
//     with a value its column would refuse (an unknown or split state, an
//     out-of-range integer, too long or invalid UTF-8 text, a token with a
//     comma) is an ErrInvalid naming the field, and writes nothing; the
//     claim survives it.
//   - Splits: SplitDelivery replaces a claimed delivery by parts with new
//     ids, numbered after the highest Seq of their provider and platform;
//     the split delivery is final and ignored by the summary (each token
//     once, Ret from the parts); parts created claimed are held until their
//     lease ends, the others are due at once; a stale claim, a repeated or
//     stored idempotency key and invalid parts write nothing.
//   - Summaries: a push of 60 deliveries of 50 tokens, finished one by one
//     in every way (accepted and polled, done, failed, rate-limited and
//     resent, split), keeps both platforms' summary columns equal to
//     registry.Summarize of its deliveries after every write; so does a
//     message whose running account the store lost (Factory.ForgetTallies:
//     rows written before the store kept one).
//   - Reads: ListUserDevices lists every link of a user, active or not,
//     with its device and token state; a push's UserNums are stored once
//     each and answer IsPushMessageUser; ListPushMessages lists newest
//     first by user, state (registry.PushState) and a [since, until) range,
//     refuses bad queries naming the field, and pages by keyset so that
//     pages run while other stores insert neither repeat nor skip a push
//     that existed when paging began.
//   - Identifiers: trailing spaces are not part of a uuid, user_num,
//     push_platform, dedupe_key, idempotency_key or token, leading ones
//     are; DisableTokens reads its platform argument like stored platforms;
//     ids beyond the product brief's int(11) columns are not found (ErrNotFound,
//     ErrClaimLost, an empty list or page).
//   - Concurrency: 8 stores (Factory.NewShared: 8 connection pools over one
//     database) claiming 1,000 rows never claim one twice; an expired lease
//     frees a row for another instance and voids the old token; concurrent
//     finishes keep a message's summary whole; concurrent first
//     registrations of one new device make one device; concurrent
//     registrations of one device leave exactly one active user; in 20
//     trials, first registrations of one push token on three new devices
//     at once, and a burst of ten registrations of one token on three
//     devices, leave the token enabled on exactly one device and answer
//     no error (deadlocks are the store's to retry).
//
// # Time
//
// The suite never sleeps and never reads the real clock. Claims run at
// explicit times around a fixed base time (UTC, whole seconds), so stores
// that keep DATETIME values to the second compare exactly and the outcome
// never depends on scheduling. Store-stamped CreatedAt/UpdatedAt values are
// not compared, and times are compared as instants, whatever zone the store
// reads them back in.
//
// # Isolation and run time
//
// Subtests whose checks see the whole store (claims, "nothing was
// written") call Factory.New for a fresh store; the others share one store
// per group and keep apart by their own user_nums and uuids. Large fixtures
// are written from 8 goroutines, so the suite stays within seconds on a
// database server.
//
// # Errors
//
// Errors are asserted by kind, never by message: errors.Is against
// registry.ErrNotFound, ErrConflict, ErrClaimLost, ErrNotOwner and
// ErrInvalid, and the Field of a *registry.ValidationError where the
// registry's validators name it. Invalid ClaimParams (Limit or Lease not
// positive, an unknown delivery ClaimKind) must be an ErrInvalid.
//
// # Testing
//
// The suite runs from memstore's tests under -race, and from sqlstore's
// tests on every dialect.
package registrytest
