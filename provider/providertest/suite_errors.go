package providertest

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// invalidCase is a request that Request.Validate refuses, built from a valid
// platform and token.
type invalidCase struct {
	name  string
	build func(p provider.Platform, tok string) *provider.Request
}

// invalidCases covers every branch of Request.Validate.
func invalidCases() []invalidCase {
	edit := func(f func(r *provider.Request)) func(provider.Platform, string) *provider.Request {
		return func(p provider.Platform, tok string) *provider.Request {
			r := request(p, []string{tok})
			f(r)
			return r
		}
	}
	return []invalidCase{
		{"NilRequest", func(provider.Platform, string) *provider.Request { return nil }},
		{"NoPlatform", edit(func(r *provider.Request) { r.Platform = "" })},
		{"UnknownPlatform", edit(func(r *provider.Request) { r.Platform = "windows" })},
		{"NoAudienceKind", edit(func(r *provider.Request) { r.Audience.Kind = "" })},
		{"UnknownAudienceKind", edit(func(r *provider.Request) { r.Audience.Kind = "everyone" })},
		{"NoTokens", edit(func(r *provider.Request) { r.Audience.Tokens = nil })},
		{"EmptyToken", edit(func(r *provider.Request) { r.Audience.Tokens = append(r.Audience.Tokens, "") })},
		{"NoAliases", edit(func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceAliases, AliasType: "providertest"}
		})},
		{"EmptyFilter", edit(func(r *provider.Request) { r.Audience = provider.Audience{Kind: provider.AudienceFilter} })},
		{"FilterNotJSON", edit(func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"where":`)}
		})},
		{"NoFileID", edit(func(r *provider.Request) { r.Audience = provider.Audience{Kind: provider.AudienceFile} })},
		{"NoContent", edit(func(r *provider.Request) { r.Notification = provider.Notification{} })},
		{"ExpireBeforeStart", edit(func(r *provider.Request) {
			r.StartTime = time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
			r.ExpireTime = r.StartTime.Add(-time.Hour)
		})},
	}
}

func (s *suite) testInvalid(t *testing.T) {
	h := s.harness(t)
	p := h.Platforms[0]
	tok := h.tokens(t, p, 1)[0]
	for _, tc := range invalidCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.build(p, tok)
			require.Error(t, r.Validate(), "providertest: the case must be invalid")
			before := h.Calls()
			rc, err := h.Provider.Send(t.Context(), r)
			requireInvalid(t, rc, err)
			require.Equal(t, before, h.Calls(), "an invalid request must be refused before any delivering call")
		})
	}
}

// validAudience returns a valid audience of kind k that needs no token.
func validAudience(k provider.AudienceKind) provider.Audience {
	switch k {
	case provider.AudienceAliases:
		return provider.Audience{Kind: k, Aliases: []string{"providertest"}, AliasType: "providertest"}
	case provider.AudienceFilter:
		return provider.Audience{Kind: k, Tags: []string{"providertest"}}
	case provider.AudienceFile:
		return provider.Audience{Kind: k, FileID: "providertest"}
	}
	return provider.Audience{Kind: k}
}

func (s *suite) testUnsupported(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		kinds := unsupportedKinds(h.Provider.Capabilities(p))
		if len(kinds) == 0 {
			t.Skipf("%s supports every audience kind on %s", h.Provider.Name(), p)
		}
		for _, k := range kinds {
			t.Run(string(k), func(t *testing.T) {
				r := request(p, nil)
				r.Audience = validAudience(k)
				require.NoError(t, r.Validate(), "providertest: the request must be valid")
				before := h.Calls()
				rc, err := h.Provider.Send(t.Context(), r)
				requireInvalid(t, rc, err)
				require.Equal(t, before, h.Calls(), "an unsupported audience must be refused before any delivering call")
			})
		}
	})
}

// faultKinds lists every Kind a harness may be asked to produce.
func faultKinds() []provider.Kind {
	return []provider.Kind{
		provider.Temporary, provider.Indeterminate, provider.RateLimited,
		provider.QuotaExceeded, provider.InvalidToken, provider.InvalidRequest,
		provider.Auth, provider.Unknown,
	}
}

func (s *suite) testFaults(t *testing.T) {
	if s.harness(t).Fault == nil {
		t.Skip("Harness.Fault is nil")
	}
	s.perPlatform(t, func(t *testing.T, _ *Harness, p provider.Platform) {
		for _, k := range faultKinds() {
			t.Run(k.String(), func(t *testing.T) {
				h := s.harness(t)
				if !h.Fault(k) {
					t.Skipf("the backend cannot make %s report %s", h.Provider.Name(), k.String())
				}
				toks := h.tokens(t, p, 2)
				before := h.Calls()
				rc, err := h.Provider.Send(t.Context(), request(p, toks[:1]))
				require.Equal(t, before+1, h.Calls(), "a failed Send must make exactly one delivering call: providers never retry")
				require.Nil(t, rc, "a failed Send must not return a receipt")
				pe := requireKind(t, err, k)
				require.Equal(t, h.Provider.Name(), pe.Provider, "provider.Error.Provider must be Name()")

				rc, err = h.Provider.Send(t.Context(), request(p, toks[1:]))
				requireReceipt(t, h, p, rc, err)
				require.Equal(t, before+2, h.Calls(), "the Send after a fault must make exactly one delivering call")
			})
		}
	})
}

func (s *suite) testContextDoneBefore(t *testing.T) {
	cases := []struct {
		name string
		ctx  func(t *testing.T) context.Context
	}{
		{"Canceled", func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}},
		{"DeadlineExceeded", func(t *testing.T) context.Context {
			ctx, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
			t.Cleanup(cancel)
			return ctx
		}},
	}
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := h.Calls()
				rc, err := h.Provider.Send(tc.ctx(t), request(p, h.tokens(t, p, 1)))
				require.Nil(t, rc, "a Send whose ctx is done must not succeed")
				requireKind(t, err, provider.Temporary)
				require.Equal(t, before, h.Calls(), "a Send whose ctx is already done must not reach the backend")
			})
		}
	})
}

// sendResult is the outcome of a Send run on another goroutine.
type sendResult struct {
	rc  *provider.Receipt
	err error
}

func (s *suite) testCanceledWhileStalled(t *testing.T) {
	if s.harness(t).Stall == nil {
		t.Skip("Harness.Stall is nil")
	}
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		toks := h.tokens(t, p, 2)
		stalled, release := h.Stall()
		var once sync.Once
		releaseOnce := func() { once.Do(release) }
		// Registered after the harness's own cleanups, so it runs first and
		// a fake server's Close does not wait for a call it still holds.
		t.Cleanup(releaseOnce)

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		before := h.Calls()
		done := make(chan sendResult, 1)
		go func() {
			rc, err := h.Provider.Send(ctx, request(p, toks[:1]))
			done <- sendResult{rc, err}
		}()

		limit := time.NewTimer(waitLimit)
		defer limit.Stop()
		select {
		case <-stalled:
		case res := <-done:
			require.Failf(t, "Send returned while the backend was told to hold calls", "receipt %+v, error %v", res.rc, res.err)
		case <-limit.C:
			require.Failf(t, "the backend never received the call", "waited %v", waitLimit)
		}

		cancel()
		var res sendResult
		select {
		case res = <-done:
		case <-limit.C:
			require.Failf(t, "Send ignored the cancellation of its ctx", "still blocked %v after the call reached the backend", waitLimit)
		}
		require.Nil(t, res.rc, "a Send cancelled in flight must not succeed")
		requireProviderError(t, res.err)
		require.Containsf(t, []string{provider.Temporary.String(), provider.Indeterminate.String()}, provider.KindOf(res.err).String(),
			"a Send cancelled in flight must fail with a retryable Temporary or Indeterminate error, got %q", res.err)
		require.Equal(t, before+1, h.Calls(), "a cancelled Send must make exactly one delivering call")

		releaseOnce()
		rc, err := h.Provider.Send(t.Context(), request(p, toks[1:]))
		requireReceipt(t, h, p, rc, err)
	})
}

// unsupportedKinds returns the audience kinds caps does not list.
func unsupportedKinds(caps provider.Capabilities) []provider.AudienceKind {
	return slices.DeleteFunc(audienceKinds(), caps.Supports)
}
