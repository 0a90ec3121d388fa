package registrytest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testClassAndOverrides covers the message class and per-provider options
// a push keeps (so that every retry sends them), and the class of a queued
// center row.
func testClassAndOverrides(t *testing.T, f Factory) {
	t.Run("PushMessageKeepsThem", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("classed", "classed-key")
		m.Class = "marketing"
		m.Overrides = `{"umeng":{"channel_properties":{"channel_activity":"com.example.MainActivity"}},"jpush":{"ChannelID":"推送"}}`
		createPush(t, s, m, pending("classed", registry.PlatformAndroid, 0, at(0), "t"))

		for _, get := range []func() (registry.PushMessage, error){
			func() (registry.PushMessage, error) { return s.GetPushMessage(t.Context(), m.ID) },
			func() (registry.PushMessage, error) { return s.GetPushMessageByDedupeKey(t.Context(), "classed-key") },
		} {
			got, err := get()
			require.NoError(t, err)
			assert.Equal(t, m.Class, got.Class)
			assert.JSONEq(t, m.Overrides, got.Overrides)
		}
		plain := pushMessage("plain", "")
		createPush(t, s, plain, pending("plain", registry.PlatformIOS, 0, at(0), "t"))
		got, err := s.GetPushMessage(t.Context(), plain.ID)
		require.NoError(t, err)
		assert.Empty(t, got.Class)
		assert.Empty(t, got.Overrides)
	})

	t.Run("PushMessageRefusesOversizeValues", func(t *testing.T) {
		s := f.New(t)
		for field, mod := range map[string]func(*registry.PushMessage){
			"push_class":     func(m *registry.PushMessage) { m.Class = strings.Repeat("c", registry.MaxClassChars+1) },
			"push_overrides": func(m *registry.PushMessage) { m.Overrides = strings.Repeat("o", registry.MaxText+1) },
		} {
			m := pushMessage("oversize "+field, "")
			mod(m)
			err := s.CreatePushMessage(t.Context(), m, []*registry.Delivery{pending("oversize-"+field, registry.PlatformIOS, 0, at(0), "t")})
			var ve *registry.ValidationError
			require.ErrorAs(t, err, &ve, field)
			assert.Equal(t, field, ve.Field)
		}
		requireNoDueDeliveries(t, s)
	})

	t.Run("CenterMessageKeepsItsClass", func(t *testing.T) {
		s := f.New(t)
		m := centerMessage("classed row", 0)
		m.Class = "service"
		enqueue(t, s, m)
		got, err := s.GetCenterMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, "service", got.Class)
		claimed, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: at(0), Limit: 10, Lease: lease})
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		assert.Equal(t, "service", claimed[0].Class)
	})
}
