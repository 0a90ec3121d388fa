package jpushtest

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// App is one JPush application the fake accepts requests for, by HTTP
// Basic authentication with AppKey and MasterSecret.
type App struct {
	AppKey       string // 24 lowercase hex digits, as JPush issues them
	MasterSecret string
}

// DefaultApps returns the fake's demo app, with a fake key and secret. It
// is what a Config without Apps uses. Each call returns a new slice.
func DefaultApps() []App {
	return []App{{AppKey: "0123456789abcdef01234567", MasterSecret: "demojpushmastersecret00000000001"}}
}

// HeaderFamily selects the names of the rate-limit headers the fake sends.
// JPush's documentation names the quota header X-Rate-Limit-Quota; its
// server SDKs read X-Rate-Limit-Limit. Both families carry
// X-Rate-Limit-Remaining and X-Rate-Limit-Reset (seconds).
type HeaderFamily int

// The header families.
const (
	HeadersDocs HeaderFamily = iota // X-Rate-Limit-Quota (default)
	HeadersSDK                      // X-Rate-Limit-Limit
	HeadersBoth                     // both quota headers
)

// DefaultTimeToLive is how long the fake keeps a message deliverable when a
// push sends no options.time_to_live: JPush's default, one day.
const DefaultTimeToLive = 24 * time.Hour

// Config configures a Server. The zero value is valid.
type Config struct {
	// Apps are the applications the server accepts. Default: DefaultApps().
	// Every AppKey must be 24 lowercase hex digits and unique; every
	// MasterSecret non-empty.
	Apps []App
	// Now is the server's clock: message lifetimes and rate windows are
	// measured on it. Default time.Now.
	Now func() time.Time
	// Logger receives one record per request (method, path, app key,
	// status, code, and a push's options.classification and
	// options.third_party_channel), never secrets, registration ids or the
	// rest of bodies. Default: discard.
	Logger *slog.Logger
	// NumericMsgID answers msg_id (and sendno) as JSON numbers instead of
	// strings. JPush has sent both; clients must accept either. Default
	// false: strings, as JPush documents.
	NumericMsgID bool
	// RateLimit, when positive, is how many pushes (/v3/push and
	// /v3/push/validate) an app may make per RateWindow; the next is
	// refused with HTTP 429 and code 2002. Every push answer then carries
	// the rate-limit headers. Default 0: no limit and no headers.
	RateLimit int
	// RateWindow is the window of RateLimit, measured on Now.
	// Default one minute.
	RateWindow time.Duration
	// RateHeaders selects the header names sent with RateLimit and with
	// rate-limit faults. Default HeadersDocs.
	RateHeaders HeaderFamily
	// AcceptAnyRegistrationID turns off the registration-id format check
	// (11 to 64 characters of [0-9a-zA-Z]). Default false: a malformed id
	// is refused with 1003. push.Service refuses to register such an id
	// (jpush.CheckToken), so it comes from a row another program wrote or a
	// direct Client.Send.
	AcceptAnyRegistrationID bool
	// KnownDevicesOnly makes a registration id live only when a device
	// was added with it (AddDevice): any other is dead, as MarkInvalid
	// makes it, the way JPush treats an id it never issued to the app or
	// one uninstalled long ago (a registration_id audience of dead ids
	// only is refused with 1011). Default false: every well-formed id
	// receives, so tests need not add the devices they push to; set it
	// for a test of what production does with a made-up id.
	KnownDevicesOnly bool

	// Keep, when positive, bounds what the server remembers of its
	// traffic, for a server that runs for long (a demo server's built-in
	// fake): Requests keeps the newest Keep requests, Deliveries the
	// deliveries of the latest push and the newest Keep before them. Each
	// forgotten request costs a few kilobytes that would otherwise be held
	// until Reset. Arrival counts, sequence numbers and the pushes behind
	// the msg_ids (which reports and cid reuse read) are not bounded by
	// it. Default 0: everything is kept, as a test wants. Negative is
	// refused.
	Keep int
}

// ErrInvalidConfig is wrapped by the error New returns for a bad Config.
var ErrInvalidConfig = errors.New("jpushtest: invalid config")

func (c Config) withDefaults() Config {
	if c.Apps == nil {
		c.Apps = DefaultApps()
	} else {
		c.Apps = append([]App(nil), c.Apps...)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RateWindow == 0 {
		c.RateWindow = time.Minute
	}
	return c
}

func (c Config) validate() error {
	if c.Keep < 0 {
		return fmt.Errorf("%w: Keep must not be negative (0 keeps everything), got %d", ErrInvalidConfig, c.Keep)
	}
	if len(c.Apps) == 0 {
		return fmt.Errorf("%w: Apps must not be empty (leave it nil for DefaultApps)", ErrInvalidConfig)
	}
	seen := map[string]int{}
	for i, a := range c.Apps {
		switch {
		case !wellFormedAppKey(a.AppKey):
			return fmt.Errorf("%w: Apps[%d].AppKey %q is not 24 lowercase hex digits", ErrInvalidConfig, i, a.AppKey)
		case a.MasterSecret == "":
			return fmt.Errorf("%w: Apps[%d].MasterSecret is empty", ErrInvalidConfig, i)
		}
		if j, dup := seen[a.AppKey]; dup {
			return fmt.Errorf("%w: Apps[%d].AppKey repeats Apps[%d].AppKey", ErrInvalidConfig, i, j)
		}
		seen[a.AppKey] = i
	}
	switch {
	case c.RateLimit < 0:
		return fmt.Errorf("%w: RateLimit must not be negative, got %d", ErrInvalidConfig, c.RateLimit)
	case c.RateWindow < 0:
		return fmt.Errorf("%w: RateWindow must not be negative, got %v", ErrInvalidConfig, c.RateWindow)
	case c.RateHeaders < HeadersDocs || c.RateHeaders > HeadersBoth:
		return fmt.Errorf("%w: RateHeaders %d is not a HeaderFamily", ErrInvalidConfig, c.RateHeaders)
	}
	return nil
}

func wellFormedAppKey(k string) bool {
	if len(k) != 24 {
		return false
	}
	for _, c := range []byte(k) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
