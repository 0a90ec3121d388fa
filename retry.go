package push

import (
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy decides when a failed send is tried again. The zero value of
// each field means its documented default.
type RetryPolicy struct {
	// MaxAttempts is how many sends a delivery gets before it fails for
	// good. Default 8. Rate-limit and quota refusals do not count. It
	// also bounds the takeovers of a push recorded in stages whose
	// listing stopped, counted since it last recorded a stage
	// (registry.Fanout.Claims): one more ends it, the users not listed by
	// then not pushed (see Service.RetryPending).
	MaxAttempts int
	// Base is the delay after the first failed attempt. It doubles with
	// every further attempt. Default 30s.
	Base time.Duration
	// Max caps the delay. Default 1h, or Base when that is longer.
	Max time.Duration
	// Jitter is the fraction (0 to 1) of the delay that is randomised, so
	// that many instances do not retry in step. Default 0.2; use a negative
	// value for none.
	Jitter float64
	// RateLimitDelay is the wait after a rate or quota refusal that carried
	// no Retry-After. Default: Base.
	RateLimitDelay time.Duration
	// Rand returns a number in [0, 1) for the jitter. Default math/rand/v2.
	// Tests inject a fixed value. A value outside [0, 1] (or NaN) is
	// clamped into it, so that a faulty Rand cannot make a backoff
	// shorter than Base·(1-Jitter), or negative, and retry at once.
	Rand func() float64
}

// defaultRetry holds the default of every field.
var defaultRetry = RetryPolicy{MaxAttempts: 8, Base: 30 * time.Second, Max: time.Hour, Jitter: 0.2}

// Defaults returns p with every zero field set to its documented default.
func (p RetryPolicy) Defaults() RetryPolicy { return p.withDefaults() }

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = defaultRetry.MaxAttempts
	}
	if p.Base == 0 {
		p.Base = defaultRetry.Base
	}
	if p.Max == 0 {
		p.Max = max(defaultRetry.Max, p.Base)
	}
	if p.Jitter == 0 {
		p.Jitter = defaultRetry.Jitter
	}
	if p.RateLimitDelay == 0 {
		p.RateLimitDelay = p.Base
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// Validate reports the first invalid field of p. A zero field stands for
// its default, so a Max below the default Base is refused unless Base is
// set too; a delay set to less than a millisecond is refused as a unit
// mistake.
func (p RetryPolicy) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"retry.base", p.Base}, {"retry.max", p.Max}, {"retry.rate_limit_delay", p.RateLimitDelay}} {
		if err := subMillisecond(d.name, d.v); err != nil {
			return err
		}
	}
	switch {
	case p.MaxAttempts < 0:
		return invalid("retry.max_attempts", "must not be negative")
	case p.Base < 0:
		return invalid("retry.base", "must not be negative")
	case p.Max < 0:
		return invalid("retry.max", "must not be negative")
	case p.Max != 0 && p.Base > p.Max:
		return invalid("retry.base", "%v is more than retry.max %v", p.Base, p.Max)
	case p.Max != 0 && p.Base == 0 && defaultRetry.Base > p.Max:
		return invalid("retry.max", "%v is less than retry.base's default %v: set retry.base too", p.Max, defaultRetry.Base)
	case p.Jitter > 1:
		return invalid("retry.jitter", "must be at most 1")
	case p.RateLimitDelay < 0:
		return invalid("retry.rate_limit_delay", "must not be negative")
	}
	return nil
}

// subMillisecond refuses a duration field set to less than a millisecond:
// a time.Duration counts nanoseconds, so such a value is a unit mistake
// (Base: 30 for 30 seconds), and taken as given it would spend a
// delivery's attempts in a blink or time every write out at once.
func subMillisecond(field string, v time.Duration) error {
	if v > 0 && v < time.Millisecond {
		return invalid(field, "is %v, shorter than 1ms (a time.Duration counts nanoseconds: 30 seconds is 30 * time.Second)", v)
	}
	return nil
}

// Backoff returns the delay before the next try after attempt failed
// attempts (1 for the first failure): Base·2^(attempt-1), capped at Max,
// with up to Jitter of it randomised, and never less than retryAfter.
func (p RetryPolicy) Backoff(attempt int, retryAfter time.Duration) time.Duration {
	p = p.withDefaults()
	d := p.Base
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	if p.Jitter > 0 { // negative: no jitter
		// Spread over [d·(1-Jitter), d]: never later than the cap.
		r := p.Rand()
		switch {
		case !(r >= 0): // negative or NaN
			r = 0
		case r > 1:
			r = 1
		}
		d -= time.Duration(p.Jitter * r * float64(d))
	}
	return max(d, retryAfter)
}

// Exhausted reports whether attempts have used up the policy.
func (p RetryPolicy) Exhausted(attempts int) bool {
	return attempts >= p.withDefaults().MaxAttempts
}

var errExhausted = errors.New("attempts exhausted")

// RateLimitWait is the wait after a rate or quota refusal that asked for
// retryAfter: that, when it is positive (the vendor's or notifier's word),
// else RateLimitDelay.
func (p RetryPolicy) RateLimitWait(retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	return p.withDefaults().RateLimitDelay
}
