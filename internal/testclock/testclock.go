// Package testclock is a clock for tests against the vendor fakes: the
// fakes' handlers read it while a test moves it (a request a Timeout
// fault abandoned may still be answered), so every access is locked.
package testclock

import (
	"sync"
	"time"
)

// Clock is a settable clock; its Now is a Config.Now for clients and fakes.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a Clock that reads t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (backwards when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
