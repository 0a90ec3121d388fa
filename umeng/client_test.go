package umeng

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestClientIsSafeForConcurrentUse runs every operation from many goroutines
// at once; -race reports any shared state.
func TestClientIsSafeForConcurrentUse(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Strategy = StrategyFilecast })
	h.respond("/upload", http.StatusOK, okUpload)
	h.respond("/api/send", http.StatusOK, okTask)
	h.respond("/api/status", http.StatusOK, `{"ret":"SUCCESS","data":{"status":1}}`)
	h.respond("/api/cancel", http.StatusOK, `{"ret":"SUCCESS","data":{}}`)

	const workers = 8
	errs := make(chan error, workers*3)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := provider.Platforms()[i%2]
			ctx := context.Background()
			_, err := h.client.Send(ctx, request(p, provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(i + 1)}))
			errs <- err
			_, err = h.client.Status(ctx, p, "us1")
			errs <- err
			errs <- h.client.Cancel(ctx, p, "us1")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Len(t, h.requests(), workers*4)
}
