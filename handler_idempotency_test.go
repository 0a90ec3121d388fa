package push_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry/sqlstore"
)

// idemEnv is a Service and its Handler on a fresh, migrated database of
// one dialect, pushing through a Mock "umeng" that counts its sends, with
// every log line of both in logs. Identify identifies "Bearer u1-token"
// as u1 and "Bearer u2-token" as u2; any other request is a backend's.
// Users u1, u2 and u3 have one Android device each.
type idemEnv struct {
	db   *sql.DB
	mock *providertest.Mock
	h    *push.Handler
	logs *syncbuf.Buffer
}

func newIdemEnv(t *testing.T, d sqlstore.Dialect) *idemEnv {
	t.Helper()
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, m, db := newMockSQLService(t, d, log)
	for _, u := range []string{"u1", "u2", "u3"} {
		_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: "uuid-" + u, Platform: "android", PushToken: "tok-" + u})
		require.NoError(t, err)
	}
	h, err := push.NewHandler(push.HandlerConfig{Service: svc, Logger: log,
		Identify: func(r *http.Request) (string, bool, error) {
			u, ok := bearerUsers[r.Header.Get("Authorization")]
			return u, ok, nil
		}})
	require.NoError(t, err)
	return &idemEnv{db: db, mock: m, h: h, logs: logs}
}

// idemReq is one push_message request: its bearer token (none: a
// backend), its Idempotency-Key header lines, and a JSON or form body.
type idemReq struct {
	bearer string
	keys   []string
	json   map[string]any
	form   url.Values
}

// withKey returns a JSON request with the header key and body v.
func withKey(key string, v map[string]any) idemReq { return idemReq{keys: []string{key}, json: v} }

// as returns r sent with bearer token bearer.
func (r idemReq) as(bearer string) idemReq { r.bearer = bearer; return r }

func (e *idemEnv) send(t *testing.T, r idemReq) (reply, string) {
	t.Helper()
	var req *http.Request
	if r.form != nil {
		req = httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(r.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(mustJSON(r.json)))
		req.Header.Set("Content-Type", "application/json")
	}
	for _, k := range r.keys {
		req.Header.Add(push.HeaderIdempotencyKey, k)
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", r.bearer)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return reply{rec.Code, m}, rec.Body.String()
}

// rows counts the rows of the tables a push writes.
func (e *idemEnv) rows(t *testing.T) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, table := range []string{"sys_push_messages", "sys_push_deliveries", "sys_push_message_users"} {
		var c int
		require.NoError(t, e.db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&c))
		n[table] = c
	}
	return n
}

func idOf(t *testing.T, r reply) int64 {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.body)
	id, ok := r.body["push_message_id"].(float64)
	require.True(t, ok, "push_message_id in %v", r.body)
	return int64(id)
}

// TestIdempotencyKeyRefusals: a bad key, or a header and a parameter that
// disagree, is 400 invalid_idempotency_key naming the field, with nothing
// written or sent and the key not echoed.
func TestIdempotencyKeyRefusals(t *testing.T) {
	e := newIdemEnv(t, sqlstore.DialectSQLite)
	body := func(extra map[string]any) map[string]any {
		m := map[string]any{"user_num": "u1", "title": "t", "content": "c"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	long := strings.Repeat("k", push.MaxIdempotencyKey+1)
	for _, tt := range []struct {
		name string
		req  idemReq
		says string // part of the message
	}{
		{"empty header", withKey("", body(nil)), "is empty"},
		{"blank header", withKey("  \t ", body(nil)), "is empty"},
		{"empty quoted header", withKey(`""`, body(nil)), "is empty"},
		{"header too long", withKey(long, body(nil)), "129 bytes, more than 128"},
		{"non-ASCII header", withKey("ключ-1", body(nil)), "printable ASCII"},
		{"control character in the header", withKey("key\x01one", body(nil)), "printable ASCII"},
		{"tab inside the header", withKey("key\tone", body(nil)), "printable ASCII"},
		{"DEL in the header", withKey("key\x7f", body(nil)), "printable ASCII"},
		{"unclosed quoted header", withKey(`"key-one`, body(nil)), "closing quote"},
		{"bad escape in a quoted header", withKey(`"key\n"`, body(nil)), "escape"},
		{"data after a quoted header", withKey(`"key"x`, body(nil)), "after its quoted string"},
		{"header sent twice", idemReq{keys: []string{"key-one", "key-one"}, json: body(nil)}, "sent 2 times"},
		{"empty parameter", idemReq{json: body(map[string]any{"idempotency_key": ""})}, "is empty"},
		{"parameter too long", idemReq{json: body(map[string]any{"idempotency_key": long})}, "more than 128"},
		{"non-ASCII parameter", idemReq{json: body(map[string]any{"idempotency_key": "键-🔑"})}, "printable ASCII"},
		{"newline in the parameter", idemReq{json: body(map[string]any{"idempotency_key": "key\none"})}, "printable ASCII"},
		{"trailing newline in the parameter", idemReq{json: body(map[string]any{"idempotency_key": "key-one\n"})}, "printable ASCII"},
		{"NUL in the parameter", idemReq{json: body(map[string]any{"idempotency_key": "key\x00"})}, "printable ASCII"},
		{"parameter not a string", idemReq{json: body(map[string]any{"idempotency_key": []string{"key-one"}})}, "must be a string"},
		{"empty form parameter", idemReq{form: url.Values{"user_num": {"u1"}, "title": {"t"}, "content": {"c"}, "idempotency_key": {""}}}, "is empty"},
		{"header and parameter differ", idemReq{keys: []string{"key-one"}, json: body(map[string]any{"idempotency_key": "key-two"})}, "differ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, calls := e.rows(t), e.mock.Calls()
			r, raw := e.send(t, tt.req)
			require.Equal(t, http.StatusBadRequest, r.status, raw)
			assert.Equal(t, "invalid_idempotency_key", r.errCode())
			assert.Contains(t, raw, tt.says)
			assert.Contains(t, raw, "idempotency_key")
			for _, k := range append(tt.req.keys, fmt.Sprint(tt.req.json["idempotency_key"])) {
				if len(strings.TrimSpace(k)) > 3 && !strings.HasPrefix(k, `"`) {
					assert.NotContains(t, raw, strings.TrimSpace(k), "the key is not echoed")
				}
			}
			assert.Equal(t, before, e.rows(t), "nothing written")
			assert.Equal(t, calls, e.mock.Calls(), "nothing sent")
		})
	}
	assert.Zero(t, e.rows(t)["sys_push_messages"])

	t.Run("a refused push does not use up its key", func(t *testing.T) {
		r, raw := e.send(t, withKey("key-after-400", map[string]any{"user_num": "u1", "content": "c"}))
		require.Equal(t, http.StatusBadRequest, r.status, raw)
		assert.Equal(t, "invalid_title", r.errCode())
		r, _ = e.send(t, withKey("key-after-400", map[string]any{"user_num": "nobody", "title": "t", "content": "c"}))
		require.Equal(t, http.StatusNotFound, r.status)
		r, _ = e.send(t, withKey("key-after-400", map[string]any{"user_num": "u1", "title": "t", "content": "c"}))
		idOf(t, r)
		assert.Nil(t, r.body["duplicate"])
		assert.Equal(t, 1, e.mock.Calls())
	})
}

// TestIdempotencyKeyAccepted: the forms a key may take, and the same key
// through each of them, name one push.
func TestIdempotencyKeyAccepted(t *testing.T) {
	e := newIdemEnv(t, sqlstore.DialectSQLite)
	body := map[string]any{"user_num": "u1", "title": "t", "content": "c"}
	exact := strings.Repeat("k", push.MaxIdempotencyKey)
	r, _ := e.send(t, withKey("  "+exact+"\t", body))
	first := idOf(t, r)
	r, _ = e.send(t, idemReq{json: map[string]any{"user_num": "u1", "title": "t", "content": "c", "idempotency_key": exact}})
	assert.Equal(t, first, idOf(t, r), "a 128-byte key, trimmed, as the header or the parameter")
	assert.Equal(t, true, r.body["duplicate"])

	r, _ = e.send(t, withKey(`A key with "quotes" \ and spaces`, body))
	second := idOf(t, r)
	assert.NotEqual(t, first, second)
	for _, req := range []idemReq{
		withKey(`"A key with \"quotes\" \\ and spaces"`, body),
		{json: map[string]any{"user_num": "u1", "title": "t", "content": "c", "idempotency_key": `A key with "quotes" \ and spaces`}},
		{keys: []string{`A key with "quotes" \ and spaces`}, json: map[string]any{"user_num": "u1", "title": "t", "content": "c",
			"idempotency_key": `A key with "quotes" \ and spaces`}},
		{form: url.Values{"user_num": {"u1"}, "title": {"t"}, "content": {"c"}, "idempotency_key": {`A key with "quotes" \ and spaces`}}},
	} {
		r, raw := e.send(t, req)
		assert.Equal(t, second, idOf(t, r), raw)
		assert.Equal(t, true, r.body["duplicate"])
	}
	assert.Equal(t, 2, e.mock.Calls())
	assert.Equal(t, 2, e.rows(t)["sys_push_messages"])

	r, _ = e.send(t, idemReq{json: map[string]any{"user_num": "u1", "title": "t", "content": "c", "idempotency_key": nil}})
	assert.NotEqual(t, second, idOf(t, r), "a null parameter is no key")
	assert.Equal(t, 3, e.mock.Calls())
}

// TestIdempotencyKeyOnEveryStore proves the key's promises on each
// database: a replay answers the first push and sends nothing, another
// request under the same key is 409, keys are scoped to their caller,
// concurrent requests make one push, and the key is stored and logged
// only as a hash.
func TestIdempotencyKeyOnEveryStore(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			e := newIdemEnv(t, d)
			var keys []string // every key sent, for the log check
			key := func(k string) string { keys = append(keys, k); return k }

			t.Run("replay", func(t *testing.T) {
				k := key("Replay-Key-8f3a2c91")
				body := map[string]any{"user_nums": []string{"u1", "u2"}, "title": "到货提醒 ", "content": "您关注的商品已到货 🎉\r\n第二行",
					"extra": map[string]any{"page": "goods", "id": 42}, "class": "service",
					"overrides": map[string]any{"umeng": map[string]any{"channel_properties": map[string]string{"channel_activity": "x", "oppo_channel_id": "orders"}}}}
				calls, before := e.mock.Calls(), e.rows(t)
				first, _ := e.send(t, withKey(k, body))
				id := idOf(t, first)
				assert.Nil(t, first.body["duplicate"], "the first answer is the usual one")
				assert.Equal(t, calls+1, e.mock.Calls())
				after := e.rows(t)
				assert.Equal(t, before["sys_push_messages"]+1, after["sys_push_messages"])

				// The same users in another order, with repeats and white
				// space, and extra's and the overrides' keys in another
				// order, spaced otherwise, are the same request.
				again := map[string]any{"user_nums": []string{"u2", " u1", "u2"}, "title": "到货提醒 ", "content": "您关注的商品已到货 🎉\r\n第二行",
					"extra": `{"id":42,"page":"goods"}`, "class": "service",
					"overrides": json.RawMessage(`{ "umeng" : {"channel_properties": {"oppo_channel_id":"orders", "channel_activity":"\u0078"}}}`)}
				for _, b := range []map[string]any{body, again} {
					r, raw := e.send(t, withKey(k, b))
					assert.Equal(t, id, idOf(t, r), raw)
					assert.Equal(t, true, r.body["duplicate"])
					assert.Equal(t, first.body["devices"], r.body["devices"])
					for _, f := range []string{"accepted", "pending", "failed"} {
						assert.Contains(t, r.body, f, "the same shape as the first answer")
					}
				}
				assert.Equal(t, calls+1, e.mock.Calls(), "no second vendor call")
				assert.Equal(t, after, e.rows(t), "nothing written by a replay")
			})

			t.Run("another request under the same key", func(t *testing.T) {
				k := key("Conflict-Key-0c77e1")
				base := map[string]any{"user_num": "u1", "title": "t", "content": "c", "extra": map[string]string{"a": "1"}, "class": "marketing"}
				id := idOf(t, func() reply { r, _ := e.send(t, withKey(k, base)); return r }())
				calls, before := e.mock.Calls(), e.rows(t)
				for name, change := range map[string]func(map[string]any){
					"title":     func(m map[string]any) { m["title"] = "t2" },
					"content":   func(m map[string]any) { m["content"] = "c " },
					"extra":     func(m map[string]any) { m["extra"] = map[string]string{"a": "2"} },
					"no extra":  func(m map[string]any) { delete(m, "extra") },
					"class":     func(m map[string]any) { m["class"] = "service" },
					"overrides": func(m map[string]any) { m["overrides"] = map[string]any{"umeng": map[string]any{}} },
				} {
					m := map[string]any{}
					for k, v := range base {
						m[k] = v
					}
					change(m)
					r, raw := e.send(t, withKey(k, m))
					assert.Equal(t, http.StatusConflict, r.status, "%s: %s", name, raw)
					assert.Equal(t, "idempotency_key_reused", r.errCode(), name)
					assert.Contains(t, raw, "idempotency_key", name)
					assert.NotContains(t, raw, fmt.Sprint(id), "%s: the other push's id is not revealed", name)
				}
				assert.Equal(t, calls, e.mock.Calls(), "nothing sent")
				assert.Equal(t, before, e.rows(t), "nothing written")
				r, _ := e.send(t, withKey(k, base))
				assert.Equal(t, id, idOf(t, r), "the first request still replays")

				// A backend's key is scoped to the users it pushes to:
				// other users under the same key are a push of their own,
				// never the first one.
				other := map[string]any{"user_num": "u3", "title": "t", "content": "c", "extra": map[string]string{"a": "1"}, "class": "marketing"}
				r, _ = e.send(t, withKey(k, other))
				assert.NotEqual(t, id, idOf(t, r))
				assert.Nil(t, r.body["duplicate"])
				assert.Equal(t, calls+1, e.mock.Calls())
				reqs := e.mock.Requests()
				assert.Equal(t, []string{"tok-u3"}, reqs[len(reqs)-1].Audience.Tokens)
			})

			t.Run("identified callers", func(t *testing.T) {
				k := key("Shared-Key-51d0")
				body := map[string]any{"title": "t", "content": "c"}
				calls := e.mock.Calls()
				r1, _ := e.send(t, withKey(k, body).as("Bearer u1-token"))
				r2, _ := e.send(t, withKey(k, body).as("Bearer u2-token"))
				rb, _ := e.send(t, withKey(k, map[string]any{"user_num": "u1", "title": "t", "content": "c"}))
				id1, id2, idb := idOf(t, r1), idOf(t, r2), idOf(t, rb)
				assert.NotEqual(t, id1, id2, "two callers, one key: two pushes")
				assert.NotEqual(t, id1, idb, "a backend does not replay a user's push")
				for _, r := range []reply{r1, r2, rb} {
					assert.Nil(t, r.body["duplicate"])
				}
				assert.Equal(t, calls+3, e.mock.Calls())
				reqs := e.mock.Requests()
				assert.Equal(t, []string{"tok-u1"}, reqs[len(reqs)-3].Audience.Tokens)
				assert.Equal(t, []string{"tok-u2"}, reqs[len(reqs)-2].Audience.Tokens)

				r, _ := e.send(t, withKey(k, map[string]any{"user_num": "u1", "title": "t", "content": "c"}).as("Bearer u1-token"))
				assert.Equal(t, id1, idOf(t, r), "naming itself is the same request")
				assert.Equal(t, true, r.body["duplicate"])
				r, _ = e.send(t, withKey(k, body).as("Bearer u2-token"))
				assert.Equal(t, id2, idOf(t, r))
				r, raw := e.send(t, withKey(k, map[string]any{"title": "t2", "content": "c"}).as("Bearer u2-token"))
				assert.Equal(t, http.StatusConflict, r.status, raw)
				assert.NotContains(t, raw, fmt.Sprint(id2))
				assert.Equal(t, calls+3, e.mock.Calls())
			})

			t.Run("concurrent", func(t *testing.T) {
				k := key("Concurrent-Key-3b9e")
				body := map[string]any{"user_num": "u2", "title": "并发", "content": "c"}
				calls, before := e.mock.Calls(), e.rows(t)
				const n = 10
				replies := make([]reply, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						replies[i], _ = e.send(t, withKey(k, body))
					})
				}
				close(start)
				wg.Wait()
				ids, firsts := map[int64]bool{}, 0
				for _, r := range replies {
					ids[idOf(t, r)] = true
					if r.body["duplicate"] == nil {
						firsts++
					}
				}
				assert.Len(t, ids, 1, "one push_message_id for all")
				assert.Equal(t, 1, firsts, "exactly one answer is not a duplicate")
				assert.Equal(t, calls+1, e.mock.Calls(), "one vendor call")
				after := e.rows(t)
				assert.Equal(t, before["sys_push_messages"]+1, after["sys_push_messages"])
				assert.Equal(t, before["sys_push_deliveries"]+1, after["sys_push_deliveries"])
			})

			t.Run("stored and logged as a hash only", func(t *testing.T) {
				require.NotEmpty(t, keys)
				rows, err := e.db.QueryContext(t.Context(), "SELECT dedupe_key FROM sys_push_messages WHERE dedupe_key IS NOT NULL")
				require.NoError(t, err)
				defer rows.Close()
				hashed := regexp.MustCompile(`^http#[0-9a-f]{64}$`)
				stored := 0
				for rows.Next() {
					var dk string
					require.NoError(t, rows.Scan(&dk))
					assert.Regexp(t, hashed, dk)
					for _, k := range keys {
						assert.NotContains(t, dk, k)
					}
					stored++
				}
				require.NoError(t, rows.Err())
				assert.Equal(t, 7, stored, "one row per push made with a key")
				logs := e.logs.String()
				assert.Contains(t, logs, "push recorded", "the log is captured")
				for _, k := range keys {
					assert.NotContains(t, logs, k)
				}
			})
		})
	}
}
