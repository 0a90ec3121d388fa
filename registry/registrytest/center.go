package registrytest

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testCenterMessages covers EnqueueCenterMessage, GetCenterMessage,
// ClaimCenterMessages and FinishCenterMessage. Claims see every row of a
// store, so the claim subtests get fresh stores.
func testCenterMessages(t *testing.T, f Factory) {
	t.Run("EnqueueAndGet", func(t *testing.T) {
		s := f.New(t)
		tests := []struct {
			name string
			m    *registry.CenterMessage
		}{
			{"full row", &registry.CenterMessage{
				Title: "库存预警 🎉", Content: "SKU 🍎 低于安全库存", Extra: `{"sku":"🍎"}`, NotifyMode: "push",
				NotifyLevel: 3, Receivers: "u1,u2,用户🎉", SendAt: ptr(at(time.Hour)),
			}},
			{"sent state is ignored", &registry.CenterMessage{
				Title: "ignored state", Content: "c", NotifyMode: "sms", Receivers: "u1", SendState: registry.SendStateSent,
			}},
			{"longest values", &registry.CenterMessage{
				Title: emojiChars(registry.MaxVarchar), Content: emojiText(registry.MaxText), Extra: emojiChars(registry.MaxVarchar),
				NotifyMode: emojiChars(registry.MaxVarchar), NotifyLevel: -7, Receivers: emojiText(registry.MaxText),
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				enqueue(t, s, tt.m)

				require.Positive(t, tt.m.ID)
				got, err := s.GetCenterMessage(t.Context(), tt.m.ID)
				require.NoError(t, err)
				want := *tt.m
				want.SendState = registry.SendStateUnsent
				assertCenter(t, want, got)
			})
		}
	})

	t.Run("EnqueueTakesNoClaim", func(t *testing.T) {
		// A caller's claim_token and lease_until are not stored: the row
		// is nobody's, claimable at once, and finishing it with the
		// caller's token is a lost claim.
		s := f.New(t)
		m := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "u1", ClaimToken: "forged", LeaseUntil: ptr(at(time.Hour))}
		enqueue(t, s, m)
		got, err := s.GetCenterMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Empty(t, got.ClaimToken)
		assert.Nil(t, got.LeaseUntil)
		forged := got
		forged.ClaimToken, forged.SendState, forged.SendResult = "forged", registry.SendStateSent, "sms#1"
		require.ErrorIs(t, s.FinishCenterMessage(t.Context(), &forged), registry.ErrClaimLost)
		claimed, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: at(0), Limit: 5, Lease: time.Minute})
		require.NoError(t, err)
		require.Len(t, claimed, 1, "claimable at once")
		assert.Equal(t, m.ID, claimed[0].ID)
	})

	t.Run("EnqueueValidationWritesNothing", func(t *testing.T) {
		s := f.New(t)
		long := strings.Repeat("x", registry.MaxVarchar+1)
		tests := []struct {
			name  string
			edit  func(m *registry.CenterMessage) *registry.CenterMessage
			field string
		}{
			{"message nil", func(*registry.CenterMessage) *registry.CenterMessage { return nil }, "message_center"},
			{"title too long", func(m *registry.CenterMessage) *registry.CenterMessage { m.Title = long; return m }, "title"},
			{"title of 256 emoji", func(m *registry.CenterMessage) *registry.CenterMessage {
				m.Title = emojiChars(registry.MaxVarchar + 1)
				return m
			}, "title"},
			{"title not UTF-8", func(m *registry.CenterMessage) *registry.CenterMessage { m.Title = "\xff"; return m }, "title"},
			{"extra too long", func(m *registry.CenterMessage) *registry.CenterMessage { m.Extra = long; return m }, "extra_params_string"},
			{"notify_mode too long", func(m *registry.CenterMessage) *registry.CenterMessage { m.NotifyMode = long; return m }, "notify_mode"},
			{"receivers empty", func(m *registry.CenterMessage) *registry.CenterMessage { m.Receivers = ""; return m }, "receivers"},
			{"receivers blank", func(m *registry.CenterMessage) *registry.CenterMessage { m.Receivers = " \n"; return m }, "receivers"},
			{"receivers too long", func(m *registry.CenterMessage) *registry.CenterMessage {
				m.Receivers = emojiText(registry.MaxText + 1)
				return m
			}, "receivers"},
			{"content too long", func(m *registry.CenterMessage) *registry.CenterMessage {
				m.Content = emojiText(registry.MaxText + 1)
				return m
			}, "content"},
			{"content not UTF-8", func(m *registry.CenterMessage) *registry.CenterMessage { m.Content = "\xc3"; return m }, "content"},
			{"send_result too long", func(m *registry.CenterMessage) *registry.CenterMessage {
				m.SendResult = emojiText(registry.MaxText + 1)
				return m
			}, "send_result"},
			{"remark too long", func(m *registry.CenterMessage) *registry.CenterMessage {
				m.Remark = emojiText(registry.MaxText + 1)
				return m
			}, "remark"},
			{"notify_level beyond INT", func(m *registry.CenterMessage) *registry.CenterMessage { m.NotifyLevel = 1 << 31; return m }, "notify_level"},
			{"attempts negative", func(m *registry.CenterMessage) *registry.CenterMessage { m.Attempts = -1; return m }, "attempts"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := tt.edit(centerMessage("invalid", 0))

				err := s.EnqueueCenterMessage(t.Context(), m)

				requireInvalid(t, err, tt.field)
				if m != nil {
					assert.Zero(t, m.ID)
				}
				requireNoDueCenterMessages(t, s)
			})
		}
	})

	t.Run("GetNotFound", func(t *testing.T) {
		s := f.New(t)
		for _, id := range []int64{missingID, 0} {
			_, err := s.GetCenterMessage(t.Context(), id)
			assert.ErrorIs(t, err, registry.ErrNotFound, "id %d", id)
		}
	})

	t.Run("ClaimTakesDueUnsentByLevelThenID", func(t *testing.T) {
		s := f.New(t)
		rows := []*registry.CenterMessage{
			centerMessage("c1", 0),
			centerMessage("c2", 5),
			centerMessage("c3", 0),
			centerMessage("c4", 0),
			centerMessage("c5", 9),
			centerMessage("c6", -1),
			centerMessage("c7", 5),
		}
		rows[2].SendAt = ptr(at(time.Hour))
		rows[3].SendAt = ptr(at(-time.Hour))
		rows[4].SendAt = ptr(at(0))
		byTitle := map[string]*registry.CenterMessage{}
		for _, m := range rows {
			enqueue(t, s, m)
			byTitle[m.Title] = m
		}
		p := centerClaim(at(0), 10)
		p.Lease = 2 * time.Hour

		got, err := s.ClaimCenterMessages(t.Context(), p)

		require.NoError(t, err)
		require.Equal(t, []string{"c5", "c2", "c7", "c1", "c4", "c6"}, titles(got))
		for _, c := range got {
			require.NotEmpty(t, c.ClaimToken)
			want := *byTitle[c.Title]
			want.Attempts = 1
			want.ClaimToken, want.LeaseUntil = c.ClaimToken, ptr(at(2*time.Hour))
			assertCenter(t, want, c, "claimed %s", c.Title)
			stored, err := s.GetCenterMessage(t.Context(), c.ID)
			require.NoError(t, err)
			assertCenter(t, c, stored, "stored claim of %s", c.Title)
		}
		again, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 10))
		require.NoError(t, err)
		assert.Empty(t, titles(again), "claimed rows are held until their lease ends")
		later, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(time.Hour), 10))
		require.NoError(t, err)
		assert.Equal(t, []string{"c3"}, titles(later), "due at its SendAt")
	})

	t.Run("ClaimHonoursLimit", func(t *testing.T) {
		s := f.New(t)
		for _, title := range []string{"l1", "l2", "l3", "l4", "l5"} {
			enqueue(t, s, centerMessage(title, 1))
		}
		for _, want := range [][]string{{"l1", "l2"}, {"l3", "l4"}, {"l5"}, {}} {
			got, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 2))
			require.NoError(t, err)
			assert.Equal(t, want, titles(got))
		}
	})

	t.Run("ClaimKeepsAttemptsInsideTheColumn", func(t *testing.T) {
		// A row enqueued with the INT column's largest count is claimed,
		// not refused (adding one would overflow the column), and its
		// outcome can be recorded.
		s := f.New(t)
		m := centerMessage("max attempts", 0)
		m.Attempts = math.MaxInt32
		enqueue(t, s, m)
		enqueue(t, s, centerMessage("after it", 0))
		claimed, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 10))
		require.NoError(t, err)
		require.Equal(t, []string{"max attempts", "after it"}, titles(claimed))
		assert.Equal(t, math.MaxInt32, claimed[0].Attempts)
		assert.Equal(t, 1, claimed[1].Attempts)
		claimed[0].SendState, claimed[0].Remark = registry.SendStateFailed, "gave up"
		require.NoError(t, s.FinishCenterMessage(t.Context(), &claimed[0]))
		got, err := s.GetCenterMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.SendStateFailed, got.SendState)
		assert.Equal(t, math.MaxInt32, got.Attempts)
	})

	t.Run("ClaimSkipsModes", func(t *testing.T) {
		// Rows of SkipModes, in any case and with surrounding spaces, are
		// another program's: left unclaimed and untouched, while the
		// claim goes on past them to the rows after.
		s := f.New(t)
		var left []*registry.CenterMessage
		for i, mode := range []string{"sms", " SMS ", "Email", "push", "fax", "Push "} {
			m := centerMessage(fmt.Sprintf("m%d", i), 0)
			m.NotifyMode = mode
			enqueue(t, s, m)
			if i < 3 {
				left = append(left, m)
			}
		}
		p := centerClaim(at(0), 2)
		p.SkipModes = []string{"sms", "email"}
		got, err := s.ClaimCenterMessages(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, []string{"m3", "m4"}, titles(got), "the limit counts the rows claimed, not those passed over")
		got, err = s.ClaimCenterMessages(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, []string{"m5"}, titles(got))
		for _, m := range left {
			stored, err := s.GetCenterMessage(t.Context(), m.ID)
			require.NoError(t, err)
			assert.Empty(t, stored.ClaimToken, "%q is left", m.NotifyMode)
			assert.Zero(t, stored.Attempts)
			assert.Equal(t, registry.SendStateUnsent, stored.SendState)
		}
		all, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 10))
		require.NoError(t, err)
		assert.Equal(t, []string{"m0", "m1", "m2"}, titles(all), "without SkipModes every row is claimed")
	})

	t.Run("ClaimParamsInvalid", func(t *testing.T) {
		s := f.New(t)
		enqueue(t, s, centerMessage("params", 0))
		tests := []struct {
			name string
			p    registry.ClaimParams
		}{
			{"zero limit", registry.ClaimParams{Now: at(0), Limit: 0, Lease: lease}},
			{"negative limit", registry.ClaimParams{Now: at(0), Limit: -1, Lease: lease}},
			{"zero lease", registry.ClaimParams{Now: at(0), Limit: 1, Lease: 0}},
			{"negative lease", registry.ClaimParams{Now: at(0), Limit: 1, Lease: -time.Second}},
			{"empty skip mode", registry.ClaimParams{Now: at(0), Limit: 1, Lease: lease, SkipModes: []string{""}}},
			{"skip mode not normalized", registry.ClaimParams{Now: at(0), Limit: 1, Lease: lease, SkipModes: []string{" SMS"}}},
			{"skip mode too long", registry.ClaimParams{Now: at(0), Limit: 1, Lease: lease, SkipModes: []string{strings.Repeat("x", 256)}}},
			{"skip mode not ASCII", registry.ClaimParams{Now: at(0), Limit: 1, Lease: lease, SkipModes: []string{"émail"}}},
			{"skip mode with a tab", registry.ClaimParams{Now: at(0), Limit: 1, Lease: lease, SkipModes: []string{"sms\t"}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.ClaimCenterMessages(t.Context(), tt.p)
				require.ErrorIs(t, err, registry.ErrInvalid)
				assert.Empty(t, got)
			})
		}
		got, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, got, 1, "an invalid claim must not take the row")
		assert.Equal(t, 1, got[0].Attempts)
	})

	t.Run("FinishSentOrFailedIsFinal", func(t *testing.T) {
		s := f.New(t)
		enqueue(t, s, centerMessage("to send", 0))
		enqueue(t, s, centerMessage("to fail", 0))
		claimed, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, claimed, 2)
		outcome := map[string]func(m *registry.CenterMessage){
			"to send": func(m *registry.CenterMessage) {
				m.SendState, m.SendResult, m.Remark = registry.SendStateSent, "push_message#42", "sent 🎉"
			},
			"to fail": func(m *registry.CenterMessage) {
				m.SendState, m.Remark, m.Attempts = registry.SendStateFailed, "no devices", 5
			},
		}
		for _, c := range claimed {
			t.Run(c.Title, func(t *testing.T) {
				outcome[c.Title](&c)

				require.NoError(t, s.FinishCenterMessage(t.Context(), &c))

				got, err := s.GetCenterMessage(t.Context(), c.ID)
				require.NoError(t, err)
				want := c
				want.ClaimToken, want.LeaseUntil = "", nil
				assertCenter(t, want, got)
				assert.ErrorIs(t, s.FinishCenterMessage(t.Context(), &c), registry.ErrClaimLost, "finished twice")
			})
		}
		requireNoDueCenterMessages(t, s)
	})

	t.Run("FinishRescheduleDelaysTheRow", func(t *testing.T) {
		s := f.New(t)
		m := centerMessage("retry", 0)
		m.SendAt = ptr(at(-time.Hour))
		enqueue(t, s, m)
		claimed, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		retry := claimed[0]
		retry.SendState, retry.NextAttemptAt, retry.Remark = registry.SendStateUnsent, ptr(at(10*time.Minute)), "provider unavailable"

		require.NoError(t, s.FinishCenterMessage(t.Context(), &retry))

		got, err := s.GetCenterMessage(t.Context(), m.ID)
		require.NoError(t, err)
		want := retry
		want.ClaimToken, want.LeaseUntil = "", nil
		assertCenter(t, want, got)
		for _, now := range []time.Time{at(0), at(10*time.Minute - time.Second)} {
			early, err := s.ClaimCenterMessages(t.Context(), centerClaim(now, 10))
			require.NoError(t, err)
			assert.Empty(t, titles(early), "claimed at %s, before NextAttemptAt", now)
		}
		due, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(10*time.Minute), 10))
		require.NoError(t, err)
		require.Equal(t, []string{"retry"}, titles(due))
		assert.Equal(t, 2, due[0].Attempts)
	})

	t.Run("FinishValidationWritesNothing", func(t *testing.T) {
		s := f.New(t)
		enqueue(t, s, centerMessage("finish invalid", 0))
		claimed, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		tests := []struct {
			name  string
			edit  func(m *registry.CenterMessage) *registry.CenterMessage
			field string
		}{
			{"message nil", func(*registry.CenterMessage) *registry.CenterMessage { return nil }, "message_center"},
			{"send_result too long", func(m *registry.CenterMessage) *registry.CenterMessage {
				m.SendResult = emojiText(registry.MaxText + 1)
				return m
			}, "send_result"},
			{"send_result not UTF-8", func(m *registry.CenterMessage) *registry.CenterMessage { m.SendResult = "push_message#\xff"; return m }, "send_result"},
			{"remark too long", func(m *registry.CenterMessage) *registry.CenterMessage {
				m.Remark = emojiText(registry.MaxText + 1)
				return m
			}, "remark"},
			{"remark not UTF-8", func(m *registry.CenterMessage) *registry.CenterMessage { m.Remark = "\xc3"; return m }, "remark"},
			{"send_state beyond TINYINT", func(m *registry.CenterMessage) *registry.CenterMessage { m.SendState = 300; return m }, "send_state"},
			{"attempts negative", func(m *registry.CenterMessage) *registry.CenterMessage { m.Attempts = -1; return m }, "attempts"},
			{"attempts beyond INT", func(m *registry.CenterMessage) *registry.CenterMessage { m.Attempts = 1 << 31; return m }, "attempts"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := claimed[0]
				c.SendState, c.SendResult = registry.SendStateSent, "push_message#1"

				err := s.FinishCenterMessage(t.Context(), tt.edit(&c))

				requireInvalid(t, err, tt.field)
				got, err := s.GetCenterMessage(t.Context(), claimed[0].ID)
				require.NoError(t, err)
				assertCenter(t, claimed[0], got, "the row keeps its claim and state")
			})
		}
		c := claimed[0]
		c.SendState, c.Remark = registry.SendStateSent, "sent"
		require.NoError(t, s.FinishCenterMessage(t.Context(), &c), "the claim survives the refused finishes")
	})

	t.Run("FinishWithStaleToken", func(t *testing.T) {
		s := f.New(t)
		m := centerMessage("stale", 0)
		enqueue(t, s, m)
		first, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, first, 1)
		second, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(lease+time.Second), 1))
		require.NoError(t, err)
		require.Len(t, second, 1, "an expired lease makes the row claimable again")
		require.NotEqual(t, first[0].ClaimToken, second[0].ClaimToken)
		assert.Equal(t, 2, second[0].Attempts)

		stale := first[0]
		stale.SendState, stale.SendResult = registry.SendStateSent, "push_message#1"
		err = s.FinishCenterMessage(t.Context(), &stale)

		require.ErrorIs(t, err, registry.ErrClaimLost)
		require.ErrorIs(t, err, registry.ErrConflict)
		got, err := s.GetCenterMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assertCenter(t, second[0], got, "a stale finish changes nothing")

		tests := []struct {
			name string
			edit func(c *registry.CenterMessage)
		}{
			{"no token", func(c *registry.CenterMessage) { c.ClaimToken = "" }},
			{"missing row", func(c *registry.CenterMessage) { c.ID = missingID }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := second[0]
				c.SendState = registry.SendStateSent
				tt.edit(&c)
				assert.ErrorIs(t, s.FinishCenterMessage(t.Context(), &c), registry.ErrClaimLost)
				got, err := s.GetCenterMessage(t.Context(), m.ID)
				require.NoError(t, err)
				assertCenter(t, second[0], got)
			})
		}

		current := second[0]
		current.SendState, current.SendResult = registry.SendStateSent, "push_message#2"
		require.NoError(t, s.FinishCenterMessage(t.Context(), &current))
		got, err = s.GetCenterMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, "push_message#2", got.SendResult)
		assert.Equal(t, registry.SendStateSent, got.SendState)
	})
}

// testCenterLeases covers registry.CenterLeases, for the stores that
// implement it: the holder extends its lease, so the row is not claimable
// until the new lease ends, and still finishes it; a stale holder, an
// empty claim, a missing row, a row another program finished and a zero
// lease are refused with nothing written.
func testCenterLeases(t *testing.T, f Factory) {
	s := f.New(t)
	cl, ok := s.(registry.CenterLeases)
	if !ok {
		t.Skip("the store does not implement registry.CenterLeases")
	}
	ctx := t.Context()
	m := centerMessage("renew", 0)
	enqueue(t, s, m)
	claimed, err := s.ClaimCenterMessages(ctx, centerClaim(at(0), 1))
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	c := claimed[0]

	require.NoError(t, cl.RenewCenterMessage(ctx, &c, at(lease+time.Hour)))
	require.NoError(t, cl.RenewCenterMessage(ctx, &c, at(lease+time.Hour)), "the same lease again (MySQL changes no row)")
	require.NotNil(t, c.LeaseUntil)
	assert.True(t, c.LeaseUntil.Equal(at(lease+time.Hour)), "LeaseUntil set: %v", c.LeaseUntil)
	got, err := s.GetCenterMessage(ctx, m.ID)
	require.NoError(t, err)
	require.NotNil(t, got.LeaseUntil)
	assert.True(t, got.LeaseUntil.Equal(at(lease+time.Hour)), "stored: %v", got.LeaseUntil)
	none, err := s.ClaimCenterMessages(ctx, centerClaim(at(lease+time.Second), 1))
	require.NoError(t, err)
	assert.Empty(t, none, "held past its first lease")

	before, err := s.GetCenterMessage(ctx, m.ID)
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		edit func(c *registry.CenterMessage)
	}{
		{"stale token", func(c *registry.CenterMessage) { c.ClaimToken = "not-the-claim" }},
		{"no token", func(c *registry.CenterMessage) { c.ClaimToken = "" }},
		{"missing row", func(c *registry.CenterMessage) { c.ID = missingID }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x := c
			tt.edit(&x)
			assert.ErrorIs(t, cl.RenewCenterMessage(ctx, &x, at(2*time.Hour)), registry.ErrClaimLost)
			after, err := s.GetCenterMessage(ctx, m.ID)
			require.NoError(t, err)
			assertCenter(t, before, after, "a refused renewal changes nothing")
		})
	}
	assert.ErrorIs(t, cl.RenewCenterMessage(ctx, &c, time.Time{}), registry.ErrInvalid, "no lease")

	c.SendState, c.SendResult = registry.SendStateSent, "sent"
	require.NoError(t, s.FinishCenterMessage(ctx, &c), "the renewed claim still finishes")
	assert.ErrorIs(t, cl.RenewCenterMessage(ctx, &c, at(2*time.Hour)), registry.ErrClaimLost, "a finished row")
}

// requireNoDueCenterMessages checks that s holds no center message a claim
// could take, however late.
func requireNoDueCenterMessages(t *testing.T, s registry.Store) {
	t.Helper()
	got, err := s.ClaimCenterMessages(t.Context(), centerClaim(farFuture(), 100))
	require.NoError(t, err)
	require.Empty(t, titles(got), "center messages left claimable")
}
