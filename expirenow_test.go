package push_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
)

// TestExpireAtNowIsRefused: an ExpireAt that is not in the future (this
// very instant included) is a *FieldError naming expire_at, before
// anything is recorded or sent: no vendor would show the push.
func TestExpireAtNowIsRefused(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "atok")
	_, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", ExpireAt: f.clk.Now()})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "expire_at", fe.Field)
	assert.Zero(t, f.mock.Calls())
	ms, err := f.store.ListPushMessages(t.Context(), registry.PushMessageQuery{})
	require.NoError(t, err)
	assert.Empty(t, ms, "nothing recorded")
}
