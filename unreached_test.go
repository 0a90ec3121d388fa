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
	assert.Equal(t, 1, res.Skipped, "u3's device")

	again, err := f.svc.Push(ctx, m)
	require.NoError(t, err)
	require.True(t, again.Duplicate)
	assert.Nil(t, again.Unreached)

	outs := f.svc.PushMany(ctx, []push.PushRequest{
		{Message: push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"}},
		{Message: push.Message{UserNums: []string{"u2", "u1"}, Title: "t", Content: "c"}},
	}, nil)
	require.NoError(t, outs[0].Err)
	assert.Empty(t, outs[0].Result.Unreached)
	require.NoError(t, outs[1].Err)
	assert.Equal(t, []string{"u2"}, outs[1].Result.Unreached)

	many := []string{"u1"}
	for i := range push.MaxUnreachedUsers {
		many = append(many, fmt.Sprint("nobody", i))
	}
	res, err = f.svc.Push(ctx, push.Message{UserNums: many, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Nil(t, res.Unreached, "too many users to list")
	res, err = f.svc.Push(ctx, push.Message{UserNums: many[:push.MaxUnreachedUsers], Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Len(t, res.Unreached, push.MaxUnreachedUsers-1)
}
