package messagecenter_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestRowClaimedByAnotherWhileItWaitedIsLeftToIt: while a row waits for its turn, another instance
// holds its claim (its claim_token changed). Read again, it is left alone:
// not sent by this instance, nothing written, counted lost.
func TestRowClaimedByAnotherWhileItWaitedIsLeftToIt(t *testing.T) {
	eachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		var e *env
		var exec func(string, ...any)
		var ids []int64
		var mu sync.Mutex
		var sent []string
		sms := messagecenter.NotifierFunc(func(_ context.Context, m registry.CenterMessage, _ []string) (string, error) {
			mu.Lock()
			sent = append(sent, m.Title)
			mu.Unlock()
			if m.ID == ids[0] {
				e.clk.Advance(2 * time.Second) // a slow call: the other waits past recheckAfter
				exec(fmt.Sprintf("UPDATE sys_message_center SET claim_token = 'another-instance' WHERE id = %d", ids[1]))
			}
			return "sms#ok", nil
		})
		e, exec = sqlEnv(t, d, func(c *messagecenter.Config) {
			c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
			c.Concurrency = 1
		})
		for i := range 2 {
			ids = append(ids, e.enqueue(t, registry.CenterMessage{Title: fmt.Sprint("t", i), Content: "c", NotifyMode: "sms", Receivers: "138"}))
		}
		rep, err := e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"t0"}, sent, "the changed row is not sent from its old copy")
		assert.Equal(t, 1, rep.Sent)
		assert.Equal(t, 1, rep.Lost, "another instance's now")
		assert.Zero(t, rep.Released)
		row := e.row(t, ids[1])
		assert.Equal(t, registry.SendStateUnsent, row.SendState)
		assert.Equal(t, "another-instance", row.ClaimToken, "the other instance's claim stays")
	})
}
