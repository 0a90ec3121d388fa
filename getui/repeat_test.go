package getui_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

// TestRetryOfATakenPushIsSent: a single or tag push whose answer was lost
// is sent again with the same key, so the same request_id. Whatever Getui
// answers to the repeat (its first answer, or a refusal naming the
// request_id as used), the retry reports the push sent, and the device is
// shown it once. With a refusal, Getui names no task: the receipt has no
// ID and is not pollable.
func TestRetryOfATakenPushIsSent(t *testing.T) {
	ctx := context.Background()
	routes := []struct {
		name, api string
		req       func(key string) *provider.Request
	}{
		{"single cid", "/push/single/cid", func(key string) *provider.Request { return listRequest(key, getuitest.CID("one")) }},
		{"tag", "/push/tag", func(key string) *provider.Request {
			return &provider.Request{Platform: provider.Android, IdempotencyKey: key,
				Audience: provider.Audience{Kind: provider.AudienceBroadcast}, Notification: provider.Notification{Title: "t", Body: "b"}}
		}},
	}
	for _, rt := range routes {
		for _, drop := range []bool{false, true} {
			t.Run(rt.name, func(t *testing.T) {
				c, fake := newAgainstFake(t, getuitest.Config{DropRepeatedRequestID: drop}, func(cfg *getui.Config) { cfg.Timeout = 300 * time.Millisecond })
				require.NoError(t, fake.FailNext(1, getuitest.Fault{API: rt.api, AfterAccept: true, Timeout: true}))
				_, err := c.Send(ctx, rt.req("push-7-chunk-0"))
				require.ErrorIs(t, err, provider.Indeterminate, "taken, answer lost")
				// The client gave up after its timeout; under load the fake
				// may take the request only then.
				require.Eventually(t, func() bool { return len(fake.RequestsTo(rt.api)) == 1 }, 5*time.Second, 5*time.Millisecond)

				rc, err := c.Send(ctx, rt.req("push-7-chunk-0"))
				require.NoError(t, err, "drop=%t", drop)
				require.NotNil(t, rc)
				sends := fake.RequestsTo(rt.api)
				require.Len(t, sends, 2)
				assert.Equal(t, sends[0].RequestID, sends[1].RequestID)
				assert.True(t, sends[1].Duplicate, "Getui took nothing new")
				if drop {
					assert.Empty(t, rc.ID, "the refusal names no task")
					assert.False(t, rc.Pollable)
					assert.Contains(t, string(rc.Raw), "request_id cannot be repeat.")
				} else {
					assert.NotEmpty(t, rc.ID)
				}
				if rt.api == "/push/single/cid" {
					assert.Equal(t, 1, fake.DeliveryCount(getuitest.CID("one")), "shown once")
				}
			})
		}
	}
}

// TestRequestIDRefusals: only a refusal that names the request_id as
// used counts as sent, and only for a send whose request_id came from its
// key; a malformed request_id, or a repeat of a random one, stays a
// refusal.
func TestRequestIDRefusals(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, key, msg string
		sent           bool
	}{
		{"used, with a key", "push-8-chunk-0", "request_id is used", true},
		{"repeated in Chinese, with a key", "push-8-chunk-1", "request_id重复", true},
		{"already exists, with a key", "push-8-chunk-2", "requestId already exists", true},
		{"too long, with a key", "push-8-chunk-3", "request_id is too long", false},
		{"used, without a key", "", "request_id is used", false},
		{"another parameter used", "push-8-chunk-4", "alias is used", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, fake := newAgainstFake(t, getuitest.Config{}, nil)
			require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/single/cid", Code: getui.CodeInvalidParams, Msg: tc.msg}))
			rc, err := c.Send(ctx, listRequest(tc.key, getuitest.CID("one")))
			if !tc.sent {
				require.ErrorIs(t, err, provider.InvalidRequest)
				assert.Nil(t, rc)
				return
			}
			require.NoError(t, err)
			assert.Empty(t, rc.ID)
			assert.False(t, rc.Pollable)
			assert.JSONEq(t, `{"code":20001,"msg":"`+tc.msg+`"}`, string(rc.Raw))
		})
	}
}
