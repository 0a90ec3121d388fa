package push_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// TestIOSTokenInEitherCaseIsOnePhone: an iPhone's Umeng token (the APNs
// token in hex) registered in lower case by one install and in upper case
// by the next is one phone: stored in lower case, taken over from the
// older user, and pushed to once, to its newest user only. Stored as
// sent, the two spellings were two phones: the older user was shown the
// newer one's pushes, and a push to both showed each push twice.
func TestIOSTokenInEitherCaseIsOnePhone(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			ctx := t.Context()
			st, _ := dbtest.NewStoreDB(t, d)
			fake := umengtest.NewServer(t, umengtest.Config{NoRateLimits: true})
			um, err := umeng.New(fake.ClientConfig())
			require.NoError(t, err)
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{um},
				Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}})
			require.NoError(t, err)

			low := umengtest.IOSToken("phone")
			up := strings.ToUpper(low)
			require.NotEqual(t, low, up)
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "alice", UUID: "old-install", Platform: "ios", PushToken: low})
			require.NoError(t, err)
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "bob", UUID: "new-install", Platform: "ios", PushToken: up})
			require.NoError(t, err)

			alice, err := st.ListUserDevices(ctx, "alice")
			require.NoError(t, err)
			require.Len(t, alice, 1)
			require.NotNil(t, alice[0].Device.TokenDisabledAt, "the older install's token is taken over")
			assert.Equal(t, registry.TokenTakenOver, alice[0].Device.TokenDisabledReason)
			bob, err := st.ListUserDevices(ctx, "bob")
			require.NoError(t, err)
			require.Len(t, bob, 1)
			assert.Equal(t, low, bob[0].Device.PushToken, "stored in lower case")

			_, err = svc.Push(ctx, push.Message{UserNums: []string{"alice"}, Title: "t", Content: "c"})
			require.ErrorIs(t, err, push.ErrNoDevices, "the phone is bob's now")
			res, err := svc.Push(ctx, push.Message{UserNums: []string{"alice", "bob"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Devices)
			var got []string
			for _, dl := range fake.Deliveries() {
				got = append(got, dl.Token)
			}
			assert.Equal(t, []string{low}, got, "the phone is shown the push once")
		})
	}
}
