package jpush_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
)

// TestKnownDevicesOnly: under jpushtest's KnownDevicesOnly a made-up
// registration id is dead, as JPush treats one it never issued: an
// audience of such ids only is refused with 1011, which the client reads
// as InvalidToken; one mixed with a known id is accepted and only the
// known id receives. Without it, any well-formed id receives.
func TestKnownDevicesOnly(t *testing.T) {
	known, madeUp := jpushtest.RegistrationID("known"), jpushtest.RegistrationID("made-up")
	req := func(toks ...string) *provider.Request {
		return &provider.Request{Platform: provider.Android, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: toks},
			Notification: provider.Notification{Title: "t", Body: "b"}}
	}
	c, fake := newAgainstFake(t, jpushtest.Config{KnownDevicesOnly: true}, nil)
	app := jpushtest.DefaultApps()[0].AppKey
	require.NoError(t, fake.AddDevice(app, jpushtest.Device{RegistrationID: known, Platform: "android"}))

	_, err := c.Send(t.Context(), req(madeUp))
	require.ErrorIs(t, err, provider.InvalidToken)
	assert.Equal(t, "1011", provider.CodeOf(err))
	_, err = c.Send(t.Context(), req(known, madeUp))
	require.NoError(t, err)
	assert.Equal(t, 1, fake.DeliveryCount(known))
	assert.Zero(t, fake.DeliveryCount(madeUp))

	c, fake = newAgainstFake(t, jpushtest.Config{}, nil)
	_, err = c.Send(t.Context(), req(madeUp))
	require.NoError(t, err)
	assert.Equal(t, 1, fake.DeliveryCount(madeUp), "by default every well-formed id receives")
}
