package providertest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// sentReceipts sends what the suite can to p and sorts the receipts: the
// first pollable one and the first that is not. A token send comes first;
// when its receipt is not pollable and the provider supports broadcast, a
// broadcast follows, since vendors such as Umeng make only task casts
// pollable. Either result may be nil.
func sentReceipts(t *testing.T, h *Harness, p provider.Platform) (pollable, plain *provider.Receipt) {
	t.Helper()
	classify := func(r *provider.Request) {
		rc, err := h.Provider.Send(t.Context(), r)
		requireReceipt(t, h, p, rc, err)
		switch {
		case rc.Pollable && pollable == nil:
			pollable = rc
		case !rc.Pollable && plain == nil:
			plain = rc
		}
	}
	classify(request(p, h.tokens(t, p, 1)))
	if pollable == nil && h.Provider.Capabilities(p).Supports(provider.AudienceBroadcast) {
		r := request(p, nil)
		r.Audience = provider.Audience{Kind: provider.AudienceBroadcast}
		classify(r)
	}
	return pollable, plain
}

// canceledContext returns a child of t's context that is already done.
func canceledContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func (s *suite) testStatus(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		sq, ok := h.Provider.(provider.StatusQuerier)
		if !ok {
			t.Skipf("%s does not implement provider.StatusQuerier", h.Provider.Name())
		}
		pollable, plain := sentReceipts(t, h, p)

		t.Run("Pollable", func(t *testing.T) {
			if pollable == nil {
				t.Skip("no request the suite sends yields a pollable receipt")
			}
			st, err := sq.Status(t.Context(), p, pollable.ID)
			require.NoError(t, err, "Status of a pollable receipt")
			require.NotNil(t, st, "Status returned neither a status nor an error")
			require.Equal(t, pollable.ID, st.ID, "Status.ID must be the id asked for")
			require.Truef(t, isKnownState(st.State), "Status.State = %q is not a provider.State", st.State)
		})
		t.Run("NotPollable", func(t *testing.T) {
			if plain == nil {
				t.Skip("every receipt the suite got is pollable")
			}
			st, err := sq.Status(t.Context(), p, plain.ID)
			require.Nil(t, st, "Status of a non-pollable receipt must fail")
			requireKind(t, err, provider.InvalidRequest)
		})
		t.Run("ContextDone", func(t *testing.T) {
			id := anyID(pollable, plain)
			st, err := sq.Status(canceledContext(t), p, id)
			require.Nil(t, st, "Status whose ctx is done must not succeed")
			requireProviderError(t, err)
			require.Truef(t, provider.IsRetryable(err), "Status whose ctx is done must fail with a retryable error, got %q", err)
		})
		t.Run("Batch", func(t *testing.T) {
			bq, ok := h.Provider.(provider.BatchStatusQuerier)
			if !ok {
				t.Skipf("%s does not implement provider.BatchStatusQuerier", h.Provider.Name())
			}
			max := bq.MaxStatusIDs()
			require.Positivef(t, max, "MaxStatusIDs = %d: must be at least 1", max)
			ids := make([]string, 0, 2)
			for _, rc := range []*provider.Receipt{pollable, plain} {
				if rc != nil {
					ids = append(ids, rc.ID)
				}
			}
			ids = ids[:min(len(ids), max)]
			rs, err := bq.Statuses(t.Context(), p, ids)
			require.NoError(t, err, "Statuses of the receipts the suite got")
			require.Lenf(t, rs, len(ids), "Statuses must answer one result per id")
			for i, id := range ids {
				one, oneErr := sq.Status(t.Context(), p, id)
				if oneErr != nil {
					require.Nil(t, rs[i].Status, "Statuses answered a status for %q, where Status fails", id)
					requireKind(t, rs[i].Err, provider.KindOf(oneErr))
					continue
				}
				require.NoErrorf(t, rs[i].Err, "Statuses failed for %q, where Status answers", id)
				require.NotNil(t, rs[i].Status, "Statuses answered neither a status nor an error for %q", id)
				require.Equal(t, id, rs[i].Status.ID, "a result's Status.ID must be its id")
				require.Equal(t, one.State, rs[i].Status.State, "Statuses and Status must agree on %q", id)
			}
			many := make([]string, max+1)
			for i := range many {
				many[i] = anyID(pollable, plain)
			}
			rs, err = bq.Statuses(t.Context(), p, many)
			require.Nil(t, rs, "more ids than MaxStatusIDs must fail")
			requireKind(t, err, provider.InvalidRequest)
		})
	})
}

func (s *suite) testCancel(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		cn, ok := h.Provider.(provider.Canceler)
		if !ok {
			t.Skipf("%s does not implement provider.Canceler", h.Provider.Name())
		}
		pollable, plain := sentReceipts(t, h, p)

		t.Run("Pollable", func(t *testing.T) {
			if pollable == nil {
				t.Skip("no request the suite sends yields a pollable receipt")
			}
			// The vendor may already have finished the task, so refusing is
			// as valid as cancelling; only the error contract is universal.
			if err := cn.Cancel(t.Context(), p, pollable.ID); err != nil {
				requireProviderError(t, err)
			}
		})
		t.Run("ContextDone", func(t *testing.T) {
			err := cn.Cancel(canceledContext(t), p, anyID(pollable, plain))
			requireProviderError(t, err)
			require.Truef(t, provider.IsRetryable(err), "Cancel whose ctx is done must fail with a retryable error, got %q", err)
		})
	})
}

// anyID returns the ID of the first non-nil receipt; sentReceipts always
// yields at least one.
func anyID(receipts ...*provider.Receipt) string {
	for _, rc := range receipts {
		if rc != nil {
			return rc.ID
		}
	}
	return ""
}
