package umengtest

import (
	"slices"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
)

// Request is one request the server received, recorded for assertions once
// it was answered or abandoned. Parsed fields are filled as far as the
// request got: a request refused for its sign has AppKey but no Type.
type Request struct {
	Seq    int       // 1 for the first request recorded, then 2, 3, …; Reset does not restart it
	At     time.Time // Config.Now when the request arrived
	Method string
	Path   string // "/api/send", "/api/status", "/api/cancel", "/upload" or anything else that arrived
	Sign   string // the ?sign= query parameter as sent
	Body   []byte // the raw body, byte for byte

	AppKey         string
	Type           string   // cast type of a send
	DeviceTokens   []string // device_tokens of a unicast or listcast, split at commas
	Alias          []string // alias of a customizedcast, split at commas
	AliasType      string
	FileID         string         // file_id of a filecast or customizedcast
	GroupID        string         // group_id of a groupcast
	TaskID         string         // task_id of a status or cancel request
	OutBizNo       string         // policy.out_biz_no
	ProductionMode bool           // production_mode of a send; true when absent, as on the real service
	Sandbox        bool           // an iOS send in test mode, which goes to the APNs sandbox
	Payload        map[string]any // payload as sent, numbers as json.Number
	Policy         map[string]any // policy as sent, numbers as json.Number
	// Category is the top-level category (0 marketing, 1 service); nil when
	// absent.
	Category *int
	// ChannelProperties, LocalProperties and CallbackParams are those
	// objects as sent, numbers as json.Number; nil when absent.
	ChannelProperties map[string]any
	LocalProperties   map[string]any
	CallbackParams    map[string]any
	// Ignored lists the fields of a send that the real service takes
	// without complaint but without effect, so a test can catch a client
	// that believes they work: "policy.start_time" on a unicast,
	// listcast or customizedcast by alias (sent at once), "payload.extra" on
	// an Android message (never reaches the app), "filter" on a groupcast
	// that also has a group_id, "channel_properties.channel_activity" and
	// "policy.notification_closed_filter" on an Android message (they apply
	// to notifications), "payload.body.add_badge" beside set_badge,
	// "local_properties.importance" without a category, and on iOS
	// "category", "channel_properties", "local_properties" and
	// "policy.notification_closed_filter" (Android fields), as on Android
	// "policy.apns_collapse_id".
	Ignored []string

	// StatusCode is the HTTP status answered; 0 when the request ended
	// without an answer (client gone, injected timeout).
	StatusCode int
	// Code is the vendor error_code answered, "" on success.
	Code string
	// Message is the error_msg answered, or why the request went unanswered.
	Message string
	// ID is the msg_id, task_id or file_id the server issued or, for a
	// deduplicated send, returned again.
	ID string
	// Accepted means the server did the request's work (a send was
	// accepted, a task cancelled, a file stored), even when an AfterAccept
	// fault then replaced the answer.
	Accepted bool
	// Deduplicated means a task send repeated an earlier out_biz_no: it was
	// answered with the original task_id and delivered nothing.
	Deduplicated bool
	// Fault means an injected fault applied to this request.
	Fault bool
}

// clone returns a deep copy, so callers can keep and change what they get.
func (r Request) clone() Request {
	r.Body = slices.Clone(r.Body)
	r.DeviceTokens = slices.Clone(r.DeviceTokens)
	r.Alias = slices.Clone(r.Alias)
	r.Ignored = slices.Clone(r.Ignored)
	r.Payload = fakeserver.CloneObject(r.Payload)
	r.Policy = fakeserver.CloneObject(r.Policy)
	r.ChannelProperties = fakeserver.CloneObject(r.ChannelProperties)
	r.LocalProperties = fakeserver.CloneObject(r.LocalProperties)
	r.CallbackParams = fakeserver.CloneObject(r.CallbackParams)
	if r.Category != nil {
		c := *r.Category
		r.Category = &c
	}
	return r
}

// record stores rec and logs it.
func (s *Server) record(rec *Request) {
	s.recorder.Record(rec)
	s.logRequest(rec)
}

// Requests returns every request recorded since the start or the last
// Reset (the newest under Config.Keep), in the order they finished.
func (s *Server) Requests() []Request {
	return s.recorder.Filter(func(Request) bool { return true })
}

// Sends returns the /api/send requests the server accepted (see
// Request.Accepted), deduplicated ones included.
func (s *Server) Sends() []Request {
	return s.recorder.Filter(func(r Request) bool { return r.Path == pathSend && r.Accepted })
}

// SendsFor returns Sends for one appkey.
func (s *Server) SendsFor(appKey string) []Request {
	return s.recorder.Filter(func(r Request) bool { return r.Path == pathSend && r.Accepted && r.AppKey == appKey })
}

// Reset forgets the recorded requests and deliveries. Tasks, files,
// devices, invalid tokens, out_biz_no memory and faults stay, so ids issued
// before Reset keep working.
func (s *Server) Reset() {
	s.recorder.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = nil
	s.receiptPosts, s.pendingReceipts = nil, nil
}

// noteArrival counts a request the moment it arrives.
func (s *Server) noteArrival(path string) { s.recorder.Arrive(path) }

// Arrived returns how many requests for path ("/api/send", …) have arrived
// so far, counted on arrival: unlike Requests, it includes requests still
// in flight (stalled, held by a fault, or not yet recorded because their
// client gave up a moment ago). Reset does not clear it.
func (s *Server) Arrived(path string) int { return s.recorder.Arrived(path) }

// ignore notes a field the real service would accept and not act on.
func (r *Request) ignore(field string) { r.Ignored = append(r.Ignored, field) }
