package providertest

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// oversized returns a request to tok on p whose body alone is one byte over
// limit, so that any encoding of it is over the limit and the body is its
// largest part.
func oversized(p provider.Platform, tok string, limit int) *provider.Request {
	r := request(p, []string{tok})
	r.Notification.Body = strings.Repeat("x", limit+1)
	return r
}

// bodyField is the field a message over the size limit must name when its
// body is its largest part (see "Field paths" in package provider).
const bodyField = "notification.body"

func (s *suite) testPayloadLimit(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		limit := h.Provider.Capabilities(p).MaxPayloadBytes
		if limit == 0 {
			t.Skipf("%s reports no payload limit on %s", h.Provider.Name(), p)
		}
		before := h.Calls()
		rc, err := h.Provider.Send(t.Context(), oversized(p, h.tokens(t, p, 1)[0], limit))
		requireInvalid(t, rc, err)
		require.Equalf(t, bodyField, provider.FieldOf(err),
			"a message over MaxPayloadBytes must be refused naming its largest part, here the body: %q", err)
		require.Equal(t, before, h.Calls(), "a message over MaxPayloadBytes must be refused before any delivering call")
	})
}

// refusedCase is a request that Send must refuse before any delivering
// call, built from a valid platform and tokens.
type refusedCase struct {
	name  string
	build func(t *testing.T, h *Harness, p provider.Platform) *provider.Request
}

// refusedCases lists what every provider refuses before the network: every
// Request.Validate failure, one token too many, a message over the payload
// limit (when there is one) and each unsupported audience kind.
func refusedCases(h *Harness, p provider.Platform) []refusedCase {
	var cases []refusedCase
	for _, ic := range invalidCases() {
		cases = append(cases, refusedCase{ic.name, func(t *testing.T, h *Harness, p provider.Platform) *provider.Request {
			return ic.build(p, h.tokens(t, p, 1)[0])
		}})
	}
	caps := h.Provider.Capabilities(p)
	cases = append(cases, refusedCase{"OneTokenTooMany", func(t *testing.T, h *Harness, p provider.Platform) *provider.Request {
		return request(p, h.tokens(t, p, caps.MaxSendTokens()+1))
	}})
	if caps.MaxPayloadBytes > 0 {
		cases = append(cases, refusedCase{"PayloadOverLimit", func(t *testing.T, h *Harness, p provider.Platform) *provider.Request {
			return oversized(p, h.tokens(t, p, 1)[0], caps.MaxPayloadBytes)
		}})
	}
	if caps.NeedsAliasType && caps.Supports(provider.AudienceAliases) {
		cases = append(cases, refusedCase{"AliasesWithoutType", func(_ *testing.T, _ *Harness, p provider.Platform) *provider.Request {
			r := request(p, nil)
			r.Audience = provider.Audience{Kind: provider.AudienceAliases, Aliases: []string{"providertest"}}
			return r
		}})
	}
	for _, k := range unsupportedKinds(caps) {
		cases = append(cases, refusedCase{"Unsupported_" + string(k), func(_ *testing.T, _ *Harness, p provider.Platform) *provider.Request {
			r := request(p, nil)
			r.Audience = validAudience(k)
			return r
		}})
	}
	return cases
}

func (s *suite) testValidate(t *testing.T) {
	if _, ok := s.harness(t).Provider.(provider.Validator); !ok {
		t.Skip("the provider does not implement provider.Validator")
	}
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		v := h.Provider.(provider.Validator)
		t.Run("Valid", func(t *testing.T) {
			r := request(p, h.tokens(t, p, 1))
			r.Notification.Extras = map[string]string{"providertest": "extra"}
			want := cloneRequest(r)
			before := h.Calls()
			err := v.Validate(r)
			require.Equal(t, before, h.Calls(), "Validate must not make a delivering call")
			require.NoErrorf(t, err, "Validate refused a request that Send must accept")
			require.Equal(t, want, *r, "Validate must not modify the request")

			rc, err := h.Provider.Send(t.Context(), r)
			requireReceipt(t, h, p, rc, err)
			require.Equal(t, before+1, h.Calls(), "the Send after Validate must make exactly one delivering call")
		})
		t.Run("Refused", func(t *testing.T) {
			for _, rc := range refusedCases(h, p) {
				t.Run(rc.name, func(t *testing.T) {
					r := rc.build(t, h, p)
					before := h.Calls()
					verr := v.Validate(r)
					require.Equal(t, before, h.Calls(), "Validate must not make a delivering call")
					require.Errorf(t, verr, "Validate accepted a request that Send refuses")
					requireKind(t, verr, provider.InvalidRequest)
					require.NotEmptyf(t, provider.FieldOf(verr), "Validate's error %q must wrap a *provider.FieldError naming the field", verr)

					rcpt, serr := h.Provider.Send(t.Context(), r)
					requireInvalid(t, rcpt, serr)
					require.Equalf(t, provider.FieldOf(verr), provider.FieldOf(serr),
						"Send must refuse naming the field Validate named (Validate: %q, Send: %q)", verr, serr)
					require.Equal(t, before, h.Calls(), "a request Validate refuses must be refused before any delivering call")
				})
			}
		})
		t.Run("Concurrent", func(t *testing.T) {
			toks := h.tokens(t, p, concurrentWorkers)
			before := h.Calls()
			errs := make([]error, concurrentWorkers)
			var wg sync.WaitGroup
			for i := range concurrentWorkers {
				wg.Go(func() {
					for range concurrentSends {
						if err := v.Validate(request(p, toks[i:i+1])); err != nil {
							errs[i] = err
						}
					}
				})
			}
			wg.Wait()
			for i, err := range errs {
				require.NoErrorf(t, err, "Validate on goroutine %d", i)
			}
			require.Equal(t, before, h.Calls(), "Validate must not make a delivering call")
		})
	})
}
