package getuitest

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// App is one Getui application the fake serves, at /{basePath}/{AppID}/….
type App struct {
	AppID        string // letters and digits, as Getui issues them
	AppKey       string
	MasterSecret string
}

// DefaultApps returns the fake's demo app, with fake credentials. It is
// what a Config without Apps uses. Each call returns a new slice.
func DefaultApps() []App {
	return []App{{AppID: "gtFakeAppID00000000001", AppKey: "gtFakeAppKey0000000001", MasterSecret: "gtFakeMasterSecret0000000000001"}}
}

// Defaults of Config.
const (
	// DefaultTokenLifetime is how long an auth token lives: one day, as
	// Getui documents.
	DefaultTokenLifetime = 24 * time.Hour
	// DefaultTimestampWindow is how far an auth timestamp may lie from the
	// server's clock (invented: Getui documents none).
	DefaultTimestampWindow = 10 * time.Minute
	// DefaultAuthRateLimit is how many auth calls an app may make a minute.
	DefaultAuthRateLimit = 100
	// DefaultTaskDailyLimit is how many pushes to all and to a tag
	// together an app may make a day.
	DefaultTaskDailyLimit = 100
	// BasePath is the path of the API root: the client's BaseURL is
	// URL + BasePath until MoveHost says otherwise.
	BasePath = "/v2"
)

// Config configures a Server. The zero value is valid.
type Config struct {
	// Apps are the applications the server accepts. Default DefaultApps().
	// AppIDs must be unique letters and digits; keys and secrets non-empty.
	Apps []App
	// Now is the server's clock: timestamps, token lifetimes, rates and
	// task times are measured on it. Default time.Now.
	Now func() time.Time
	// Logger receives one record per request (method, path, app id, status,
	// code, and a push's push_channel.android.ups.options), never secrets,
	// signs, tokens, cids or the rest of bodies. Default: discard.
	Logger *slog.Logger
	// TokenLifetime is the lifetime of issued tokens. Default
	// DefaultTokenLifetime.
	TokenLifetime time.Duration
	// TimestampWindow bounds |auth timestamp - Now|. Default
	// DefaultTimestampWindow.
	TimestampWindow time.Duration
	// AuthRateLimit is how many auth calls an app may make per minute
	// before 10003. Default DefaultAuthRateLimit; negative turns it off.
	AuthRateLimit int
	// TaskDailyLimit is how many pushes to all and to a tag, together, an
	// app may make in a day (China Standard Time, by Now) before 30007
	// (/push/all) or 30010 (/push/tag), HTTP 403. Default
	// DefaultTaskDailyLimit; negative turns it off. A request_id repeated
	// is answered as before and not counted again.
	TaskDailyLimit int
	// TaskMinuteLimit, when positive, is how many pushes to all and to a
	// tag, together, an app may make in any 60 seconds (by Now) before
	// 30014, HTTP 403 (Getui documents 5 a minute; whether it counts
	// natural minutes or any 60 seconds is unconfirmed). Default 0: no
	// limit, because the client's own TaskRate is a token bucket, which
	// after a burst lets one more through every 12 s. A request_id
	// repeated is answered as before and not counted again; a push
	// refused here counts for neither limit.
	TaskMinuteLimit int
	// CallRateLimit, when positive, is how many API calls (auth excluded)
	// an app may make per minute before 10005. Default 0: no limit.
	CallRateLimit int
	// AcceptAnyCID turns off the cid format check (32 lowercase hex
	// digits). Default false: a malformed cid is refused with 20001.
	// push.Service refuses to register such a cid (getui.CheckToken), so it
	// comes from a row another program wrote or a direct Client.Send.
	AcceptAnyCID bool
	// DropRepeatedRequestID answers a request_id the app used before with
	// 20001* and does nothing, one reading of Getui's push doc ("如果
	// request_id重复,会导致消息丢失": a repeated request_id loses the
	// message). Default false: the first answer is repeated. Getui's real
	// answer is unconfirmed; tests of a client's retries run under both.
	DropRepeatedRequestID bool
	// KnownDevicesOnly makes a cid live only when a device was added with
	// it (AddDevice) for the app: any other is dead, as MarkInvalid makes
	// it ("target user is invalid": 20001 for a single push, the cid's
	// status in a list), the way Getui treats a cid it never issued to the
	// app. Default false: every well-formed cid receives (as
	// "successed_offline"), so tests need not add the devices they push
	// to; set it for a test of what production does with a made-up cid.
	KnownDevicesOnly bool

	// Keep, when positive, bounds what the server remembers of its
	// traffic, for a server that runs for long (a demo server's built-in
	// fake): Requests keeps the newest Keep requests, Deliveries the newest
	// Keep deliveries, and ReceiptPosts the newest Keep posts (a delivery
	// forgotten before PostReceipts posted its arrival is never posted).
	// Each forgotten request costs a few kilobytes that would otherwise be
	// held until Reset. Arrival counts, sequence numbers, tasks, tokens and
	// request_ids are not bounded by it. Default 0: everything is kept, as
	// a test wants. Negative is refused.
	Keep int
}

// ErrInvalidConfig is wrapped by the error New returns for a bad Config.
var ErrInvalidConfig = errors.New("getuitest: invalid config")

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
	if c.TokenLifetime == 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	if c.TimestampWindow == 0 {
		c.TimestampWindow = DefaultTimestampWindow
	}
	if c.AuthRateLimit == 0 {
		c.AuthRateLimit = DefaultAuthRateLimit
	}
	if c.TaskDailyLimit == 0 {
		c.TaskDailyLimit = DefaultTaskDailyLimit
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
		case !alnum(a.AppID, 1, 64):
			return fmt.Errorf("%w: Apps[%d].AppID %q is not 1 to 64 letters and digits", ErrInvalidConfig, i, a.AppID)
		case a.AppKey == "" || a.MasterSecret == "":
			return fmt.Errorf("%w: Apps[%d] needs an AppKey and a MasterSecret", ErrInvalidConfig, i)
		}
		if j, dup := seen[a.AppID]; dup {
			return fmt.Errorf("%w: Apps[%d].AppID repeats Apps[%d].AppID", ErrInvalidConfig, i, j)
		}
		seen[a.AppID] = i
	}
	switch {
	case c.TokenLifetime < 0:
		return fmt.Errorf("%w: TokenLifetime must not be negative", ErrInvalidConfig)
	case c.TimestampWindow < 0:
		return fmt.Errorf("%w: TimestampWindow must not be negative", ErrInvalidConfig)
	case c.CallRateLimit < 0:
		return fmt.Errorf("%w: CallRateLimit must not be negative", ErrInvalidConfig)
	}
	return nil
}

func alnum(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
