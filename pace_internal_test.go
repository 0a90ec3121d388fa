package push

import (
	"testing"
	"time"
)

func TestCallPaceSizesRounds(t *testing.T) {
	const conc, hold, limit = 4, 15 * time.Second, 500
	var p callPace
	if got := p.round(conc, hold, limit); got != 2*conc {
		t.Fatalf("no call timed yet: round %d, want %d", got, 2*conc)
	}
	p.observe(10 * time.Millisecond)
	if got := p.round(conc, hold, limit); got != limit {
		t.Fatalf("10 ms calls: round %d, want the limit %d (4 calls start 6,000 in 15 s)", got, limit)
	}
	if got := p.round(conc, hold, 7); got != 7 {
		t.Fatalf("a limit below twice conc: round %d, want 7", got)
	}
	for range 64 {
		p.observe(time.Second)
	}
	if got := p.round(conc, hold, limit); got < 59 || got > 61 {
		t.Fatalf("1 s calls: round %d, want about 60 (4 calls start 60 in 15 s)", got)
	}
	for range 64 {
		p.observe(20 * time.Second)
	}
	if got := p.round(conc, hold, limit); got != 2*conc {
		t.Fatalf("20 s calls: round %d, want the floor %d", got, 2*conc)
	}
	// A call timed at zero (a coarse clock) still counts as timed.
	var q callPace
	q.observe(0)
	if got := q.round(conc, hold, limit); got != limit {
		t.Fatalf("a call timed at zero: round %d, want the limit %d", got, limit)
	}
}
