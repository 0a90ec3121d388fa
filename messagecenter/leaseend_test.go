package messagecenter_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
)

// TestRowWhoseLeaseEndsExactlyNowIsLeftAlone: a lease that ends at this
// very instant is over (the store lets another instance claim the row
// now), so the row is not touched: not handled, not released, its
// attempt not refunded, as for a lease that ran out earlier.
func TestRowWhoseLeaseEndsExactlyNowIsLeftAlone(t *testing.T) {
	var e *env
	var seen []string
	slow := messagecenter.NotifierFunc(func(ctx context.Context, m registry.CenterMessage, rcv []string) (string, error) {
		seen = append(seen, m.Title)
		if m.Title == "slow" {
			e.clk.Advance(5 * time.Minute) // exactly the lease
		}
		return "ok", nil
	})
	e = newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": slow}
		c.Concurrency = 1
		c.Lease = 5 * time.Minute
	})
	e.enqueue(t, registry.CenterMessage{Title: "slow", Content: "c", NotifyMode: "sms", Receivers: "138"})
	next := e.enqueue(t, registry.CenterMessage{Title: "next", Content: "c", NotifyMode: "sms", Receivers: "139"})
	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	assert.Equal(t, 1, rep.Lost, "the second row's lease ended as its turn came: not touched")
	assert.Zero(t, rep.Released, "a row whose lease has ended is not given back: it may be another instance's")
	assert.Equal(t, []string{"slow"}, seen)
	row := e.row(t, next)
	assert.Equal(t, registry.SendStateUnsent, row.SendState)
	assert.Equal(t, 1, row.Attempts, "nothing written: the claim's attempt stays")
	assert.NotEmpty(t, row.ClaimToken, "nothing written: the claim stays until another takes it")
}
