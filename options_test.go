package push_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// sends returns the /api/send requests the fake recorded.
func sends(fake *umengtest.Server) []umengtest.Request {
	var out []umengtest.Request
	for _, r := range fake.Requests() {
		if r.Path == "/api/send" {
			out = append(out, r)
		}
	}
	return out
}

// TestClassAndOverridesReachEverySend: a push's class and Umeng options
// reach Umeng on the first send and on the retry that a later pass makes
// from what was stored.
func TestClassAndOverridesReachEverySend(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, fake := umengService(t, clk)
	_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "mate", Platform: "android",
		PushToken: umengtest.AndroidToken("class")})
	require.NoError(t, err)
	require.NoError(t, fake.FailNext(1, umengtest.Fault{Path: "/api/send", HTTPStatus: 503}))

	opts := &umeng.Options{ChannelProperties: umeng.ChannelProperties{ChannelActivity: "com.example.push.VendorActivity"}}
	res, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "双十一", Content: "全场五折",
		Class: provider.ClassMarketing, Overrides: map[string]any{"umeng": opts}})
	require.NoError(t, err)
	require.Equal(t, 1, res.Pending(), "the first send failed (503) and waits for a retry")

	clk.Advance(time.Hour)
	n, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	st, err := svc.PushStatus(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetSuccess, st.Android.Ret)

	reqs := sends(fake)
	require.Len(t, reqs, 2)
	for i, r := range reqs {
		// The faulted first send was not processed by the fake: read what
		// the client sent.
		var body struct {
			Category          *int              `json:"category"`
			ChannelProperties map[string]string `json:"channel_properties"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body), "send %d", i)
		require.NotNil(t, body.Category, "send %d: category", i)
		assert.Equal(t, 0, *body.Category, "send %d: marketing is category 0", i)
		assert.Equal(t, "com.example.push.VendorActivity", body.ChannelProperties["channel_activity"], "send %d", i)
		assert.Equal(t, "LOW", body.ChannelProperties["huawei_channel_importance"], "send %d", i)
	}
	require.NotNil(t, reqs[1].Category, "the fake accepted the retry's category")
	assert.Equal(t, 0, *reqs[1].Category)
}

// TestClassAndOverridesAreCheckedBeforeAnyWrite: a bad class, an override
// for a provider that is not configured, or one of the wrong type for its
// provider is a field error, and nothing is recorded or sent.
func TestClassAndOverridesAreCheckedBeforeAnyWrite(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, fake := umengService(t, clk)
	_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "mate", Platform: "android",
		PushToken: umengtest.AndroidToken("checked")})
	require.NoError(t, err)
	for _, tt := range []struct {
		name  string
		msg   push.Message
		field string
		says  string
	}{
		{"unknown class", push.Message{Class: "urgent"}, "class", ""},
		{"unconfigured provider", push.Message{Overrides: map[string]any{"getui": map[string]any{"x": 1}}}, "overrides", ""},
		{"another vendor's options", push.Message{Overrides: map[string]any{"umeng": &jpush.Options{ChannelID: "c"}}}, "overrides", ""},
		{"options Umeng refuses", push.Message{Overrides: map[string]any{"umeng": &umeng.Options{
			ChannelProperties: umeng.ChannelProperties{HuaweiChannelImportance: "LOUD"}}}}, "overrides", ""},
		{"not JSON", push.Message{Overrides: map[string]any{"umeng": json.RawMessage(`{"channel_properties":`)}}, "overrides", ""},
		{"two JSON values", push.Message{Overrides: map[string]any{"umeng": json.RawMessage(`{} {}`)}}, "overrides", ""},
		{"keys that differ in case", push.Message{Overrides: map[string]any{"umeng": json.RawMessage(`{"channelid":"b","ChannelID":"a"}`)}}, "overrides", ""},
		{"a key twice, deeper", push.Message{Overrides: map[string]any{"umeng": json.RawMessage(`{"channel_properties":{"a":1,"a":2}}`)}}, "overrides", ""},
		// The vendor's option at fault is named in the reason.
		{"an option another one needs", push.Message{Overrides: map[string]any{"umeng": &umeng.Options{AfterOpen: umeng.AfterOpenURL}}},
			"overrides", "umeng refuses overrides.umeng.url for android: is required when after_open is go_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.msg
			m.UserNums, m.Title, m.Content = []string{"u1"}, "t", "c"
			_, err := svc.Push(t.Context(), m)
			var fe *push.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field, "%v", err)
			if tt.says != "" {
				assert.Equal(t, tt.says, fe.Reason)
			}
		})
	}
	_, err = svc.PushStatus(t.Context(), 1)
	require.ErrorIs(t, err, registry.ErrNotFound, "nothing was recorded")
	assert.Empty(t, fake.Requests(), "nothing was sent")
}

// TestHTTPPushTakesClassAndOverrides: the push_message API takes an
// optional class ("marketing" or "service" in any case, 400 for anything
// else) and per-provider overrides.
func TestHTTPPushTakesClassAndOverrides(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, fake := umengService(t, clk)
	_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "mate", Platform: "android",
		PushToken: umengtest.AndroidToken("http-class")})
	require.NoError(t, err)
	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	post := func(body string) (int, string) {
		resp, err := http.Post(srv.URL+push.PathPushMessage, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var got struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&got)
		return resp.StatusCode, got.Error.Code
	}
	for _, body := range []string{
		`{"user_num":"u1","title":"t","content":"c","class":"urgent"}`,
		`{"user_num":"u1","title":"t","content":"c","class":7}`,
	} {
		status, code := post(body)
		assert.Equal(t, http.StatusBadRequest, status, body)
		assert.Equal(t, "invalid_class", code, body)
	}
	status, code := post(`{"user_num":"u1","title":"t","content":"c","overrides":["umeng"]}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_overrides", code)
	assert.Empty(t, fake.Requests())

	status, _ = post(`{"user_num":"u1","title":"t","content":"c","class":" Service ",
		"overrides":{"umeng":{"channel_properties":{"channel_activity":"com.example.A"}}}}`)
	require.Equal(t, http.StatusOK, status)
	reqs := sends(fake)
	require.Len(t, reqs, 1)
	require.NotNil(t, reqs[0].Category)
	assert.Equal(t, 1, *reqs[0].Category, "service is category 1")
	assert.Equal(t, "NORMAL", reqs[0].ChannelProperties["huawei_channel_importance"])
	assert.Equal(t, "com.example.A", reqs[0].ChannelProperties["channel_activity"])
}

// TestOverridesStoredInOneSpelling: a push's overrides are stored in one
// spelling whatever the caller's (members in key order, no white space,
// escapes alike, HTML's characters escaped, numbers as written), and a provider's null is none, so
// that a replay spelled otherwise is the same request.
func TestOverridesStoredInOneSpelling(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok-1")
	for _, tt := range []struct {
		overrides map[string]any
		stored    string
	}{
		{map[string]any{"umeng": json.RawMessage(` {"b" : 1.50, "a":"<\u0078>", "c": {"z":null,"y":[2, 1]}} `)},
			`{"umeng":{"a":"\u003cx\u003e","b":1.50,"c":{"y":[2,1],"z":null}}}`},
		{map[string]any{"umeng": json.RawMessage(`null`)}, ""},
		{map[string]any{"umeng": map[string]any{"b": 1, "a": "x"}}, `{"umeng":{"a":"x","b":1}}`},
	} {
		res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", Overrides: tt.overrides})
		require.NoError(t, err)
		m, err := f.store.GetPushMessage(t.Context(), res.PushMessageID)
		require.NoError(t, err)
		assert.Equal(t, tt.stored, m.Overrides)
	}
}

// TestStoredOverridesComparedAsCanonical: overrides stored in their
// caller's spelling (before they were kept canonical) still match the
// same overrides made canonical, so that a replay across the upgrade is
// the same push; different values do not.
func TestStoredOverridesComparedAsCanonical(t *testing.T) {
	canon := `{"umeng":{"a":"x","b":1}}`
	for stored, same := range map[string]bool{
		canon:                                    true,
		`{"umeng": {"b":1, "a":"\u0078"}}`:       true,
		`{"jpush":null,"umeng":{"b":1,"a":"x"}}`: true,
		`{"umeng":{"a":"x","b":2}}`:              false,
		`{"umeng":{"a":"x"}}`:                    false,
		`not json`:                               false,
		"":                                       false,
	} {
		assert.Equal(t, same, push.SameOverrides(stored, canon), "%s", stored)
	}
	assert.True(t, push.SameOverrides(`{"umeng":null}`, ""), "a provider's null is none")
}
