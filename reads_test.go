package push_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
)

const longToken = "AqX9kLmN0pQrStUvWxYz1234567890abcdefGHIJ" // 40 characters, like a vendor's

// TestListDevices: every device the user logged in on, active or not,
// with its token state and a masked token, never the token itself.
func TestListDevices(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	ctx := t.Context()
	phone := f.register(t, "u1", "phone", "ios", longToken)
	f.clk.Advance(time.Minute)
	pad := f.register(t, "u1", "pad", "android", "pad"+longToken)
	f.register(t, "u2", "pad", "android", "pad"+longToken) // the pad moves to u2
	_, err := f.store.DisableTokens(ctx, "umeng", "ios", []string{longToken}, "vendor says gone")
	require.NoError(t, err)

	got, err := f.svc.ListDevices(ctx, " u1 ")
	require.NoError(t, err)
	require.Len(t, got, 2)
	ios, android := got[0], got[1]
	assert.Equal(t, phone.UserDeviceID, ios.UserDeviceID)
	assert.True(t, ios.Active)
	assert.Equal(t, "phone", ios.DeviceUUID)
	assert.Equal(t, "ios", ios.Platform)
	assert.Equal(t, "umeng", ios.PushPlatform)
	assert.Equal(t, push.TokenDisabled, ios.TokenState)
	assert.Equal(t, "vendor says gone", ios.TokenDisabledReason)
	require.NotNil(t, ios.TokenDisabledAt)
	assert.Equal(t, "AqX9…GHIJ", ios.PushToken)
	assert.False(t, ios.LinkedAt.IsZero())
	assert.NotZero(t, ios.DeviceID)

	assert.Equal(t, pad.UserDeviceID, android.UserDeviceID)
	assert.False(t, android.Active, "the pad now belongs to u2")
	assert.Equal(t, push.TokenEnabled, android.TokenState)
	assert.Empty(t, android.TokenDisabledReason)
	for _, d := range got {
		assert.NotContains(t, fmt.Sprintf("%+v", d), longToken, "no full token")
	}

	none, err := f.svc.ListDevices(ctx, "nobody")
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = f.svc.ListDevices(ctx, "  ")
	requireField(t, err, "user_num")
	_, err = f.svc.ListDevices(ctx, strings.Repeat("u", 256))
	requireField(t, err, "user_num")
}

func requireField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *push.FieldError
	require.True(t, errors.As(err, &fe), "error %v is not a *push.FieldError", err)
	assert.Equal(t, field, fe.Field)
}

// TestListPushMessages: a user's pushes newest first, filtered by time
// and status, paged by an opaque cursor until Next is empty.
func TestListPushMessages(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	ctx := t.Context()
	f.register(t, "u1", "d1", "android", "t1")
	f.register(t, "u2", "d2", "ios", "t2")
	start := f.clk.Now()
	var ids []int64
	for i := range 5 {
		users := []string{"u1"}
		if i == 2 {
			users = []string{"u1", "u2"}
		}
		if i == 3 {
			f.mock.FailNext(1, f.mock.Err(provider.InvalidRequest, "x"))
		}
		res, err := f.svc.Push(ctx, push.Message{UserNums: users, Title: fmt.Sprint("t", i), Content: "c"})
		require.NoError(t, err)
		ids = append(ids, res.PushMessageID)
		f.clk.Advance(time.Hour)
	}
	other, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u2"}, Title: "u2 only", Content: "c"})
	require.NoError(t, err)

	// Page by 2 through u1's five pushes.
	var got []int64
	var statuses []string
	after := ""
	for range 10 {
		page, err := f.svc.ListPushMessages(ctx, push.PushMessageFilter{UserNum: "u1", After: after, Limit: 2})
		require.NoError(t, err)
		for _, m := range page.Messages {
			got = append(got, m.PushMessageID)
			statuses = append(statuses, m.Status)
		}
		if page.Next == "" {
			break
		}
		assert.Len(t, page.Messages, 2, "a page with a Next is full")
		after = page.Next
	}
	assert.Equal(t, []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}, got, "newest first, each once")
	assert.Equal(t, []string{"success", "failed", "success", "success", "success"}, statuses)
	assert.NotContains(t, got, other.PushMessageID)

	page, err := f.svc.ListPushMessages(ctx, push.PushMessageFilter{UserNum: "u1", Status: "failed"})
	require.NoError(t, err)
	require.Len(t, page.Messages, 1)
	assert.Equal(t, ids[3], page.Messages[0].PushMessageID)
	assert.Equal(t, "t3", page.Messages[0].Title)
	assert.Equal(t, "failed", page.Messages[0].AndroidStatus)
	assert.Empty(t, page.Next)

	// The brief's ios_ret/android_ret spell them PENDING, SUCCESS,
	// PARTIAL and FAIL: a filter takes those too (it refused them).
	for _, status := range []string{"FAIL", " Failed ", "fail"} {
		page, err = f.svc.ListPushMessages(ctx, push.PushMessageFilter{UserNum: "u1", Status: status})
		require.NoError(t, err, status)
		assert.Equal(t, []int64{ids[3]}, summaryIDs(page), status)
	}
	page, err = f.svc.ListPushMessages(ctx, push.PushMessageFilter{UserNum: "u1", Status: "SUCCESS"})
	require.NoError(t, err)
	assert.Len(t, page.Messages, 4)

	page, err = f.svc.ListPushMessages(ctx, push.PushMessageFilter{UserNum: "u1", Since: start.Add(time.Hour), Until: start.Add(3 * time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, []int64{ids[2], ids[1]}, summaryIDs(page), "created in [since, until)")

	page, err = f.svc.ListPushMessages(ctx, push.PushMessageFilter{UserNum: "u2"})
	require.NoError(t, err)
	assert.Equal(t, []int64{other.PushMessageID, ids[2]}, summaryIDs(page), "a push to several users is each one's")

	page, err = f.svc.ListPushMessages(ctx, push.PushMessageFilter{})
	require.NoError(t, err)
	assert.Len(t, page.Messages, 6, "without a user: every push")
	assert.Equal(t, other.PushMessageID, page.Messages[0].PushMessageID)
}

func summaryIDs(p push.PushMessagePage) []int64 {
	var out []int64
	for _, m := range p.Messages {
		out = append(out, m.PushMessageID)
	}
	return out
}

// TestListPushMessagesErrors: each bad filter is a *FieldError naming the
// field, and nothing is asked of the store.
func TestListPushMessagesErrors(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	now := f.clk.Now()
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		name  string
		f     push.PushMessageFilter
		field string
	}{
		{"unknown status", push.PushMessageFilter{Status: "done"}, "status"},
		{"status of the ret columns' other spelling", push.PushMessageFilter{Status: "PARTIALLY"}, "status"},
		{"negative limit", push.PushMessageFilter{Limit: -1}, "limit"},
		{"limit over the maximum", push.PushMessageFilter{Limit: push.MaxPushMessagesLimit + 1}, "limit"},
		{"until before since", push.PushMessageFilter{Since: now, Until: now.Add(-time.Second)}, "until"},
		{"until equal to since", push.PushMessageFilter{Since: now, Until: now}, "until"},
		{"cursor not base64", push.PushMessageFilter{After: "%%%"}, "after"},
		{"cursor of something else", push.PushMessageFilter{After: b64("42")}, "after"},
		{"cursor with a bad id", push.PushMessageFilter{After: b64("pm1:abc")}, "after"},
		{"cursor with id 0", push.PushMessageFilter{After: b64("pm1:0")}, "after"},
		{"long cursor", push.PushMessageFilter{After: strings.Repeat("A", 100)}, "after"},
		{"long user", push.PushMessageFilter{UserNum: strings.Repeat("u", 256)}, "user_num"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.ListPushMessages(t.Context(), c.f)
			requireField(t, err, c.field)
			assert.ErrorIs(t, err, push.ErrInvalid)
		})
	}
	page, err := f.svc.ListPushMessages(t.Context(), push.PushMessageFilter{Limit: push.MaxPushMessagesLimit})
	require.NoError(t, err, "the maximum itself is fine")
	assert.Empty(t, page.Messages)
}

// TestPushStatusFor: a user reads the status of its own pushes only;
// another user's push is not found, exactly like an unknown one.
func TestPushStatusFor(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "t1")
	f.register(t, "u2", "d2", "android", "t2")
	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)

	st, err := f.svc.PushStatusFor(t.Context(), " u1", res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, "accepted", st.AndroidStatus)
	_, err = f.svc.PushStatusFor(t.Context(), "u2", res.PushMessageID)
	assert.ErrorIs(t, err, registry.ErrNotFound)
	_, unknown := f.svc.PushStatusFor(t.Context(), "u1", res.PushMessageID+100)
	assert.ErrorIs(t, unknown, registry.ErrNotFound)
	_, err = f.svc.PushStatusFor(t.Context(), "u1", 0)
	requireField(t, err, "push_message_id")
}

// TestPushStatusForUnaddressableUser: a user_num no push can be addressed
// to is not found, as another user is, on every database (PostgreSQL
// refused the query of one that is not UTF-8 or holds a NUL).
func TestPushStatusForUnaddressableUser(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := t.Context()
			svc, _ := newOneUserService(t, d)
			res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			for _, u := range []string{"u1\xff", "u1\x00", strings.Repeat("u", registry.MaxVarchar+1), " "} {
				_, err := svc.PushStatusFor(ctx, u, res.PushMessageID)
				assert.ErrorIs(t, err, registry.ErrNotFound, "user %q", u)
			}
			_, err = svc.PushStatusFor(ctx, "u1", res.PushMessageID)
			require.NoError(t, err)
		})
	}
}
