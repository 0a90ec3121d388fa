package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestKindStringParseKind(t *testing.T) {
	tests := []struct {
		kind provider.Kind
		name string
	}{
		{provider.Unknown, "unknown"},
		{provider.Temporary, "temporary"},
		{provider.Indeterminate, "indeterminate"},
		{provider.RateLimited, "rate_limited"},
		{provider.QuotaExceeded, "quota_exceeded"},
		{provider.InvalidToken, "invalid_token"},
		{provider.InvalidRequest, "invalid_request"},
		{provider.Auth, "auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.kind.String())
			assert.Equal(t, tt.kind, provider.ParseKind(tt.name), "round trip")
			assert.Equal(t, tt.name, tt.kind.Error(), "fmt prints a Kind by its name")
		})
	}
	// The values are stored in databases: renumbering them would be a bug.
	assert.Equal(t, provider.Kind(7), provider.Auth, "the enum is append-only")
	assert.Equal(t, "kind(200)", provider.Kind(200).String(), "an unnamed kind")
	for _, s := range []string{"", "Auth", "bogus", "kind(200)"} {
		assert.Equal(t, provider.Unknown, provider.ParseKind(s), "ParseKind(%q)", s)
	}
}

func TestKindRetryableSpendsAttempt(t *testing.T) {
	tests := []struct {
		kind          provider.Kind
		retryable     bool
		spendsAttempt bool
	}{
		{provider.Unknown, true, true},
		{provider.Temporary, true, true},
		{provider.Indeterminate, true, true},
		{provider.RateLimited, true, false},
		{provider.QuotaExceeded, true, false},
		{provider.InvalidToken, false, true},
		{provider.InvalidRequest, false, true},
		{provider.Auth, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			assert.Equal(t, tt.retryable, tt.kind.Retryable(), "Retryable")
			assert.Equal(t, tt.spendsAttempt, tt.kind.SpendsAttempt(), "SpendsAttempt")
			err := fmt.Errorf("deliver: %w", &provider.Error{Kind: tt.kind})
			assert.Equal(t, tt.retryable, provider.IsRetryable(err), "IsRetryable of a wrapped error")
		})
	}
}

func TestErrorFormatting(t *testing.T) {
	tests := []struct {
		name string
		err  *provider.Error
		want string
	}{
		{"kind only", &provider.Error{}, "unknown"},
		{"every field", &provider.Error{
			Provider: "umeng", Op: "send", Kind: provider.Auth, Code: "2027", HTTPStatus: 400,
			Message: "sign mismatch", RetryAfter: time.Minute, Err: errors.New("cause"),
		}, "umeng send: auth (code 2027) (http 400): sign mismatch: cause"},
		{"provider without op", &provider.Error{Provider: "jpush", Kind: provider.Temporary}, "jpush temporary"},
		{"op without provider", &provider.Error{Op: "validate", Kind: provider.InvalidRequest}, "validate: invalid_request"},
		{"http status only", &provider.Error{Kind: provider.Temporary, HTTPStatus: 503}, "temporary (http 503)"},
		{"cause only", &provider.Error{Kind: provider.Indeterminate, Err: errors.New("EOF")}, "indeterminate: EOF"},
		{"field error", provider.Invalid("audience.tokens[3]", "is empty").(*provider.Error),
			"validate: invalid_request: audience.tokens[3]: is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestErrorIsAsThroughWrapping(t *testing.T) {
	cause := errors.New("connection reset")
	inner := &provider.Error{Provider: "getui", Op: "send", Kind: provider.InvalidToken, Code: "20001", Err: cause}
	err := fmt.Errorf("push message 7: %w", fmt.Errorf("chunk 2: %w", inner))

	for _, k := range []provider.Kind{
		provider.Unknown, provider.Temporary, provider.Indeterminate, provider.RateLimited,
		provider.QuotaExceeded, provider.InvalidToken, provider.InvalidRequest, provider.Auth,
	} {
		assert.Equal(t, k == provider.InvalidToken, errors.Is(err, k), "errors.Is(err, %v)", k)
	}
	assert.ErrorIs(t, err, cause, "the cause stays reachable")
	assert.Same(t, cause, inner.Unwrap())
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Same(t, inner, pe)
	assert.False(t, inner.Is(cause), "only a Kind matches by kind")
}

func TestErrorAccessors(t *testing.T) {
	full := &provider.Error{Kind: provider.RateLimited, Code: "2050", RetryAfter: 30 * time.Second,
		Err: &provider.FieldError{Field: "policy.start_time", Reason: "in the past"}}
	tests := []struct {
		name       string
		err        error
		kind       provider.Kind
		code       string
		retryAfter time.Duration
		field      string
		retryable  bool
	}{
		{"nil", nil, provider.Unknown, "", 0, "", false},
		{"plain error", errors.New("boom"), provider.Unknown, "", 0, "", true},
		{"provider error", full, provider.RateLimited, "2050", 30 * time.Second, "policy.start_time", true},
		{"wrapped provider error", fmt.Errorf("send: %w", full), provider.RateLimited, "2050", 30 * time.Second, "policy.start_time", true},
		{"invalid", provider.Invalid("notification.title", "is too long"), provider.InvalidRequest, "", 0, "notification.title", false},
		{"bare field error", &provider.FieldError{Field: "platform", Reason: "bad"}, provider.Unknown, "", 0, "platform", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.kind, provider.KindOf(tt.err), "KindOf")
			assert.Equal(t, tt.code, provider.CodeOf(tt.err), "CodeOf")
			assert.Equal(t, tt.retryAfter, provider.RetryAfterOf(tt.err), "RetryAfterOf")
			assert.Equal(t, tt.field, provider.FieldOf(tt.err), "FieldOf")
			assert.Equal(t, tt.retryable, provider.IsRetryable(tt.err), "IsRetryable")
		})
	}
}

func TestInvalid(t *testing.T) {
	err := provider.Invalid("audience.alias_type", "is required")
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "validate", pe.Op)
	assert.Equal(t, provider.InvalidRequest, pe.Kind)
	var fe *provider.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, &provider.FieldError{Field: "audience.alias_type", Reason: "is required"}, fe)
	assert.Equal(t, "audience.alias_type: is required", fe.Error())
}

func TestPlatforms(t *testing.T) {
	assert.Equal(t, []provider.Platform{provider.IOS, provider.Android}, provider.Platforms())
	ps := provider.Platforms()
	ps[0] = "edited"
	assert.Equal(t, provider.IOS, provider.Platforms()[0], "each call returns a fresh slice")

	tests := []struct {
		in      string
		want    provider.Platform
		wantErr string
	}{
		{"ios", provider.IOS, ""},
		{"android", provider.Android, ""},
		{"", "", `platform: must be "ios" or "android", got ""`},
		{"iOS", "", `platform: must be "ios" or "android", got "iOS"`},
		{"Android", "", `platform: must be "ios" or "android", got "Android"`},
		{" ios", "", `got " ios"`},
		{"windows", "", `got "windows"`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			p, err := provider.ParsePlatform(tt.in)
			assert.Equal(t, tt.want, p)
			assert.Equal(t, tt.wantErr == "", provider.Platform(tt.in).Valid(), "Valid")
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, provider.InvalidRequest)
			assert.Equal(t, "platform", provider.FieldOf(err))
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestRequestValidate(t *testing.T) {
	valid := func(edit func(r *provider.Request)) *provider.Request {
		r := &provider.Request{
			Platform:     provider.IOS,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1", "t2"}},
			Notification: provider.Notification{Title: "title", Body: "body"},
		}
		edit(r)
		return r
	}
	audience := func(a provider.Audience) *provider.Request {
		return valid(func(r *provider.Request) { r.Audience = a })
	}
	start := time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		req       *provider.Request
		wantField string // empty: valid
		wantMsg   string
	}{
		{"tokens", valid(func(*provider.Request) {}), "", ""},
		{"android", valid(func(r *provider.Request) { r.Platform = provider.Android }), "", ""},
		{"broadcast", audience(provider.Audience{Kind: provider.AudienceBroadcast}), "", ""},
		{"aliases", audience(provider.Audience{Kind: provider.AudienceAliases, Aliases: []string{"u1"}, AliasType: "user_num"}), "", ""},
		// Only vendors that type aliases (Capabilities.NeedsAliasType) need it.
		{"aliases without a type", audience(provider.Audience{Kind: provider.AudienceAliases, Aliases: []string{"u1"}}), "", ""},
		{"filter object", audience(provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"where":{"and":[]}}`)}), "", ""},
		{"filter group", audience(provider.Audience{Kind: provider.AudienceFilter, GroupID: "g1"}), "", ""},
		{"filter tags", audience(provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}}), "", ""},
		{"file", audience(provider.Audience{Kind: provider.AudienceFile, FileID: "f1"}), "", ""},
		{"title only", valid(func(r *provider.Request) { r.Notification.Body = "" }), "", ""},
		{"body only", valid(func(r *provider.Request) { r.Notification.Title = "" }), "", ""},
		{"silent without text", valid(func(r *provider.Request) { r.Notification = provider.Notification{Silent: true} }), "", ""},
		{"start only", valid(func(r *provider.Request) { r.StartTime = start }), "", ""},
		{"expire only", valid(func(r *provider.Request) { r.ExpireTime = start }), "", ""},
		{"marketing", valid(func(r *provider.Request) { r.Notification.Class = provider.ClassMarketing }), "", ""},
		{"service", valid(func(r *provider.Request) { r.Notification.Class = provider.ClassService }), "", ""},
		{"expire after start", valid(func(r *provider.Request) { r.StartTime = start; r.ExpireTime = start.Add(time.Second) }), "", ""},

		{"nil", nil, "request", "is nil"},
		{"no platform", valid(func(r *provider.Request) { r.Platform = "" }), "platform", `got ""`},
		{"unknown platform", valid(func(r *provider.Request) { r.Platform = "web" }), "platform", `got "web"`},
		{"no audience kind", audience(provider.Audience{Tokens: []string{"t"}}), "audience.kind", "is required"},
		{"unknown audience kind", audience(provider.Audience{Kind: "everyone"}), "audience.kind", `unknown kind "everyone"`},
		{"no tokens", audience(provider.Audience{Kind: provider.AudienceTokens}), "audience.tokens", "is empty"},
		{"empty token", audience(provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t0", "t1", ""}}), "audience.tokens[2]", "is empty"},
		{"no aliases", audience(provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num"}), "audience.aliases", "is empty"},
		{"empty filter", audience(provider.Audience{Kind: provider.AudienceFilter}), "audience.filter", "needs a filter, a group id or tags"},
		{"filter not JSON", audience(provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"where":`)}), "audience.filter", "is not valid JSON"},
		{"filter not JSON beside tags", audience(provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}, Filter: json.RawMessage(`nope`)}), "audience.filter", "is not valid JSON"},
		{"no file id", audience(provider.Audience{Kind: provider.AudienceFile}), "audience.file_id", "is required"},
		{"visible without text", valid(func(r *provider.Request) { r.Notification = provider.Notification{Subtitle: "sub"} }), "notification.body", "needs a title or a body"},
		{"unknown class", valid(func(r *provider.Request) { r.Notification.Class = "promo" }), "notification.class", `got "promo"`},
		{"class in capitals", valid(func(r *provider.Request) { r.Notification.Class = "Marketing" }), "notification.class", `got "Marketing"`},
		{"expire equals start", valid(func(r *provider.Request) { r.StartTime = start; r.ExpireTime = start }), "expire_time", "must be after start_time"},
		{"expire before start", valid(func(r *provider.Request) { r.StartTime = start; r.ExpireTime = start.Add(-time.Hour) }), "expire_time", "must be after start_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if tt.wantField == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, provider.InvalidRequest)
			assert.Equal(t, tt.wantField, provider.FieldOf(err))
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestCapabilitiesSupports(t *testing.T) {
	caps := provider.Capabilities{MaxTokens: 500, Audiences: []provider.AudienceKind{provider.AudienceTokens, provider.AudienceFile}}
	tests := []struct {
		caps provider.Capabilities
		kind provider.AudienceKind
		want bool
	}{
		{caps, provider.AudienceTokens, true},
		{caps, provider.AudienceFile, true},
		{caps, provider.AudienceBroadcast, false},
		{caps, "", false},
		{provider.Capabilities{}, provider.AudienceTokens, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%q", tt.caps.Audiences, tt.kind), func(t *testing.T) {
			assert.Equal(t, tt.want, tt.caps.Supports(tt.kind))
		})
	}
}

func TestCapabilitiesValidate(t *testing.T) {
	tests := []struct {
		name      string
		caps      provider.Capabilities
		wantField string // empty: valid
	}{
		{"zero", provider.Capabilities{}, ""},
		{"declared", provider.Capabilities{MaxTokens: 200, CallsPerSend: 4, SendTimeout: time.Minute, MaxTimeToLive: 72 * time.Hour,
			Polling: provider.Polling{Interval: 10 * time.Minute, Horizon: 24 * time.Hour}, TokenFailures: true}, ""},
		{"disabled polling", provider.Capabilities{Polling: provider.Polling{Disabled: true}}, ""},
		{"negative max tokens", provider.Capabilities{MaxTokens: -1}, "MaxTokens"},
		{"negative payload", provider.Capabilities{MaxPayloadBytes: -1}, "MaxPayloadBytes"},
		{"negative calls", provider.Capabilities{CallsPerSend: -1}, "CallsPerSend"},
		{"negative send timeout", provider.Capabilities{SendTimeout: -time.Second}, "SendTimeout"},
		{"negative ttl", provider.Capabilities{MaxTimeToLive: -time.Second}, "MaxTimeToLive"},
		{"negative interval", provider.Capabilities{Polling: provider.Polling{Interval: -time.Second}}, "Polling.Interval"},
		{"negative horizon", provider.Capabilities{Polling: provider.Polling{Horizon: -time.Second}}, "Polling.Horizon"},
		{"by file", provider.Capabilities{MaxTokens: 500, FileThreshold: 10000, MaxFileTokens: 40000}, ""},
		{"negative file threshold", provider.Capabilities{FileThreshold: -1}, "FileThreshold"},
		{"negative file tokens", provider.Capabilities{MaxFileTokens: -1}, "MaxFileTokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.caps.Validate()
			if tt.wantField == "" {
				require.NoError(t, err)
				return
			}
			var fe *provider.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.wantField, fe.Field)
			assert.Equal(t, "must not be negative", fe.Reason)
		})
	}
}

// A FileThreshold needs files larger than a batch of MaxTokens; BatchSize
// and MaxSendTokens follow it.
func TestCapabilitiesByFile(t *testing.T) {
	var fe *provider.FieldError
	require.ErrorAs(t, provider.Capabilities{MaxTokens: 500, FileThreshold: 1000, MaxFileTokens: 500}.Validate(), &fe)
	assert.Equal(t, "MaxFileTokens", fe.Field)
	assert.Contains(t, fe.Reason, "more than MaxTokens (500)")

	c := provider.Capabilities{MaxTokens: 500, FileThreshold: 1000, MaxFileTokens: 40000}
	assert.Equal(t, 500, c.BatchSize(999))
	assert.Equal(t, 40000, c.BatchSize(1000))
	assert.Equal(t, 40000, c.MaxSendTokens())
	off := provider.Capabilities{MaxTokens: 500, MaxFileTokens: 40000}
	assert.Equal(t, 500, off.BatchSize(100000), "no threshold: never by file")
	assert.Equal(t, 500, off.MaxSendTokens())
}

func TestCapabilitiesCalls(t *testing.T) {
	assert.Equal(t, 1, provider.Capabilities{}.Calls(), "unset: one call")
	assert.Equal(t, 1, provider.Capabilities{CallsPerSend: 1}.Calls())
	assert.Equal(t, 4, provider.Capabilities{CallsPerSend: 4}.Calls())
}

func TestFailuresOf(t *testing.T) {
	failures := []provider.TokenFailure{{Token: "t2", Kind: provider.InvalidToken, Code: "x"}}
	err := fmt.Errorf("wrapped: %w", &provider.Error{Provider: "mock", Op: "send", Kind: provider.InvalidToken, Failures: failures})
	assert.Equal(t, failures, provider.FailuresOf(err))
	assert.ErrorIs(t, err, provider.InvalidToken)
	assert.Nil(t, provider.FailuresOf(&provider.Error{Kind: provider.InvalidToken}), "the vendor did not say which")
	assert.Nil(t, provider.FailuresOf(errors.New("plain")))
	assert.Nil(t, provider.FailuresOf(nil))
}

func TestRetryTokenOf(t *testing.T) {
	tok, ok := provider.RetryTokenOf(fmt.Errorf("wrapped: %w", &provider.Error{Kind: provider.Indeterminate, RetryToken: "cid1:1:2:c"}))
	assert.True(t, ok)
	assert.Equal(t, "cid1:1:2:c", tok)
	tok, ok = provider.RetryTokenOf(&provider.Error{Kind: provider.Temporary})
	assert.True(t, ok, "a provider error without a token says to drop the one kept")
	assert.Empty(t, tok)
	_, ok = provider.RetryTokenOf(context.Canceled)
	assert.False(t, ok, "an error of another kind says nothing of the token")
	_, ok = provider.RetryTokenOf(nil)
	assert.False(t, ok)
}

func TestStateFinal(t *testing.T) {
	tests := []struct {
		state provider.State
		final bool
	}{
		{provider.StateQueued, false},
		{provider.StateScheduled, false},
		{provider.StateSending, false},
		{provider.StateDone, true},
		{provider.StateFailed, true},
		{provider.StateCanceled, true},
		{provider.StateExpired, true},
		{provider.StateEmpty, true},
		{provider.StateAccepted, true},
		{"", false},
		{"bogus", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			assert.Equal(t, tt.final, tt.state.Final())
		})
	}
}

// TestCheckClassChannel: a class's channel defaults may not contradict
// their class; empty values pass.
func TestCheckClassChannel(t *testing.T) {
	zero, one := 0, 1
	f := provider.ClassChannelFields{HuaweiCategory: "hc", HuaweiImportance: "hi", VivoClassification: "vc"}
	for _, tt := range []struct {
		class     provider.Class
		cat, imp  string
		vivo      *int
		wantField string
	}{
		{provider.ClassMarketing, "MARKETING", "LOW", &zero, ""},
		{provider.ClassService, "IM", "NORMAL", &one, ""},
		{provider.ClassService, "", "HIGH", nil, ""},
		{provider.ClassMarketing, "", "", nil, ""},
		{provider.ClassMarketing, "IM", "", nil, "hc"},
		{provider.ClassService, "MARKETING", "", nil, "hc"},
		{provider.ClassService, "URGENT", "", nil, "hc"},
		{provider.ClassMarketing, "", "NORMAL", nil, "hi"},
		{provider.ClassService, "", "LOW", nil, "hi"},
		{provider.ClassMarketing, "", "", &one, "vc"},
		{provider.ClassService, "", "", &zero, "vc"},
	} {
		err := provider.CheckClassChannel(tt.class, f, tt.cat, tt.imp, tt.vivo)
		if tt.wantField == "" {
			assert.NoError(t, err, "%+v", tt)
			continue
		}
		assert.Equal(t, tt.wantField, provider.FieldOf(err), "%+v: %v", tt, err)
	}
}

// TestRefieldAndCheckClassKey: a request's field is named in a Config's
// terms, its reason kept; an error without a field becomes the new field
// with its text; a class key is service or marketing.
func TestRefieldAndCheckClassKey(t *testing.T) {
	fe := provider.Refield(fmt.Errorf("wrapped: %w", provider.Invalid("overrides.x.channel_id", "is bad")), "overrides.x.", "android.defaults.")
	assert.Equal(t, provider.FieldError{Field: "android.defaults.channel_id", Reason: "is bad"}, *fe)
	fe = provider.Refield(errors.New("boom"), "overrides.x.", "android.defaults")
	assert.Equal(t, provider.FieldError{Field: "android.defaults", Reason: "boom"}, *fe)
	require.NoError(t, provider.CheckClassKey("f", provider.ClassService))
	require.NoError(t, provider.CheckClassKey("f", provider.ClassMarketing))
	err := provider.CheckClassKey("f", "")
	assert.Equal(t, "f", provider.FieldOf(err))
	assert.EqualError(t, err, `f: a class must be "service" or "marketing", got ""`)
}
