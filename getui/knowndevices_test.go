package getui_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

// TestKnownDevicesOnly: under getuitest's KnownDevicesOnly a made-up cid
// is dead, as Getui treats one it never issued to the app: a single push
// is refused with 20001 "target user is invalid" (InvalidToken), and in a
// list it is a failure of its own while the known cid receives. Without
// it, any well-formed cid receives.
func TestKnownDevicesOnly(t *testing.T) {
	known, madeUp := cid(provider.Android, 0), cid(provider.Android, 1)
	req := func(toks ...string) *provider.Request {
		return &provider.Request{Platform: provider.Android, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: toks},
			Notification: provider.Notification{Title: "t", Body: "b"}}
	}
	c, fake := newAgainstFake(t, getuitest.Config{KnownDevicesOnly: true}, nil)
	require.NoError(t, fake.AddDevice(getuitest.DefaultApps()[0].AppID, getuitest.Device{CID: known, Platform: "android"}))

	_, err := c.Send(t.Context(), req(madeUp))
	require.ErrorIs(t, err, provider.InvalidToken)
	assert.Equal(t, "20001", provider.CodeOf(err))
	rc, err := c.Send(t.Context(), req(known, madeUp))
	require.NoError(t, err)
	assert.Equal(t, []provider.TokenFailure{{Token: madeUp, Kind: provider.InvalidToken, Message: "target user is invalid"}}, rc.Failures)
	assert.Equal(t, 1, fake.DeliveryCount(known))
	assert.Zero(t, fake.DeliveryCount(madeUp))

	c, fake = newAgainstFake(t, getuitest.Config{}, nil)
	_, err = c.Send(t.Context(), req(madeUp))
	require.NoError(t, err)
	assert.Equal(t, 1, fake.DeliveryCount(madeUp), "by default every well-formed cid receives")
}
