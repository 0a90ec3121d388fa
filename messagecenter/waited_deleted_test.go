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

// TestRowDeletedWhileItWaitedIsNotSent: another program deletes a row while it waits for its turn behind a slow
// notifier. Read again, it is found gone: not sent, and counted lost (there
// is nothing to give back).
func TestRowDeletedWhileItWaitedIsNotSent(t *testing.T) {
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
				exec(fmt.Sprintf("DELETE FROM sys_message_center WHERE id = %d", ids[1]))
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
		assert.Equal(t, 1, rep.Lost, "gone: lost")
		assert.Zero(t, rep.Released)
		_, err = e.store.GetCenterMessage(ctx, ids[1])
		assert.ErrorIs(t, err, registry.ErrNotFound)
	})
}
