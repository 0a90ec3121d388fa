package provider

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Quota is a vendor's limit on one kind of call: Calls calls per Per, as a
// token bucket that holds at most Calls tokens and refills at Calls/Per.
// Providers take one token right before the vendor call it limits; when the
// bucket is empty they make no call and return a RateLimited *Error whose
// RetryAfter is the wait for the next token, which a caller such as
// push.Service turns into a later try without spending an attempt.
//
// A token bucket is not a window count: after a quiet Per it lets Calls
// through at once, then one every Per/Calls, so a vendor that counts its
// limit over any window of Per may still refuse some calls; that refusal
// (RateLimited or QuotaExceeded) is retried later in the same way.
//
// The zero Quota means "the provider's documented default"; Unlimited
// switches the limit off. The buckets live in one process: instances that
// share an app each keep their own, so a cluster of N instances may make up
// to N times the calls (set Calls to the vendor's limit divided by N to
// stay within it).
type Quota struct {
	// Calls is the size of the bucket: how many calls may be made at once
	// after a quiet Per. It must not be negative.
	Calls int
	// Per is the time in which the bucket refills from empty. It must be
	// positive when Calls is.
	Per time.Duration
	// Unlimited switches the limit off; Calls and Per must then be zero.
	Unlimited bool
}

// IsZero reports whether q is the zero Quota, which stands for the
// provider's default.
func (q Quota) IsZero() bool { return q == Quota{} }

// Or returns q, or def when q is the zero Quota.
func (q Quota) Or(def Quota) Quota {
	if q.IsZero() {
		return def
	}
	return q
}

// String renders q as "10/24h0m0s", or "unlimited".
func (q Quota) String() string {
	if q.Unlimited {
		return "unlimited"
	}
	return fmt.Sprintf("%d/%v", q.Calls, q.Per)
}

// Check returns a *FieldError naming field when q is not a valid Quota.
// The zero Quota is valid.
func (q Quota) Check(field string) error {
	switch {
	case q.Unlimited && (q.Calls != 0 || q.Per != 0):
		return &FieldError{Field: field, Reason: "unlimited must not be combined with calls or per"}
	case q.Calls < 0:
		return &FieldError{Field: field + ".calls", Reason: "must not be negative"}
	case q.Per < 0:
		return &FieldError{Field: field + ".per", Reason: "must not be negative"}
	case q.Calls > 0 && q.Per == 0:
		return &FieldError{Field: field + ".per", Reason: "must be positive when calls is set"}
	case q.Calls == 0 && q.Per > 0:
		return &FieldError{Field: field + ".calls", Reason: "must be positive when per is set"}
	}
	return nil
}

// Limiter is the token bucket of one Quota. It never blocks: Take either
// takes a token or says how long to wait. It is safe for concurrent use. A
// nil *Limiter, or one made from an Unlimited or zero Quota, lets every
// call through.
//
// The waits of the calls it refuses are booked one after another, a
// token's time apart: the first is told to wait for the next token, the
// second for the one after it, and so on. A caller that comes back when
// told (push.Service schedules the delivery's next try then) so finds its
// token, instead of every refused caller coming back for the same next
// token, all but one being refused again, and a large push churning
// through its claims many times a minute.
type Limiter struct {
	mu  sync.Mutex
	lim *rate.Limiter
	// booked is the time of the last token promised to a refused call.
	booked time.Time
}

// book returns the wait from now of the next token no refused call was
// told of, the bucket's next token being wait away, and books it; l.mu is
// held.
func (l *Limiter) book(now time.Time, wait time.Duration) time.Duration {
	at := now.Add(wait)
	if next := l.booked.Add(time.Duration(float64(time.Second) / float64(l.lim.Limit()))); next.After(at) {
		at = next
	}
	l.booked = at
	return at.Sub(now)
}

// NewLimiter returns a full bucket for q.
func NewLimiter(q Quota) *Limiter {
	if q.Unlimited || q.Calls <= 0 || q.Per <= 0 {
		return &Limiter{}
	}
	return &Limiter{lim: rate.NewLimiter(rate.Every(q.Per/time.Duration(q.Calls)), q.Calls)}
}

// Take takes one token at now. When the bucket is empty it takes nothing
// and returns false and the wait from now until a token will be there for
// this caller: the next one that no refused call was told of (see
// Limiter).
// Taking and checking happen under one lock, so concurrent callers never
// take more tokens than the bucket holds.
func (l *Limiter) Take(now time.Time) (wait time.Duration, ok bool) {
	if l == nil || l.lim == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - l.lim.TokensAt(now)
	wait = time.Duration(missing * float64(time.Second) / float64(l.lim.Limit()))
	if wait <= 0 {
		// Rounding: the token is a nanosecond away.
		wait = time.Nanosecond
	}
	return l.book(now, wait), false
}

// Ready reports whether l has a token at now, taking none: after a
// refusal by TakeAll, which of its buckets was empty.
func (l *Limiter) Ready(now time.Time) bool {
	if l == nil || l.lim == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lim.TokensAt(now) >= 1
}

// TakeAll takes one token from each of ls at now, or none: when a bucket
// is empty it takes nothing from any and returns false and the longest
// wait until every bucket has a token (the bucket of that wait booking its
// next token, as Take does). For a call that counts against
// several quotas at once (a day's and a minute's). Callers must pass
// shared Limiters in the same order, since each is locked in turn.
func TakeAll(now time.Time, ls ...*Limiter) (wait time.Duration, ok bool) {
	var held []*Limiter
	for _, l := range ls {
		if l == nil || l.lim == nil {
			continue
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		held = append(held, l)
	}
	// The bucket with the longest wait books it: the call comes back then,
	// when the others have long refilled, so booking theirs too would only
	// push later refusals of theirs further out.
	var longest *Limiter
	for _, l := range held {
		if missing := 1 - l.lim.TokensAt(now); missing > 0 {
			if w := max(time.Duration(missing*float64(time.Second)/float64(l.lim.Limit())), time.Nanosecond); w > wait {
				wait, longest = w, l
			}
		}
	}
	if longest != nil {
		return longest.book(now, wait), false
	}
	for _, l := range held {
		l.lim.AllowN(now, 1)
	}
	return 0, true
}

// Limiters holds one Limiter per key, each made from the Quota its key
// maps to, created on first use. It is safe for concurrent use.
type Limiters[K comparable] struct {
	quota func(K) Quota
	mu    sync.Mutex
	m     map[K]*Limiter
}

// NewLimiters returns Limiters whose bucket for key k follows quota(k).
func NewLimiters[K comparable](quota func(K) Quota) *Limiters[K] {
	return &Limiters[K]{quota: quota, m: map[K]*Limiter{}}
}

// Take takes a token from k's bucket at now; see Limiter.Take.
func (ls *Limiters[K]) Take(k K, now time.Time) (time.Duration, bool) {
	ls.mu.Lock()
	l, ok := ls.m[k]
	if !ok {
		l = NewLimiter(ls.quota(k))
		ls.m[k] = l
	}
	ls.mu.Unlock()
	return l.Take(now)
}

// QuotaError returns the RateLimited *Error a provider returns, before any
// vendor call, when the bucket of a Quota is empty: what was limited, by
// which quota, and RetryAfter set to the wait for the next token.
func QuotaError(providerName, op, what string, q Quota, wait time.Duration) *Error {
	return &Error{Provider: providerName, Op: op, Kind: RateLimited, RetryAfter: wait,
		Message: fmt.Sprintf("%s quota %v of this client is spent; next call in %v, nothing was sent", what, q, wait.Round(time.Millisecond))}
}
