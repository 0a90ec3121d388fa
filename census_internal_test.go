package push

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tuisong/push/registry"
)

// censusStore is a store that only takes censuses: the next answer of
// each call comes from next, and the call's audience is kept.
type censusStore struct {
	registry.Store
	mu    sync.Mutex
	users []int
	next  func(n int) (*registry.Census, error)
}

func (c *censusStore) TakeCensus(_ context.Context, users int) (*registry.Census, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users = append(c.users, users)
	return c.next(len(c.users))
}

func (c *censusStore) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.users)
}

// TestCensusTakenInTheBackgroundAndAgain: a listing lists without a
// census until the first is taken, uses it for censusAge, then lists
// without one again while the next is taken; a census that fails leaves
// every target checked and is logged.
func TestCensusTakenInTheBackgroundAndAgain(t *testing.T) {
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	first, second := registry.NewCensus([]int64{1}), registry.NewCensus([]int64{2})
	st := &censusStore{next: func(n int) (*registry.Census, error) {
		switch n {
		case 1:
			return first, nil
		case 2:
			return second, nil
		}
		return nil, errors.New("db: connection reset")
	}}
	s := &Service{store: st, now: func() time.Time { return now }, log: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx := t.Context()
	c := s.newCensus(5000, 10)

	if got := c.get(ctx); got != nil {
		t.Fatalf("first get: %v, want nil while the census is taken", got)
	}
	c.wait()
	if got := c.get(ctx); got != first {
		t.Fatalf("after the first census: %v, want it", got)
	}
	now = now.Add(censusAge - time.Second)
	if got := c.get(ctx); got != first || st.calls() != 1 {
		t.Fatalf("a census younger than censusAge: %v after %d calls, want the first after 1", got, st.calls())
	}
	now = now.Add(time.Second)
	if got := c.get(ctx); got != nil {
		t.Fatalf("a census censusAge old: %v, want nil while the next is taken", got)
	}
	c.wait()
	if got := c.get(ctx); got != second {
		t.Fatalf("after the second census: %v, want it", got)
	}
	now = now.Add(censusAge)
	c.get(ctx)
	c.wait()
	if got := c.get(ctx); got != nil {
		t.Fatalf("after a failed census: %v, want nil", got)
	}
	if st.calls() != 3 {
		t.Fatalf("%d censuses taken, want 3", st.calls())
	}
	for _, u := range st.users {
		if u != 5000 {
			t.Fatalf("census of %d users, want the listing's 5000", u)
		}
	}
	if !strings.Contains(logs.String(), "census failed") || !strings.Contains(logs.String(), "connection reset") {
		t.Fatalf("the failed census is not logged: %s", logs.String())
	}

	// A listing of four chunks (two start at once): no census is taken.
	short := s.newCensus(2000, 2*targetWorkers)
	if got := short.get(ctx); got != nil {
		t.Fatalf("a short listing: %v", got)
	}
	short.wait()
	if st.calls() != 3 {
		t.Fatalf("%d censuses taken after a short listing, want still 3", st.calls())
	}

	// A store that cannot take one: never a census, nothing taken.
	plain := &Service{store: struct{ registry.Store }{}, now: s.now, log: s.log}
	pc := plain.newCensus(5000, 10)
	if got := pc.get(ctx); got != nil {
		t.Fatalf("a store without TargetCensus: %v", got)
	}
	pc.wait()
}
