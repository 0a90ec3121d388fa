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

// SpacedKeys counts the rows another program wrote with spaces around a
// key the Store compares as stored: a device's push_device_token
// (tokens) and a link's user_num (users). The Store writes neither so,
// but it sends a token trimmed while it finds a token's newest holder by
// the stored value, and matches a user by the stored value: a link for
// " u1" is no link of u1's, and a token " T" beside another row's "T" is
// not seen as the same phone, whose older row's user would be shown the
// newer one's pushes. Trailing spaces count on PostgreSQL and SQLite only
// (MySQL and MariaDB compare without them). It reads both tables whole:
// a start-up check, not one for every push.
func (s *Store) SpacedKeys(ctx context.Context) (tokens, users int64, err error) {
	const op = "SpacedKeys"
	if err := s.queryRow(ctx, s.q, "SELECT COUNT(*) FROM sys_devices WHERE push_device_token <> TRIM(push_device_token)").Scan(&tokens); err != nil {
		return 0, 0, wrap(op, step("count tokens", err))
	}
	if err := s.queryRow(ctx, s.q, "SELECT COUNT(*) FROM sys_user_devices WHERE user_num <> TRIM(user_num)").Scan(&users); err != nil {
		return 0, 0, wrap(op, step("count links", err))
	}
	return tokens, users, nil
}
