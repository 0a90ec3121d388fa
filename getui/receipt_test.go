package getui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider"
)

// reportSink records the reports a ReceiptHandler hands on, answering
// each with err.
type reportSink struct {
	mu   sync.Mutex
	got  []provider.Report
	ctxs []error // each Record ctx's Err at the call
	err  error
}

func (s *reportSink) record(ctx context.Context, r provider.Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, r)
	s.ctxs = append(s.ctxs, ctx.Err())
	return s.err
}

func (s *reportSink) reports() []provider.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]provider.Report(nil), s.got...)
}

var demoApp = getuitest.DefaultApps()[0]

func newReceiptHandler(t *testing.T, sink *reportSink, logs *syncbuf.Buffer) http.Handler {
	t.Helper()
	cfg := getui.ReceiptConfig{AppID: demoApp.AppID, MasterSecret: demoApp.MasterSecret, Record: sink.record}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	h, err := getui.ReceiptHandler(cfg)
	require.NoError(t, err)
	return h
}

// TestReceiptsFromTheFakeAreCounted: the fake posts Getui's receipts for
// what it delivered, and the handler hands each on under the taskid the
// send returned, with the cid.
func TestReceiptsFromTheFakeAreCounted(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	sink := &reportSink{}
	srv := httptest.NewServer(newReceiptHandler(t, sink, nil))
	defer srv.Close()
	ctx := context.Background()
	send := func(key string, cids ...string) string {
		rc, err := c.Send(ctx, &provider.Request{Platform: provider.Android, IdempotencyKey: key,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: cids},
			Notification: provider.Notification{Title: "到货提醒", Body: "已到货"}, ExpireTime: clk.Now().Add(time.Hour)})
		require.NoError(t, err)
		return rc.ID
	}
	one := send("k1", cid(provider.Android, 0))
	list := send("k2", cid(provider.Android, 1), cid(provider.Android, 2))

	post, err := fake.PostReceipts(ctx, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, post.Status, string(post.Body))
	assert.Equal(t, 3, post.Lines)
	at := time.UnixMilli(clk.Now().UnixMilli())
	assert.ElementsMatch(t, []provider.Report{
		{Provider: getui.Name, MsgID: one, Token: cid(provider.Android, 0), Event: provider.EventArrived, At: at},
		{Provider: getui.Name, MsgID: list, Token: cid(provider.Android, 1), Event: provider.EventArrived, At: at},
		{Provider: getui.Name, MsgID: list, Token: cid(provider.Android, 2), Event: provider.EventArrived, At: at},
	}, sink.reports())

	again, err := fake.PostReceipts(ctx, srv.URL)
	require.NoError(t, err)
	assert.Zero(t, again.Lines, "each arrival is posted once")

	click, err := fake.Receipt(ctx, srv.URL, cid(provider.Android, 1), getuitest.ActionClicked)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, click.Status)
	got := sink.reports()
	require.Len(t, got, 4)
	assert.Equal(t, provider.Report{Provider: getui.Name, MsgID: list, Token: cid(provider.Android, 1), Event: provider.EventOpened, At: at}, got[3])

	shown, err := fake.Receipt(ctx, srv.URL, cid(provider.Android, 1), getuitest.ActionShown)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, shown.Status, "acknowledged")
	assert.Len(t, sink.reports(), 4, "a notification shown is not counted")
	assert.Len(t, fake.ReceiptPosts(), 3)

	_, err = fake.Receipt(ctx, srv.URL, "nobody", getuitest.ActionClicked)
	assert.ErrorIs(t, err, getuitest.ErrInvalidArgument)
	_, err = fake.PostReceipts(ctx, "ftp://x")
	assert.ErrorIs(t, err, getuitest.ErrInvalidArgument)
}

// receiptLine is a receipt as Getui posts it, signed with secret.
func receiptLine(appID, cid, taskID, msgID, code, action, secret string) string {
	b, _ := json.Marshal(map[string]any{"appid": appID, "cid": cid, "taskid": taskID, "msgid": msgID, "code": code,
		"desc": "ok", "actionId": action, "recvtime": 1764640000000,
		"sign": getui.ReceiptSign(appID, cid, taskID, msgID, secret)})
	return string(b)
}

func postText(h http.Handler, method, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/getui/receipt", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestReceiptLinesAreJudgedAlone: a forged or malformed line is refused
// and logged with its number; the good lines of the same post are
// counted.
func TestReceiptLinesAreJudgedAlone(t *testing.T) {
	good := receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "0", demoApp.MasterSecret)
	click := receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "10010", demoApp.MasterSecret)
	forged := receiptLine(demoApp.AppID, "cid-2", "task-1", "m2", "200", "0", "not-the-secret")
	otherApp := receiptLine("someoneElse", "cid-3", "task-1", "m3", "200", "0", demoApp.MasterSecret)
	upper := strings.Replace(good, getui.ReceiptSign(demoApp.AppID, "cid-1", "task-1", "m1", demoApp.MasterSecret),
		strings.ToUpper(getui.ReceiptSign(demoApp.AppID, "cid-1", "task-1", "m1", demoApp.MasterSecret)), 1)
	failedPush := receiptLine(demoApp.AppID, "cid-4", "task-1", "m4", "400", "0", demoApp.MasterSecret)
	custom := receiptLine(demoApp.AppID, "cid-5", "task-1", "m5", "200", "90001", demoApp.MasterSecret)
	noCID := receiptLine(demoApp.AppID, "", "task-1", "m6", "200", "0", demoApp.MasterSecret)
	for _, tc := range []struct {
		name   string
		body   string
		status int
		events []provider.Event
		logged []string
	}{
		{"good and clicked, blank lines and CRLF", "\r\n" + good + "\r\n\r\n" + click + "\n", http.StatusOK,
			[]provider.Event{provider.EventArrived, provider.EventOpened}, nil},
		{"upper-case sign", upper, http.StatusOK, []provider.Event{provider.EventArrived}, nil},
		{"forged beside good", forged + "\n" + good + "\n" + otherApp, http.StatusOK, []provider.Event{provider.EventArrived},
			[]string{"line=1", "the sign does not match", "line=3", "someoneElse", "is not ours"}},
		{"all forged", forged + "\n" + otherApp, http.StatusForbidden, nil, []string{"line=1", "line=2"}},
		{"malformed and forged", "{not json\n" + forged, http.StatusForbidden, nil, []string{"not a JSON receipt object"}},
		{"all malformed", "{not json\n" + noCID, http.StatusBadRequest, nil, []string{"line=1", "line=2", "cid is required"}},
		{"a failed push and a custom action are acknowledged", failedPush + "\n" + custom, http.StatusOK, nil, nil},
		{"empty", " \n\n", http.StatusBadRequest, nil, []string{"the body holds no receipt"}},
		{"a line replayed in its post counts once", good + "\n" + good + "\n" + good, http.StatusOK,
			[]provider.Event{provider.EventArrived}, []string{"line=2", "line=3", "repeated in its post"}},
		{"a long line does not hide the ones after it", strings.Repeat(" ", 8000) + good + "\n" + click, http.StatusOK,
			[]provider.Event{provider.EventArrived, provider.EventOpened}, nil},
		{"numbers for code and action", strings.Replace(strings.Replace(good, `"code":"200"`, `"code":200`, 1), `"actionId":"0"`, `"actionId":0`, 1),
			http.StatusOK, []provider.Event{provider.EventArrived}, nil},
		{"fields that are no text", receiptLine(demoApp.AppID, "cid\u0000x", "task-1", "m1", "200", "0", demoApp.MasterSecret) + "\n" +
			receiptLine(demoApp.AppID, strings.Repeat("c", 256), "task-1", "m1", "200", "0", demoApp.MasterSecret),
			http.StatusBadRequest, nil, []string{"cid", "is not text of at most 255 characters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink, logs := &reportSink{}, &syncbuf.Buffer{}
			w := postText(newReceiptHandler(t, sink, logs), http.MethodPost, tc.body)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			var events []provider.Event
			for _, r := range sink.reports() {
				events = append(events, r.Event)
				assert.Equal(t, "task-1", r.MsgID)
				assert.Equal(t, "cid-1", r.Token)
			}
			assert.Equal(t, tc.events, events)
			for _, s := range tc.logged {
				assert.Contains(t, logs.String(), s)
			}
			assert.NotContains(t, logs.String(), demoApp.MasterSecret)
		})
	}
}

// TestReceiptActionIDs: each action id Getui reports an arrival or a
// click with, of its own connection or of a maker's channel, is that
// event; any other action is acknowledged and not counted.
func TestReceiptActionIDs(t *testing.T) {
	for action, want := range map[string]provider.Event{
		"0": provider.EventArrived, "10030": provider.EventArrived, "110000": provider.EventArrived,
		"120000": provider.EventArrived, "130000": provider.EventArrived, "140000": provider.EventArrived,
		"150000": provider.EventArrived,
		"10010":  provider.EventOpened, "10019": provider.EventOpened, "120010": provider.EventOpened,
		"130010": provider.EventOpened,
		"10009":  "", "110010": "", "1": "",
	} {
		t.Run(action, func(t *testing.T) {
			sink := &reportSink{}
			w := postText(newReceiptHandler(t, sink, &syncbuf.Buffer{}), http.MethodPost,
				receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", action, demoApp.MasterSecret))
			assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
			if want == "" {
				assert.Empty(t, sink.reports())
				return
			}
			require.Len(t, sink.reports(), 1)
			assert.Equal(t, want, sink.reports()[0].Event)
		})
	}
}

// TestReceiptPostRefusals covers what is refused before any line is read.
func TestReceiptPostRefusals(t *testing.T) {
	sink := &reportSink{}
	h := newReceiptHandler(t, sink, &syncbuf.Buffer{})
	w := postText(h, http.MethodGet, "")
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, http.MethodPost, w.Header().Get("Allow"))
	w = postText(h, http.MethodPut, "x")
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, "close", w.Header().Get("Connection"), "refused unread: the body is not waited for")

	small, err := getui.ReceiptHandler(getui.ReceiptConfig{AppID: demoApp.AppID, MasterSecret: demoApp.MasterSecret,
		Record: sink.record, MaxBodyBytes: 64, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	w = postText(small, http.MethodPost, receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "0", demoApp.MasterSecret))
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.Empty(t, sink.reports())

	// No limit at all: a long line is read whole, and the lines after it.
	unlimited, err := getui.ReceiptHandler(getui.ReceiptConfig{AppID: demoApp.AppID, MasterSecret: demoApp.MasterSecret,
		Record: sink.record, MaxBodyBytes: math.MaxInt64, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	w = postText(unlimited, http.MethodPost, strings.Repeat(" ", 8000)+
		receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "0", demoApp.MasterSecret)+"\n"+
		receiptLine(demoApp.AppID, "cid-2", "task-1", "m2", "200", "0", demoApp.MasterSecret))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Len(t, sink.reports(), 2)
}

// TestReceiptRecordErrors: an unknown push is acknowledged; a store that
// fails every count is answered 500.
func TestReceiptRecordErrors(t *testing.T) {
	line := receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "0", demoApp.MasterSecret)
	unknown := &reportSink{err: fmt.Errorf("push: %w", provider.ErrUnknownReport)}
	logs := &syncbuf.Buffer{}
	w := postText(newReceiptHandler(t, unknown, logs), http.MethodPost, line)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, logs.String(), "getui receipt of an unknown push ignored")

	click := receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "10010", demoApp.MasterSecret)
	down := &reportSink{err: errors.New("database is down")}
	logs = &syncbuf.Buffer{}
	w = postText(newReceiptHandler(t, down, logs), http.MethodPost, line+"\n"+click)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Len(t, down.reports(), 2)
	assert.Contains(t, logs.String(), "recording getui receipt failed")

	// A line handled beside the failures (here one acknowledged and not
	// counted) makes the post a success: Getui would not post it again.
	shown := receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "10000", demoApp.MasterSecret)
	w = postText(newReceiptHandler(t, down, &syncbuf.Buffer{}), http.MethodPost, line+"\n"+shown)
	assert.Equal(t, http.StatusOK, w.Code)
}

// TestReceiptRecordOutlivesTheRequest: a post whose client has hung up is
// still counted whole.
func TestReceiptRecordOutlivesTheRequest(t *testing.T) {
	sink := &reportSink{}
	h := newReceiptHandler(t, sink, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body := receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "0", demoApp.MasterSecret)
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/r", strings.NewReader(body))
	h.ServeHTTP(httptest.NewRecorder(), req)
	require.Len(t, sink.reports(), 1)
	assert.NoError(t, sink.ctxs[0], "Record's ctx is not the request's")
}

func TestReceiptConfigValidation(t *testing.T) {
	rec := (&reportSink{}).record
	for _, tc := range []struct {
		cfg   getui.ReceiptConfig
		field string
	}{
		{getui.ReceiptConfig{MasterSecret: "s", Record: rec}, "app_id"},
		{getui.ReceiptConfig{AppID: " ", MasterSecret: "s", Record: rec}, "app_id"},
		{getui.ReceiptConfig{AppID: "a", Record: rec}, "master_secret"},
		{getui.ReceiptConfig{AppID: "a", MasterSecret: "s"}, "record"},
		{getui.ReceiptConfig{AppID: "a", MasterSecret: "s", Record: rec, MaxBodyBytes: -1}, "max_body_bytes"},
	} {
		_, err := getui.ReceiptHandler(tc.cfg)
		require.Error(t, err, tc.field)
		assert.Equal(t, tc.field, provider.FieldOf(err))
	}
}

func TestReceiptConfigHidesItsSecret(t *testing.T) {
	const secret = "getui-master-secret-value"
	cfg := getui.ReceiptConfig{AppID: "app1", MasterSecret: secret}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "cfg", cfg, "nested", []any{cfg})
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg, cfg), logs.String(), string(js)} {
		assert.NotContains(t, s, secret)
		assert.Contains(t, s, "app1")
	}
}

// TestReceiptSign pins the sign to Getui's formula: the MD5 of appid, cid,
// taskid, msgid and the master secret joined, in hex.
func TestReceiptSign(t *testing.T) {
	// printf 'appcidtaskmsgsecret' | md5sum
	assert.Equal(t, "fcb41818a498f00867e7b2a0529e3390", getui.ReceiptSign("app", "cid", "task", "msg", "secret"))
}

// TestReceiptPostLogsAreBounded: a post of many bad lines (anybody may
// post one: the endpoint cannot ask for a token) logs the first lines one
// by one and then a single line counting the rest, not a line each.
func TestReceiptPostLogsAreBounded(t *testing.T) {
	sink, logs := &reportSink{}, &syncbuf.Buffer{}
	h := newReceiptHandler(t, sink, logs)
	good := receiptLine(demoApp.AppID, "cid-1", "task-1", "m1", "200", "0", demoApp.MasterSecret)
	body := strings.Repeat("{not json\n", 5000) + good
	w := postText(h, http.MethodPost, body)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Len(t, sink.reports(), 1, "the good line is counted")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	assert.Len(t, lines, 11, "ten lines one by one, then one count")
	assert.Contains(t, lines[0], "line=1")
	assert.Contains(t, lines[9], "line=10")
	assert.Contains(t, lines[10], "not_logged=4990")
	assert.Contains(t, lines[10], "malformed=5000")
}
