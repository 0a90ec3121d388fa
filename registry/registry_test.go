package registry_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

func validDevice() *registry.Device {
	return &registry.Device{
		UUID: "uuid-1", Platform: registry.PlatformIOS, PushToken: "token-1", PushPlatform: "umeng",
		Name: "name", OS: "iOS", OSVersion: "17", Alias: "alias",
	}
}

// checkInvalid asserts that err is a *ValidationError for field, or nil
// when field is "".
func checkInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		assert.NoError(t, err)
		return
	}
	require.ErrorIs(t, err, registry.ErrInvalid)
	var ve *registry.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, field, ve.Field)
	assert.NotEmpty(t, ve.Reason)
}

func TestValidateDevice(t *testing.T) {
	long := strings.Repeat("x", registry.MaxVarchar+1)
	tests := []struct {
		name  string
		user  string
		edit  func(d *registry.Device) *registry.Device
		field string
	}{
		{name: "valid", user: "u1"},
		{name: "longest values", user: strings.Repeat("用", registry.MaxVarchar), edit: func(d *registry.Device) *registry.Device {
			d.Name, d.UUID = strings.Repeat("🎉", registry.MaxVarchar), strings.Repeat("u", registry.MaxVarchar)
			return d
		}},
		{name: "empty push platform", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushPlatform = ""; return d }},
		{name: "android", user: "u1", edit: func(d *registry.Device) *registry.Device { d.Platform = registry.PlatformAndroid; return d }},
		{name: "user_num empty", user: "", field: "user_num"},
		{name: "user_num blank", user: " \t\n", field: "user_num"},
		{name: "user_num not UTF-8", user: "\xff", field: "user_num"},
		{name: "user_num too long", user: long, field: "user_num"},
		{name: "device nil", user: "u1", edit: func(*registry.Device) *registry.Device { return nil }, field: "device"},
		{name: "uuid empty", user: "u1", edit: func(d *registry.Device) *registry.Device { d.UUID = ""; return d }, field: "uuid"},
		{name: "uuid too long", user: "u1", edit: func(d *registry.Device) *registry.Device { d.UUID = long; return d }, field: "uuid"},
		{name: "platform empty", user: "u1", edit: func(d *registry.Device) *registry.Device { d.Platform = ""; return d }, field: "platform"},
		{name: "platform unknown", user: "u1", edit: func(d *registry.Device) *registry.Device { d.Platform = "Android"; return d }, field: "platform"},
		{name: "push_token empty", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushToken = " "; return d }, field: "push_token"},
		{name: "push_token comma", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushToken = "a,b"; return d }, field: "push_token"},
		{name: "push_token space", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushToken = "a b"; return d }, field: "push_token"},
		{name: "push_token tab", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushToken = "a\tb"; return d }, field: "push_token"},
		{name: "push_token carriage return", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushToken = "a\rb"; return d }, field: "push_token"},
		{name: "push_token newline", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushToken = "a\nb"; return d }, field: "push_token"},
		{name: "push_token too long", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushToken = long; return d }, field: "push_token"},
		{name: "push_token not UTF-8", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushToken = "\xfe"; return d }, field: "push_token"},
		{name: "push_platform too long", user: "u1", edit: func(d *registry.Device) *registry.Device { d.PushPlatform = long; return d }, field: "push_platform"},
		{name: "name too long", user: "u1", edit: func(d *registry.Device) *registry.Device { d.Name = long; return d }, field: "name"},
		{name: "os too long", user: "u1", edit: func(d *registry.Device) *registry.Device { d.OS = long; return d }, field: "os"},
		{name: "os_version not UTF-8", user: "u1", edit: func(d *registry.Device) *registry.Device { d.OSVersion = "\xc0\xaf"; return d }, field: "os_version"},
		{name: "alias too long", user: "u1", edit: func(d *registry.Device) *registry.Device { d.Alias = long; return d }, field: "alias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDevice()
			if tt.edit != nil {
				d = tt.edit(d)
			}
			var before registry.Device
			if d != nil {
				before = *d
			}

			err := registry.ValidateDevice(d, tt.user)

			checkInvalid(t, err, tt.field)
			if d != nil {
				assert.Equal(t, before, *d, "ValidateDevice modified d")
			}
		})
	}
}

func validDelivery(platform string, tokens ...string) *registry.Delivery {
	return &registry.Delivery{
		Provider: "umeng", Platform: platform, Audience: registry.AudienceTokens, Tokens: tokens,
		IdempotencyKey: "key-" + platform + strconv.Itoa(len(tokens)), State: registry.DeliveryPending,
	}
}

func TestValidatePushToken(t *testing.T) {
	for _, ok := range []string{
		"0123456789abcdef0123456789abcdef", "Aj6vKcUq-RuhB_Xlz", "1104a8979214f00f7d3", "a+b/c==", "fcm:APA91b.x",
	} {
		assert.NoError(t, registry.ValidatePushToken(ok), ok)
	}
	for tok, want := range map[string]string{
		"bad-token!": `push_token: must hold only ASCII letters, digits and -_.:=+/, as vendors' tokens do; got '!' at byte 9`,
		"tok推":       `push_token: must hold only ASCII letters, digits and -_.:=+/, as vendors' tokens do; got '推' at byte 3`,
		"a'b":        `push_token: must hold only ASCII letters, digits and -_.:=+/, as vendors' tokens do; got '\'' at byte 1`,
		"a\x00b":     `push_token: must hold only ASCII letters, digits and -_.:=+/, as vendors' tokens do; got '\x00' at byte 1`,
		"a b":        `push_token: must hold only ASCII letters, digits and -_.:=+/, as vendors' tokens do; got ' ' at byte 1`,
	} {
		err := registry.ValidatePushToken(tok)
		var ve *registry.ValidationError
		require.ErrorAs(t, err, &ve, tok)
		assert.Equal(t, "push_token", ve.Field)
		assert.Contains(t, err.Error(), want, tok)
	}
}

func TestValidatePushMessage(t *testing.T) {
	long := strings.Repeat("x", registry.MaxVarchar+1)
	// Two tokens whose comma-joined form takes exactly size bytes.
	tokensOfSize := func(size int) []string { return []string{strings.Repeat("t", size-2), "t"} }
	type edit func(m *registry.PushMessage, ds []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery)
	message := func(f func(m *registry.PushMessage)) edit {
		return func(m *registry.PushMessage, ds []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
			f(m)
			return m, ds
		}
	}
	delivery := func(f func(d *registry.Delivery)) edit {
		return func(m *registry.PushMessage, ds []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
			f(ds[0])
			return m, ds
		}
	}
	deliveries := func(ds ...*registry.Delivery) edit {
		return func(m *registry.PushMessage, _ []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
			return m, ds
		}
	}
	tests := []struct {
		name  string
		edit  edit
		field string
	}{
		{name: "valid", edit: message(func(*registry.PushMessage) {})},
		{name: "no deliveries", edit: deliveries()},
		{name: "broadcast without tokens", edit: delivery(func(d *registry.Delivery) { d.Audience, d.Tokens = registry.AudienceBroadcast, nil })},
		{name: "longest values", edit: message(func(m *registry.PushMessage) {
			m.Title, m.Content = strings.Repeat("🎉", registry.MaxVarchar), strings.Repeat("a", registry.MaxText)
		})},
		{name: "message nil", edit: func(_ *registry.PushMessage, ds []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
			return nil, ds
		}, field: "push_message"},
		{name: "title too long", edit: message(func(m *registry.PushMessage) { m.Title = long }), field: "title"},
		{name: "title not UTF-8", edit: message(func(m *registry.PushMessage) { m.Title = "\xff" }), field: "title"},
		{name: "extra too long", edit: message(func(m *registry.PushMessage) { m.Extra = long }), field: "extra_params_string"},
		{name: "push_type too long", edit: message(func(m *registry.PushMessage) { m.PushType = long }), field: "push_type"},
		{name: "dedupe_key too long", edit: message(func(m *registry.PushMessage) { m.DedupeKey = long }), field: "dedupe_key"},
		{name: "content too long", edit: message(func(m *registry.PushMessage) { m.Content = strings.Repeat("a", registry.MaxText+1) }), field: "content"},
		{name: "content not UTF-8", edit: message(func(m *registry.PushMessage) { m.Content = "\xff" }), field: "content"},
		{name: "longest trace_parent", edit: message(func(m *registry.PushMessage) { m.TraceParent = strings.Repeat("a", registry.MaxTraceParent) })},
		{name: "trace_parent too long", edit: message(func(m *registry.PushMessage) { m.TraceParent = strings.Repeat("a", registry.MaxTraceParent+1) }), field: "trace_parent"},
		{name: "trace_parent holds DEL", edit: message(func(m *registry.PushMessage) { m.TraceParent = "00-ab\x7f" }), field: "trace_parent"},
		{name: "longest push_class in characters", edit: message(func(m *registry.PushMessage) { m.Class = strings.Repeat("类", registry.MaxClassChars) })},
		{name: "push_class too long", edit: message(func(m *registry.PushMessage) { m.Class = strings.Repeat("类", registry.MaxClassChars+1) }), field: "push_class"},
		{name: "delivery nil", edit: deliveries(validDelivery(registry.PlatformIOS, "t"), nil), field: "deliveries"},
		{name: "delivery platform", edit: delivery(func(d *registry.Delivery) { d.Platform = "" }), field: "delivery.platform"},
		{name: "delivery provider", edit: delivery(func(d *registry.Delivery) { d.Provider = "\t" }), field: "delivery.provider"},
		{name: "delivery idempotency key empty", edit: delivery(func(d *registry.Delivery) { d.IdempotencyKey = "" }), field: "delivery.idempotency_key"},
		{name: "delivery idempotency key too long", edit: delivery(func(d *registry.Delivery) { d.IdempotencyKey = long }), field: "delivery.idempotency_key"},
		{name: "token delivery without tokens", edit: delivery(func(d *registry.Delivery) { d.Tokens = nil }), field: "delivery.tokens"},
		{name: "tokens exactly at the limit", edit: deliveries(
			validDelivery(registry.PlatformAndroid, tokensOfSize(registry.MaxTokensText)...),
		)},
		{name: "android tokens over the limit", edit: deliveries(
			validDelivery(registry.PlatformAndroid, tokensOfSize(registry.MaxTokensText+1)...),
		), field: "android_device_tokens"},
		{name: "ios tokens over the limit across deliveries", edit: deliveries(
			validDelivery(registry.PlatformIOS, strings.Repeat("t", registry.MaxTokensText/2)),
			validDelivery(registry.PlatformIOS, strings.Repeat("t", registry.MaxTokensText/2), "t"),
		), field: "ios_device_tokens"},
		{name: "each platform has its own limit", edit: deliveries(
			validDelivery(registry.PlatformIOS, strings.Repeat("t", registry.MaxTokensText)),
			validDelivery(registry.PlatformAndroid, strings.Repeat("t", registry.MaxTokensText)),
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ds := tt.edit(
				&registry.PushMessage{Title: "title", Content: "content", Extra: `{"a":"b"}`, PushType: registry.PushTypeUsers, DedupeKey: "k"},
				[]*registry.Delivery{validDelivery(registry.PlatformIOS, "t1", "t2")},
			)
			checkInvalid(t, registry.ValidatePushMessage(m, ds), tt.field)
		})
	}
}

func TestValidateCenterMessage(t *testing.T) {
	long := strings.Repeat("x", registry.MaxVarchar+1)
	text := strings.Repeat("x", registry.MaxText+1)
	tests := []struct {
		name  string
		edit  func(m *registry.CenterMessage) *registry.CenterMessage
		field string
	}{
		{name: "valid", edit: func(m *registry.CenterMessage) *registry.CenterMessage { return m }},
		{name: "longest values", edit: func(m *registry.CenterMessage) *registry.CenterMessage {
			m.Title, m.Content = strings.Repeat("🎉", registry.MaxVarchar), strings.Repeat("x", registry.MaxText)
			return m
		}},
		{name: "message nil", edit: func(*registry.CenterMessage) *registry.CenterMessage { return nil }, field: "message_center"},
		{name: "title too long", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Title = long; return m }, field: "title"},
		{name: "extra not UTF-8", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Extra = "\xff"; return m }, field: "extra_params_string"},
		{name: "notify_mode too long", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.NotifyMode = long; return m }, field: "notify_mode"},
		{name: "receivers empty", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Receivers = ""; return m }, field: "receivers"},
		{name: "receivers too long", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Receivers = text; return m }, field: "receivers"},
		{name: "content too long", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Content = text; return m }, field: "content"},
		{name: "content not UTF-8", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Content = "\xff"; return m }, field: "content"},
		{name: "send_result too long", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.SendResult = text; return m }, field: "send_result"},
		{name: "remark too long", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Remark = text; return m }, field: "remark"},
		{name: "negative notify_level", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.NotifyLevel = -3; return m }},
		{name: "notify_level beyond INT", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.NotifyLevel = 1 << 31; return m }, field: "notify_level"},
		{name: "notify_level below INT", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.NotifyLevel = -1<<31 - 1; return m }, field: "notify_level"},
		{name: "negative attempts", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Attempts = -1; return m }, field: "attempts"},
		{name: "attempts beyond INT", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Attempts = 1 << 31; return m }, field: "attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.edit(&registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1,u2"})
			checkInvalid(t, registry.ValidateCenterMessage(m), tt.field)
		})
	}
}

func TestValidateCenterOutcome(t *testing.T) {
	text := strings.Repeat("x", registry.MaxText+1)
	tests := []struct {
		name  string
		edit  func(m *registry.CenterMessage) *registry.CenterMessage
		field string
	}{
		{name: "valid", edit: func(m *registry.CenterMessage) *registry.CenterMessage { return m }},
		{name: "longest values", edit: func(m *registry.CenterMessage) *registry.CenterMessage {
			m.SendResult, m.Remark, m.SendState, m.Attempts = strings.Repeat("x", registry.MaxText), strings.Repeat("x", registry.MaxText), 127, 1<<31-1
			return m
		}},
		{name: "only the outcome is checked", edit: func(m *registry.CenterMessage) *registry.CenterMessage {
			m.Receivers, m.Title = "", strings.Repeat("x", registry.MaxVarchar+1)
			return m
		}},
		{name: "message nil", edit: func(*registry.CenterMessage) *registry.CenterMessage { return nil }, field: "message_center"},
		{name: "send_result too long", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.SendResult = text; return m }, field: "send_result"},
		{name: "send_result not UTF-8", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.SendResult = "\xff"; return m }, field: "send_result"},
		{name: "remark too long", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Remark = text; return m }, field: "remark"},
		{name: "remark not UTF-8", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Remark = "\xc3"; return m }, field: "remark"},
		{name: "send_state beyond TINYINT", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.SendState = 128; return m }, field: "send_state"},
		{name: "send_state below TINYINT", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.SendState = -129; return m }, field: "send_state"},
		{name: "negative attempts", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Attempts = -1; return m }, field: "attempts"},
		{name: "attempts beyond INT", edit: func(m *registry.CenterMessage) *registry.CenterMessage { m.Attempts = 1 << 31; return m }, field: "attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.edit(&registry.CenterMessage{ID: 1, SendState: registry.SendStateSent, SendResult: "push_message#1", Attempts: 1, ClaimToken: "c"})
			checkInvalid(t, registry.ValidateCenterOutcome(m), tt.field)
		})
	}
}

// deliveryEdits are the changes to a valid delivery that every delivery
// validator refuses, with the field it names.
func deliveryEdits() []struct {
	name  string
	edit  func(d *registry.Delivery)
	field string
} {
	long := strings.Repeat("x", registry.MaxVarchar+1)
	return []struct {
		name  string
		edit  func(d *registry.Delivery)
		field string
	}{
		{"attempts negative", func(d *registry.Delivery) { d.Attempts = -1 }, "delivery.attempts"},
		{"attempts beyond INT", func(d *registry.Delivery) { d.Attempts = 1 << 31 }, "delivery.attempts"},
		{"receipt_id too long", func(d *registry.Delivery) { d.ReceiptID = long }, "delivery.receipt_id"},
		{"vendor_state not UTF-8", func(d *registry.Delivery) { d.VendorState = "\xff" }, "delivery.vendor_state"},
		{"ret too long", func(d *registry.Delivery) { d.Ret = long }, "delivery.ret"},
		{"error_kind too long", func(d *registry.Delivery) { d.ErrorKind = long }, "delivery.error_kind"},
		{"error_code of 256 emoji", func(d *registry.Delivery) { d.ErrorCode = strings.Repeat("🎉", registry.MaxVarchar+1) }, "delivery.error_code"},
		{"response beyond MEDIUMTEXT", func(d *registry.Delivery) { d.Response = strings.Repeat("x", registry.MaxMediumText+1) }, "delivery.response"},
		{"response not UTF-8", func(d *registry.Delivery) { d.Response = "ok \xed\xa0\x80" }, "delivery.response"},
	}
}

func TestValidateDeliveryOutcome(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(d *registry.Delivery)
		field string
	}{
		{"valid", func(*registry.Delivery) {}, ""},
		{"longest values", func(d *registry.Delivery) {
			d.Attempts, d.ReceiptID, d.Response = 1<<31-1, strings.Repeat("🎉", registry.MaxVarchar), strings.Repeat("x", registry.MaxMediumText)
		}, ""},
		{"creation columns are not checked", func(d *registry.Delivery) { d.Provider, d.Tokens = "", []string{"a,b"} }, ""},
		{"state empty", func(d *registry.Delivery) { d.State = "" }, "delivery.state"},
		{"state unknown", func(d *registry.Delivery) { d.State = "sent" }, "delivery.state"},
		{"state split", func(d *registry.Delivery) { d.State = registry.DeliverySplit }, "delivery.state"},
	}
	tests = append(tests, deliveryEdits()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDelivery(registry.PlatformIOS, "t")
			d.State = registry.DeliveryDone
			tt.edit(d)
			before := *d
			checkInvalid(t, registry.ValidateDeliveryOutcome(d), tt.field)
			assert.Equal(t, before, *d, "ValidateDeliveryOutcome modified d")
		})
	}
	t.Run("nil", func(t *testing.T) { checkInvalid(t, registry.ValidateDeliveryOutcome(nil), "delivery") })
}

func TestValidateDelivery(t *testing.T) {
	long := strings.Repeat("x", registry.MaxVarchar+1)
	tests := []struct {
		name  string
		edit  func(d *registry.Delivery)
		field string
	}{
		{"valid", func(*registry.Delivery) {}, ""},
		{"claimed", func(d *registry.Delivery) { d.ClaimToken = "creator" }, ""},
		{"broadcast", func(d *registry.Delivery) { d.Audience, d.Tokens = registry.AudienceBroadcast, nil }, ""},
		{"largest seq", func(d *registry.Delivery) { d.Seq = 1<<31 - 1 }, ""},
		{"platform upper case", func(d *registry.Delivery) { d.Platform = "IOS" }, "delivery.platform"},
		{"provider blank", func(d *registry.Delivery) { d.Provider = " " }, "delivery.provider"},
		{"provider too long", func(d *registry.Delivery) { d.Provider = long }, "delivery.provider"},
		{"idempotency key empty", func(d *registry.Delivery) { d.IdempotencyKey = "" }, "delivery.idempotency_key"},
		{"idempotency key too long", func(d *registry.Delivery) { d.IdempotencyKey = long }, "delivery.idempotency_key"},
		{"audience too long", func(d *registry.Delivery) { d.Audience = long }, "delivery.audience"},
		{"claim token too long", func(d *registry.Delivery) { d.ClaimToken = long }, "delivery.claim_token"},
		{"token delivery without tokens", func(d *registry.Delivery) { d.Tokens = nil }, "delivery.tokens"},
		{"empty token", func(d *registry.Delivery) { d.Tokens = []string{"a", ""} }, "delivery.tokens"},
		{"token with comma", func(d *registry.Delivery) { d.Tokens = []string{"a,b"} }, "delivery.tokens"},
		{"token with space", func(d *registry.Delivery) { d.Tokens = []string{"a "} }, "delivery.tokens"},
		{"token not UTF-8", func(d *registry.Delivery) { d.Tokens = []string{"\xff"} }, "delivery.tokens"},
		{"tokens beyond MEDIUMTEXT", func(d *registry.Delivery) {
			d.Tokens = []string{strings.Repeat("t", registry.MaxMediumText/2), strings.Repeat("t", registry.MaxMediumText/2+1)}
		}, "delivery.tokens"},
		{"negative seq", func(d *registry.Delivery) { d.Seq = -1 }, "delivery.seq"},
		{"seq beyond INT", func(d *registry.Delivery) { d.Seq = 1 << 31 }, "delivery.seq"},
		{"state split", func(d *registry.Delivery) { d.State = registry.DeliverySplit }, "delivery.state"},
		{"state unknown", func(d *registry.Delivery) { d.State = "sent" }, "delivery.state"},
	}
	tests = append(tests, deliveryEdits()...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDelivery(registry.PlatformAndroid, "t1", "t2")
			tt.edit(d)
			before := *d
			checkInvalid(t, registry.ValidateDelivery(d), tt.field)
			assert.Equal(t, before, *d, "ValidateDelivery modified d")
			if tt.field != "" && tt.field != "delivery.tokens" {
				// A push message is refused for the same field.
				m := &registry.PushMessage{Title: "t"}
				checkInvalid(t, registry.ValidatePushMessage(m, []*registry.Delivery{d}), tt.field)
			}
		})
	}
	t.Run("nil", func(t *testing.T) { checkInvalid(t, registry.ValidateDelivery(nil), "delivery") })
}

func TestValidateSplit(t *testing.T) {
	claimed := func() *registry.Delivery {
		d := validDelivery(registry.PlatformIOS, "a", "b")
		d.ID, d.PushMessageID, d.Seq, d.ClaimToken, d.Attempts = 4, 2, 3, "claim", 1
		return d
	}
	part := func(key, token string) *registry.Delivery {
		return &registry.Delivery{Audience: registry.AudienceTokens, Tokens: []string{token}, IdempotencyKey: key, State: registry.DeliveryPending}
	}
	tests := []struct {
		name  string
		d     func(d *registry.Delivery) *registry.Delivery
		parts []*registry.Delivery
		field string
	}{
		{name: "valid", parts: []*registry.Delivery{part("k.0", "a"), part("k.1", "b")}},
		{name: "d's state is not checked", d: func(d *registry.Delivery) *registry.Delivery { d.State = registry.DeliverySplit; return d },
			parts: []*registry.Delivery{part("k.0", "a")}},
		{name: "parts take d's provider and platform", parts: []*registry.Delivery{{
			Provider: "", Platform: "web", Seq: -5, Audience: registry.AudienceTokens, Tokens: []string{"a"}, IdempotencyKey: "k", State: registry.DeliveryPending,
		}}},
		{name: "repeated keys are left to the store", parts: []*registry.Delivery{part("k", "a"), part("k", "b")}},
		{name: "d nil", d: func(*registry.Delivery) *registry.Delivery { return nil }, parts: []*registry.Delivery{part("k", "a")}, field: "delivery"},
		{name: "d's response not UTF-8", d: func(d *registry.Delivery) *registry.Delivery { d.Response = "\xff"; return d },
			parts: []*registry.Delivery{part("k", "a")}, field: "delivery.response"},
		{name: "d's attempts negative", d: func(d *registry.Delivery) *registry.Delivery { d.Attempts = -1; return d },
			parts: []*registry.Delivery{part("k", "a")}, field: "delivery.attempts"},
		{name: "d's platform unknown", d: func(d *registry.Delivery) *registry.Delivery { d.Platform = "web"; return d },
			parts: []*registry.Delivery{part("k", "a")}, field: "delivery.platform"},
		{name: "no parts", field: "parts"},
		{name: "empty parts", parts: []*registry.Delivery{}, field: "parts"},
		{name: "nil part", parts: []*registry.Delivery{part("k", "a"), nil}, field: "parts"},
		{name: "part without tokens", parts: []*registry.Delivery{part("k", "a"), {Audience: registry.AudienceTokens, IdempotencyKey: "k2", State: registry.DeliveryPending}},
			field: "delivery.tokens"},
		{name: "part without key", parts: []*registry.Delivery{part("", "a")}, field: "delivery.idempotency_key"},
		{name: "part split", parts: []*registry.Delivery{{Audience: registry.AudienceTokens, Tokens: []string{"a"}, IdempotencyKey: "k", State: registry.DeliverySplit}},
			field: "delivery.state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := claimed()
			if tt.d != nil {
				d = tt.d(d)
			}
			var before []registry.Delivery
			for _, p := range tt.parts {
				if p != nil {
					before = append(before, *p)
				}
			}
			checkInvalid(t, registry.ValidateSplit(d, tt.parts), tt.field)
			var after []registry.Delivery
			for _, p := range tt.parts {
				if p != nil {
					after = append(after, *p)
				}
			}
			assert.Equal(t, before, after, "ValidateSplit modified the parts")
		})
	}
}

func TestErrors(t *testing.T) {
	ve := &registry.ValidationError{Field: "title", Reason: "is required"}
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"validation error is ErrInvalid", ve, registry.ErrInvalid, true},
		{"wrapped validation error is ErrInvalid", errors.Join(errors.New("op"), ve), registry.ErrInvalid, true},
		{"validation error is not ErrNotFound", ve, registry.ErrNotFound, false},
		{"claim lost is a conflict", registry.ErrClaimLost, registry.ErrConflict, true},
		{"conflict is not claim lost", registry.ErrConflict, registry.ErrClaimLost, false},
		{"not owner is not not found", registry.ErrNotOwner, registry.ErrNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errors.Is(tt.err, tt.target))
		})
	}
	assert.Equal(t, "registry: title: is required", ve.Error())
}

func TestClip(t *testing.T) {
	tests := []struct {
		name string
		s    string
		max  int
		want string
	}{
		{"shorter", "abc", 5, "abc"},
		{"exactly max", "abcde", 5, "abcde"},
		{"longer", "abcdef", 5, "abcd…"},
		{"counts characters, not bytes", "🎉🎉🎉", 3, "🎉🎉🎉"},
		{"cuts on characters", "响应响应响应", 4, "响应响…"},
		{"empty", "", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, registry.Clip(tt.s, tt.max))
		})
	}
}

func TestDeliveryStateFinal(t *testing.T) {
	tests := []struct {
		state registry.DeliveryState
		final bool
	}{
		{registry.DeliveryPending, false},
		{registry.DeliveryAccepted, false},
		{registry.DeliveryDone, true},
		{registry.DeliveryFailed, true},
		{registry.DeliverySplit, true},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			assert.Equal(t, tt.final, tt.state.Final())
		})
	}
}

func TestPushMessageSummary(t *testing.T) {
	tests := []struct {
		platform string
		ios      string
		android  string
	}{
		{registry.PlatformIOS, "written", ""},
		{registry.PlatformAndroid, "", "written"},
	}
	for _, tt := range tests {
		t.Run(tt.platform, func(t *testing.T) {
			var m registry.PushMessage
			m.Summary(tt.platform).Ret = "written"
			assert.Equal(t, tt.ios, m.IOS.Ret)
			assert.Equal(t, tt.android, m.Android.Ret)
		})
	}
}

func TestSummarize(t *testing.T) {
	sent := func(sec int) *time.Time {
		at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(sec) * time.Second)
		return &at
	}
	ms := func(sec int) string { return strconv.FormatInt(sent(sec).UnixMilli(), 10) }
	type d = registry.Delivery
	ios := registry.PlatformIOS
	tests := []struct {
		name string
		ds   []d
		want registry.PlatformSummary
	}{
		{name: "no deliveries", want: registry.PlatformSummary{}},
		{name: "only the other platform", ds: []d{{Platform: registry.PlatformAndroid, State: registry.DeliveryPending, Tokens: []string{"a"}}},
			want: registry.PlatformSummary{}},
		{name: "pending", ds: []d{{Platform: ios, State: registry.DeliveryPending, Tokens: []string{"a", "b"}}},
			want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetPending, Status: registry.StatusPending, IsSend: true}},
		{name: "ordered by provider then seq", ds: []d{
			{Platform: ios, Provider: "umeng", Seq: 1, State: registry.DeliveryPending, Tokens: []string{"u1"}, ReceiptID: "r-u1"},
			{Platform: ios, Provider: "jpush", Seq: 0, State: registry.DeliveryPending, Tokens: []string{"j0"}},
			{Platform: ios, Provider: "umeng", Seq: 0, State: registry.DeliveryPending, Tokens: []string{"u0"}, ReceiptID: "r-u0"},
		}, want: registry.PlatformSummary{DeviceTokens: "j0,u0,u1", TaskID: "r-u0,r-u1", Ret: registry.RetPending, Status: registry.StatusPending, IsSend: true}},
		{name: "pending beats polling", ds: []d{
			{Platform: ios, State: registry.DeliveryPending, Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryAccepted, VendorState: "sending", Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetPending, Status: registry.StatusPending, IsSend: true}},
		{name: "done without vendor state is accepted", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, Tokens: []string{"a"}, ReceiptID: "ul1", Response: "ok", SentAt: sent(1)},
		}, want: registry.PlatformSummary{DeviceTokens: "a", TaskID: "ul1", Ret: registry.RetSuccess, Status: "accepted", Response: "ok", Timestamp: ms(1), IsSend: true}},
		{name: "done while still sending is accepted", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, VendorState: "sending", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryDone, VendorState: "accepted", Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetSuccess, Status: "accepted", IsSend: true}},
		{name: "done with one vendor state", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetSuccess, Status: "done", IsSend: true}},
		{name: "all failed", ds: []d{
			{Platform: ios, State: registry.DeliveryFailed, Tokens: []string{"a"}, Response: "bad", SentAt: sent(1)},
		}, want: registry.PlatformSummary{DeviceTokens: "a", Ret: registry.RetFail, Status: "failed", Response: "bad", Timestamp: ms(1), IsSend: true}},
		{name: "expired before any send is expired", ds: []d{
			{Platform: ios, State: registry.DeliveryFailed, VendorState: "expired", Tokens: []string{"a"}, Response: "expired", SentAt: sent(1)},
		}, want: registry.PlatformSummary{DeviceTokens: "a", Ret: registry.RetFail, Status: "expired", Response: "expired", Timestamp: ms(1), IsSend: true}},
		{name: "expired before any send and failed is partial", ds: []d{
			{Platform: ios, State: registry.DeliveryFailed, VendorState: "expired", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryFailed, Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetFail, Status: registry.StatusPartial, IsSend: true}},
		{name: "done and failed is partial", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryFailed, Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetPartial, Status: registry.StatusPartial, IsSend: true}},
		{name: "done and accepted is accepted", ds: []d{
			{Platform: ios, Provider: "getui", State: registry.DeliveryDone, VendorState: "accepted", Tokens: []string{"a"}},
			{Platform: ios, Provider: "getui", Seq: 1, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"b"}},
			{Platform: ios, Provider: "jpush", State: registry.DeliveryDone, Tokens: []string{"c"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b,c", Ret: registry.RetSuccess, Status: "accepted", IsSend: true}},
		{name: "done and expired is partial", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryDone, VendorState: "expired", Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetSuccess, Status: registry.StatusPartial, IsSend: true}},
		{name: "accepted and failed is partial", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, VendorState: "accepted", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryFailed, Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetPartial, Status: registry.StatusPartial, IsSend: true}},
		{name: "polling and failed shows the polling state", ds: []d{
			{Platform: ios, State: registry.DeliveryAccepted, VendorState: "sending", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryFailed, Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetPartial, Status: "sending", IsSend: true}},
		{name: "polling shows the least advanced state", ds: []d{
			{Platform: ios, State: registry.DeliveryAccepted, VendorState: "sending", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryAccepted, VendorState: "queued", Tokens: []string{"b"}},
			{Platform: ios, Seq: 2, State: registry.DeliveryAccepted, VendorState: "sending", Tokens: []string{"c"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b,c", Ret: registry.RetSuccess, Status: "queued", IsSend: true}},
		{name: "polling without vendor state is queued", ds: []d{
			{Platform: ios, State: registry.DeliveryAccepted, VendorState: "sending", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryAccepted, Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetSuccess, Status: "queued", IsSend: true}},
		{name: "equally advanced polling states keep the first", ds: []d{
			{Platform: ios, State: registry.DeliveryAccepted, VendorState: "scheduled", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryAccepted, VendorState: "queued", Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetSuccess, Status: "scheduled", IsSend: true}},
		{name: "polling beats final states", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"a"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryAccepted, VendorState: "sending", Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetSuccess, Status: "sending", IsSend: true}},
		{name: "latest send gives response and timestamp", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"a"}, Response: "later", SentAt: sent(9)},
			{Platform: ios, Seq: 1, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"b"}, Response: "earlier", SentAt: sent(2)},
			{Platform: ios, Seq: 2, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"c"}, Response: "unsent"},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b,c", Ret: registry.RetSuccess, Status: "done", Response: "later", Timestamp: ms(9), IsSend: true}},
		{name: "equal send times take the last in order", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"a"}, Response: "first", SentAt: sent(5)},
			{Platform: ios, Seq: 1, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"b"}, Response: "second", SentAt: sent(5)},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetSuccess, Status: "done", Response: "second", Timestamp: ms(5), IsSend: true}},
		{name: "a split delivery counts for nothing", ds: []d{
			{Platform: ios, Seq: 0, State: registry.DeliverySplit, Tokens: []string{"a", "b"}, ReceiptID: "r-split",
				Ret: registry.RetFail, Response: "split", SentAt: sent(9)},
			{Platform: ios, Seq: 1, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"a"}, ReceiptID: "r-a",
				Ret: registry.RetSuccess, Response: "ok a", SentAt: sent(2)},
			{Platform: ios, Seq: 2, State: registry.DeliveryDone, VendorState: "done", Tokens: []string{"b"}, ReceiptID: "r-b",
				Ret: registry.RetSuccess, Response: "ok b", SentAt: sent(3)},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", TaskID: "r-a,r-b", Ret: registry.RetSuccess, Status: "done",
			Response: "ok b", Timestamp: ms(3), IsSend: true}},
		{name: "a split delivery's pending parts", ds: []d{
			{Platform: ios, State: registry.DeliverySplit, Tokens: []string{"a", "b"}},
			{Platform: ios, Seq: 1, State: registry.DeliveryFailed, Tokens: []string{"a"}, Ret: registry.RetFail},
			{Platform: ios, Seq: 2, State: registry.DeliveryPending, Tokens: []string{"b"}},
		}, want: registry.PlatformSummary{DeviceTokens: "a,b", Ret: registry.RetPending, Status: registry.StatusPending, IsSend: true}},
		{name: "only split deliveries", ds: []d{
			{Platform: ios, State: registry.DeliverySplit, Tokens: []string{"a"}},
		}, want: registry.PlatformSummary{}},
		{name: "long task ids and response are clipped", ds: []d{
			{Platform: ios, State: registry.DeliveryDone, Tokens: []string{"a"}, ReceiptID: strings.Repeat("i", 200), Response: strings.Repeat("响", 300), SentAt: sent(1)},
			{Platform: ios, Seq: 1, State: registry.DeliveryDone, Tokens: []string{"b"}, ReceiptID: strings.Repeat("j", 200)},
		}, want: registry.PlatformSummary{
			DeviceTokens: "a,b", TaskID: registry.Clip(strings.Repeat("i", 200)+","+strings.Repeat("j", 200), registry.MaxVarchar),
			Ret: registry.RetSuccess, Status: "accepted", Response: strings.Repeat("响", 254) + "…", Timestamp: ms(1), IsSend: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := registry.Summarize(ios, tt.ds)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len([]rune(got.TaskID)), registry.MaxVarchar)
			assert.LessOrEqual(t, len([]rune(got.Response)), registry.MaxVarchar)
		})
	}
}

func TestSummarizeDoesNotReorderItsInput(t *testing.T) {
	ds := []registry.Delivery{
		{Platform: registry.PlatformIOS, Seq: 1, Tokens: []string{"b"}, State: registry.DeliveryPending},
		{Platform: registry.PlatformIOS, Seq: 0, Tokens: []string{"a"}, State: registry.DeliveryPending},
	}
	registry.Summarize(registry.PlatformIOS, ds)
	assert.Equal(t, 1, ds[0].Seq)
	assert.Equal(t, 0, ds[1].Seq)
}

// TestReceiptCountsOnce: Once asks about each event counted, in order,
// adds 1 for each new one whatever its count, and stops at an error.
func TestReceiptCountsOnce(t *testing.T) {
	var asked []registry.ReceiptEvent
	add, err := registry.ReceiptCounts{Arrived: 2, Dismissed: 1}.Once(func(e registry.ReceiptEvent) (bool, error) {
		asked = append(asked, e)
		return e == registry.ReceiptArrived, nil
	})
	require.NoError(t, err)
	assert.Equal(t, []registry.ReceiptEvent{registry.ReceiptArrived, registry.ReceiptDismissed}, asked)
	assert.Equal(t, registry.ReceiptCounts{Arrived: 1}, add)

	boom := errors.New("boom")
	asked = nil
	_, err = registry.ReceiptCounts{Arrived: 1, Opened: 1}.Once(func(e registry.ReceiptEvent) (bool, error) {
		asked = append(asked, e)
		return false, boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, []registry.ReceiptEvent{registry.ReceiptArrived}, asked, "stopped at the first error")
}

// TestMissingOptional: a store that implements every optional interface
// lacks none; a decorator that embeds the Store interface lacks them all,
// named in byte order.
func TestMissingOptional(t *testing.T) {
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	assert.Empty(t, registry.MissingOptional(st))
	assert.Equal(t, []string{"BacklogCounter", "CenterLeases", "DedupeKeyFinder", "Fanouts", "HeldReceiptCounter", "PushHolders", "ReceiptHolder",
		"RetryTokens", "TargetCensus"},
		registry.MissingOptional(struct{ registry.Store }{st}))
}

// TestRegisteredUserNumReadsAsItself: a user_num a device is registered
// for is refused when a message-center receivers value naming it alone
// would name other users: one holding a separator, or one that is a JSON
// array. A bracket that makes no JSON array is a name like any other.
func TestRegisteredUserNumReadsAsItself(t *testing.T) {
	for _, u := range []string{"u1 u2", "a,b", "a、b", "a，b", "a;b", "a；b", "a|b", `["u1001"]`, "[1]", "[]", `["a","b"]`} {
		err := registry.ValidateRegisteredUserNum(u)
		require.ErrorIs(t, err, registry.ErrInvalid, "%q", u)
		assert.ErrorContains(t, err, "user_num", "%q", u)
	}
	for _, u := range []string{"u1001", "[u1001]", "[1", "1]", `["a"`, "用户[1]"} {
		assert.NoError(t, registry.ValidateRegisteredUserNum(u), "%q", u)
		_, isArray := registry.JSONArray(u)
		assert.False(t, isArray, "%q", u)
	}
}

// TestRegistrationNamesTheFirstUnfitCharacter: the error names the first
// character a user_num or uuid must not hold, whether an invisible one or
// a stray variation selector comes first.
func TestRegistrationNamesTheFirstUnfitCharacter(t *testing.T) {
	for u, want := range map[string]string{"u\ufe0f\u200b": "U+FE0F", "u\u200b\ufe0f": "U+200B"} {
		assert.ErrorContains(t, registry.ValidateRegisteredUserNum(u), want, "%q", u)
		d := validDevice()
		d.UUID = u
		err := registry.ValidateRegistration(d, "u1")
		checkInvalid(t, err, "uuid")
		assert.ErrorContains(t, err, want, "%q", u)
	}
}

// TestJSONArrayAroundWhiteSpace: a JSON array is one with white space
// around it too.
func TestJSONArrayAroundWhiteSpace(t *testing.T) {
	elems, ok := registry.JSONArray(" \n[\"u1\", 2]\t")
	require.True(t, ok)
	assert.Len(t, elems, 2)
}

// TestValidateFanoutClaimTokenLimit: a fanout's claim token is at most 64
// characters.
func TestValidateFanoutClaimTokenLimit(t *testing.T) {
	f := &registry.Fanout{ClaimToken: strings.Repeat("令", 64), LeaseUntil: time.Unix(1, 0)}
	checkInvalid(t, registry.ValidateFanout(f), "")
	f.ClaimToken += "x"
	checkInvalid(t, registry.ValidateFanout(f), "fanout.claim_token")
}

// TestValidateReceiptsRefusesNegativeCounts: no count may be negative.
func TestValidateReceiptsRefusesNegativeCounts(t *testing.T) {
	checkInvalid(t, registry.ValidateReceipts("umeng", "r1", registry.ReceiptCounts{}), "")
	for _, c := range []registry.ReceiptCounts{{Arrived: -1}, {Opened: -1}, {Dismissed: -1}} {
		checkInvalid(t, registry.ValidateReceipts("umeng", "r1", c), "receipts")
	}
}

// TestValidateAddDeliveriesNeedsAFanoutClaim: a push whose fanout holds no
// claim token holds no fanout claim, even when the fanout ends (next nil).
func TestValidateAddDeliveriesNeedsAFanoutClaim(t *testing.T) {
	m := &registry.PushMessage{Fanout: &registry.Fanout{After: "a", LeaseUntil: time.Unix(1, 0)}}
	checkInvalid(t, registry.ValidateAddDeliveries(m, nil, nil), "fanout")
	m.Fanout.ClaimToken = "c"
	checkInvalid(t, registry.ValidateAddDeliveries(m, nil, nil), "")
}
