package umeng

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
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

// TestClientNeverPrintsItsSecrets prints and logs a Client every way a host
// might: no fmt verb or flag, no nesting and no slog handler may reveal an
// App Master Secret, while the appkeys stay visible for debugging.
func TestClientNeverPrintsItsSecrets(t *testing.T) {
	c := newHarness(t).client
	type holder struct {
		Client *Client
		Value  Client
	}
	h := holder{Client: c, Value: *c}

	var jsonLogs, textLogs bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLogs, nil)).Info("client", "client", c, "value", *c, "holder", h)
	slog.New(slog.NewTextHandler(&textLogs, nil)).Info("client", "client", c, "value", *c, "holder", h)

	outputs := map[string]string{
		"%v":          fmt.Sprintf("%v", c),
		"%+v":         fmt.Sprintf("%+v", c),
		"%#v":         fmt.Sprintf("%#v", c),
		"%s":          fmt.Sprintf("%s", c),
		"%q":          fmt.Sprintf("%q", c),
		"%x":          fmt.Sprintf("%x", c),
		"%d":          fmt.Sprintf("%d", c),
		"Println":     fmt.Sprintln(c),
		"value %+v":   fmt.Sprintf("%+v", *c),
		"value %#v":   fmt.Sprintf("%#v", *c),
		"holder %+v":  fmt.Sprintf("%+v", h),
		"holder %#v":  fmt.Sprintf("%#v", h),
		"slog json":   jsonLogs.String(),
		"slog text":   textLogs.String(),
		"credentials": fmt.Sprintf("%+v %#v", c.creds, c.creds),
	}
	// A bad verb makes fmt print a value's fields, unexported ones too (the
	// verbs are variables so that vet lets the test use them).
	for _, verb := range []string{"%s", "%q", "%d", "%x", "%t"} {
		outputs["value "+verb] = fmt.Sprintf(verb, *c)
		outputs["holder "+verb] = fmt.Sprintf(verb, h)
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			assert.NotContains(t, out, androidSecret)
			assert.NotContains(t, out, iosSecret)
		})
	}
	for _, name := range []string{"%v", "%+v", "%#v", "%s", "slog json", "slog text"} {
		assert.Contains(t, outputs[name], androidKey, name)
		assert.Contains(t, outputs[name], iosKey, name)
	}
	assert.Equal(t, "umeng.Client{BaseURL:https://msgapi.umeng.com IOS:{AppKey:"+iosKey+" AppMasterSecret:REDACTED} "+
		"Android:{AppKey:"+androidKey+" AppMasterSecret:REDACTED} TestMode:false Strategy:listcast}", c.String())
	assert.Equal(t, "&"+c.String(), c.GoString())
	assert.Equal(t, strconv.Quote(c.String()), outputs["%q"])
	assert.Equal(t, "umeng.credentials{REDACTED}", fmt.Sprint(c.creds))
}

func TestNilClientPrints(t *testing.T) {
	var c *Client
	assert.Equal(t, "umeng.Client(nil)", c.String())
	assert.Equal(t, "(*umeng.Client)(nil)", c.GoString())
	assert.Equal(t, "umeng.Client(nil)", fmt.Sprintf("%v", c))
	assert.Equal(t, "umeng.Client(nil)", c.LogValue().String())
}
