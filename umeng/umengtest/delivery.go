package umengtest

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
)

// Delivery is one message reaching one device: what a phone would show.
// Unicast, listcast and customizedcast by alias deliver when accepted; task
// casts deliver when their task reaches done.
type Delivery struct {
	AppKey   string
	Token    string
	ID       string // the msg_id or task_id of the send
	Type     string // cast type of the send
	OutBizNo string // policy.out_biz_no of the send, if any
	Title    string // Android body.title; iOS aps.alert.title
	Text     string // Android body.text; iOS aps.alert.body or the alert string
	// Custom is Android body.custom as the app receives it: a string as
	// sent, an object as its JSON text; "" when absent or on iOS.
	Custom string
	// Extras are what the app receives as extras: Android payload.extra of
	// a notification (the real service drops it on a message), or the iOS
	// top-level keys other than aps. nil when there are none.
	Extras map[string]string
	// Sandbox means the push went to Apple's development (sandbox)
	// gateway: an iOS send in test mode (production_mode "false").
	Sandbox bool
	At      time.Time
}

// clone returns a copy of d that shares no map with it.
func (d Delivery) clone() Delivery {
	d.Extras = maps.Clone(d.Extras)
	return d
}

// Device is a device registered with the fake, the audience of broadcast,
// groupcast and customizedcast. Unicast, listcast and filecast need no
// registration: any well-formed token not marked invalid receives them.
type Device struct {
	Token string
	// Aliases maps alias_type to the device's alias of that type, as the
	// device SDK's setAlias(alias, alias_type) would.
	Aliases map[string]string
	// Tags are matched by the "tag" conditions of a groupcast filter.
	Tags []string
	// Groups are the group ids (groups made in the real service's console)
	// the device belongs to: a groupcast by group_id reaches them.
	Groups []string
}

// deviceSet keeps an app's devices in registration order, so broadcasts
// deliver in a stable order.
type deviceSet struct {
	order   []string
	byToken map[string]Device
}

// AddDevice registers d with the app appKey, replacing an earlier
// registration of the same token. The token must be well formed for the
// app's platform unless Config.AcceptAnyToken is set.
func (s *Server) AddDevice(appKey string, d Device) error {
	app, ok := s.apps[appKey]
	if !ok {
		return fmt.Errorf("%w: AddDevice appKey %q", ErrUnknownApp, appKey)
	}
	if d.Token == "" {
		return fmt.Errorf("%w: AddDevice Device.Token is empty", ErrInvalidArgument)
	}
	if !s.cfg.AcceptAnyToken && !wellFormedToken(app.Platform, d.Token) {
		return fmt.Errorf("%w: AddDevice Device.Token %q is not a well-formed %s token", ErrInvalidArgument, d.Token, app.Platform)
	}
	d.Aliases = maps.Clone(d.Aliases)
	d.Tags = slices.Clone(d.Tags)
	d.Groups = slices.Clone(d.Groups)
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.devices[appKey]
	if set == nil {
		set = &deviceSet{byToken: make(map[string]Device)}
		s.devices[appKey] = set
	}
	if _, seen := set.byToken[d.Token]; !seen {
		set.order = append(set.order, d.Token)
	}
	set.byToken[d.Token] = d
	return nil
}

// MarkInvalid marks tokens as dead, as after the app was uninstalled: a
// unicast to one fails with 5000; in a listcast, filecast or task they are
// accepted but receive nothing.
func (s *Server) MarkInvalid(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tokens {
		s.invalid[t] = true
	}
}

// Deliveries returns every delivery since the start or the last Reset (the
// newest under Config.Keep), in order. Tasks due by Config.Now are brought
// up to date first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasksLocked(s.now())
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = d.clone()
	}
	return out
}

// DeliveryCount returns how many messages the device with token received.
func (s *Server) DeliveryCount(token string) int {
	return s.countDeliveries(func(d Delivery) bool { return d.Token == token })
}

// DeliveryCountByOutBizNo returns how many deliveries came from sends with
// policy.out_biz_no equal to outBizNo: with deduplication working, a retried
// task send adds none.
func (s *Server) DeliveryCountByOutBizNo(outBizNo string) int {
	return s.countDeliveries(func(d Delivery) bool { return d.OutBizNo == outBizNo })
}

func (s *Server) countDeliveries(match func(Delivery) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasksLocked(s.now())
	n := 0
	for _, d := range s.deliveries {
		if match(d) {
			n++
		}
	}
	return n
}

// content is what a push shows and hands the app, for Delivery records.
type content struct {
	title, text string
	custom      string
	extras      map[string]string
	sandbox     bool // iOS test mode: the APNs sandbox
}

// deliverLocked records a delivery to each distinct token that can receive:
// not marked invalid and, unless AcceptAnyToken, well formed. It returns the
// number delivered. Under Config.Keep it first forgets the oldest
// deliveries, so that a send's own stay whole for its receipts. The caller
// holds s.mu.
func (s *Server) deliverLocked(app App, id, typ, outBizNo string, tokens []string, c content, at time.Time) int {
	s.deliveries = fakeserver.KeepNewest(s.deliveries, s.cfg.Keep)
	n := 0
	seen := make(map[string]bool, len(tokens))
	for _, t := range tokens {
		if seen[t] || !s.canReceiveLocked(app, t) {
			continue
		}
		seen[t] = true
		s.deliveries = append(s.deliveries, Delivery{
			AppKey: app.AppKey, Token: t, ID: id, Type: typ, OutBizNo: outBizNo,
			Title: c.title, Text: c.text, Custom: c.custom, Extras: maps.Clone(c.extras), Sandbox: c.sandbox, At: at,
		})
		n++
	}
	return n
}

func (s *Server) canReceiveLocked(app App, token string) bool {
	return !s.invalid[token] && (s.cfg.AcceptAnyToken || wellFormedToken(app.Platform, token))
}

// devicesLocked returns the registered devices of appKey in registration
// order. The caller holds s.mu.
func (s *Server) devicesLocked(appKey string) []Device {
	set := s.devices[appKey]
	if set == nil {
		return nil
	}
	out := make([]Device, 0, len(set.order))
	for _, t := range set.order {
		out = append(out, set.byToken[t])
	}
	return out
}
