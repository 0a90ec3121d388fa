package push_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// limitEnv is a Service, its HTTP Handler and a Scanner on a fresh,
// migrated database of one dialect, pushing through a mock provider that
// refuses nothing, so that the columns are the only limits.
type limitEnv struct {
	db      *sql.DB
	st      *sqlstore.Store
	svc     *push.Service
	h       *push.Handler
	scanner *messagecenter.Scanner
	userDev int64 // the user_device_id of user "pu", who receives the pushes
}

func newLimitEnv(t *testing.T, d sqlstore.Dialect) *limitEnv {
	t.Helper()
	clk := newClock()
	db, _ := dbtest.Open(t, d)
	st, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: clk.Now})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(t.Context()))
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now})
	require.NoError(t, err)
	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, Store: st, Now: clk.Now})
	require.NoError(t, err)
	reg, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "pu", UUID: "pu-uuid", Platform: "android", PushToken: "pu-token"})
	require.NoError(t, err)
	return &limitEnv{db: db, st: st, svc: svc, h: h, scanner: sc, userDev: reg.UserDeviceID}
}

// post sends a JSON body to the handler and returns the status and the
// decoded answer.
func (e *limitEnv) post(t *testing.T, path string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	return rec.Code, out
}

// rows counts the rows of every table a write may touch.
func (e *limitEnv) rows(t *testing.T) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, table := range []string{"sys_devices", "sys_user_devices", "sys_push_messages", "sys_push_deliveries", "sys_message_center"} {
		var c int
		require.NoError(t, e.db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&c))
		n[table] = c
	}
	return n
}

// refusal is a write refused for a field: an HTTP 400 with code
// "invalid_<field>", or a Service or store error naming it.
type refusal struct{ field string }

func (r *refusal) Error() string { return "refused: " + r.field }

// fieldOf returns the field an error of the Service or the store names.
func fieldOf(err error) string {
	var fe *push.FieldError
	var ve *registry.ValidationError
	switch {
	case errors.As(err, &fe):
		return fe.Field
	case errors.As(err, &ve):
		return ve.Field
	}
	return provider.FieldOf(err)
}

// answer turns a handler answer into the stored-value reader's input: the
// answer on 200, a *refusal on 400.
func answer(t *testing.T, e *limitEnv, path string, req map[string]any) (map[string]any, error) {
	t.Helper()
	status, body := e.post(t, path, req)
	if status == http.StatusOK {
		return body, nil
	}
	require.Equal(t, http.StatusBadRequest, status, "%v", body)
	code, _ := body["error"].(map[string]any)["code"].(string)
	return nil, &refusal{field: strings.TrimPrefix(code, "invalid_")}
}

// charsOf returns n characters that are 3 and 4 bytes long in UTF-8 ('推'
// and '😀'), so that a limit counted in bytes, or a column that is not
// utf8mb4, fails.
func charsOf(n int) string { return strings.Repeat("推", n-1) + "😀" }

// bytesOf returns exactly n bytes, mostly 4-byte characters.
func bytesOf(n int) string { return strings.Repeat("😀", n/4) + strings.Repeat("a", n%4) }

// limitCase is one column written from outside: the input that reaches
// it, its limit, and how the value is written and read back.
type limitCase struct {
	input  string // the input field, as the 400 names it
	column string // table.column
	unit   string // "chars", "bytes" or "ascii" (chars, ASCII only)
	max    int
	via    string // HTTP endpoint, Service method or Scanner
	// value builds the input value that stores a column value of size n
	// (in unit); stored is what the column should then hold.
	value func(v string) (input any, stored string)
	// write makes the write and returns what the column holds, or the
	// error naming the refused field.
	write func(t *testing.T, e *limitEnv, i int, input any) (string, error)
}

// asciiOnly is c for a column whose input may hold ASCII characters only
// (a push token): its longest value is max of them.
func asciiOnly(c limitCase) limitCase {
	c.unit = "ascii"
	return c
}

// registerCase writes a device field through POST /api/v1.1/app/device.
func registerCase(field, column string, read func(registry.Device, registry.UserDevice) string) limitCase {
	return limitCase{input: field, column: column, unit: "chars", max: registry.MaxVarchar, via: "POST " + push.PathDevice,
		value: func(v string) (any, string) { return v, v },
		write: func(t *testing.T, e *limitEnv, i int, input any) (string, error) {
			body := map[string]any{"user_num": fmt.Sprint("ru", i), "uuid": fmt.Sprint("uuid-", i), "push_token": fmt.Sprint("tok-", i),
				"platform": "android", "name": "n", "os": "android", "os_version": "14"}
			body[field] = input
			out, err := answer(t, e, push.PathDevice, body)
			if err != nil {
				return "", err
			}
			link, err := e.st.GetUserDevice(t.Context(), int64(out["user_device_id"].(float64)))
			require.NoError(t, err)
			dev, err := e.st.GetDevice(t.Context(), link.DeviceID)
			require.NoError(t, err)
			return read(dev, link), nil
		}}
}

// pushCase writes a push message field through POST
// /api/v1.1/user/push_message.
func pushCase(field, column, unit string, max int, value func(string) (any, string), read func(registry.PushMessage) string) limitCase {
	return limitCase{input: field, column: column, unit: unit, max: max, via: "POST " + push.PathPushMessage, value: value,
		write: func(t *testing.T, e *limitEnv, i int, input any) (string, error) {
			body := map[string]any{"user_num": "pu", "title": "t", "content": "c"}
			body[field] = input
			out, err := answer(t, e, push.PathPushMessage, body)
			if err != nil {
				return "", err
			}
			m, err := e.st.GetPushMessage(t.Context(), int64(out["push_message_id"].(float64)))
			require.NoError(t, err)
			return read(m), nil
		}}
}

// centerCase enqueues a push row of the message center with one field set
// and lets the Scanner push it: the value must reach the push message
// intact.
func centerCase(field, column, unit string, max int, value func(string) (any, string),
	set func(*registry.CenterMessage, string), read func(registry.PushMessage) string) limitCase {
	return limitCase{input: field, column: column, unit: unit, max: max, via: "Scanner (sys_message_center → push)", value: value,
		write: func(t *testing.T, e *limitEnv, i int, input any) (string, error) {
			m := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: messagecenter.ModePush, Receivers: "pu"}
			set(m, input.(string))
			if err := e.st.EnqueueCenterMessage(t.Context(), m); err != nil {
				return "", &refusal{field: fieldOf(err)}
			}
			_, err := e.scanner.RunOnce(t.Context())
			require.NoError(t, err)
			got, err := e.st.GetCenterMessage(t.Context(), m.ID)
			require.NoError(t, err)
			require.Equal(t, registry.SendStateSent, got.SendState, got.Remark)
			var id int64
			_, err = fmt.Sscanf(got.SendResult, messagecenter.SendResultPrefix+"%d", &id)
			require.NoError(t, err, got.SendResult)
			pm, err := e.st.GetPushMessage(t.Context(), id)
			require.NoError(t, err)
			return read(pm), nil
		}}
}

func same(v string) (any, string) { return v, v }

// extraValue makes {"k":"v…"} of the requested size from v: the stored
// JSON is 8 characters longer than the value of "k".
func extraValue(v string) (any, string) {
	r := []rune(v)[8:]
	return map[string]string{"k": string(r)}, `{"k":"` + string(r) + `"}`
}

// overridesValue makes {"umeng":{"k":"v…"}} of the requested size in
// bytes (18 bytes of JSON around the value).
func overridesValue(v string) (any, string) {
	s := bytesOf(len(v) - 18)
	return map[string]any{"umeng": map[string]string{"k": s}}, `{"umeng":{"k":"` + s + `"}}`
}

func limitCases() []limitCase {
	varchar, text := registry.MaxVarchar, registry.MaxText
	return []limitCase{
		registerCase("user_num", "sys_user_devices.user_num", func(_ registry.Device, l registry.UserDevice) string { return l.UserNum }),
		registerCase("uuid", "sys_devices.uuid", func(d registry.Device, _ registry.UserDevice) string { return d.UUID }),
		asciiOnly(registerCase("push_token", "sys_devices.push_device_token", func(d registry.Device, _ registry.UserDevice) string { return d.PushToken })),
		registerCase("name", "sys_devices.name", func(d registry.Device, _ registry.UserDevice) string { return d.Name }),
		registerCase("os", "sys_devices.os", func(d registry.Device, _ registry.UserDevice) string { return d.OS }),
		registerCase("os_version", "sys_devices.os_version", func(d registry.Device, _ registry.UserDevice) string { return d.OSVersion }),

		pushCase("title", "sys_push_messages.title", "chars", varchar, same, func(m registry.PushMessage) string { return m.Title }),
		pushCase("content", "sys_push_messages.content", "bytes", text, same, func(m registry.PushMessage) string { return m.Content }),
		pushCase("extra", "sys_push_messages.extra_params_string", "chars", varchar, extraValue, func(m registry.PushMessage) string { return m.Extra }),
		pushCase("overrides", "sys_push_messages.push_overrides", "bytes", text, overridesValue, func(m registry.PushMessage) string { return m.Overrides }),

		{input: "dedupe_key", column: "sys_push_messages.dedupe_key", unit: "chars", max: varchar, via: "Service.Push", value: same,
			write: func(t *testing.T, e *limitEnv, i int, input any) (string, error) {
				res, err := e.svc.Push(t.Context(), push.Message{UserNums: []string{"pu"}, Title: "t", Content: "c", DedupeKey: input.(string)})
				if err != nil {
					return "", &refusal{field: fieldOf(err)}
				}
				m, err := e.st.GetPushMessage(t.Context(), res.PushMessageID)
				require.NoError(t, err)
				return m.DedupeKey, nil
			}},

		centerCase("title", "sys_message_center.title → sys_push_messages.title", "chars", varchar, same,
			func(m *registry.CenterMessage, v string) { m.Title = v }, func(m registry.PushMessage) string { return m.Title }),
		centerCase("content", "sys_message_center.content → sys_push_messages.content", "bytes", text, same,
			func(m *registry.CenterMessage, v string) { m.Content = v }, func(m registry.PushMessage) string { return m.Content }),
		centerCase("extra_params_string", "sys_message_center.extra_params_string → sys_push_messages.extra_params_string", "chars", varchar,
			func(v string) (any, string) { s := `{"k":"` + string([]rune(v)[8:]) + `"}`; return s, s },
			func(m *registry.CenterMessage, v string) { m.Extra = v }, func(m registry.PushMessage) string { return m.Extra }),
	}
}

// TestInputLimits walks every column the HTTP API, the Service and the
// Scanner write from their input: the longest value the column holds (in
// characters of 3 and 4 bytes, or in bytes, as the column counts) is
// accepted and read back from the database unchanged; one character more
// is refused naming the field (HTTP 400 "invalid_<field>"), and no row of
// any table is written. On SQLite always, on MariaDB and PostgreSQL when
// their DSNs are set.
func TestInputLimits(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			e := newLimitEnv(t, d)
			for i, c := range limitCases() {
				t.Run(c.via+" "+c.input, func(t *testing.T) {
					longest := charsOf(c.max)
					switch c.unit {
					case "bytes":
						longest = bytesOf(c.max)
					case "ascii":
						longest = strings.Repeat("t", c.max)
					}
					input, want := c.value(longest)
					if c.unit == "chars" {
						require.Equal(t, c.max, utf8.RuneCountInString(want), c.column)
					} else {
						require.Len(t, want, c.max, c.column)
					}
					got, err := c.write(t, e, 2*i, input)
					require.NoError(t, err, "%s: the longest value is accepted", c.column)
					assert.True(t, got == want, "%s: stored intact (%d bytes stored, %d sent)", c.column, len(got), len(want))

					before := e.rows(t)
					input, _ = c.value(longest + "a")
					_, err = c.write(t, e, 2*i+1, input)
					var r *refusal
					require.ErrorAs(t, err, &r, "%s: one character more is refused", c.column)
					assert.Equal(t, c.input, r.field)
					assert.Equal(t, before, e.rows(t), "nothing written")
				})
			}
		})
	}
}
