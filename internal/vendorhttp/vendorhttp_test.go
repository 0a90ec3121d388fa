package vendorhttp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientDefaultTransport(t *testing.T) {
	c := Client(nil)
	tr, ok := c.Transport.(*http.Transport)
	require.True(t, ok)
	assert.Equal(t, IdleConnsPerHost, tr.MaxIdleConnsPerHost)
	assert.NotSame(t, http.DefaultTransport, c.Transport, "the default transport is cloned, never changed")
}

func TestClientKeepsTheHostsTransportAndCopies(t *testing.T) {
	own := &http.Transport{MaxIdleConnsPerHost: 5}
	hc := &http.Client{Transport: own, Timeout: time.Second}
	c := Client(hc)
	assert.Same(t, own, c.Transport)
	assert.Equal(t, time.Second, c.Timeout)
	assert.NotSame(t, hc, c, "the host's client is copied")

	bare := &http.Client{Timeout: 2 * time.Second}
	c = Client(bare)
	assert.Nil(t, bare.Transport, "the host's client is not modified")
	tr := c.Transport.(*http.Transport)
	assert.Equal(t, IdleConnsPerHost, tr.MaxIdleConnsPerHost)
	assert.Equal(t, 2*time.Second, c.Timeout)
}

// A redirect is the answer, not followed: the other host sees nothing. A
// host's own redirect policy is kept.
func TestClientFollowsNoRedirect(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	redirecting := httptest.NewServer(http.RedirectHandler(other.URL+"/elsewhere", http.StatusTemporaryRedirect))
	defer redirecting.Close()

	req, err := http.NewRequest(http.MethodPost, redirecting.URL+"/push", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("token", "secret-token")
	resp, err := Client(nil).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	assert.Zero(t, elsewhere.Load(), "the other host got nothing")

	follows := Client(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }})
	req, err = http.NewRequest(http.MethodGet, redirecting.URL+"/push", nil)
	require.NoError(t, err)
	resp, err = follows.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, int32(1), elsewhere.Load(), "the host's own policy is kept")
}

// TestTimeoutProblem: zero (the default) and MinTimeout or more pass; a
// negative Timeout, or one under a millisecond (seconds written as a
// bare number), is refused with the reason.
func TestTimeoutProblem(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                      "",
		MinTimeout:             "",
		5 * time.Second:        "",
		-time.Second:           "must not be negative",
		30:                     "30ns, shorter than 1ms, lets no vendor call finish (a time.Duration counts nanoseconds: 30 seconds is 30 * time.Second)",
		999 * time.Microsecond: "999µs, shorter than 1ms, lets no vendor call finish (a time.Duration counts nanoseconds: 30 seconds is 30 * time.Second)",
	} {
		assert.Equal(t, want, TimeoutProblem(d), d)
	}
}
