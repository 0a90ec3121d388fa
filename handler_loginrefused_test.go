package push_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestLoginRefusedIsUnavailable: a database that refuses the library's
// login (an account locked, a role's login revoked) is an outage the
// client retries, 503 with Retry-After, as a database out of connections
// is; it answered 500 (an operator's trial).
func TestLoginRefusedIsUnavailable(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.DialectMySQL, sqlstore.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			db, dsn := dbtest.Open(t, d)
			admin, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
			require.NoError(t, err)
			require.NoError(t, admin.Migrate(t.Context()))
			user := dbtest.NewDMLUser(t, d, db, dsn)
			pool := dbtest.OpenPool(t, d, user.DSN)
			pool.SetMaxIdleConns(0) // every call logs in anew
			st, err := sqlstore.New(pool, sqlstore.Options{Dialect: d})
			require.NoError(t, err)
			m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			require.NoError(t, err)
			logs := &syncbuf.Buffer{}
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m},
				Logger: slog.New(slog.NewTextHandler(logs, nil))})
			require.NoError(t, err)
			_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "uuid-u1", Platform: "android", PushToken: "tok-u1"})
			require.NoError(t, err)
			h, err := push.NewHandler(push.HandlerConfig{Service: svc, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			require.NoError(t, err)

			user.RefuseLogin(t)
			for _, r := range []reply{
				postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t", "content": "c"}),
				do(t, h, http.MethodGet, push.PathQueryPush+"?push_message_id=1", "", ""),
			} {
				assert.Equal(t, http.StatusServiceUnavailable, r.status, "%v", r.body)
				assert.Equal(t, "unavailable", r.errCode())
			}
			assert.Zero(t, m.Calls(), "nothing was sent")
			assert.NotContains(t, logs.String(), "dml-only", "the password stays out of the logs")
		})
	}
}
