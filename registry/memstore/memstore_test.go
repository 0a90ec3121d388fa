package memstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/registry/registrytest"
)

func newStore(t *testing.T, cfg memstore.Config) *memstore.Store {
	t.Helper()
	s, err := memstore.New(cfg)
	require.NoError(t, err)
	return s
}

func TestConformance(t *testing.T) {
	registrytest.Run(t, registrytest.Factory{
		RequireOptional: true,
		New:             func(t *testing.T) registry.Store { return newStore(t, memstore.Config{}) },
		ForgetTallies: func(t *testing.T, s registry.Store, id int64) {
			memstore.ForgetTallies(s.(*memstore.Store), id)
		},
	})
}

// fakeClock is the Store's injected clock; tests move it by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// start is the fake clock's first reading, in a zone other than UTC so that
// zones are seen to be kept.
func start() time.Time {
	return time.Date(2031, time.March, 4, 5, 6, 7, 0, time.FixedZone("CST", 8*3600))
}

func device(uuid string) *registry.Device {
	return &registry.Device{UUID: uuid, Platform: registry.PlatformIOS, PushToken: uuid + "-token", Name: "phone"}
}

func TestStoreClockStampsRows(t *testing.T) {
	t0 := start()
	clock := &fakeClock{now: t0}
	s := newStore(t, memstore.Config{Now: clock.Now})
	ctx := t.Context()

	dev, link, err := s.RegisterDevice(ctx, device("clock"), "u1")
	require.NoError(t, err)
	assert.Equal(t, t0, dev.CreatedAt)
	assert.Equal(t, t0, dev.UpdatedAt)
	assert.Equal(t, t0, link.CreatedAt)
	assert.Equal(t, t0, link.UpdatedAt)

	clock.Advance(time.Minute)
	_, err = s.DisableTokens(ctx, registry.DefaultPushPlatform, registry.PlatformIOS, []string{"clock-token"}, "gone")
	require.NoError(t, err)
	got, err := s.GetDevice(ctx, dev.ID)
	require.NoError(t, err)
	require.NotNil(t, got.TokenDisabledAt)
	assert.Equal(t, t0.Add(time.Minute), *got.TokenDisabledAt)
	assert.Equal(t, t0, got.CreatedAt)
	assert.Equal(t, t0.Add(time.Minute), got.UpdatedAt)

	clock.Advance(time.Minute)
	require.NoError(t, s.DeactivateLink(ctx, "u1", link.ID))
	gotLink, err := s.GetUserDevice(ctx, link.ID)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(2*time.Minute), gotLink.UpdatedAt)

	m := &registry.PushMessage{Title: "t", PushType: registry.PushTypeUsers}
	require.NoError(t, s.CreatePushMessage(ctx, m, nil))
	msg, err := s.GetPushMessage(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(2*time.Minute), msg.CreatedAt)

	c := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}
	require.NoError(t, s.EnqueueCenterMessage(ctx, c))
	center, err := s.GetCenterMessage(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(2*time.Minute), center.CreatedAt)
}

func TestZeroConfigUsesTheWallClock(t *testing.T) {
	s := newStore(t, memstore.Config{})
	dev, _, err := s.RegisterDevice(t.Context(), device("wall"), "u1")
	require.NoError(t, err)
	assert.False(t, dev.CreatedAt.IsZero())
}

func TestRowsAreCopiedInAndOut(t *testing.T) {
	t0 := start()
	s := newStore(t, memstore.Config{Now: (&fakeClock{now: t0}).Now})
	ctx := t.Context()

	d := device("copy")
	dev, _, err := s.RegisterDevice(ctx, d, "u1")
	require.NoError(t, err)
	d.PushToken = "changed-input"
	_, err = s.DisableTokens(ctx, registry.DefaultPushPlatform, registry.PlatformIOS, []string{"copy-token"}, "gone")
	require.NoError(t, err)
	disabled, err := s.GetDevice(ctx, dev.ID)
	require.NoError(t, err)
	*disabled.TokenDisabledAt = t0.Add(time.Hour)
	got, err := s.GetDevice(ctx, dev.ID)
	require.NoError(t, err)
	assert.Equal(t, "copy-token", got.PushToken)
	assert.Equal(t, t0, *got.TokenDisabledAt)

	sendAt := t0
	c := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1", SendAt: &sendAt}
	require.NoError(t, s.EnqueueCenterMessage(ctx, c))
	sendAt = t0.Add(time.Hour)
	claimed, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: t0, Limit: 1, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, claimed, 1, "the stored SendAt is the one given at enqueue time")
	*claimed[0].LeaseUntil = t0
	*claimed[0].SendAt = t0.Add(time.Hour)
	row, err := s.GetCenterMessage(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Minute), *row.LeaseUntil)
	assert.Equal(t, t0, *row.SendAt)

	next := t0.Add(time.Hour)
	claimed[0].NextAttemptAt = &next
	require.NoError(t, s.FinishCenterMessage(ctx, &claimed[0]))
	next = t0
	again, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: t0.Add(time.Minute), Limit: 1, Lease: time.Minute})
	require.NoError(t, err)
	assert.Empty(t, again, "the stored NextAttemptAt is the one given at finish time")
}

func TestEndedContextChangesNothing(t *testing.T) {
	t0 := start()
	s := newStore(t, memstore.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	claim := registry.ClaimParams{Now: t0, Limit: 1, Lease: time.Minute, Kind: registry.ClaimSend}
	tests := []struct {
		name string
		call func() error
	}{
		{"RegisterDevice", func() error { _, _, err := s.RegisterDevice(ctx, device("ctx"), "u1"); return err }},
		{"GetDevice", func() error { _, err := s.GetDevice(ctx, 1); return err }},
		{"GetUserDevice", func() error { _, err := s.GetUserDevice(ctx, 1); return err }},
		{"DeactivateLink", func() error { return s.DeactivateLink(ctx, "u1", 1) }},
		{"ListTargets", func() error {
			_, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u1"}})
			return err
		}},
		{"DisableTokens", func() error {
			_, err := s.DisableTokens(ctx, "", registry.PlatformIOS, []string{"ctx-token"}, "r")
			return err
		}},
		{"CreatePushMessage", func() error {
			return s.CreatePushMessage(ctx, &registry.PushMessage{Title: "t"}, nil)
		}},
		{"GetPushMessage", func() error { _, err := s.GetPushMessage(ctx, 1); return err }},
		{"GetPushMessageByDedupeKey", func() error { _, err := s.GetPushMessageByDedupeKey(ctx, "k"); return err }},
		{"ListDeliveries", func() error { _, err := s.ListDeliveries(ctx, 1); return err }},
		{"ClaimDeliveries", func() error { _, err := s.ClaimDeliveries(ctx, claim); return err }},
		{"FinishDelivery", func() error { return s.FinishDelivery(ctx, &registry.Delivery{ID: 1, ClaimToken: "x"}) }},
		{"SplitDelivery", func() error { return s.SplitDelivery(ctx, &registry.Delivery{ID: 1, ClaimToken: "x"}, nil) }},
		{"EnqueueCenterMessage", func() error {
			return s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Title: "t", Receivers: "u1"})
		}},
		{"GetCenterMessage", func() error { _, err := s.GetCenterMessage(ctx, 1); return err }},
		{"ClaimCenterMessages", func() error { _, err := s.ClaimCenterMessages(ctx, claim); return err }},
		{"FinishCenterMessage", func() error {
			return s.FinishCenterMessage(ctx, &registry.CenterMessage{ID: 1, ClaimToken: "x"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, context.Canceled)
			assert.True(t, strings.HasPrefix(err.Error(), "memstore: "+tt.name+":"), "error %q names the operation", err)
		})
	}
	_, err := s.GetDevice(t.Context(), 1)
	assert.ErrorIs(t, err, registry.ErrNotFound, "RegisterDevice wrote under an ended context")
	_, err = s.GetPushMessage(t.Context(), 1)
	assert.ErrorIs(t, err, registry.ErrNotFound, "CreatePushMessage wrote under an ended context")
	_, err = s.GetCenterMessage(t.Context(), 1)
	assert.ErrorIs(t, err, registry.ErrNotFound, "EnqueueCenterMessage wrote under an ended context")
}

func TestInvalidParamsNameTheField(t *testing.T) {
	t0 := start()
	s := newStore(t, memstore.Config{})
	ctx := t.Context()
	valid := registry.ClaimParams{Now: t0, Limit: 1, Lease: time.Minute, Kind: registry.ClaimSend}
	with := func(edit func(p *registry.ClaimParams)) registry.ClaimParams {
		p := valid
		edit(&p)
		return p
	}
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"ListTargets negative limit", func() error {
			_, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u1"}, Limit: -1})
			return err
		}, "limit"},
		{"ClaimDeliveries zero limit", func() error {
			_, err := s.ClaimDeliveries(ctx, with(func(p *registry.ClaimParams) { p.Limit = 0 }))
			return err
		}, "limit"},
		{"ClaimDeliveries zero lease", func() error {
			_, err := s.ClaimDeliveries(ctx, with(func(p *registry.ClaimParams) { p.Lease = 0 }))
			return err
		}, "lease"},
		{"ClaimDeliveries zero now", func() error {
			_, err := s.ClaimDeliveries(ctx, with(func(p *registry.ClaimParams) { p.Now = time.Time{} }))
			return err
		}, "now"},
		{"ClaimDeliveries unknown kind", func() error {
			_, err := s.ClaimDeliveries(ctx, with(func(p *registry.ClaimParams) { p.Kind = 0 }))
			return err
		}, "kind"},
		{"ClaimCenterMessages negative limit", func() error {
			_, err := s.ClaimCenterMessages(ctx, with(func(p *registry.ClaimParams) { p.Limit = -5 }))
			return err
		}, "limit"},
		{"ClaimCenterMessages negative lease", func() error {
			_, err := s.ClaimCenterMessages(ctx, with(func(p *registry.ClaimParams) { p.Lease = -time.Second }))
			return err
		}, "lease"},
		{"ClaimCenterMessages zero now", func() error {
			_, err := s.ClaimCenterMessages(ctx, with(func(p *registry.ClaimParams) { p.Now = time.Time{} }))
			return err
		}, "now"},
		{"FinishDelivery nil", func() error { return s.FinishDelivery(ctx, nil) }, "delivery"},
		{"SplitDelivery nil", func() error { return s.SplitDelivery(ctx, nil, nil) }, "delivery"},
		{"FinishCenterMessage nil", func() error { return s.FinishCenterMessage(ctx, nil) }, "message_center"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorIs(t, err, registry.ErrInvalid)
			var ve *registry.ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, tt.field, ve.Field)
		})
	}
}

func TestFinishCenterMessageValidatesBeforeWriting(t *testing.T) {
	t0 := start()
	s := newStore(t, memstore.Config{})
	ctx := t.Context()
	c := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}
	require.NoError(t, s.EnqueueCenterMessage(ctx, c))
	claimed, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: t0, Limit: 1, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	tests := []struct {
		name  string
		edit  func(m *registry.CenterMessage)
		field string
	}{
		{"send_result too long", func(m *registry.CenterMessage) { m.SendResult = strings.Repeat("r", registry.MaxText+1) }, "send_result"},
		{"remark not UTF-8", func(m *registry.CenterMessage) { m.Remark = "\xff" }, "remark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := claimed[0]
			m.SendState = registry.SendStateSent
			tt.edit(&m)

			err := s.FinishCenterMessage(ctx, &m)

			require.ErrorIs(t, err, registry.ErrInvalid)
			var ve *registry.ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, tt.field, ve.Field)
			row, err := s.GetCenterMessage(ctx, c.ID)
			require.NoError(t, err)
			assert.Equal(t, claimed[0], row, "the row keeps its claim and state")
		})
	}
}

func TestFinishAfterLeaseWithoutReclaimSucceeds(t *testing.T) {
	t0 := start()
	s := newStore(t, memstore.Config{})
	ctx := t.Context()
	m := &registry.PushMessage{Title: "t", PushType: registry.PushTypeUsers}
	d := &registry.Delivery{
		Provider: "umeng", Platform: registry.PlatformIOS, Audience: registry.AudienceTokens, Tokens: []string{"t"},
		IdempotencyKey: "k", State: registry.DeliveryPending, NextAttemptAt: t0,
	}
	require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{d}))
	claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: t0, Limit: 1, Lease: time.Minute, Kind: registry.ClaimSend})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	c := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}
	require.NoError(t, s.EnqueueCenterMessage(ctx, c))
	claimedCenter, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: t0, Limit: 1, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, claimedCenter, 1)

	// Nobody claimed the rows after their leases ended, so the tokens still
	// hold them: the store has no clock of its own to say otherwise.
	claimed[0].State = registry.DeliveryDone
	require.NoError(t, s.FinishDelivery(ctx, &claimed[0]))
	claimedCenter[0].SendState = registry.SendStateSent
	require.NoError(t, s.FinishCenterMessage(ctx, &claimedCenter[0]))
}

func TestDisableTokens(t *testing.T) {
	t0 := start()
	clock := &fakeClock{now: t0}
	s := newStore(t, memstore.Config{Now: clock.Now})
	ctx := t.Context()
	dev, _, err := s.RegisterDevice(ctx, device("dis"), "u1")
	require.NoError(t, err)
	tests := []struct {
		name         string
		pushPlatform string
		reason       string
		want         int64
	}{
		{"empty push platform means the default", "", "first", 1},
		{"a disabled token is not disabled again", registry.DefaultPushPlatform, "second", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(time.Minute)
			n, err := s.DisableTokens(ctx, tt.pushPlatform, registry.PlatformIOS, []string{"dis-token"}, tt.reason)
			require.NoError(t, err)
			assert.Equal(t, tt.want, n)
			got, err := s.GetDevice(ctx, dev.ID)
			require.NoError(t, err)
			assert.Equal(t, "first", got.TokenDisabledReason)
			assert.Equal(t, t0.Add(time.Minute), *got.TokenDisabledAt)
		})
	}
}

// TestSplitRefusesTokensBeyondTheSummaryColumn: parts that would make the
// message's summary list more tokens than its column holds are refused
// before anything is written, as CreatePushMessage refuses such a push.
func TestSplitRefusesTokensBeyondTheSummaryColumn(t *testing.T) {
	t0 := start()
	s := newStore(t, memstore.Config{})
	ctx := t.Context()
	pending := func(key string, tokens ...string) *registry.Delivery {
		return &registry.Delivery{Provider: "umeng", Platform: registry.PlatformIOS, Audience: registry.AudienceTokens, Tokens: tokens,
			IdempotencyKey: key, State: registry.DeliveryPending, NextAttemptAt: t0}
	}
	// Together the tokens fill the column exactly: "a", a comma, the rest.
	big := pending("big", strings.Repeat("t", registry.MaxTokensText-2))
	big.NextAttemptAt = t0.Add(time.Hour)
	m := &registry.PushMessage{Title: "t", PushType: registry.PushTypeUsers}
	require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{pending("small", "a"), big}))
	claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: t0, Limit: 1, Lease: time.Minute, Kind: registry.ClaimSend})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	before, err := s.ListDeliveries(ctx, m.ID)
	require.NoError(t, err)

	err = s.SplitDelivery(ctx, &claimed[0], []*registry.Delivery{pending("small.0", "ab")})

	require.ErrorIs(t, err, registry.ErrInvalid)
	var ve *registry.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, "ios_device_tokens", ve.Field)
	after, err := s.ListDeliveries(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, before, after, "nothing written, the delivery still claimed")
	require.NoError(t, s.SplitDelivery(ctx, &claimed[0], []*registry.Delivery{pending("small.0", "b")}), "parts that fit")
}

// TestRenewCenterMessageNeedsAClaim: a center row nobody claimed cannot be
// renewed with an empty claim token: as the SQL store, whose claim_token =
// ? never matches NULL, RenewCenterMessage is ErrClaimLost and leaves the
// row without a lease.
func TestRenewCenterMessageNeedsAClaim(t *testing.T) {
	s := newStore(t, memstore.Config{})
	ctx := t.Context()
	c := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "u1"}
	require.NoError(t, s.EnqueueCenterMessage(ctx, c))
	unclaimed, err := s.GetCenterMessage(ctx, c.ID)
	require.NoError(t, err)
	require.Empty(t, unclaimed.ClaimToken)

	err = s.RenewCenterMessage(ctx, &unclaimed, start().Add(time.Hour))
	require.ErrorIs(t, err, registry.ErrClaimLost)
	got, err := s.GetCenterMessage(ctx, c.ID)
	require.NoError(t, err)
	assert.Nil(t, got.LeaseUntil, "a refused renewal writes no lease")
}

// TestEnqueuedCenterMessageIsClaimableWhateverItsLease: a lease the caller
// left on the row it enqueues is no claim (the SQL store does not insert
// lease_until): the row is due at once and the claim sets its own lease.
func TestEnqueuedCenterMessageIsClaimableWhateverItsLease(t *testing.T) {
	s := newStore(t, memstore.Config{})
	ctx := t.Context()
	t0 := start()
	stale := t0.Add(time.Hour)
	c := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "u1", LeaseUntil: &stale}
	require.NoError(t, s.EnqueueCenterMessage(ctx, c))

	claimed, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: t0, Limit: 1, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NotNil(t, claimed[0].LeaseUntil)
	assert.True(t, claimed[0].LeaseUntil.Equal(t0.Add(time.Minute)))
}
