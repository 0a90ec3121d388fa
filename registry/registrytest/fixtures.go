package registrytest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// at returns the suite's fake clock reading base+offset. The base is in UTC
// and on a whole second, and every offset the suite uses is whole seconds,
// so a store that keeps DATETIME values to the second compares them
// exactly. No test reads the real clock.
func at(offset time.Duration) time.Time {
	return time.Date(2030, time.June, 15, 8, 0, 0, 0, time.UTC).Add(offset)
}

// farFuture is a claim time by which every scheduled row of the suite is
// due and every lease it takes has run out.
func farFuture() time.Time { return at(365 * 24 * time.Hour) }

// missingID is an id no fresh store hands out in a test, small enough for a
// 32-bit INT column.
const missingID int64 = 2_000_000_000

// hugeID is an id beyond the product brief's int(11) columns (2^40): no such row
// can exist, and a store must say so rather than fail to ask.
const hugeID int64 = 1 << 40

func ptr[T any](v T) *T { return &v }

// lease is the lease of most claims in the suite.
const lease = time.Minute

func sendClaim(now time.Time, limit int) registry.ClaimParams {
	return registry.ClaimParams{Now: now, Limit: limit, Lease: lease, Kind: registry.ClaimSend}
}

func pollClaim(now time.Time, limit int) registry.ClaimParams {
	return registry.ClaimParams{Now: now, Limit: limit, Lease: lease, Kind: registry.ClaimPoll}
}

func centerClaim(now time.Time, limit int) registry.ClaimParams {
	return registry.ClaimParams{Now: now, Limit: limit, Lease: lease}
}

// newDevice returns a valid device on the default push platform.
func newDevice(uuid, platform, token string) *registry.Device {
	return &registry.Device{
		UUID:         uuid,
		Platform:     platform,
		PushToken:    token,
		PushPlatform: registry.DefaultPushPlatform,
		Name:         "name of " + uuid,
		OS:           platform,
		OSVersion:    "1.0",
	}
}

func register(t *testing.T, s registry.Store, d *registry.Device, userNum string) (registry.Device, registry.UserDevice) {
	t.Helper()
	dev, link, err := s.RegisterDevice(t.Context(), d, userNum)
	require.NoError(t, err, "RegisterDevice(%q, %q)", d.UUID, userNum)
	return dev, link
}

// targetsOf lists every target of users page by page, checking that the
// pages are ordered by UserDeviceID and never repeat a target.
func targetsOf(t *testing.T, s registry.Store, users ...string) []registry.Target {
	t.Helper()
	var all []registry.Target
	var after int64
	for range 1000 {
		page, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: users, AfterUserDeviceID: after, Limit: 100})
		require.NoError(t, err)
		if len(page) == 0 {
			return all
		}
		require.LessOrEqual(t, len(page), 100, "page longer than Limit")
		for _, tg := range page {
			require.Greater(t, tg.UserDeviceID, after, "targets out of UserDeviceID order")
			after = tg.UserDeviceID
		}
		all = append(all, page...)
	}
	require.FailNow(t, "ListTargets never returned an empty page")
	return nil
}

// requireInvalid checks that err is a validation error for field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, registry.ErrInvalid)
	var ve *registry.ValidationError
	require.True(t, errors.As(err, &ve), "error %v is not a *registry.ValidationError", err)
	assert.Equal(t, field, ve.Field, "ValidationError.Field")
}

func pushMessage(title, dedupeKey string) *registry.PushMessage {
	return &registry.PushMessage{
		Title:     title,
		Content:   "content of " + title,
		Extra:     `{"page":"orders"}`,
		PushType:  registry.PushTypeUsers,
		DedupeKey: dedupeKey,
		ExpireAt:  ptr(at(24 * time.Hour)),
	}
}

// pending returns a token delivery, pending and due at next.
func pending(key, platform string, seq int, next time.Time, tokens ...string) *registry.Delivery {
	return &registry.Delivery{
		Provider:       "umeng",
		Platform:       platform,
		Seq:            seq,
		Audience:       registry.AudienceTokens,
		Tokens:         tokens,
		IdempotencyKey: key,
		State:          registry.DeliveryPending,
		NextAttemptAt:  next,
		ExpireAt:       ptr(at(24 * time.Hour)),
	}
}

func createPush(t *testing.T, s registry.Store, m *registry.PushMessage, ds ...*registry.Delivery) {
	t.Helper()
	require.NoError(t, s.CreatePushMessage(t.Context(), m, ds), "CreatePushMessage(%q)", m.Title)
}

func enqueue(t *testing.T, s registry.Store, m *registry.CenterMessage) {
	t.Helper()
	require.NoError(t, s.EnqueueCenterMessage(t.Context(), m), "EnqueueCenterMessage(%q)", m.Title)
}

func centerMessage(title string, level int) *registry.CenterMessage {
	return &registry.CenterMessage{
		Title:       title,
		Content:     "content of " + title,
		Extra:       `{"page":"alerts"}`,
		NotifyMode:  "push",
		NotifyLevel: level,
		Receivers:   "u1,u2",
	}
}

// ids lists the ids of rows, in order.
func ids[T any](rows []T, id func(T) int64) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

func deliveryID(d registry.Delivery) int64    { return d.ID }
func centerID(m registry.CenterMessage) int64 { return m.ID }
func targetDevice(tg registry.Target) int64   { return tg.DeviceID }
func targetLink(tg registry.Target) int64     { return tg.UserDeviceID }

// find returns the delivery with the idempotency key key.
func find(t *testing.T, ds []registry.Delivery, key string) registry.Delivery {
	t.Helper()
	for _, d := range ds {
		if d.IdempotencyKey == key {
			return d
		}
	}
	require.FailNow(t, "no delivery "+key, "have %v", keys(ds))
	return registry.Delivery{}
}

// keys lists the idempotency keys of ds, in order: what the suite compares
// to check which deliveries a claim returned and in which order.
func keys(ds []registry.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.IdempotencyKey
	}
	return out
}

// titles is keys for center messages.
func titles(ms []registry.CenterMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Title
	}
	return out
}

// emojiText returns a string of exactly n bytes made of 4-byte emoji
// (after a short ASCII prefix when n is not a multiple of 4): the largest
// value a byte-limited TEXT column holds.
func emojiText(n int) string {
	return strings.Repeat("a", n%4) + strings.Repeat("🎉", n/4)
}

// emojiChars returns a string of n characters, each a 4-byte emoji: the
// largest value a character-limited VARCHAR(n) column holds.
func emojiChars(n int) string { return strings.Repeat("🎉", n) }

func sortedIDs(v []int64) []int64 {
	c := slices.Clone(v)
	slices.Sort(c)
	return c
}
