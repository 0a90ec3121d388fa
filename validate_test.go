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
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/umeng/umengtest"
)

// TestPushRefusedByTheVendorIsAFieldErrorBeforeAnyWrite: what Umeng would
// refuse for every device of a platform is a 400 naming the input field,
// with nothing recorded and nothing sent.
func TestPushRefusedByTheVendorIsAFieldErrorBeforeAnyWrite(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, fake := umengService(t, clk)
	iosTok, androidTok := umengtest.IOSToken("v-ios"), umengtest.AndroidToken("v-android")
	for _, d := range []push.Device{
		{UserNum: "both", UUID: "iphone", Platform: "ios", PushToken: iosTok},
		{UserNum: "both", UUID: "mate", Platform: "android", PushToken: androidTok},
		{UserNum: "droid", UUID: "mate2", Platform: "android", PushToken: umengtest.AndroidToken("v-android2")},
	} {
		_, err := svc.RegisterDevice(t.Context(), d)
		require.NoError(t, err)
	}
	long := strings.Repeat("长", 1000) // 3,000 bytes: over both platforms' payload limits
	for _, tt := range []struct {
		name  string
		msg   push.Message
		field string
	}{
		{"content over the payload limit", push.Message{UserNums: []string{"both"}, Title: "t", Content: long}, "content"},
		{"title over the payload limit", push.Message{UserNums: []string{"droid"}, Title: long, Content: "c"}, "title"},
		{"extra aps reserved on iOS", push.Message{UserNums: []string{"both"}, Title: "t", Content: "c", Extra: map[string]string{"aps": "x"}}, "extra"},
		{"extra d reserved on iOS", push.Message{UserNums: []string{"both"}, Title: "t", Content: "c", Extra: map[string]string{"d": "x"}}, "extra"},
		{"extra p reserved on iOS", push.Message{UserNums: []string{"both"}, Title: "t", Content: "c", Extra: map[string]string{"p": "x"}}, "extra"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Push(t.Context(), tt.msg)
			var fe *push.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field, "%v", err)
			assert.ErrorIs(t, err, push.ErrInvalid)
		})
	}
	_, err := svc.Broadcast(t.Context(), push.Broadcast{Platform: "ios", Title: "t", Content: long})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "content", fe.Field)

	_, err = svc.PushStatus(t.Context(), 1)
	require.ErrorIs(t, err, registry.ErrNotFound, "nothing was recorded")
	assert.Empty(t, fake.Requests(), "nothing was sent")

	// What only iOS reserves is fine for Android alone.
	res, err := svc.Push(t.Context(), push.Message{UserNums: []string{"droid"}, Title: "t", Content: "c", Extra: map[string]string{"d": "x"}})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Accepted())
}

// TestHTTPPushRefusedByTheVendor: the same refusal through the HTTP API is
// a 400 whose code names the field.
func TestHTTPPushRefusedByTheVendor(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, fake := umengService(t, clk)
	_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "iphone", Platform: "ios", PushToken: umengtest.IOSToken("h")})
	require.NoError(t, err)
	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for body, code := range map[string]string{
		`{"user_num":"u1","title":"t","content":"` + strings.Repeat("x", 2100) + `"}`: "invalid_content",
		`{"user_num":"u1","title":"t","content":"c","extra":{"aps":"1"}}`:             "invalid_extra",
	} {
		resp, err := http.Post(srv.URL+push.PathPushMessage, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		var got struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, code, got.Error.Code, got.Error.Message)
	}
	assert.Empty(t, fake.Requests())
	_, err = svc.PushStatus(t.Context(), 1)
	require.ErrorIs(t, err, registry.ErrNotFound)
}

// TestNamesInAnyCase: Broadcast and Config.DefaultProvider read a platform
// and a provider name in any case and without surrounding spaces, as
// RegisterDevice reads a device's.
func TestNamesInAnyCase(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.DefaultProvider = " UMENG" }) // New accepts it
	reg := f.register(t, "u1", "phone", "android", "tok-1")
	dev, err := f.store.GetDevice(t.Context(), reg.DeviceID)
	require.NoError(t, err)
	assert.Equal(t, "umeng", dev.PushPlatform, "the default provider's own name is stored")
	res, err := f.svc.Broadcast(t.Context(), push.Broadcast{Platform: " IOS ", Provider: "Umeng", Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, "ios", ds[0].Platform)
	assert.Equal(t, "umeng", ds[0].Provider)
}

// TestConfigDurationsOutOfRange: New refuses a negative duration, and an
// Expiry so short that every push would expire before it is sent or
// retried, naming the field; the default and MinExpiry are accepted.
func TestConfigDurationsOutOfRange(t *testing.T) {
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	newWith := func(mod func(*push.Config)) error {
		st, err := memstore.New(memstore.Config{})
		require.NoError(t, err)
		cfg := push.Config{Store: st, Providers: []provider.Provider{m}}
		mod(&cfg)
		_, err = push.New(cfg)
		return err
	}
	for field, mod := range map[string]func(*push.Config){
		"expiry":        func(c *push.Config) { c.Expiry = time.Nanosecond },
		"send_timeout":  func(c *push.Config) { c.SendTimeout = -time.Second },
		"write_timeout": func(c *push.Config) { c.WriteTimeout = -time.Second },
		// A time.Duration counts nanoseconds: 30 meant as seconds is
		// refused, not taken as 30ns (a retry base of 30ns spent every
		// attempt in a blink; a write timeout of 1ns timed every write out).
		"send_timeout ":          func(c *push.Config) { c.SendTimeout = 30 },
		"poll_interval":          func(c *push.Config) { c.PollInterval = 30 },
		"write_timeout ":         func(c *push.Config) { c.WriteTimeout = 1 },
		"receipt_hold":           func(c *push.Config) { c.ReceiptHold = time.Microsecond },
		"retry.base":             func(c *push.Config) { c.Retry.Base = 30 },
		"retry.max":              func(c *push.Config) { c.Retry.Max = 30 },
		"retry.rate_limit_delay": func(c *push.Config) { c.Retry.RateLimitDelay = 999 * time.Microsecond },
	} {
		err := newWith(mod)
		var fe *push.FieldError
		require.ErrorAs(t, err, &fe, field)
		assert.Equal(t, strings.TrimSpace(field), fe.Field)
		assert.ErrorIs(t, err, push.ErrInvalid)
	}
	err = newWith(func(c *push.Config) { c.Retry.Base = 30 })
	assert.EqualError(t, err, "push: retry.base: is 30ns, shorter than 1ms (a time.Duration counts nanoseconds: 30 seconds is 30 * time.Second)")
	assert.NoError(t, newWith(func(c *push.Config) {
		c.SendTimeout, c.PollInterval, c.WriteTimeout, c.ReceiptHold = time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond
		c.Retry = push.RetryPolicy{Base: time.Millisecond, Max: time.Millisecond, RateLimitDelay: time.Millisecond}
	}), "a millisecond is taken")
	assert.NoError(t, newWith(func(c *push.Config) { c.Expiry = push.MinExpiry }))
	assert.NoError(t, newWith(func(*push.Config) {}))
}

// TestRegistrationRefusesATokenUmengWouldRefuse: a token that has not the
// shape of Umeng's (44 characters of base64 on Android, the APNs token in
// hex on iOS) is refused at registration, naming push_token and the shape,
// over HTTP as invalid_push_token, and nothing is stored: before, it was
// stored and every push to the device failed. A longer APNs token (Apple
// allows up to 100 bytes) and base64's other alphabet are taken.
func TestRegistrationRefusesATokenUmengWouldRefuse(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, _ := umengService(t, clk)
	ctx := t.Context()
	for _, tt := range []struct{ platform, token, reason string }{
		{"ios", "ZZZZ", "is 4 characters, not a Umeng iOS device token"},
		{"ios", strings.Repeat("g", 64), "holds a character that is no hex digit"},
		{"ios", strings.Repeat("a", 65), "is 65 characters"},
		{"ios", strings.Repeat("a", 202), "is 202 characters"},
		{"android", "abc", "is 3 characters, not a Umeng Android device token (44 characters of base64)"},
		{"android", strings.Repeat("a", 43) + ".", "holds a character base64 does not use"},
		{"android", umengtest.IOSToken("x"), "is 64 characters"},
	} {
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "d-" + tt.token, Platform: tt.platform, PushToken: tt.token})
		var fe *push.FieldError
		require.ErrorAs(t, err, &fe, tt.token)
		assert.Equal(t, "push_token", fe.Field)
		assert.Contains(t, fe.Reason, tt.reason)
		assert.NotContains(t, err.Error(), tt.token, "the token is not echoed")
	}
	devs, err := svc.ListDevices(ctx, "u1")
	require.NoError(t, err)
	assert.Empty(t, devs, "nothing stored")

	for _, tt := range []struct{ platform, token string }{
		{"ios", umengtest.IOSToken("a")},
		{"ios", strings.ToUpper(umengtest.IOSToken("b"))},
		{"ios", umengtest.IOSToken("c") + umengtest.IOSToken("d")}, // 64 bytes
		{"android", umengtest.AndroidToken("e")},
		{"android", "Ab+/" + umengtest.AndroidToken("f")[4:43] + "="},
	} {
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "ok-" + tt.token, Platform: tt.platform, PushToken: tt.token})
		require.NoError(t, err, tt.token)
	}

	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/v1.1/app/device", strings.NewReader(
		`{"user_num":"u2","uuid":"p1","platform":"android","push_token":"short"}`))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), `"invalid_push_token"`)
	assert.Contains(t, rec.Body.String(), "not a Umeng Android device token")
}

// TestRegistrationRefusesATokenJPushOrGetuiWouldRefuse: as for Umeng, a
// registration id JPush refuses (not 11 to 64 letters and digits) and a
// cid Getui refuses (not 32 lowercase hex digits) are field errors on
// push_token, and nothing is stored; before, they were stored, and each
// push split its batch to find them.
func TestRegistrationRefusesATokenJPushOrGetuiWouldRefuse(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, _, _ := mixedService(t, clk)
	ctx := t.Context()
	for _, tt := range []struct{ pp, platform, token, reason string }{
		{"jpush", "android", "not-a-rid", "not a JPush registration id"},
		{"jpush", "ios", "short5", "is 6 characters"},
		{"getui", "android", "abc", "is 3 characters, not a Getui cid"},
		{"getui", "ios", strings.ToUpper(getuitest.CID("x")), "no lowercase hex digit"},
	} {
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "d-" + tt.token, Platform: tt.platform, PushPlatform: tt.pp, PushToken: tt.token})
		var fe *push.FieldError
		require.ErrorAs(t, err, &fe, tt.token)
		assert.Equal(t, "push_token", fe.Field)
		assert.Contains(t, fe.Reason, tt.reason)
	}
	devs, err := svc.ListDevices(ctx, "u1")
	require.NoError(t, err)
	assert.Empty(t, devs, "nothing stored")
	for _, d := range []push.Device{
		{UserNum: "u1", UUID: "j", Platform: "android", PushPlatform: "jpush", PushToken: jpushtest.RegistrationID("j")},
		{UserNum: "u1", UUID: "g", Platform: "ios", PushPlatform: "getui", PushToken: getuitest.CID("g")},
	} {
		_, err := svc.RegisterDevice(ctx, d)
		require.NoError(t, err, d.UUID)
	}
}

// TestOverridesOfAnUnusedProviderAreChecked: a push whose users have no
// device of a configured provider still has that provider's overrides
// checked: a misspelt option is a field error on overrides naming the
// provider, and nothing is stored or sent (before, it was stored unread);
// valid ones are taken. Only the overrides count: a title too long for
// that provider (Getui's 50 characters) does not refuse a push it does
// not carry.
func TestOverridesOfAnUnusedProviderAreChecked(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, f := mixedService(t, clk)
	ctx := t.Context()
	_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "ip", Platform: "ios", PushToken: umengtest.IOSToken("ip")})
	require.NoError(t, err)

	_, err = svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c",
		Overrides: map[string]any{"jpush": json.RawMessage(`{"bogus":1}`)}})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "overrides", fe.Field)
	assert.Contains(t, fe.Reason, "jpush refuses overrides.jpush")
	list, err := st.ListPushMessages(ctx, registry.PushMessageQuery{})
	require.NoError(t, err)
	assert.Empty(t, list, "nothing stored")
	assert.Zero(t, f.umeng.Arrived("/api/send"), "nothing sent")

	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: strings.Repeat("长", 60), Content: "c",
		Overrides: map[string]any{"jpush": json.RawMessage(`{"third_party_channel":{"xiaomi":{"channel_id":"orders"}}}`),
			"getui": json.RawMessage(`{}`)}})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Accepted())
}
