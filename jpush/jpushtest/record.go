package jpushtest

import (
	"maps"
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
	API    string // "/v3/push", "/v3/push/validate", "/v3/push/{msg_id}", "/v3/received/detail", "/v3/status/message", "/v3/push/cid"; "" for an unknown path
	Query  string // the raw query
	Body   []byte // the raw body

	AppKey     string // from the Basic authentication, even when refused
	Authorized bool   // the Basic authentication matched an app

	Platform        []string       // push: platform, ["all"] for "all"
	Broadcast       bool           // push: audience "all"
	RegistrationIDs []string       // push: audience.registration_id
	Aliases         []string       // push: audience.alias
	Tags            []string       // push: audience.tag
	TagAnd          []string       // push: audience.tag_and
	TagNot          []string       // push: audience.tag_not
	Segments        []string       // push: audience.segment
	Notification    map[string]any // push: notification as sent, numbers as json.Number
	PushMessage     map[string]any // push: message as sent
	Options         map[string]any
	SendNo          int64  // options.sendno; 0 when absent
	TimeToLive      *int64 // options.time_to_live; nil when absent
	APNsProduction  *bool  // options.apns_production; nil when absent

	StatusCode int    // HTTP status; 0 when the request ended unanswered
	Code       int    // JPush error code answered; 0 on success
	Message    string // error message, or why the request went unanswered
	MsgID      string // msg_id issued (push), withdrawn (withdraw) or with an error body
	CID        string // push: the cid sent; "" when absent
	Duplicate  bool   // push: its cid had pushed already, so the first answer was repeated and nothing was sent
	Accepted   bool   // the request did its work (a push was accepted), even if a fault replaced the answer
	Fault      bool   // an injected fault applied
}

func (r Request) clone() Request {
	r.Body = slices.Clone(r.Body)
	r.Platform = slices.Clone(r.Platform)
	r.RegistrationIDs = slices.Clone(r.RegistrationIDs)
	r.Aliases = slices.Clone(r.Aliases)
	r.Tags = slices.Clone(r.Tags)
	r.TagAnd = slices.Clone(r.TagAnd)
	r.TagNot = slices.Clone(r.TagNot)
	r.Segments = slices.Clone(r.Segments)
	r.Notification = cloneObject(r.Notification)
	r.PushMessage = cloneObject(r.PushMessage)
	r.Options = cloneObject(r.Options)
	if r.TimeToLive != nil {
		v := *r.TimeToLive
		r.TimeToLive = &v
	}
	if r.APNsProduction != nil {
		v := *r.APNsProduction
		r.APNsProduction = &v
	}
	return r
}

// cloneObject deep-copies a JSON object decoded into map[string]any.
func cloneObject(m map[string]any) map[string]any { return fakeserver.CloneObject(m) }

func (s *Server) record(rec *Request) {
	s.recorder.Record(rec)
	s.logRequest(rec)
}

// Requests returns every request recorded since the start or the last
// Reset (the newest under Config.Keep), in the order they finished.
func (s *Server) Requests() []Request { return s.recorder.Filter(func(Request) bool { return true }) }

// Pushes returns the /v3/push requests the server accepted.
func (s *Server) Pushes() []Request {
	return s.recorder.Filter(func(r Request) bool { return r.API == pathPush && r.Accepted })
}

// Reset forgets recorded requests and deliveries. Messages, devices,
// invalid ids and faults stay.
func (s *Server) Reset() {
	s.recorder.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = nil
}

func (s *Server) noteArrival(api string) { s.recorder.Arrive(api) }

// Arrived returns how many requests for api ("/v3/push", "/v3/push/validate",
// "/v3/push/{msg_id}", "/v3/received/detail", "/v3/status/message",
// "/v3/push/cid"; "" for
// unknown paths) have arrived, counted on arrival: it includes requests
// still in flight. Reset does not clear it.
func (s *Server) Arrived(api string) int { return s.recorder.Arrived(api) }

// Delivery is one message reaching one device.
type Delivery struct {
	AppKey         string
	RegistrationID string
	MsgID          string
	Platform       string // "android" or "ios"
	// Message is true for a pass-through message (no notification shown).
	Message bool
	Alert   string // the notification alert (iOS: alert string or alert.body), or msg_content
	Title   string // Android title, iOS alert.title, or message title
	// Extras are the extras the app receives, each value as JSON text
	// unless it is a string.
	Extras map[string]string
	At     time.Time
}

func (d Delivery) clone() Delivery {
	d.Extras = maps.Clone(d.Extras)
	return d
}

// Deliveries returns every delivery since the start or the last Reset (the
// newest under Config.Keep).
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = d.clone()
	}
	return out
}

// DeliveryCount returns how many messages the device with registration id
// rid received.
func (s *Server) DeliveryCount(rid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.deliveries {
		if d.RegistrationID == rid {
			n++
		}
	}
	return n
}
