package providertest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// richKeys numbers richRequest's idempotency keys.
var richKeys atomic.Int64

// richRequest returns a valid request to tokens that fills every slice, map
// and pointer a provider might be tempted to reuse, plus an override for
// another vendor, which the contract says a provider ignores. Each has an
// idempotency key of its own: a key names one request
// (provider.Request.IdempotencyKey), and a provider may answer a key sent
// again with the first send's result or route.
func richRequest(p provider.Platform, tokens []string) *provider.Request {
	badge := 7
	r := request(p, tokens)
	r.Audience.Tags = []string{"providertest-ignored"}
	r.Notification.Extras = map[string]string{"screen": "inbox", "id": "42"}
	r.Notification.Badge = &badge
	r.IdempotencyKey = fmt.Sprintf("providertest-idempotency-key-%d", richKeys.Add(1))
	r.Overrides = map[string]any{"providertest-other-vendor": struct{ Ignored bool }{true}}
	return r
}

// scribble overwrites every slice, map and pointer of r. Under -race, a
// provider that still reads them after Send returned is reported.
func scribble(r *provider.Request) {
	for i := range r.Audience.Tokens {
		r.Audience.Tokens[i] = "providertest-overwritten"
	}
	for i := range r.Audience.Tags {
		r.Audience.Tags[i] = "providertest-overwritten"
	}
	for k := range r.Notification.Extras {
		r.Notification.Extras[k] = "providertest-overwritten"
	}
	*r.Notification.Badge = -1
	r.Overrides["providertest-other-vendor"] = nil
}

func (s *suite) testRequestNotModified(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		limit := h.Provider.Capabilities(p).MaxSendTokens()
		toks := h.tokens(t, p, limit+1)
		// Each outcome builds its own request: a provider may take a
		// different code path on success, refusal and failure.
		check := func(t *testing.T, r *provider.Request, send func(r *provider.Request)) {
			t.Helper()
			want := cloneRequest(r)
			send(r)
			require.Equal(t, want, *r, "Send must not modify the request")
			scribble(r)
		}

		t.Run("Success", func(t *testing.T) {
			n := min(3, limit)
			check(t, richRequest(p, toks[:n:n]), func(r *provider.Request) {
				rc, err := h.Provider.Send(t.Context(), r)
				requireReceipt(t, h, p, rc, err)
			})
		})
		t.Run("Refused", func(t *testing.T) {
			check(t, richRequest(p, toks), func(r *provider.Request) {
				rc, err := h.Provider.Send(t.Context(), r)
				requireInvalid(t, rc, err)
			})
		})
		t.Run("Failed", func(t *testing.T) {
			if h.Fault == nil || !h.Fault(provider.Temporary) {
				t.Skip("the harness cannot make the backend fail")
			}
			check(t, richRequest(p, toks[:1:1]), func(r *provider.Request) {
				rc, err := h.Provider.Send(t.Context(), r)
				require.Nil(t, rc, "a failed Send must not return a receipt")
				requireKind(t, err, provider.Temporary)
			})
		})
	})
}

func (s *suite) testConcurrent(t *testing.T) {
	h := s.harness(t)
	type outcome struct {
		p   provider.Platform
		rc  *provider.Receipt
		err error
	}
	results := make([][]outcome, concurrentWorkers)
	before := h.Calls()

	n := len(h.Platforms)
	toks := make(map[provider.Platform][]string, n)
	for _, p := range h.Platforms {
		toks[p] = h.tokens(t, p, (concurrentWorkers+n-1)/n)
	}

	var wg sync.WaitGroup
	for w := range concurrentWorkers {
		p := h.Platforms[w%n]
		tok := toks[p][w/n]
		results[w] = make([]outcome, concurrentSends)
		wg.Go(func() {
			for i := range results[w] {
				// Read-only calls interleave with sends so that the race
				// detector sees them share whatever state they share.
				_ = h.Provider.Name()
				_ = h.Provider.Capabilities(p)
				rc, err := h.Provider.Send(t.Context(), request(p, []string{tok}))
				results[w][i] = outcome{p, rc, err}
			}
		})
	}
	wg.Wait()

	seen := make(map[string]string)
	for w, sends := range results {
		for i, o := range sends {
			where := fmt.Sprintf("worker %d, send %d", w, i)
			require.NoError(t, o.err, where)
			requireReceipt(t, h, o.p, o.rc, o.err)
			key := string(o.p) + "/" + o.rc.ID
			if prev, dup := seen[key]; dup {
				require.Failf(t, "receipt ids must be distinct", "%s and %s both got %q on %s", prev, where, o.rc.ID, o.p)
			}
			seen[key] = where
		}
	}
	require.Equal(t, before+concurrentWorkers*concurrentSends, h.Calls(), "every concurrent Send must make exactly one delivering call")
}
