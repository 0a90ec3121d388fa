package push

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tuisong/push/registry"
)

// censusAge is how long a listing uses one census (registry.Census): a
// device that another program gives a second link or a second holder of
// its token is checked again by the listings after the next census.
const censusAge = time.Minute

// census takes and holds the census of one listing of many users, in the
// background: the chunks listed before it is ready, or while a census
// older than censusAge is taken again, are listed with every target's
// checks (slower, not wrong).
type census struct {
	s     *Service
	tc    registry.TargetCensus
	users int

	mu     sync.Mutex
	c      *registry.Census
	taken  time.Time // when the census in c, or the one being taken, was started
	taking bool
	wg     sync.WaitGroup
}

// newCensus returns the census of a listing of users users in chunks
// chunks; one that never has a registry.Census when the store cannot take
// one, or when the listing is too short for one to be ready before most
// chunks are listed (the first targetWorkers chunks start at once). Its
// wait must be called before the listing returns.
func (s *Service) newCensus(users, chunks int) *census {
	tc, _ := s.store.(registry.TargetCensus)
	if chunks <= 2*targetWorkers {
		tc = nil
	}
	return &census{s: s, tc: tc, users: users}
}

// get returns the census to list with now, or nil, and starts taking one
// when there is none or it is censusAge old.
func (c *census) get(ctx context.Context) *registry.Census {
	if c.tc == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.s.now()
	if !c.taking && (c.taken.IsZero() || now.Sub(c.taken) >= censusAge) {
		c.c, c.taken, c.taking = nil, now, true
		c.wg.Go(func() { c.take(ctx) })
	}
	return c.c
}

// take takes a census; one that fails leaves every target checked.
func (c *census) take(ctx context.Context) {
	got, err := c.tc.TakeCensus(ctx, c.users)
	if err != nil {
		got = nil
		if ctx.Err() == nil {
			c.s.log.LogAttrs(ctx, slog.LevelWarn, "census failed: the targets are listed with their checks", slog.String("error", err.Error()))
		}
	}
	c.mu.Lock()
	c.c, c.taking = got, false
	c.mu.Unlock()
}

// wait waits for a census being taken.
func (c *census) wait() { c.wg.Wait() }
