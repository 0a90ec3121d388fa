package providertest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
)

// tokenRequest returns a valid Android request to tokens.
func tokenRequest(tokens ...string) *provider.Request {
	return &provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens},
		Notification: provider.Notification{Title: "title", Body: "body"},
	}
}

// audienceRequest returns a valid Android request with audience a.
func audienceRequest(a provider.Audience) *provider.Request {
	r := tokenRequest()
	r.Audience = a
	return r
}

func TestMockSendRefuses(t *testing.T) {
	narrow := providertest.MockConfig{
		Name: "narrow",
		Capabilities: map[provider.Platform]provider.Capabilities{
			provider.Android: {MaxTokens: 2, Audiences: []provider.AudienceKind{provider.AudienceTokens}},
		},
	}
	limited := providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{
		provider.Android: {MaxTokens: 1, MaxPayloadBytes: 12, Audiences: []provider.AudienceKind{provider.AudienceTokens}},
	}}
	checked := providertest.MockConfig{Validate: refuseAPS}
	byFile := providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{
		provider.Android: {MaxTokens: 2, FileThreshold: 3, MaxFileTokens: 4, MaxFileBytes: 12, Audiences: []provider.AudienceKind{provider.AudienceTokens}},
	}}
	tests := []struct {
		name      string
		cfg       providertest.MockConfig
		req       *provider.Request
		wantField string
	}{
		{"nil request", narrow, nil, "request"},
		{"bad platform", narrow, &provider.Request{Platform: "windows"}, "platform"},
		{"empty token", narrow, tokenRequest("a", ""), "audience.tokens[1]"},
		{"no content", narrow, &provider.Request{Platform: provider.Android, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"a"}}}, "notification.body"},
		{"unsupported audience", narrow, audienceRequest(provider.Audience{Kind: provider.AudienceBroadcast}), "audience.kind"},
		{"too many tokens", narrow, tokenRequest("a", "b", "c"), "audience.tokens"},
		{"too many tokens by default", providertest.MockConfig{}, tokenRequest(tooManyTokens()...), "audience.tokens"},
		{"too many tokens by file", byFile, tokenRequest("a", "b", "c", "d", "e"), "audience.tokens"},
		{"a file too large", byFile, tokenRequest("aaaa", "bbbb", "cccc"), "audience.tokens"},
		{"body over the payload limit", limited, contentRequest("t", "", strings.Repeat("b", 12), nil), "notification.body"},
		{"title over the payload limit", limited, contentRequest(strings.Repeat("t", 9), "", "bbbb", nil), "notification.title"},
		{"subtitle over the payload limit", limited, contentRequest("t", strings.Repeat("s", 11), "b", nil), "notification.subtitle"},
		{"extras over the payload limit", limited, contentRequest("t", "", "b", map[string]string{"kkkkk": "vvvvv", "k": "v"}), "notification.extras"},
		{"a tie goes to the body", limited, contentRequest("ttttttt", "", "bbbbbbb", nil), "notification.body"},
		{"refused by the check", checked, contentRequest("t", "", "b", map[string]string{"aps": "x"}), `notification.extras["aps"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMock(t, tt.cfg)
			m.Enqueue(providertest.Result{Receipt: &provider.Receipt{ID: "scripted"}})

			verr := m.Validate(tt.req)
			require.ErrorIs(t, verr, provider.InvalidRequest)
			assert.Equal(t, tt.wantField, provider.FieldOf(verr))

			rc, err := m.Send(t.Context(), tt.req)
			assert.Equal(t, verr, err, "Send refuses with the error of Validate")
			assert.Nil(t, rc)
			require.ErrorIs(t, err, provider.InvalidRequest)
			assert.Equal(t, tt.wantField, provider.FieldOf(err))
			var pe *provider.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, m.Name(), pe.Provider)
			assert.Equal(t, "validate", pe.Op)

			assert.Zero(t, m.Calls(), "a refused request never reaches the script")
			assert.Empty(t, m.Requests())
			assert.Equal(t, 1, m.Pending(), "a refused request consumes no scripted result")
		})
	}
}

// contentRequest returns a valid Android request to one token with the
// given content.
func contentRequest(title, subtitle, body string, extras map[string]string) *provider.Request {
	r := tokenRequest("a")
	r.Notification = provider.Notification{Title: title, Subtitle: subtitle, Body: body, Extras: extras}
	return r
}

// refuseAPS is a MockConfig.Validate that refuses the extras key "aps", as
// a vendor that reserves it would.
func refuseAPS(r *provider.Request) error {
	if _, ok := r.Notification.Extras["aps"]; ok {
		return provider.Invalid(`notification.extras["aps"]`, "is reserved")
	}
	return nil
}

func TestMockValidateAccepts(t *testing.T) {
	limited := providertest.MockConfig{
		Capabilities: map[provider.Platform]provider.Capabilities{
			provider.Android: {MaxTokens: 1, MaxPayloadBytes: 12, Audiences: []provider.AudienceKind{provider.AudienceTokens}},
		},
		Validate: refuseAPS,
	}
	tests := []struct {
		name string
		cfg  providertest.MockConfig
		req  *provider.Request
	}{
		{"default config, any size", providertest.MockConfig{}, contentRequest("t", "", strings.Repeat("b", 1<<16), nil)},
		{"content of exactly the limit", limited, contentRequest("tt", "s", "bbb", map[string]string{"kk": "vvvv"})},
		{"the check passes", limited, contentRequest("t", "", "b", map[string]string{"apns": "x"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMock(t, tt.cfg)
			m.Enqueue(providertest.Result{Receipt: &provider.Receipt{ID: "scripted"}})
			require.NoError(t, m.Validate(tt.req))
			assert.Zero(t, m.Calls(), "Validate records nothing")
			assert.Equal(t, 1, m.Pending(), "Validate consumes no scripted result")

			rc, err := m.Send(t.Context(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, "scripted", rc.ID)
		})
	}
}

func TestMockValidateCheckErrors(t *testing.T) {
	plain := errors.New("vendor says no")
	tests := []struct {
		name     string
		check    func(*provider.Request) error
		wantKind provider.Kind
		field    string
	}{
		{"field error", func(*provider.Request) error { return provider.Invalid("notification.sound", "unknown") },
			provider.InvalidRequest, "notification.sound"},
		{"another kind is kept", func(*provider.Request) error {
			return &provider.Error{Kind: provider.Auth, Err: &provider.FieldError{Field: "platform", Reason: "not configured"}}
		}, provider.Auth, "platform"},
		{"plain error is wrapped", func(*provider.Request) error { return plain }, provider.InvalidRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMock(t, providertest.MockConfig{Name: "checked", Validate: tt.check})
			err := m.Validate(tokenRequest("a"))
			require.ErrorIs(t, err, tt.wantKind)
			assert.Equal(t, tt.field, provider.FieldOf(err))
			var pe *provider.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "checked", pe.Provider, "the Mock names itself on the check's errors")
			_, serr := m.Send(t.Context(), tokenRequest("a"))
			assert.Equal(t, err, serr)
			assert.Zero(t, m.Calls())
		})
	}
}

// tooManyTokens returns one token more than DefaultMaxTokens.
func tooManyTokens() []string {
	toks := make([]string, providertest.DefaultMaxTokens+1)
	for i := range toks {
		toks[i] = fmt.Sprint("token-", i)
	}
	return toks
}

func TestMockSendContextDone(t *testing.T) {
	deadline, cancelDeadline := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer cancelDeadline()
	tests := []struct {
		name  string
		ctx   context.Context
		cause error
	}{
		{"canceled", canceled(t), context.Canceled},
		{"deadline exceeded", deadline, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMock(t, providertest.MockConfig{})
			rc, err := m.Send(tt.ctx, tokenRequest("a"))
			assert.Nil(t, rc)
			require.ErrorIs(t, err, provider.Temporary)
			require.ErrorIs(t, err, tt.cause)
			assert.Zero(t, m.Calls(), "nothing was sent")
			assert.Empty(t, m.Requests())
		})
	}
}

// canceled returns a context that is already done.
func canceled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func TestMockSendGenerated(t *testing.T) {
	m := newMock(t, providertest.MockConfig{Name: "gen", Pollable: []provider.AudienceKind{provider.AudienceBroadcast}})
	tests := []struct {
		req  *provider.Request
		want provider.Receipt
	}{
		{tokenRequest("a"), provider.Receipt{Provider: "gen", Platform: provider.Android, ID: "mock-1"}},
		{audienceRequest(provider.Audience{Kind: provider.AudienceBroadcast}), provider.Receipt{Provider: "gen", Platform: provider.Android, ID: "mock-2", Pollable: true}},
		{audienceRequest(provider.Audience{Kind: provider.AudienceFile, FileID: "f"}), provider.Receipt{Provider: "gen", Platform: provider.Android, ID: "mock-3"}},
	}
	for _, tt := range tests {
		rc, err := m.Send(t.Context(), tt.req)
		require.NoError(t, err)
		assert.Equal(t, tt.want, *rc)
	}
	assert.Equal(t, len(tests), m.Calls())
}

func TestMockEnqueue(t *testing.T) {
	m := newMock(t, providertest.MockConfig{})
	failures := []provider.TokenFailure{{Token: "dead", Kind: provider.InvalidToken, Code: "5000"}}
	scripted := &provider.Receipt{ID: "task-1", Pollable: true, Raw: json.RawMessage(`{"ret":"SUCCESS"}`), Failures: failures}
	foreign := &provider.Receipt{ID: "x", Provider: "other", Platform: provider.IOS}
	boom := m.Err(provider.RateLimited, "2050")
	m.Enqueue(
		providertest.Result{Receipt: scripted},
		providertest.Result{Err: boom, Receipt: foreign},
		providertest.Result{Receipt: foreign},
		providertest.Result{},
	)
	// The Mock keeps its own copy of a scripted receipt.
	scripted.Failures[0].Token = "changed"
	scripted.ID = "changed"
	assert.Equal(t, 4, m.Pending())

	rc, err := m.Send(t.Context(), tokenRequest("ok", "dead"))
	require.NoError(t, err)
	assert.Equal(t, &provider.Receipt{
		Provider: m.Name(), Platform: provider.Android, ID: "task-1", Pollable: true,
		Raw:      json.RawMessage(`{"ret":"SUCCESS"}`),
		Failures: []provider.TokenFailure{{Token: "dead", Kind: provider.InvalidToken, Code: "5000"}},
	}, rc, "empty Provider and Platform are filled in")
	st, err := m.Status(t.Context(), provider.Android, "task-1")
	require.NoError(t, err, "a scripted pollable receipt is a task Status knows")
	assert.Equal(t, provider.StateQueued, st.State)

	rc, err = m.Send(t.Context(), tokenRequest("a"))
	assert.Nil(t, rc, "Err wins over Receipt")
	assert.Same(t, boom, err, "a *provider.Error is returned as scripted")

	rc, err = m.Send(t.Context(), tokenRequest("a"))
	require.NoError(t, err)
	assert.Equal(t, foreign, rc, "Provider and Platform set by the script are kept")

	rc, err = m.Send(t.Context(), tokenRequest("a"))
	require.NoError(t, err)
	assert.Equal(t, "mock-1", rc.ID, "an empty Result gives the generated receipt")

	rc, err = m.Send(t.Context(), tokenRequest("a"))
	require.NoError(t, err)
	assert.Equal(t, "mock-2", rc.ID, "after the script, generated receipts")
	assert.Zero(t, m.Pending())
	assert.Equal(t, 5, m.Calls())
}

func TestMockFailNext(t *testing.T) {
	custom := errors.New("connection reset")
	tests := []struct {
		name     string
		n        int
		err      error
		wantFail int
		wantKind provider.Kind
		wantIs   error
	}{
		{"scripted provider error", 2, &provider.Error{Provider: "mock", Kind: provider.Auth, Code: "2027"}, 2, provider.Auth, provider.Auth},
		{"nil error means Temporary", 1, nil, 1, provider.Temporary, provider.Temporary},
		{"plain error is wrapped as Unknown", 1, custom, 1, provider.Unknown, custom},
		{"ctx error is wrapped as Indeterminate", 1, context.DeadlineExceeded, 1, provider.Indeterminate, context.DeadlineExceeded},
		{"zero changes nothing", 0, custom, 0, 0, nil},
		{"negative changes nothing", -3, custom, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMock(t, providertest.MockConfig{})
			m.FailNext(tt.n, tt.err)
			require.Equal(t, tt.wantFail, m.Pending())
			for i := range tt.wantFail {
				rc, err := m.Send(t.Context(), tokenRequest("a"))
				assert.Nil(t, rc, "send %d", i)
				require.ErrorIs(t, err, tt.wantIs, "send %d", i)
				assert.Equal(t, tt.wantKind, provider.KindOf(err), "send %d", i)
				var pe *provider.Error
				require.ErrorAs(t, err, &pe, "send %d", i)
				assert.Equal(t, "mock", pe.Provider, "send %d", i)
			}
			rc, err := m.Send(t.Context(), tokenRequest("a"))
			require.NoError(t, err, "the failures are used up")
			assert.Equal(t, "mock-1", rc.ID)
			assert.Equal(t, tt.wantFail+1, m.Calls())
		})
	}
}

func TestMockSetSendFunc(t *testing.T) {
	plain := errors.New("vendor exploded")
	tests := []struct {
		name     string
		f        providertest.SendFunc
		wantID   string
		wantKind provider.Kind
		wantIs   error
	}{
		{"receipt", func(_ context.Context, r *provider.Request) (*provider.Receipt, error) {
			return &provider.Receipt{ID: "from-func-" + r.Audience.Tokens[0]}, nil
		}, "from-func-a", 0, nil},
		{"nil receipt means generated", func(context.Context, *provider.Request) (*provider.Receipt, error) {
			return nil, nil
		}, "mock-1", 0, nil},
		{"provider error", func(context.Context, *provider.Request) (*provider.Receipt, error) {
			return nil, fmt.Errorf("wrapped: %w", &provider.Error{Kind: provider.QuotaExceeded})
		}, "", provider.QuotaExceeded, provider.QuotaExceeded},
		{"plain error", func(context.Context, *provider.Request) (*provider.Receipt, error) {
			return nil, plain
		}, "", provider.Unknown, plain},
		{"ctx error", func(context.Context, *provider.Request) (*provider.Receipt, error) {
			return nil, context.Canceled
		}, "", provider.Indeterminate, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMock(t, providertest.MockConfig{})
			m.SetSendFunc(tt.f)
			rc, err := m.Send(t.Context(), tokenRequest("a"))
			if tt.wantIs != nil {
				assert.Nil(t, rc)
				require.ErrorIs(t, err, tt.wantIs)
				assert.Equal(t, tt.wantKind, provider.KindOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, rc.ID)
			assert.Equal(t, m.Name(), rc.Provider)
			assert.Equal(t, provider.Android, rc.Platform)
		})
	}
}

func TestMockSetSendFuncOrder(t *testing.T) {
	m := newMock(t, providertest.MockConfig{})
	m.SetSendFunc(func(_ context.Context, r *provider.Request) (*provider.Receipt, error) {
		// The func owns its copy: editing it reaches neither the caller nor
		// the record.
		r.Audience.Tokens[0] = "edited"
		r.Notification.Extras["k"] = "edited"
		return &provider.Receipt{ID: "func"}, nil
	})
	m.Enqueue(providertest.Result{Receipt: &provider.Receipt{ID: "queued"}})

	req := tokenRequest("a")
	req.Notification.Extras = map[string]string{"k": "v"}
	var ids []string
	for range 2 {
		rc, err := m.Send(t.Context(), req)
		require.NoError(t, err)
		ids = append(ids, rc.ID)
	}
	m.SetSendFunc(nil)
	rc, err := m.Send(t.Context(), req)
	require.NoError(t, err)
	ids = append(ids, rc.ID)

	assert.Equal(t, []string{"queued", "func", "mock-1"}, ids, "queue first, then the func, then generated")
	assert.Equal(t, tokenRequest("a").Audience, req.Audience)
	assert.Equal(t, map[string]string{"k": "v"}, req.Notification.Extras)
	for i, r := range m.Requests() {
		assert.Equal(t, []string{"a"}, r.Audience.Tokens, "request %d", i)
		assert.Equal(t, map[string]string{"k": "v"}, r.Notification.Extras, "request %d", i)
	}
}

func TestMockRequests(t *testing.T) {
	m := newMock(t, providertest.MockConfig{})
	badge := 3
	first := tokenRequest("a", "b")
	first.Notification.Badge = &badge
	first.Notification.Extras = map[string]string{"k": "v"}
	first.Overrides = map[string]any{"mock": 1}
	second := audienceRequest(provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"tag":"x"}`), Tags: []string{"t"}})
	second.Audience.Aliases = []string{"unused"}

	for _, r := range []*provider.Request{first, second} {
		_, err := m.Send(t.Context(), r)
		require.NoError(t, err)
	}
	want := []provider.Request{deepCopy(first), deepCopy(second)}

	// Neither the caller's later edits nor edits of a returned copy reach
	// the record.
	first.Audience.Tokens[0] = "edited"
	badge = 9
	first.Notification.Extras["k"] = "edited"
	first.Overrides["mock"] = 2
	second.Audience.Filter[2] = 'X'
	got := m.Requests()
	got[1].Audience.Tags[0] = "edited"
	got[1].Audience.Aliases[0] = "edited"

	assert.Equal(t, want, m.Requests())
	assert.Equal(t, 2, m.Calls())
}

// deepCopy copies r by value through its exported fields, for building
// expectations independent of the test's later edits.
func deepCopy(r *provider.Request) provider.Request {
	c := *r
	c.Audience.Tokens = append([]string(nil), r.Audience.Tokens...)
	c.Audience.Aliases = append([]string(nil), r.Audience.Aliases...)
	c.Audience.Tags = append([]string(nil), r.Audience.Tags...)
	c.Audience.Filter = append(json.RawMessage(nil), r.Audience.Filter...)
	if r.Notification.Extras != nil {
		c.Notification.Extras = make(map[string]string)
		for k, v := range r.Notification.Extras {
			c.Notification.Extras[k] = v
		}
	}
	if r.Notification.Badge != nil {
		b := *r.Notification.Badge
		c.Notification.Badge = &b
	}
	if r.Overrides != nil {
		c.Overrides = make(map[string]any)
		for k, v := range r.Overrides {
			c.Overrides[k] = v
		}
	}
	return c
}

func TestMockReset(t *testing.T) {
	m := newMock(t, providertest.MockConfig{Name: "kept", Pollable: []provider.AudienceKind{provider.AudienceBroadcast}})
	broadcast := audienceRequest(provider.Audience{Kind: provider.AudienceBroadcast})
	rc, err := m.Send(t.Context(), broadcast)
	require.NoError(t, err)
	require.NoError(t, m.Cancel(t.Context(), provider.Android, rc.ID))
	m.SetStatus("other", provider.Status{State: provider.StateDone})
	m.FailNext(2, nil)
	m.SetSendFunc(func(context.Context, *provider.Request) (*provider.Receipt, error) { return nil, errors.New("x") })

	m.Reset()

	assert.Zero(t, m.Calls())
	assert.Empty(t, m.Requests())
	assert.Empty(t, m.Cancels())
	assert.Zero(t, m.Pending())
	for _, id := range []string{rc.ID, "other"} {
		_, err := m.Status(t.Context(), provider.Android, id)
		require.ErrorIs(t, err, provider.InvalidRequest, "status of %s after Reset", id)
	}
	rc, err = m.Send(t.Context(), broadcast)
	require.NoError(t, err, "no script and no SendFunc after Reset")
	assert.Equal(t, provider.Receipt{Provider: "kept", Platform: provider.Android, ID: "mock-1", Pollable: true}, *rc,
		"ids restart and the configuration is kept")
}

func TestMockErr(t *testing.T) {
	m := newMock(t, providertest.MockConfig{Name: "umeng"})
	err := m.Err(provider.InvalidToken, "5000")
	assert.Equal(t, &provider.Error{Provider: "umeng", Op: "send", Kind: provider.InvalidToken, Code: "5000", Message: "scripted failure"}, err)
	assert.Equal(t, "umeng send: invalid_token (code 5000): scripted failure", err.Error())
	assert.NotSame(t, err, m.Err(provider.InvalidToken, "5000"), "each call returns a fresh error the caller may edit")
}

// TestMockMarkInvalid: a batch holding a dead token is refused as a whole,
// after it is counted; the error names the dead tokens only where the
// platform declares TokenFailures.
func TestMockMarkInvalid(t *testing.T) {
	m := newMock(t, providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{
		provider.IOS: {MaxTokens: 10, Audiences: []provider.AudienceKind{provider.AudienceTokens}, TokenFailures: true},
	}})
	m.MarkInvalid("dead1", "dead2")
	send := func(p provider.Platform, toks ...string) error {
		_, err := m.Send(t.Context(), &provider.Request{Platform: p, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: toks},
			Notification: provider.Notification{Title: "t"}})
		return err
	}

	err := send(provider.IOS, "a", "dead2", "b", "dead1")
	require.ErrorIs(t, err, provider.InvalidToken)
	assert.Equal(t, []string{"dead2", "dead1"}, failedTokens(provider.FailuresOf(err)), "named in the order given")

	err = send(provider.Android, "a", "dead1")
	require.ErrorIs(t, err, provider.InvalidToken)
	assert.Empty(t, provider.FailuresOf(err), "android declares no TokenFailures: the vendor does not say which")

	require.NoError(t, send(provider.Android, "a", "b"), "a batch without dead tokens is answered by the script")
	assert.Equal(t, 3, m.Calls(), "refused batches reached the vendor")

	m.Reset()
	require.NoError(t, send(provider.IOS, "dead1"), "Reset forgets dead tokens")
}

func failedTokens(fs []provider.TokenFailure) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Token)
	}
	return out
}
