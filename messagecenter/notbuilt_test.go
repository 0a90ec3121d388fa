package messagecenter_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/messagecenter"
)

// TestScannerNotBuiltByNew: Run and RunOnce of a Scanner New did not
// make, a zero Scanner{} or a nil *Scanner, return an error matching
// ErrNotBuilt at once instead of panicking.
func TestScannerNotBuiltByNew(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, s := range map[string]*messagecenter.Scanner{"zero": {}, "nil": nil} {
		var rep messagecenter.Report
		var err error
		require.NotPanics(t, func() { rep, err = s.RunOnce(ctx) }, name)
		require.ErrorIs(t, err, messagecenter.ErrNotBuilt, name)
		assert.Contains(t, err.Error(), "Scanner.RunOnce needs a Scanner made by messagecenter.New", name)
		assert.Zero(t, rep, name)

		require.NotPanics(t, func() { err = s.Run(ctx) }, name)
		require.ErrorIs(t, err, messagecenter.ErrNotBuilt, name)
		assert.Contains(t, err.Error(), "Scanner.Run needs", name)
		require.NoError(t, ctx.Err(), "%s: Run returned at once, not when ctx ended", name)
	}
}

// TestNewRefusesAServiceNotBuiltByPushNew: a zero push.Service is refused
// by New, naming the field, rather than making a Scanner whose first pass
// fails.
func TestNewRefusesAServiceNotBuiltByPushNew(t *testing.T) {
	_, err := messagecenter.New(messagecenter.Config{Service: &push.Service{}})
	var fe *messagecenter.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "service", fe.Field)
	assert.Contains(t, fe.Reason, "push.New")
}
