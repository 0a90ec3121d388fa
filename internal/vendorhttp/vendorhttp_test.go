package vendorhttp

import (
	"net/http"
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
