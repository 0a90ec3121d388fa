package push_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/registry"
)

// TestFirstErrorSkipsPendingDeliveries: FirstError is the error of the
// first failed delivery; a pending one (a temporary failure, to be
// retried) or an accepted one is not failed, whatever error it carries.
func TestFirstErrorSkipsPendingDeliveries(t *testing.T) {
	temporary, refused := errors.New("temporary"), errors.New("refused")
	r := &push.Result{Deliveries: []push.DeliveryOutcome{
		{State: registry.DeliveryPending, Err: temporary},
		{State: registry.DeliveryAccepted, Err: temporary},
		{State: registry.DeliveryFailed, Err: refused},
	}}
	assert.Equal(t, refused, r.FirstError())
	r.Deliveries = r.Deliveries[:2]
	assert.NoError(t, r.FirstError(), "nothing failed")
}
