package push_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// With umeng.Config.FilecastThreshold set, a push whose audience on a
// platform reaches the threshold goes by file: one delivery holding all of
// its tokens, one upload and one filecast, recorded with its pollable task
// id; a smaller audience still goes in listcasts of 500. On every store,
// whose delivery rows hold the whole file's tokens. A failed upload leaves the
// delivery pending, and its retry uploads the same tokens again.
func TestPushByFile(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) { pushByFile(t, d) })
	}
}

func pushByFile(t *testing.T, d sqlstore.Dialect) {
	clk := newClock()
	fake := umengtest.NewServer(t, umengtest.Config{NoRateLimits: true, Now: clk.Now})
	ucfg := fake.ClientConfig()
	ucfg.FilecastThreshold = 600
	ucfg.Now = clk.Now
	um, err := umeng.New(ucfg)
	require.NoError(t, err)
	st, _ := dbtest.NewStoreDB(t, d)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{um}, Now: clk.Now})
	require.NoError(t, err)
	ctx := t.Context()

	// 601 users with an Android phone (by file) and 300 of them with an
	// iPhone too (below the threshold: a listcast).
	var users []string
	for i := range 601 {
		u := fmt.Sprintf("u%04d", i)
		users = append(users, u)
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: u, UUID: "a-" + u, Platform: "android", PushPlatform: "umeng",
			PushToken: umengtest.AndroidToken(u)})
		require.NoError(t, err)
		if i < 300 {
			_, err := svc.RegisterDevice(ctx, push.Device{UserNum: u, UUID: "i-" + u, Platform: "ios", PushPlatform: "umeng",
				PushToken: umengtest.IOSToken(u)})
			require.NoError(t, err)
		}
	}
	require.NoError(t, fake.FailNext(1, umengtest.Fault{Path: "/upload", HTTPStatus: http.StatusServiceUnavailable}))
	res, err := svc.Push(ctx, push.Message{UserNums: users, Title: "到货提醒", Content: "您关注的商品已到货"})
	require.NoError(t, err)
	assert.Equal(t, 901, res.Devices)
	require.Len(t, res.Deliveries, 2, "one by file, one listcast")
	assert.Equal(t, 1, res.Accepted(), "the listcast")
	require.Equal(t, 1, res.Pending(), "the file, whose upload failed")
	for _, o := range res.Deliveries {
		if o.Platform == "android" {
			assert.Equal(t, 601, o.Tokens, "the Android audience in one delivery")
			assert.Equal(t, registry.DeliveryPending, o.State)
		}
	}

	clk.Advance(time.Hour) // past the retry's backoff
	n, err := svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, 2, fake.Arrived("/upload"), "the failed upload and the retry's")
	types := map[string]int{}
	for _, s := range fake.Sends() {
		types[s.Type]++
	}
	assert.Equal(t, map[string]int{"filecast": 1, "listcast": 1}, types)

	ds, err := st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	for _, d := range ds {
		if d.Platform == "android" {
			assert.Len(t, d.Tokens, 601, "the file's tokens are recorded whole")
			assert.Equal(t, registry.DeliveryAccepted, d.State, "a filecast is a task, polled until final")
			assert.True(t, d.Pollable)
			continue
		}
		assert.Equal(t, registry.DeliveryDone, d.State, "a listcast's msg_id cannot be polled")
	}
}

// The Service makes batches by file for any provider declaring a
// FileThreshold: an audience that reaches it is cut into batches of
// MaxFileTokens (the rest in one smaller batch); one below it, into
// batches of MaxTokens.
func TestBatchesByFile(t *testing.T) {
	f := newFixture(t, declared(provider.Capabilities{MaxTokens: 100, FileThreshold: 250, MaxFileTokens: 200}), nil)
	ctx := t.Context()
	var users []string
	for i := range 450 {
		u := fmt.Sprintf("u%03d", i)
		users = append(users, u)
		f.register(t, u, "a"+u, "android", "tok-a-"+u)
		if i < 249 {
			f.register(t, u, "i"+u, "ios", "tok-i-"+u)
		}
	}
	res, err := f.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.NoError(t, res.FirstError())
	sizes := map[string][]int{}
	for _, o := range res.Deliveries {
		sizes[o.Platform] = append(sizes[o.Platform], o.Tokens)
	}
	assert.Equal(t, []int{200, 200, 50}, sizes["android"], "450 tokens reach the threshold: by file")
	assert.Equal(t, []int{100, 100, 49}, sizes["ios"], "249 do not")
	assert.Equal(t, 6, f.mock.Calls())

	// With MaxFileBytes, a file also ends before it outgrows that: the
	// tokens "tok-a-u000"… take 11 bytes each with their newline.
	g := newFixture(t, declared(provider.Capabilities{MaxTokens: 100, FileThreshold: 250, MaxFileTokens: 200, MaxFileBytes: 1650}), nil)
	for _, u := range users {
		g.register(t, u, "a"+u, "android", "tok-a-"+u)
	}
	res, err = g.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.NoError(t, res.FirstError())
	var files []int
	for _, o := range res.Deliveries {
		files = append(files, o.Tokens)
	}
	assert.Equal(t, []int{150, 150, 150}, files, "1,650 bytes: 150 tokens a file")
}
