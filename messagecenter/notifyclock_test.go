package messagecenter_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
)

// TestNotifierCallOutlivesThePassThatStartedIt: a notifier call runs on
// its own clock (NotifyTimeout), not its pass's: a Scanner stopped while
// the call is under way does not cancel it, and its outcome is recorded,
// so that the row is not notified again.
func TestNotifierCallOutlivesThePassThatStartedIt(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var callErr error
	sms := messagecenter.NotifierFunc(func(nctx context.Context, m registry.CenterMessage, _ []string) (string, error) {
		stop() // the host shuts down during the call
		callErr = nctx.Err()
		if callErr != nil {
			return "", callErr
		}
		return "sms#ok", nil
	})
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
	})
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"})
	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.NoError(t, callErr, "the call's ctx is not the pass's")
	assert.Equal(t, 1, rep.Sent)
	row := e.row(t, id)
	assert.Equal(t, registry.SendStateSent, row.SendState)
	assert.Equal(t, "sms#ok", row.SendResult)
}
