package push_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
)

// TestResultNamesUnreachedUsers: a push to a few users names those it
// reached no device of (none registered, logged out, only a device no
// configured provider serves), through Push and PushMany alike; a push that reached everyone,
// a duplicate and a push to more than MaxUnreachedUsers name nobody.
func TestResultNamesUnreachedUsers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok1")
	gone := f.register(t, "u2", "d2", "ios", "tok2")
	require.NoError(t, f.svc.Logout(ctx, "u2", gone.UserDeviceID))
	// Written by another program: a device on a vendor not configured here.
	_, _, err := f.store.RegisterDevice(ctx, &registry.Device{UUID: "d3", Platform: "android", PushToken: "tok3", PushPlatform: "jpush"}, "u3")
	require.NoError(t, err)

	m := push.Message{UserNums: []string{"ghost", "u1", " u2 ", "u3", "u1"}, Title: "t", Content: "c", DedupeKey: "k"}
	res, err := f.svc.Push(ctx, m)
	require.NoError(t, err)
	assert.Equal(t, []string{"ghost", "u2", "u3"}, res.Unreached, "in the order named, trimmed, once each")
	assert.Equal(t, 3, res.UnreachedCount)
	assert.Equal(t, 1, res.Skipped, "u3's device")

	again, err := f.svc.Push(ctx, m)
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	assert.Nil(t, again.Unreached)
	assert.Zero(t, again.UnreachedCount)

	outs := f.svc.PushMany(ctx, []push.PushRequest{
		{Message: push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"}},
		{Message: push.Message{UserNums: []string{"u2", "u1"}, Title: "t", Content: "c"}},
	}, nil)
	require.NoError(t, outs[0].Err)
	assert.Empty(t, outs[0].Result.Unreached)
	assert.Zero(t, outs[0].Result.UnreachedCount)
	require.NoError(t, outs[1].Err)
	assert.Equal(t, []string{"u2"}, outs[1].Result.Unreached)
	assert.Equal(t, 1, outs[1].Result.UnreachedCount)

	many := []string{"u1"}
	for i := range push.MaxUnreachedUsers {
		many = append(many, fmt.Sprint("nobody", i))
	}
	res, err = f.svc.Push(ctx, push.Message{UserNums: many, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Nil(t, res.Unreached, "too many users to list")
	assert.Equal(t, push.MaxUnreachedUsers, res.UnreachedCount, "but counted")
	res, err = f.svc.Push(ctx, push.Message{UserNums: many[:push.MaxUnreachedUsers], Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Len(t, res.Unreached, push.MaxUnreachedUsers-1)
	assert.Equal(t, push.MaxUnreachedUsers-1, res.UnreachedCount)

	outs = f.svc.PushMany(ctx, []push.PushRequest{{Message: push.Message{UserNums: many, Title: "t", Content: "c"}}}, nil)
	require.NoError(t, outs[0].Err)
	assert.Nil(t, outs[0].Result.Unreached)
	assert.Equal(t, push.MaxUnreachedUsers, outs[0].Result.UnreachedCount, "PushMany counts them too")
}

// TestLargePushCountsUnreachedUsers: a push too large to name the users it
// reached no device of counts them, a chunk of users at a time, whether it
// is recorded whole or in stages; a user with two phones counts once.
func TestLargePushCountsUnreachedUsers(t *testing.T) {
	for _, staged := range []bool{false, true} {
		t.Run(fmt.Sprintf("staged=%v", staged), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, providertest.MockConfig{}, nil)
			if staged {
				push.SetStages(f.svc, 10, 3) // more than 30 users: in stages
			}
			var users []string
			for i := range 250 {
				u := fmt.Sprintf("u%03d", i)
				users = append(users, u)
				if i%5 == 0 {
					continue // no device
				}
				f.register(t, u, "a"+u, "android", "atok"+u)
				if i%3 == 0 {
					f.register(t, u, "i"+u, "ios", "itok"+u)
				}
			}
			res, err := f.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Nil(t, res.Unreached)
			assert.Equal(t, 50, res.UnreachedCount, "every fifth user")
			assert.Equal(t, 200+67, res.Devices, "200 Android phones, 67 iPhones")
		})
	}
}
