package umengtest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tuisong/push/internal/cst"
)

// Platforms an App can belong to. Umeng registers each platform of a product
// as a separate app with its own appkey and App Master Secret.
const (
	PlatformIOS     = "ios"
	PlatformAndroid = "android"
)

// App is one Umeng application the fake accepts requests for. Requests are
// signed with AppMasterSecret, and their payload must have the shape of
// Platform (an iOS app rejects an Android payload and vice versa).
type App struct {
	AppKey          string
	AppMasterSecret string
	Platform        string // PlatformIOS or PlatformAndroid
}

// DefaultApps returns a fixed pair of demo apps, one iOS and one Android,
// with fake keys and secrets. They are what a Config without Apps uses, so
// demos and examples work without configuration. Each call returns a new
// slice.
func DefaultApps() []App {
	return []App{
		{AppKey: "5f0000000000000000000105", AppMasterSecret: "demoiosmastersecret0000000000001", Platform: PlatformIOS},
		{AppKey: "5f0000000000000000000a01", AppMasterSecret: "demoandroidmastersecret000000001", Platform: PlatformAndroid},
	}
}

// Defaults applied by New to zero Config fields.
const (
	DefaultTaskStep        = time.Second
	DefaultTimestampWindow = 10 * time.Minute
)

// Config configures a Server. The zero value is valid: every field has a
// documented default.
type Config struct {
	// Apps are the applications the server accepts. Default: DefaultApps().
	// Every AppKey must be unique and every field non-empty.
	Apps []App

	// Now is the server's clock. It decides timestamp freshness, policy
	// start/expire times, task progress, rate-limit windows and file expiry,
	// so tests inject a fake clock to drive the task lifecycle without
	// sleeping. Default: time.Now.
	Now func() time.Time

	// Logger receives one record per request (path, appkey, type, HTTP
	// status, vendor code, and a send's category and channel_properties).
	// Signs, secrets, tokens and the rest of bodies are never logged.
	// Default: a logger that discards everything.
	Logger *slog.Logger

	// ReceiptClient posts receipts to the receipt_url of sends (see
	// PostReceipts). Default: a client with a 10-second timeout.
	ReceiptClient *http.Client

	// TaskStep is how long a task cast stays queued, and then sending, before
	// it is done: done comes 2×TaskStep after the task starts, measured on
	// Now. Default: DefaultTaskStep (1s). Must not be negative.
	TaskStep time.Duration

	// TimestampWindow is how far a request's timestamp may be from Now, in
	// either direction, before the request is refused with 2028.
	// Default: DefaultTimestampWindow (10 minutes, as the real service).
	// Must not be negative.
	TimestampWindow time.Duration

	// Location is the time zone policy start_time and expire_time are read
	// in. Default: UTC+8, the zone of the real service.
	Location *time.Location

	// AcceptAnyToken turns off the device-token format check (Android 44
	// characters, iOS 64 hex digits). Default false: a unicast to a
	// malformed token fails with 4020 and a malformed token in a list or
	// file never receives anything. Use AndroidToken and IOSToken to make
	// well-formed tokens instead of turning the check off. It reaches only
	// sends made with such tokens: push.Service refuses to register a token
	// of another shape (umeng.CheckToken), so such a token comes from a row
	// another program wrote or a direct Client.Send.
	AcceptAnyToken bool

	// NoRateLimits turns off the send limits (broadcast 10 a day, refused
	// with 2012; groupcast 5 a minute, filecast and customizedcast by file
	// 300 an hour, refused with 2050; each per appkey). Default false:
	// limits apply as on the real service, to production sends only (a
	// send with production_mode "false" is never limited).
	NoRateLimits bool

	// Keep, when positive, bounds what the server remembers of its
	// traffic, for a server that runs for long (a demo server's built-in
	// fake): Requests keeps the newest Keep requests, Deliveries the
	// deliveries of the latest send and the newest Keep before them,
	// ReceiptPosts the newest Keep posts, the ids issued the newest Keep,
	// and the receipt_urls of the newest Keep sends that had one are kept,
	// with their arrival receipts not yet posted (Click and Dismiss, like
	// DeliveryCount, see only the deliveries kept). Each forgotten request
	// costs a few kilobytes that would otherwise be held until Reset.
	// Arrival counts, sequence numbers, tasks, files and out_biz_no memory
	// are not bounded by it. Default 0: everything is kept, as a test
	// wants. Negative is refused.
	Keep int
}

// ErrInvalidConfig is wrapped by the error New returns for a bad Config.
var ErrInvalidConfig = errors.New("umengtest: invalid config")

// withDefaults returns a copy of c with every zero field set to its default.
// The Apps slice is copied so later changes by the caller do not reach the
// server.
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
	if c.ReceiptClient == nil {
		c.ReceiptClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.TaskStep == 0 {
		c.TaskStep = DefaultTaskStep
	}
	if c.TimestampWindow == 0 {
		c.TimestampWindow = DefaultTimestampWindow
	}
	if c.Location == nil {
		c.Location = cst.Location
	}
	return c
}

// validate reports the first bad field of c, naming it. Secrets are never
// part of the message.
func (c Config) validate() error {
	if c.TaskStep < 0 {
		return fmt.Errorf("%w: TaskStep must not be negative, got %v", ErrInvalidConfig, c.TaskStep)
	}
	if c.TimestampWindow < 0 {
		return fmt.Errorf("%w: TimestampWindow must not be negative, got %v", ErrInvalidConfig, c.TimestampWindow)
	}
	if c.Keep < 0 {
		return fmt.Errorf("%w: Keep must not be negative (0 keeps everything), got %d", ErrInvalidConfig, c.Keep)
	}
	if len(c.Apps) == 0 {
		return fmt.Errorf("%w: Apps must not be empty (leave it nil for DefaultApps)", ErrInvalidConfig)
	}
	seen := make(map[string]int, len(c.Apps))
	for i, a := range c.Apps {
		switch {
		case a.AppKey == "":
			return fmt.Errorf("%w: Apps[%d].AppKey is empty", ErrInvalidConfig, i)
		case a.AppMasterSecret == "":
			return fmt.Errorf("%w: Apps[%d].AppMasterSecret is empty", ErrInvalidConfig, i)
		case a.Platform != PlatformIOS && a.Platform != PlatformAndroid:
			return fmt.Errorf("%w: Apps[%d].Platform must be %q or %q, got %q",
				ErrInvalidConfig, i, PlatformIOS, PlatformAndroid, a.Platform)
		}
		if j, dup := seen[a.AppKey]; dup {
			return fmt.Errorf("%w: Apps[%d].AppKey %q repeats Apps[%d].AppKey", ErrInvalidConfig, i, a.AppKey, j)
		}
		seen[a.AppKey] = i
	}
	return nil
}
