package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/tuisong/push/registry"
)

// tokenKey is the sys_push_token_locks key of a push token: the SHA-256,
// in hex, of the push platform and the platform as platformExpr reads it and
// the token, without trailing spaces. Keys of different tokens can only
// collide if SHA-256 does; a collision would merely make two tokens'
// registrations take turns.
func tokenKey(pushPlatform, platform, token string) string {
	// The push platform as the takeover compares it (tokenHolders): in
	// lower case without surrounding spaces, empty as the default. Two
	// registrations it takes for one token must take one lock.
	pp := normPlatform(pushPlatform)
	if pp == "" {
		pp = registry.DefaultPushPlatform
	}
	h := sha256.New()
	for _, part := range []string{pp, normPlatform(platform), unpad(token)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// lockToken takes the lock of the push token of (pushPlatform, platform)
// for the rest of the transaction q: it upserts the token's row of
// sys_push_token_locks, which leaves that row locked until the transaction
// ends (InnoDB locks the duplicate of INSERT … ON DUPLICATE KEY UPDATE,
// PostgreSQL the row of ON CONFLICT DO UPDATE; SQLite's transaction holds
// the database's write lock anyway).
//
// Why a lock table. The token takeover is a rule across rows that do not
// exist yet: two first registrations of one token on two new devices each
// insert their own device and then disable the token on every other
// device. At READ COMMITTED neither sees the other's uncommitted insert,
// so on PostgreSQL both keep the token; on InnoDB the two inserts and the
// two takeover UPDATEs lock each other's rows in opposite orders and
// deadlock. Locking one row per token first makes such registrations run
// one after the other, and the second one's statements, which start after
// the first committed, see the first's device. The lock order is always
// token, then devices, so registrations of different tokens do not wait
// for each other. Advisory locks would do the same on PostgreSQL only
// (MySQL's GET_LOCK belongs to the session, not the transaction, and would
// outlive a rollback on a pooled connection); SERIALIZABLE would turn the
// race into failures to retry rather than prevent it, on PostgreSQL only.
// The rows are never deleted: there is one per token ever registered, a
// small fraction of sys_devices' size.
func (s *Store) lockToken(ctx context.Context, q DBTX, pushPlatform, platform, token string) error {
	query := "INSERT INTO sys_push_token_locks (token_key) VALUES (?) ON CONFLICT (token_key) DO UPDATE SET token_key = excluded.token_key"
	if s.dialect == DialectMySQL {
		query = "INSERT INTO sys_push_token_locks (token_key) VALUES (?) ON DUPLICATE KEY UPDATE token_key = token_key"
	}
	_, err := s.exec(ctx, q, query, tokenKey(pushPlatform, platform, token))
	return step("lock the token", err)
}
