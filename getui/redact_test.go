package getui_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
)

// tokenSpy notes the token header of each request.
type tokenSpy struct {
	mu     sync.Mutex
	tokens []string
}

func (s *tokenSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok := r.Header.Get("token"); tok != "" {
		s.mu.Lock()
		s.tokens = append(s.tokens, tok)
		s.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRedact removes the master secret and the auth token in use.
func TestRedact(t *testing.T) {
	spy := &tokenSpy{}
	c, _ := newAgainstFake(t, getuitest.Config{}, func(cfg *getui.Config) { cfg.HTTPClient = &http.Client{Transport: spy} })
	_, err := c.Send(context.Background(), quotaPush(1))
	require.NoError(t, err)
	require.NotEmpty(t, spy.tokens)
	secret := getuitest.DefaultApps()[0].MasterSecret
	assert.Equal(t, "REDACTED and REDACTED", c.Redact(secret+" and "+spy.tokens[0]))
}
