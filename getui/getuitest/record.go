package getuitest

import (
	"slices"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
)

// Request is one request the server received, recorded once it was
// answered or abandoned. Parsed fields are filled as far as the request
// got.
type Request struct {
	Seq    int       // 1 for the first request recorded; Reset does not restart it
	At     time.Time // Config.Now on arrival
	Method string
	Path   string // the path as sent
	API    string // "/auth", "/push/single/cid", … (see the package documentation); "" for an unknown path
	Body   []byte // the raw body

	AppID      string // from the path
	Authorized bool   // the token header named a live token of the app
	RequestID  string // push: request_id
	TaskID     string // the taskid issued, pushed to, reported or stopped
	CIDs       []string
	Aliases    []string

	StatusCode int    // HTTP status; 0 when the request ended unanswered
	Code       int    // the envelope's code
	Msg        string // the envelope's msg, or why the request went unanswered
	Accepted   bool   // the request did its work, even if a fault replaced the answer
	Duplicate  bool   // push: the request_id was seen before; nothing was delivered
	Fault      bool   // an injected fault applied
	// PushChannel is push_channel as sent, numbers as json.Number, of a
	// push of one message (single, all, tag, list message); nil otherwise.
	PushChannel map[string]any
}

// UpsOptions returns the makers' options of the push, its
// push_channel.android.ups.options as sent, by maker; nil when it has
// none.
func (r Request) UpsOptions() map[string]any {
	android, _ := r.PushChannel["android"].(map[string]any)
	ups, _ := android["ups"].(map[string]any)
	opts, _ := ups["options"].(map[string]any)
	return opts
}

func (r Request) clone() Request {
	r.Body = slices.Clone(r.Body)
	r.CIDs = slices.Clone(r.CIDs)
	r.Aliases = slices.Clone(r.Aliases)
	if r.PushChannel != nil {
		r.PushChannel = cloneJSON(r.PushChannel).(map[string]any)
	}
	return r
}

// cloneJSON copies a decoded JSON value, its objects and arrays included.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}

func (s *Server) record(rec *Request) {
	s.recorder.Record(rec)
	s.logRequest(rec)
}

// Requests returns every request recorded since the start or the last
// Reset (the newest under Config.Keep), in the order they finished.
func (s *Server) Requests() []Request { return s.recorder.Filter(func(Request) bool { return true }) }

// RequestsTo returns the recorded requests to api.
func (s *Server) RequestsTo(api string) []Request {
	return s.recorder.Filter(func(r Request) bool { return r.API == api })
}

// Reset forgets recorded requests, deliveries and receipt posts. Tokens,
// tasks, devices, invalid cids, seen request_ids and faults stay.
func (s *Server) Reset() {
	s.recorder.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries, s.receipted, s.forgotten, s.receiptPosts = nil, 0, 0, nil
}

// forgetDeliveriesLocked drops the oldest deliveries beyond Config.Keep,
// counting them in forgotten so that the receipts' msgids stay those of
// the deliveries' places since New or Reset. The caller holds s.mu.
func (s *Server) forgetDeliveriesLocked() {
	before := len(s.deliveries)
	s.deliveries = fakeserver.KeepNewest(s.deliveries, s.cfg.Keep)
	n := before - len(s.deliveries)
	s.forgotten += n
	s.receipted = max(0, s.receipted-n)
}

func (s *Server) noteArrival(api string) { s.recorder.Arrive(api) }

// Arrived returns how many requests for api ("" for unknown paths) have
// arrived, counted on arrival: it includes requests still in flight and
// refused ones. Reset does not clear it.
func (s *Server) Arrived(api string) int { return s.recorder.Arrived(api) }

// DeliveringCalls returns how many requests arrived at the APIs that
// deliver: single, batch, list cid/alias, all and tag pushes. Auth, task
// creation (/push/list/message), reports and stops do not count.
func (s *Server) DeliveringCalls() int { return s.recorder.Arrived(deliveringAPIs()...) }

// Delivery is one message reaching one device.
type Delivery struct {
	AppID     string
	CID       string
	TaskID    string
	RequestID string
	// Platform is the device's phone_type when it was added with
	// AddDevice; otherwise "ios" for a push carrying push_channel.ios and
	// "android" for the rest.
	Platform string
	// Title and Body are the notification's (Android) or the APNs alert's
	// (iOS); empty for a transmission without a notification.
	Title, Body string
	// Transmission is push_message.transmission; Payload the click payload
	// (Android) or push_channel.ios.payload.
	Transmission, Payload string
	At                    time.Time
}

// Deliveries returns every delivery since the start or the last Reset (the
// newest under Config.Keep).
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// DeliveryCount returns how many messages the device cid received.
func (s *Server) DeliveryCount(cid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.deliveries {
		if d.CID == cid {
			n++
		}
	}
	return n
}
