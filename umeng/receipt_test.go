package umeng_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
)

// receiptRecorder is a ReceiptConfig.Record that keeps what it was given
// and answers with err when set, ErrUnknownReport for msg ids starting
// with "unknown".
type receiptRecorder struct {
	got []provider.Report
	err error
}

func (r *receiptRecorder) record(_ context.Context, rep provider.Report) error {
	if r.err != nil {
		return r.err
	}
	if strings.HasPrefix(rep.MsgID, "unknown") {
		return fmt.Errorf("msg %s: %w", rep.MsgID, provider.ErrUnknownReport)
	}
	r.got = append(r.got, rep)
	return nil
}

func newReceiptHandler(t *testing.T, secret string) (http.Handler, *receiptRecorder) {
	t.Helper()
	rec := &receiptRecorder{}
	h, err := umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: []string{"ourkey"}, Record: rec.record, Secret: secret,
		MaxBodyBytes: 1024, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return h, rec
}

func postReceipt(h http.Handler, method, target, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

const goodReceipt = `{"appkey":"ourkey","msg_id":"ul-1","device_token":"tok","type":"arrival","ts":1764640000000,"callback_params":{"a":"b"}}`

func TestReceiptHandlerRecordsReceipts(t *testing.T) {
	h, rec := newReceiptHandler(t, "")
	w := postReceipt(h, http.MethodPost, "/r", "application/json", goodReceipt)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"ret":"SUCCESS"}`, w.Body.String())
	require.Len(t, rec.got, 1)
	assert.Equal(t, provider.Report{Provider: umeng.Name, MsgID: "ul-1", Token: "tok", Event: provider.EventArrived,
		At: time.UnixMilli(1764640000000)}, rec.got[0])

	w = postReceipt(h, http.MethodPost, "/r", "application/json",
		`[{"appkey":"ourkey","task_id":"us-2","type":"click","ts":"5"},{"appkey":"ourkey","msg_id":"ul-1","device_token":"t2","type":"dismiss"}]`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, rec.got, 3)
	assert.Equal(t, provider.Report{Provider: umeng.Name, MsgID: "us-2", Event: provider.EventOpened, At: time.UnixMilli(5)}, rec.got[1])
	assert.Equal(t, provider.EventDismissed, rec.got[2].Event)
	assert.True(t, rec.got[2].At.IsZero())

	w = postReceipt(h, http.MethodPost, "/r", "application/x-www-form-urlencoded",
		"appkey=ourkey&msg_id=ul-3&device_token=t3&type=click&ts=7")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, rec.got, 4)
	assert.Equal(t, provider.Report{Provider: umeng.Name, MsgID: "ul-3", Token: "t3", Event: provider.EventOpened, At: time.UnixMilli(7)}, rec.got[3])
}

// TestReceiptHandlerTypeSpellings: every spelling of a receipt's type the
// handler takes, in any case and with spaces around it, is its event.
func TestReceiptHandlerTypeSpellings(t *testing.T) {
	for typ, want := range map[string]provider.Event{
		"arrival": provider.EventArrived, "arrive": provider.EventArrived, "arrived": provider.EventArrived,
		"click": provider.EventOpened, "clicked": provider.EventOpened, "open": provider.EventOpened, "opened": provider.EventOpened,
		"dismiss": provider.EventDismissed, "dismissed": provider.EventDismissed, "ignore": provider.EventDismissed, "ignored": provider.EventDismissed,
		" Arrival ": provider.EventArrived, "CLICK": provider.EventOpened,
	} {
		t.Run(typ, func(t *testing.T) {
			h, rec := newReceiptHandler(t, "")
			w := postReceipt(h, http.MethodPost, "/r", "application/json",
				`{"appkey":"ourkey","msg_id":"ul-1","device_token":"tok","type":"`+typ+`"}`)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			require.Len(t, rec.got, 1)
			assert.Equal(t, want, rec.got[0].Event)
		})
	}
}

func TestReceiptHandlerRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, method, target, ct, body string
		want                           int
	}{
		{"GetIs405", http.MethodGet, "/r", "", "", http.StatusMethodNotAllowed},
		{"PutIs405", http.MethodPut, "/r", "application/json", goodReceipt, http.StatusMethodNotAllowed},
		{"NotJSONIs400", http.MethodPost, "/r", "application/json", `{"appkey":`, http.StatusBadRequest},
		{"TrailingDataIs400", http.MethodPost, "/r", "application/json", goodReceipt + `{}`, http.StatusBadRequest},
		{"EmptyArrayIs400", http.MethodPost, "/r", "application/json", `[]`, http.StatusBadRequest},
		{"NoMsgIDIs400", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","type":"arrival"}`, http.StatusBadRequest},
		{"NoAppKeyIs400", http.MethodPost, "/r", "application/json", `{"msg_id":"ul-1","type":"arrival"}`, http.StatusBadRequest},
		{"UnknownTypeIs400", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"ul-1","type":"exploded"}`, http.StatusBadRequest},
		{"BadTSIs400", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"ul-1","type":"click","ts":"noon"}`, http.StatusBadRequest},
		{"NegativeTSIs400", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"ul-1","type":"click","ts":-1}`, http.StatusBadRequest},
		{"NegativeTSInAFormIs400", http.MethodPost, "/r", "application/x-www-form-urlencoded", "appkey=ourkey&msg_id=ul-1&type=click&ts=-1", http.StatusBadRequest},
		{"OneBadInBatchIs400", http.MethodPost, "/r", "application/json", `[` + goodReceipt + `,{"appkey":"ourkey"}]`, http.StatusBadRequest},
		{"NULInMsgIDIs400", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"x\u0000y","type":"arrival"}`, http.StatusBadRequest},
		{"NotUTF8MsgIDIs400", http.MethodPost, "/r", "application/x-www-form-urlencoded", "appkey=ourkey&msg_id=%FF%FE&type=arrival", http.StatusBadRequest},
		{"NotUTF8JSONIs400", http.MethodPost, "/r", "application/json", "{\"appkey\":\"ourkey\",\"msg_id\":\"ul-\xff\",\"type\":\"arrival\"}", http.StatusBadRequest},
		{"LongMsgIDIs400", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"` + strings.Repeat("x", 256) + `","type":"click"}`, http.StatusBadRequest},
		{"LongTokenIs400", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"ul-1","type":"click","device_token":"` + strings.Repeat("z", 256) + `"}`, http.StatusBadRequest},
		{"NULInTokenIs400", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"ul-1","type":"click","device_token":"t\u0000"}`, http.StatusBadRequest},
		{"NotUTF8TokenIs400", http.MethodPost, "/r", "application/x-www-form-urlencoded", "appkey=ourkey&msg_id=ul-1&type=arrival&device_token=%FF", http.StatusBadRequest},
		{"NULInBatchIs400", http.MethodPost, "/r", "application/json", `[` + goodReceipt + `,{"appkey":"ourkey","msg_id":"a\u0000","type":"click"}]`, http.StatusBadRequest},
		{"ForeignAppKeyIs403", http.MethodPost, "/r", "application/json", `{"appkey":"theirs","msg_id":"ul-1","type":"click"}`, http.StatusForbidden},
		{"XMLIs415", http.MethodPost, "/r", "application/xml", `<r/>`, http.StatusUnsupportedMediaType},
		{"TooLargeIs413", http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"` + strings.Repeat("x", 2000) + `"}`, http.StatusRequestEntityTooLarge},
		{"TooLargeFormIs413", http.MethodPost, "/r", "application/x-www-form-urlencoded", "appkey=ourkey&msg_id=" + strings.Repeat("x", 2000), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, rec := newReceiptHandler(t, "")
			w := postReceipt(h, tc.method, tc.target, tc.ct, tc.body)
			assert.Equal(t, tc.want, w.Code, w.Body.String())
			assert.Empty(t, rec.got, "nothing of a refused post is recorded")
			if tc.want == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, w.Header().Get("Allow"))
			}
			if tc.want == http.StatusRequestEntityTooLarge {
				assert.Contains(t, w.Body.String(), "the body exceeds", "says why")
			}
		})
	}
}

func TestReceiptHandlerUnknownMsgIDIsIgnoredWith200(t *testing.T) {
	h, rec := newReceiptHandler(t, "")
	w := postReceipt(h, http.MethodPost, "/r", "application/json", `{"appkey":"ourkey","msg_id":"unknown-1","type":"arrival"}`)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, rec.got)
}

func TestReceiptHandlerStoreFailureIs500(t *testing.T) {
	h, rec := newReceiptHandler(t, "")
	rec.err = errors.New("database is down")
	w := postReceipt(h, http.MethodPost, "/r", "application/json", goodReceipt)
	assert.Equal(t, http.StatusInternalServerError, w.Code, "Umeng retries a non-200")
	assert.NotContains(t, w.Body.String(), "database")
}

// A post part of which failed is answered 500, so that Umeng posts it
// again, when every receipt counted had a device_token (the Service counts
// a device's receipt once). When one without a token was counted, posted
// again it would be counted twice: 200, and the failed ones are lost.
func TestReceiptHandlerPartFailure(t *testing.T) {
	var got []string
	record := func(_ context.Context, rep provider.Report) error {
		if strings.HasPrefix(rep.MsgID, "down") {
			return errors.New("database is down")
		}
		got = append(got, rep.MsgID)
		return nil
	}
	h, err := umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: []string{"ourkey"}, Record: record, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	w := postReceipt(h, http.MethodPost, "/r", "application/json",
		`[{"appkey":"ourkey","msg_id":"ul-1","type":"arrival"},{"appkey":"ourkey","msg_id":"down-1","type":"arrival","device_token":"t1"},{"appkey":"ourkey","msg_id":"ul-2","type":"click","device_token":"t2"}]`)
	assert.Equal(t, http.StatusOK, w.Code, "a receipt without a token was counted: %s", w.Body.String())
	assert.Equal(t, []string{"ul-1", "ul-2"}, got, "the receipts after the failed one are counted too")

	got = nil
	w = postReceipt(h, http.MethodPost, "/r", "application/json",
		`[{"appkey":"ourkey","msg_id":"ul-3","type":"arrival","device_token":"t3"},{"appkey":"ourkey","msg_id":"down-2","type":"arrival","device_token":"t1"},{"appkey":"ourkey","msg_id":"ul-4","type":"click","device_token":"t4"}]`)
	assert.Equal(t, http.StatusInternalServerError, w.Code, "every receipt counted had a token: Umeng may post it again")
	assert.Equal(t, []string{"ul-3", "ul-4"}, got)

	w = postReceipt(h, http.MethodPost, "/r", "application/json",
		`[{"appkey":"ourkey","msg_id":"down-2","type":"arrival"},{"appkey":"ourkey","msg_id":"down-3","type":"arrival"}]`)
	assert.Equal(t, http.StatusInternalServerError, w.Code, "nothing counted: Umeng may post it again")
}

// A client that hangs up while its post is recorded does not stop the
// recording halfway: every receipt sees a live context.
func TestReceiptHandlerRecordsOnItsOwnClock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var live []bool
	record := func(c context.Context, rep provider.Report) error {
		live = append(live, c.Err() == nil)
		cancel() // the client hangs up after the first receipt
		return nil
	}
	h, err := umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: []string{"ourkey"}, Record: record, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/r", strings.NewReader(
		`[{"appkey":"ourkey","msg_id":"ul-1","type":"arrival"},{"appkey":"ourkey","msg_id":"ul-1","type":"click"}]`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, []bool{true, true}, live)
}

func TestReceiptHandlerSecret(t *testing.T) {
	h, rec := newReceiptHandler(t, "s3cret-0123456789")
	for _, target := range []string{"/r", "/r?secret=", "/r?secret=wrong", "/r?secret=s3cret-012345678", "/r?Secret=s3cret-0123456789", "/r?secret=s3cret-0123456789&secret=x", "/r?secret=x&secret=s3cret-0123456789"} {
		w := postReceipt(h, http.MethodPost, target, "application/json", goodReceipt)
		assert.Equal(t, http.StatusUnauthorized, w.Code, target)
		assert.Equal(t, "close", w.Header().Get("Connection"), "refused unread: the body is not waited for")
	}
	assert.Empty(t, rec.got)
	u, err := umeng.ReceiptURLWithSecret("https://hooks.example.com/r?x=1", "s3cret-0123456789")
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.example.com/r?secret=s3cret-0123456789&x=1", u)
	w := postReceipt(h, http.MethodPost, "/r?secret=s3cret-0123456789&x=1", "application/json", goodReceipt)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, rec.got, 1)
}

func TestReceiptHandlerConfig(t *testing.T) {
	rec := &receiptRecorder{}
	_, err := umeng.ReceiptHandler(umeng.ReceiptConfig{Record: rec.record})
	assert.Equal(t, "app_keys", provider.FieldOf(err))
	_, err = umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: []string{"k"}})
	assert.Equal(t, "record", provider.FieldOf(err))
	_, err = umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: []string{"k"}, Record: rec.record, MaxBodyBytes: -1})
	assert.Equal(t, "max_body_bytes", provider.FieldOf(err))
	// The endpoint's only credential: a short one is guessed.
	_, err = umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: []string{"k"}, Record: rec.record, Secret: "s3cret"})
	assert.Equal(t, "secret", provider.FieldOf(err))
	assert.ErrorContains(t, err, "must have at least 16 characters (a random one: openssl rand -hex 16), has 6")
	assert.NotContains(t, err.Error(), "s3cret")
	_, err = umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: []string{"k"}, Record: rec.record, Secret: strings.Repeat("密", umeng.MinReceiptSecret)})
	assert.NoError(t, err, "characters, not bytes")
}

// TestReceiptConfigNeverPrintsItsSecret: the receipt URL's secret stays out
// of every fmt verb and of slog.
func TestReceiptConfigNeverPrintsItsSecret(t *testing.T) {
	const secret = "receipt-s3cret"
	cfg := umeng.ReceiptConfig{AppKeys: []string{"ak1"}, Secret: secret, MaxBodyBytes: 1024}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("receipts", "cfg", cfg)
	var nested bytes.Buffer
	slog.New(slog.NewJSONHandler(&nested, nil)).Info("receipts", "cfgs", []umeng.ReceiptConfig{cfg}, "host", struct{ R umeng.ReceiptConfig }{cfg})
	require.Equal(t, 2, strings.Count(nested.String(), `{"app_keys":["ak1"],"secret_set":true,"max_body_bytes":1024}`), nested.String())
	out := []string{logs.String(), nested.String()}
	// The verbs are variables so that vet lets the test use them.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%t"} {
		out = append(out, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg))
	}
	for _, s := range out {
		assert.NotContains(t, s, secret)
		assert.NotContains(t, s, hex.EncodeToString([]byte(secret)))
	}
	assert.Equal(t, "{AppKeys:[ak1] Secret:REDACTED MaxBodyBytes:1024}", cfg.String())
	assert.Contains(t, logs.String(), `"secret_set":true`)
}

// TestReceiptPostLogsAreBounded: a post of many receipts of unknown
// pushes logs the first ones one by one and then a single line counting
// the rest, not a line each.
func TestReceiptPostLogsAreBounded(t *testing.T) {
	var logs syncbuf.Buffer
	rec := &receiptRecorder{}
	h, err := umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: []string{"ourkey"}, Record: rec.record,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	items := make([]string, 0, 300)
	for i := range 300 {
		items = append(items, fmt.Sprintf(`{"appkey":"ourkey","msg_id":"unknown-%d","type":"arrival"}`, i))
	}
	w := postReceipt(h, http.MethodPost, "/r", "application/json", "["+strings.Join(items, ",")+"]")
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 11, "ten lines one by one, then one count")
	assert.Contains(t, lines[9], "unknown-9")
	assert.Contains(t, lines[10], "not_logged=290")
	assert.Contains(t, lines[10], "receipts=300")
}

// TestReceiptHandlerCountsARepeatOnce: a receipt a post holds twice (the
// same msg_id, device_token, type and ts) is recorded once, so that one
// without a device_token does not count as several devices; receipts that
// differ in any of those are each recorded.
func TestReceiptHandlerCountsARepeatOnce(t *testing.T) {
	h, rec := newReceiptHandler(t, "")
	same := `{"appkey":"ourkey","task_id":"us-9","type":"arrival","ts":5}`
	w := postReceipt(h, http.MethodPost, "/r", "application/json",
		`[`+same+`,`+same+`,`+same+`,{"appkey":"ourkey","task_id":"us-9","type":"arrival","ts":6},{"appkey":"ourkey","task_id":"us-9","type":"click","ts":5}]`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, rec.got, 3)
	assert.Equal(t, time.UnixMilli(5), rec.got[0].At)
	assert.Equal(t, time.UnixMilli(6), rec.got[1].At)
	assert.Equal(t, provider.EventOpened, rec.got[2].Event)
}
