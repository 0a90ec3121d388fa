package sqlstore

import (
	"context"
	"math"
	"strings"

	"github.com/tuisong/push/registry"
)

// unpad drops the trailing spaces of an identifier (uuid, user_num,
// push_platform, dedupe_key, idempotency_key, token). MySQL compares these
// columns with PAD SPACE collations, whose unique keys cannot hold "u1" and
// "u1 " apart; PostgreSQL and SQLite could. Dropping the spaces before
// every write and lookup makes all three answer alike (see the registry's
// Identifiers).
func unpad(s string) string { return strings.TrimRight(s, " ") }

// The Store compares a device's push_device_token without the spaces
// around it, as the Service sends it. Another program may write " T" for
// the phone whose token is T; compared as stored, a row holding " T" and
// a newer one holding "T" would be two phones, and the older row's user
// shown the newer one's pushes. Migration 15 indexes what that takes:
//
//   - on PostgreSQL and SQLite, the trimmed token of the rows whose token
//     has spaces around it (a partial index, ix_sys_devices_spaced_token,
//     that rows the Store writes never enter): a token is looked up as
//     stored through the index on push_device_token, and among the spaced
//     rows through this one, so that the usual table pays for no second
//     index of every token;
//   - on MySQL and MariaDB, which have no partial index and ignore
//     trailing spaces already, the virtual column push_token_key (the
//     trimmed token) and its index.
//
// Each index serves only a query that says what it indexes, word for
// word: the conditions are built here.

// spacedToken is the condition that the push_device_token col has spaces
// around it: the partial index's own, word for word. It says it with LIKE,
// not as col <> TRIM(col): PostgreSQL estimates LIKE from the column's
// statistics (next to no row), but takes col <> TRIM(col), of which it has
// none, to hold for nearly every row, and then plans the lookups among the
// spaced rows as scans of the table.
func spacedToken(col string) string { return "(" + col + " LIKE ' %' OR " + col + " LIKE '% ')" }

// tokenIs returns the condition that the push_device_token of the device
// row alias (none when empty) is one of n tokens, given trimmed as
// arguments, with spaces around it or not; the n arguments are passed
// repeat times in a row.
func (d Dialect) tokenIs(alias string, n int) (cond string, repeat int) {
	if alias != "" {
		alias += "."
	}
	list := " IN (" + placeholders(n) + ")"
	if d == DialectMySQL {
		return alias + "push_token_key" + list, 1
	}
	col := alias + "push_device_token"
	return "(" + col + list + " OR (" + spacedToken(col) + " AND TRIM(" + col + ")" + list + "))", 2
}

// tokenArgs returns tokens repeat times in a row, as arguments.
func tokenArgs(tokens []string, repeat int, extra int) []any {
	args := make([]any, 0, len(tokens)*repeat+extra)
	for range repeat {
		for _, t := range tokens {
			args = append(args, t)
		}
	}
	return args
}

// platformExpr is the SQL expression of a device's platform as the Store
// compares it: rows other programs wrote may say "iOS", "Android" or
// " ios". TRIM removes spaces on every dialect, LOWER folds ASCII case on
// every dialect (and every collation the migrations leave, utf8mb4_bin
// included), which is all "ios" and "android" need.
const platformExpr = "LOWER(TRIM(platform))"

// pushPlatformExpr is the SQL expression of a device's push_platform as
// DisableTokens and the token takeover compare it, with normPlatform's
// folding of the name they are given: rows other programs wrote may say
// "Umeng" or "umeng ".
const pushPlatformExpr = "LOWER(TRIM(push_platform))"

// normPlatform is platformExpr in Go, for a platform the caller passes or
// a row holds. Only ASCII letters are folded, as SQLite's LOWER folds
// them: strings.ToLower would make "İOS" an "ios" that SQLite's
// DisableTokens never matches.
func normPlatform(p string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, strings.Trim(p, " "))
}

// intID reports whether id fits the product brief's int(11) id columns (devices,
// links, push messages, center messages). On MySQL and PostgreSQL an id
// outside cannot exist, and PostgreSQL refuses to compare an integer
// column with it at all, so the Store answers without asking the database.
// On SQLite the columns are INTEGER PRIMARY KEY, 64 bits: another program
// may insert a row beyond 2^31, and every id AUTOINCREMENT gives after it
// is beyond too, so every id is asked for.
func (s *Store) intID(id int64) bool {
	return s.dialect == DialectSQLite || (id >= math.MinInt32 && id <= math.MaxInt32)
}

// tooManyTokens refuses a summary whose token list would not fit the
// summary column of platform (registry.MaxTokensText), as
// registry.ValidatePushMessage does when a message is created.
func tooManyTokens(platform string, s registry.PlatformSummary) error {
	if n := len(s.DeviceTokens); n > registry.MaxTokensText {
		return invalid(platform+"_device_tokens", "the push's %d bytes of tokens exceed %d", n, registry.MaxTokensText)
	}
	return nil
}

// UpperCaseTokens counts the enabled device rows of push platform
// pushPlatform (empty or NULL is registry.DefaultPushPlatform's, as
// DisableTokens matches it) and platform whose token holds an upper-case
// letter, compared as the Store compares tokens (on MySQL and MariaDB
// through push_token_key, whose collation is binary, whatever the
// column's). A provider.TokenCanonicalizer spells its tokens in lower
// case (the Umeng client's iOS tokens), which push.Service registers so,
// and migration 16 lower-cased the rows held then; a row another program
// wrote since in upper case is compared as stored, and is another phone
// than a newer lower-case row of the same phone: its user is shown that
// row's pushes. It reads the devices whole: a start-up check, not one for
// every push.
func (s *Store) UpperCaseTokens(ctx context.Context, pushPlatform, platform string) (int64, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.UpperCaseTokens")
	}
	cond, args := tokenHolders(pushPlatform, platform)
	// On MySQL the key the Store compares, whose collation is binary
	// whatever the column's.
	col := "push_device_token"
	if s.dialect == DialectMySQL {
		col = "push_token_key"
	}
	var n int64
	if err := s.queryRow(ctx, s.q, "SELECT COUNT(*) FROM sys_devices WHERE "+col+" <> LOWER("+col+") AND "+cond,
		args...).Scan(&n); err != nil {
		return 0, wrap("UpperCaseTokens", step("count devices", err))
	}
	return n, nil
}

// SpacedUserNums counts the links another program wrote with spaces
// around their user_num. The Store writes none so, and matches a user by
// the stored value: a link for " u1" is no link of u1's, and u1's pushes
// miss its device. Trailing spaces count on PostgreSQL and SQLite only
// (MySQL and MariaDB compare without them). (Tokens with spaces around
// them need no such count: the Store compares them trimmed, tokenIs.) It
// reads the links whole: a start-up check, not one for every push.
func (s *Store) SpacedUserNums(ctx context.Context) (int64, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.SpacedUserNums")
	}
	var users int64
	if err := s.queryRow(ctx, s.q, "SELECT COUNT(*) FROM sys_user_devices WHERE user_num <> TRIM(user_num)").Scan(&users); err != nil {
		return 0, wrap("SpacedUserNums", step("count links", err))
	}
	return users, nil
}
