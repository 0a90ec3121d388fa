package registry

import (
	"context"
	"time"
)

// Devices registers devices and links them to users.
type Devices interface {
	// RegisterDevice upserts d by (Platform, UUID), updating PushToken,
	// PushPlatform, Name, OS and OSVersion, and clearing any token
	// disablement; then, in the same transaction, activates the link of
	// userNum to the device and deactivates the device's links to every other
	// user. A vendor token reaches one app install, so the same token on any
	// other device of the same (PushPlatform, Platform) is disabled (reason
	// TokenTakenOver): an app reinstalled under a new uuid must not receive
	// the pushes of its old record's user. That takeover compares platforms
	// the way DisableTokens does, so it reaches rows other programs wrote. A
	// re-registration updates the row in place: it never draws a new id. It
	// returns the stored device and link.
	RegisterDevice(ctx context.Context, d *Device, userNum string) (Device, UserDevice, error)
	// GetDevice returns the device with id, or ErrNotFound.
	GetDevice(ctx context.Context, id int64) (Device, error)
	// GetUserDevice returns the link with id, or ErrNotFound.
	GetUserDevice(ctx context.Context, id int64) (UserDevice, error)
	// DeactivateLink logs userNum out of the link userDeviceID: ErrNotFound
	// when there is no such link, ErrNotOwner when it belongs to another
	// user. Deactivating an inactive link succeeds.
	DeactivateLink(ctx context.Context, userNum string, userDeviceID int64) error
	// ListTargets returns one page of the pushable devices of q.UserNums,
	// ordered by UserDeviceID. A page is full (q.Limit targets, or
	// DefaultPageSize) unless it is the last: a shorter page, or an empty
	// one, ends the listing. Each
	// Target.Platform is PlatformIOS or PlatformAndroid: a row's platform is
	// compared in lower case without surrounding spaces, and a device whose
	// platform is neither (NULL, "windows") is not a target. Nor is a
	// device whose token a newer device (a higher ID) of the same platform
	// and push platform also holds with the token enabled, as rows other
	// programs wrote may: the phone with the token is the newer device's.
	ListTargets(ctx context.Context, q TargetQuery) ([]Target, error)
	// DisableTokens marks the listed tokens of (pushPlatform, platform)
	// invalid and returns how many devices were changed. platform is
	// compared like ListTargets compares it ("iOS" and " ios" rows are
	// "ios" devices); an empty pushPlatform means DefaultPushPlatform, which
	// also matches rows without one.
	DisableTokens(ctx context.Context, pushPlatform, platform string, tokens []string, reason string) (int64, error)
}

// PushMessages is the outbox of pushes and their deliveries.
type PushMessages interface {
	// CreatePushMessage inserts m and ds in one transaction, setting their
	// IDs, each delivery's PushMessageID, and m's summary columns. A
	// delivery may be created already claimed (ClaimToken and LeaseUntil
	// set), so that its creator sends it without a race. A non-empty
	// m.DedupeKey that exists already fails with ErrConflict and writes
	// nothing.
	CreatePushMessage(ctx context.Context, m *PushMessage, ds []*Delivery) error
	// GetPushMessage returns the message with id, or ErrNotFound.
	GetPushMessage(ctx context.Context, id int64) (PushMessage, error)
	// GetPushMessageByDedupeKey returns the message created with key, or
	// ErrNotFound.
	GetPushMessageByDedupeKey(ctx context.Context, key string) (PushMessage, error)
	// ListDeliveries returns the deliveries of a message ordered by ID.
	ListDeliveries(ctx context.Context, pushMessageID int64) ([]Delivery, error)
	// ClaimDeliveries claims up to p.Limit due deliveries of p.Kind whose
	// claim is free or expired, oldest NextAttemptAt first. ClaimSend
	// increments Attempts. Each returned row carries its new ClaimToken and
	// LeaseUntil.
	ClaimDeliveries(ctx context.Context, p ClaimParams) ([]Delivery, error)
	// FinishDelivery writes d's outcome (State, Attempts, NextAttemptAt,
	// ReceiptID, Pollable, VendorState, Ret, Response, ErrorKind, ErrorCode,
	// RetryToken, SentAt), releases the claim, and refreshes the message's
	// summary for d.Platform, all in one transaction and only while
	// d.ClaimToken still holds the row; otherwise ErrClaimLost.
	//
	// The outcome is checked first with ValidateDeliveryOutcome: State must
	// be pending, accepted, done or failed (a split goes through
	// SplitDelivery), Attempts must fit an INT, the short text fields
	// (ReceiptID, VendorState, Ret, ErrorKind, ErrorCode, RetryToken) must
	// be UTF-8 of at most 255 characters and Response UTF-8 of at most
	// MaxMediumText bytes. A value that does not fit is refused with
	// ErrInvalid and nothing is written, never truncated: callers must
	// sanitize vendor text first (SanitizeText), or the outcome is lost and
	// the delivery is sent again once its lease runs out.
	FinishDelivery(ctx context.Context, d *Delivery) error
	// RenewDelivery extends the lease of the delivery d claims to
	// leaseUntil, only while d.ClaimToken still holds it (otherwise
	// ErrClaimLost, nothing written), and sets d.LeaseUntil. A holder renews
	// just before a vendor call that the rest of its lease might not cover,
	// so that no other instance claims the delivery while the call is in
	// flight, however long ago it was claimed. A zero leaseUntil is an
	// ErrInvalid.
	RenewDelivery(ctx context.Context, d *Delivery, leaseUntil time.Time) error
	// SplitDelivery replaces the claimed delivery d by parts, in one
	// transaction and only while d.ClaimToken still holds d (otherwise
	// ErrClaimLost, nothing written): d is finished like FinishDelivery but
	// with State DeliverySplit; each part is inserted as a new delivery of
	// d's message (PushMessageID, Provider and Platform taken from d, Seq
	// numbered after the highest Seq of that message, provider and platform;
	// IDs set on the parts), and the message's summary for d.Platform is
	// refreshed. Parts may be created claimed (ClaimToken and LeaseUntil
	// set). Parts are validated like CreatePushMessage's deliveries
	// (idempotency keys unique, tokens non-empty for token audiences).
	//
	// ValidateSplit checks the call before anything is written: d's outcome
	// fields as FinishDelivery checks them (d.State is ignored) and at least
	// one part. An idempotency key used twice among parts or already stored
	// is ErrConflict. On any error nothing is written and parts are
	// unchanged; on success each part's ID, PushMessageID, Provider,
	// Platform and Seq are set.
	SplitDelivery(ctx context.Context, d *Delivery, parts []*Delivery) error
	// RecordReceipts adds c to the receipt counters of the delivery of
	// provider whose ReceiptID is receiptID (compared exactly). When token
	// is not empty and the delivery is to listed tokens, token must be one
	// of them. No such delivery (or a token it was not sent to) is
	// ErrNotFound and nothing is written; negative counts, and a provider
	// or receiptID that ValidateReceipts refuses, are ErrInvalid.
	// The counters of a delivery only grow: each call adds in one
	// statement, so concurrent calls do not lose counts. When several
	// deliveries of provider share receiptID, every one of them counts.
	//
	// With a token, each event is a device's and counts once per delivery,
	// however often and however concurrently it is recorded: a counter of
	// c above 0 adds 1 the first time and nothing after, so a receipt the
	// vendor posts again is not counted twice (sqlstore keeps the events
	// counted in sys_push_receipts). Without a token c is added as it is.
	RecordReceipts(ctx context.Context, provider, receiptID, token string, c ReceiptCounts) error
	// ReceiptTotals returns the sums of the receipt counters of the
	// deliveries of push message pushMessageID, per platform ("ios",
	// "android"). An unknown message has none: zero counts, no error.
	ReceiptTotals(ctx context.Context, pushMessageID int64) (ios, android ReceiptCounts, err error)
}

// CenterMessages is the queue of sys_message_center.
type CenterMessages interface {
	// EnqueueCenterMessage inserts m with SendState unsent and sets m.ID.
	// The row is nobody's: a ClaimToken or LeaseUntil in m is not stored,
	// and the row is claimable at once (from its SendAt).
	EnqueueCenterMessage(ctx context.Context, m *CenterMessage) error
	// GetCenterMessage returns the row with id, or ErrNotFound.
	GetCenterMessage(ctx context.Context, id int64) (CenterMessage, error)
	// ClaimCenterMessages claims up to p.Limit unsent rows (SendState
	// unsent; a NULL send_state, which other programs may write, counts as
	// unsent) that are due
	// (SendAt and NextAttemptAt unset or <= p.Now) and whose claim is free or
	// expired, in NotifyLevel order (highest first), oldest (lowest ID)
	// first. Attempts is incremented and kept inside its INT column: a
	// negative count another program wrote becomes 1, and 2147483647 stays.
	// Each returned row carries its new ClaimToken and LeaseUntil. Rows of
	// p.SkipModes are not claimed.
	ClaimCenterMessages(ctx context.Context, p ClaimParams) ([]CenterMessage, error)
	// FinishCenterMessage writes m's SendState, SendResult, Remark,
	// Attempts and NextAttemptAt and releases the claim, only while
	// m.ClaimToken still holds the row and the row is still pending
	// (send_state 0: another program may have finished or cancelled it
	// meanwhile, and what it wrote stays, the claim alone released);
	// otherwise ErrClaimLost.
	//
	// ValidateCenterOutcome checks m first: SendResult and Remark must be
	// UTF-8 of at most MaxText bytes, SendState must fit a TINYINT and
	// Attempts an INT. A value that does not fit is refused with ErrInvalid
	// and nothing is written: callers must sanitize notifier text first
	// (SanitizeText).
	FinishCenterMessage(ctx context.Context, m *CenterMessage) error
}

// CenterLeases is implemented by stores that can extend the claim of a
// center row, so that a Scanner whose Notifier runs past its
// NotifyTimeout (one that ignores its ctx) keeps the row from another
// instance's claim, which would call the Notifier again. It is optional:
// on a store without it such a row is claimed again once its lease runs
// out, and the Scanner says so in its log. sqlstore and memstore
// implement it.
type CenterLeases interface {
	// RenewCenterMessage sets the lease of the row m claims to
	// leaseUntil, only while m.ClaimToken still holds the row and the row
	// is still pending (send_state 0); otherwise ErrClaimLost. A zero
	// leaseUntil is ErrInvalid; any other is written as given (a lease
	// already past frees the row, and one more than MaxCenterLease after
	// a claim's Now counts as none: keep it within the Scanner's Lease
	// of now). On success m.LeaseUntil is leaseUntil.
	RenewCenterMessage(ctx context.Context, m *CenterMessage, leaseUntil time.Time) error
}

// Reads are the read-only queries behind the API's listings. None of them
// writes, locks or claims a row.
type Reads interface {
	// ListUserDevices returns every link of userNum (active or not),
	// ordered by link ID, each with the device it names; an unknown user
	// has none. userNum is compared without trailing spaces; a blank one
	// is ErrInvalid. A link to a missing device is listed with a zero
	// Device, and a value another program wrote that the store cannot read
	// (a NULL platform, a date that is no date) reads leniently: it never
	// fails the listing.
	ListUserDevices(ctx context.Context, userNum string) ([]DeviceLink, error)
	// ListPushMessages returns one page of the messages q selects, highest
	// ID (newest) first, at most q.PageLimit of them, read like
	// GetPushMessage; UserNums is not read. A query that
	// ValidatePushMessageQuery refuses is ErrInvalid. Paging by BeforeID is
	// a keyset: concurrent inserts neither repeat nor skip a message
	// across pages.
	ListPushMessages(ctx context.Context, q PushMessageQuery) ([]PushMessage, error)
	// IsPushMessageUser reports whether the push message pushMessageID was
	// addressed to userNum (one of the UserNums it was created with). An
	// unknown message is addressed to nobody: false, no error.
	IsPushMessageUser(ctx context.Context, pushMessageID int64, userNum string) (bool, error)
}

// Store is everything push needs from its system of record.
type Store interface {
	Devices
	PushMessages
	CenterMessages
	Reads
}

// BacklogCounter is implemented by stores that can count their backlog,
// for the backlog gauges of push.Service: the work that is due and not
// done yet. It is optional: a Service on a store without it records no
// backlog.
type BacklogCounter interface {
	// Backlog counts, as of now, the deliveries that are due for a send
	// and not sent yet (State pending and NextAttemptAt <= now, whether or
	// not an instance holds a claim on them) and the center rows that are
	// due and unsent (SendState unsent or NULL, and SendAt and
	// NextAttemptAt unset or <= now, whether or not claimed). A zero now
	// is an ErrInvalid naming "now".
	Backlog(ctx context.Context, now time.Time) (deliveries, center int64, err error)
}

// PushHolders is implemented by stores that can say, before a delivery is
// tried again, which of its devices still belong to a user of its push: a
// retry must not reach a phone that was logged out since the push was
// recorded, taken over by another user's install, or whose token was
// disabled (invariant: a push never reaches a previous user). It is
// optional: on a store without it a retry goes to the tokens its delivery
// recorded.
type PushHolders interface {
	// PushHolders returns the targets that ListTargets would list now for
	// the users push message pushMessageID was addressed to (its UserNums
	// as CreatePushMessage recorded them), among the devices whose token
	// is one of tokens. recorded is false when the store keeps no user of
	// that push: one of another kind, one another program wrote, or one
	// written before the store kept its users; the caller cannot tell then.
	PushHolders(ctx context.Context, pushMessageID int64, tokens []string) (targets []Target, recorded bool, err error)
}

// ReceiptHolder is implemented by stores that can keep a receipt that
// names no delivery yet, for push.Service.RecordReport: a vendor may post
// a device's receipt before the outcome of the send it is about (its
// ReceiptID) is recorded, when that write is slow or waits out a database
// outage. It is optional: on a store without it such a receipt is
// dropped (answered as naming no push we sent).
type ReceiptHolder interface {
	// HoldReceipt keeps the receipt (provider, receiptID, token, c) at
	// time at, unless a delivery of provider has receiptID: then it keeps
	// nothing and returns false, and the receipt is for RecordReceipts.
	// Arguments are validated as RecordReceipts validates them (ErrInvalid;
	// a zero at is an ErrInvalid naming "at").
	HoldReceipt(ctx context.Context, provider, receiptID, token string, c ReceiptCounts, at time.Time) (held bool, err error)
	// AdoptReceipts looks at the held receipts after the one with id after
	// (0: from the first), at most limit of them in id order, and records,
	// as RecordReceipts would, each whose receiptID a delivery of its
	// provider now has, removing it in the transaction that records it, so
	// that one is recorded once however many callers adopt at once. A held
	// receipt that RecordReceipts would refuse (ErrNotFound: a token the
	// delivery did not go to) is removed and counted as dropped. The work
	// is bounded by limit whatever the number of receipts held (those of
	// another system's pushes are held until they expire): a caller walks
	// the receipts window by window, from the Next of one call to the
	// next, and starts again from 0 when Next is 0 (the last held receipt
	// was looked at). A receipt whose recording fails stays held, and the
	// others go on: the call returns what it did, Next included, with the
	// first such error. A limit below 1 is ErrInvalid.
	AdoptReceipts(ctx context.Context, after int64, limit int) (Adoption, error)
	// DropHeldReceipts removes up to limit of the receipts held at or
	// before heldBefore that no delivery has claimed, oldest first, and
	// returns how many it removed; a store may remove fewer than limit a
	// call, and the caller calls again while it removes some. A limit below
	// 1, or a zero heldBefore, is ErrInvalid.
	DropHeldReceipts(ctx context.Context, heldBefore time.Time, limit int) (int, error)
}

// HeldReceiptCounter is implemented by ReceiptHolder stores that can say
// how many receipts they hold, so that push.Service.RecordReport can stop
// holding at Config.MaxHeldReceipts: receipts are posted by anyone who
// can reach the receipt endpoint, and without a cap a flood of made-up
// msg ids would fill the store until ReceiptHold expires them. It is
// optional: on a ReceiptHolder without it the held receipts have no cap.
type HeldReceiptCounter interface {
	// CountHeldReceipts returns how many receipts are held, all
	// providers together.
	CountHeldReceipts(ctx context.Context) (int64, error)
}

// Adoption is what one ReceiptHolder.AdoptReceipts call did: the held
// receipts it recorded and those it dropped, and the id to look after next
// (0 when it looked at the last held receipt).
type Adoption struct {
	Adopted, Dropped int
	Next             int64
}

// Fanouts is implemented by stores that record the deliveries of a large
// push in stages, so that a push to many users is sent while the rest of
// its audience is still being listed, and a crash in the middle loses
// nothing: the push holds how far its listing got, under a claim, and
// whoever claims it next goes on from there. It is optional: a Service on
// a store without it lists the whole audience, then records every
// delivery at once with CreatePushMessage.
//
// A push recorded in stages starts with CreatePushMessage, m.Fanout set
// (and its claim held by the caller), and the deliveries of its first
// stage.
type Fanouts interface {
	// AddDeliveries records ds, the deliveries of the next stage of the
	// push m.ID, and moves its fanout on to next, in one transaction and
	// only while m.Fanout.ClaimToken still holds the push (otherwise
	// ErrClaimLost, nothing written). ds are validated like
	// CreatePushMessage's (an idempotency key that exists is ErrConflict)
	// and may be created claimed; on success their IDs and PushMessageID
	// are set. The summary columns other than device_tokens follow the new
	// deliveries at once, and while the fanout lasts they say pending.
	// next nil ends the fanout: the summary is then written whole, tokens
	// included (the tokens of a push too large for the column are clipped
	// there, whole tokens only; every one stays on its delivery), and
	// m.Fanout is set to nil. Otherwise next.ClaimToken must be the
	// claim's (a change of claim is ClaimFanouts's), next.After must not go
	// back, and m.Fanout is set to next with the stored Claims: kept when
	// the call neither records a delivery nor moves After on (a lease
	// renewed or given back), otherwise 0.
	AddDeliveries(ctx context.Context, m *PushMessage, ds []*Delivery, next *Fanout) error
	// ClaimFanouts claims up to p.Limit pushes whose fanout's lease ran
	// out (LeaseUntil <= p.Now), oldest first, with a new ClaimToken,
	// LeaseUntil p.Now+p.Lease and Claims one more than before (p.Kind is
	// ignored). Each is returned as
	// GetPushMessage reads it, with its Fanout and its UserNums (every user
	// of the push, in byte order).
	ClaimFanouts(ctx context.Context, p ClaimParams) ([]PushMessage, error)
}

// RetryTokens is implemented by stores that write a delivery's retry
// token before its vendor call (see provider.RetryTokenIssuer), so that a
// retry after the caller died mid-call finds it. It is optional: without
// it a token is stored only with the outcome of a failed try.
type RetryTokens interface {
	// SetRetryToken writes token as d's RetryToken, and only that, only
	// while d.ClaimToken holds d (otherwise ErrClaimLost, nothing
	// written), and sets d.RetryToken. A token that is not UTF-8, holds a
	// NUL or is longer than 255 characters is an ErrInvalid for
	// "delivery.retry_token".
	SetRetryToken(ctx context.Context, d *Delivery, token string) error
}

// TargetCensus is implemented by stores that list a large audience faster
// with a Census: one pass over the devices and their links finds the few
// devices ListTargets must check for a newer link or a newer holder of
// their token, so that the listings of the audience need not look each
// target up (see TargetQuery.Census). It is optional: a Service on a store
// without it lists every target with its checks.
type TargetCensus interface {
	// TakeCensus returns a census of the devices as they are now, for the
	// listing of an audience of users users; nil (and no error) when
	// taking it would cost more than the checks it saves (the tables hold
	// many more rows than the audience has targets) or when too many
	// devices would need the checks. users below 1 is nil.
	TakeCensus(ctx context.Context, users int) (*Census, error)
}

// DedupeKeyFinder is implemented by stores that look up many dedupe keys
// in one query, for push.Service.PushMany. It is optional: without it
// PushMany looks each key up with GetPushMessageByDedupeKey.
type DedupeKeyFinder interface {
	// FindDedupeKeys returns the keys of keys that name a push message, as
	// GetPushMessageByDedupeKey compares them (without trailing spaces),
	// each with the message's id. Keys that are empty, or name nothing,
	// are absent from the map. A key another spelling matched (a
	// case-insensitive collation) may be absent too: the answer is a hint,
	// and CreatePushMessage's ErrConflict remains the rule.
	FindDedupeKeys(ctx context.Context, keys []string) (map[string]int64, error)
}

// BuildChecker is implemented by stores whose zero value, or nil pointer,
// is not usable: a value their constructor did not make. push.New and
// messagecenter.New ask it, and refuse such a store with an error naming
// the field "store". sqlstore.Store and memstore.Store implement it. It is
// not one of the optional interfaces MissingOptional names: it brings no
// behaviour, and a decorator that embeds Store only goes unchecked.
type BuildChecker interface {
	// CheckBuilt returns nil when the store's constructor made it, else
	// an error matching ErrNotBuilt that names the constructor. It makes
	// no call to the database and has no side effect.
	CheckBuilt() error
}

// MissingOptional names, in byte order, the optional interfaces of this
// package that s does not implement (BacklogCounter, CenterLeases, DedupeKeyFinder,
// Fanouts, HeldReceiptCounter, PushHolders, ReceiptHolder, RetryTokens,
// TargetCensus): push.New logs them,
// and registrytest.Factory.RequireOptional fails on them. A decorator
// that embeds the Store interface lacks them all.
func MissingOptional(s Store) []string {
	var missing []string
	for _, o := range []struct {
		name string
		ok   bool
	}{
		{"BacklogCounter", is[BacklogCounter](s)},
		{"CenterLeases", is[CenterLeases](s)},
		{"DedupeKeyFinder", is[DedupeKeyFinder](s)},
		{"Fanouts", is[Fanouts](s)},
		{"HeldReceiptCounter", is[HeldReceiptCounter](s)},
		{"PushHolders", is[PushHolders](s)},
		{"ReceiptHolder", is[ReceiptHolder](s)},
		{"RetryTokens", is[RetryTokens](s)},
		{"TargetCensus", is[TargetCensus](s)},
	} {
		if !o.ok {
			missing = append(missing, o.name)
		}
	}
	return missing
}

// is reports whether v implements T.
func is[T any](v any) bool { _, ok := v.(T); return ok }
