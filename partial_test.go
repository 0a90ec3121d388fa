package push_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/umeng/umengtest"
)

// TestUmengPartialSendIsNotSentAgain: Umeng answers a listcast with 4026
// when it sent the push to some of the tokens and refused the others
// without naming them. That send happened: it is neither retried nor split
// (either would show the push twice on the devices that got it), and no
// token is disabled for it.
func TestUmengPartialSendIsNotSentAgain(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, fake := umengService(t, clk)
	var users []string
	var tokens []string
	for i := range 4 {
		u := fmt.Sprintf("partial-%d", i)
		tok := umengtest.AndroidToken(u)
		_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: "dev-" + u, Platform: "android", PushToken: tok})
		require.NoError(t, err)
		users, tokens = append(users, u), append(tokens, tok)
	}
	require.NoError(t, fake.FailNext(1, umengtest.Fault{Path: "/api/send", Code: "4026",
		Message: "device-token部分失败", AfterAccept: true}))

	res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "到货", Content: "您关注的商品到货了"})
	require.NoError(t, err)
	assert.Zero(t, res.Pending(), "a partial send is final")
	for range 5 {
		clk.Advance(time.Hour)
		_, err := svc.RetryPending(t.Context(), 100)
		require.NoError(t, err)
	}
	for _, tok := range tokens {
		assert.Equal(t, 1, fake.DeliveryCount(tok), "token %s was shown the push once", tok)
	}
	require.Len(t, sends(fake), 1, "one listcast, neither retried nor split")
	st, err := svc.PushStatus(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetSuccess, st.Android.Ret)

	// No token was disabled: the next push reaches all four again.
	_, err = svc.Push(t.Context(), push.Message{UserNums: users, Title: "再次", Content: "提醒"})
	require.NoError(t, err)
	for _, tok := range tokens {
		assert.Equal(t, 2, fake.DeliveryCount(tok), "token %s", tok)
	}
}
