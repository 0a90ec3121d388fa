package jpushtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
)

// Limits the fake enforces, from JPush's documentation.
const (
	maxRegistrationIDs      = 1000
	maxAliases              = 1000
	maxTags                 = 20
	maxNameBytes            = 40 // each tag and alias, in UTF-8 bytes
	maxPayloadBytes         = 4000
	maxIOSNotificationBytes = 2000
	maxTimeToLive           = 10 * 24 * 60 * 60 // ten days, in seconds
	maxSendNo               = 1<<31 - 1
)

// Device is a device registered with the fake, the audience of broadcast,
// alias, tag and segment pushes. A registration-id push needs no
// registration: any well-formed id not marked invalid receives it.
type Device struct {
	RegistrationID string
	Platform       string // "android", "ios" or "" for either
	Alias          string
	Tags           []string
	Segments       []string
}

// AddDevice registers d with the app appKey, replacing an earlier
// registration of the same id.
func (s *Server) AddDevice(appKey string, d Device) error {
	if _, ok := s.apps[appKey]; !ok {
		return fmt.Errorf("%w: AddDevice appKey %q is not an app of the server", ErrInvalidArgument, appKey)
	}
	if !s.cfg.AcceptAnyRegistrationID && !wellFormedRegistrationID(d.RegistrationID) {
		return fmt.Errorf("%w: AddDevice Device.RegistrationID %q is not well formed", ErrInvalidArgument, d.RegistrationID)
	}
	if d.Platform != "" && d.Platform != "android" && d.Platform != "ios" {
		return fmt.Errorf("%w: AddDevice Device.Platform %q is not android, ios or empty", ErrInvalidArgument, d.Platform)
	}
	d.Tags, d.Segments = slices.Clone(d.Tags), slices.Clone(d.Segments)
	s.mu.Lock()
	defer s.mu.Unlock()
	list := slices.DeleteFunc(s.devices[appKey], func(x Device) bool { return x.RegistrationID == d.RegistrationID })
	s.devices[appKey] = append(list, d)
	return nil
}

// MarkInvalid marks registration ids as dead, as after the app was
// uninstalled: they receive nothing, and a push whose audience holds only
// dead ids is refused with 1011.
func (s *Server) MarkInvalid(rids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rids {
		s.invalid[r] = true
	}
}

// pushed is an accepted push, for the report endpoints and withdraw.
type pushed struct {
	appKey    string
	msgID     string
	platforms []string
	targets   []string // registration ids the audience matched
	delivered map[string]bool
	message   bool // a pass-through message was part of it
	notif     bool
	at        time.Time
	ttl       time.Duration
	withdrawn bool
}

// parsed is a checked push body.
type parsed struct {
	cid       string // "" when absent
	platforms []string
	aud       audience
	notif     map[string]any
	msg       map[string]any
}

type audience struct {
	all                                     bool
	rids, aliases, tag, tagAnd, tagNot, seg []string
}

// push checks a push body and, unless validateOnly, delivers it.
func (s *Server) push(app App, body []byte, validateOnly, numeric bool, rec *Request) response {
	p, aerr := s.checkPush(body, rec)
	if aerr != nil {
		return failure(aerr)
	}
	targets, aerr := s.resolve(app.AppKey, p)
	if aerr != nil {
		return failure(aerr)
	}
	sendno := rec.SendNo
	s.mu.Lock()
	defer s.mu.Unlock()
	var use *cidUse
	if p.cid != "" {
		var aerr *refusal
		if use, aerr = s.cidLocked(app.AppKey, p.cid, rec.At); aerr != nil {
			return failure(aerr)
		}
	}
	id := "0"
	switch {
	case validateOnly:
	case use != nil && use.msgID != "":
		// The cid pushed already: the first answer again, nothing sent.
		id, sendno = use.msgID, use.sendno
		rec.MsgID, rec.Duplicate = id, true
	default:
		id = s.newMsgIDLocked()
		ttl := DefaultTimeToLive
		if rec.TimeToLive != nil {
			ttl = time.Duration(*rec.TimeToLive) * time.Second
		}
		s.deliveries = fakeserver.KeepNewest(s.deliveries, s.cfg.Keep)
		m := &pushed{appKey: app.AppKey, msgID: id, platforms: p.platforms, targets: targets,
			delivered: map[string]bool{}, message: p.msg != nil, notif: p.notif != nil, at: rec.At, ttl: ttl}
		for _, rid := range targets {
			if s.deadLocked(app.AppKey, rid) {
				continue
			}
			m.delivered[rid] = true
			s.deliveries = append(s.deliveries, s.deliveriesFor(app.AppKey, id, rid, p, rec.At)...)
		}
		s.messages[id] = m
		rec.MsgID = id
		if use != nil {
			use.msgID, use.sendno = id, sendno
		}
	}
	rec.Accepted = true
	var answer map[string]any
	if numeric {
		n, _ := strconv.ParseInt(id, 10, 64)
		answer = map[string]any{"sendno": sendno, "msg_id": n}
	} else {
		answer = map[string]any{"sendno": strconv.FormatInt(sendno, 10), "msg_id": id}
	}
	resp := jsonResponse(http.StatusOK, answer)
	resp.msgID = rec.MsgID
	return resp
}

// deliveriesFor builds what device rid receives of p: its notification
// for the device's platform and, separately, its message.
func (s *Server) deliveriesFor(appKey, id, rid string, p *parsed, at time.Time) []Delivery {
	platform := s.platformOfLocked(appKey, rid, p.platforms)
	var out []Delivery
	if p.notif != nil {
		if sub, ok := p.notif[platform].(map[string]any); ok {
			d := Delivery{AppKey: appKey, RegistrationID: rid, MsgID: id, Platform: platform, At: at, Extras: extrasOf(sub)}
			switch a := sub["alert"].(type) {
			case string:
				d.Alert = a
			case map[string]any:
				d.Alert, _ = a["body"].(string)
				d.Title, _ = a["title"].(string)
			}
			if t, ok := sub["title"].(string); ok && platform == "android" {
				d.Title = t
			}
			if d.Alert == "" {
				d.Alert, _ = p.notif["alert"].(string)
			}
			out = append(out, d)
		} else if a, ok := p.notif["alert"].(string); ok {
			out = append(out, Delivery{AppKey: appKey, RegistrationID: rid, MsgID: id, Platform: platform, Alert: a, At: at})
		}
	}
	if p.msg != nil {
		d := Delivery{AppKey: appKey, RegistrationID: rid, MsgID: id, Platform: platform, Message: true, At: at, Extras: extrasOf(p.msg)}
		d.Alert, _ = p.msg["msg_content"].(string)
		d.Title, _ = p.msg["title"].(string)
		out = append(out, d)
	}
	return out
}

// platformOfLocked is the platform of device rid: its registration's, or
// the push's first platform ("android" for "all").
func (s *Server) platformOfLocked(appKey, rid string, platforms []string) string {
	for _, d := range s.devices[appKey] {
		if d.RegistrationID == rid && d.Platform != "" {
			return d.Platform
		}
	}
	if len(platforms) > 0 && platforms[0] == "ios" {
		return "ios"
	}
	return "android"
}

func extrasOf(obj map[string]any) map[string]string {
	ex, ok := obj["extras"].(map[string]any)
	if !ok || len(ex) == 0 {
		return nil
	}
	out := make(map[string]string, len(ex))
	for k, v := range ex {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		b, _ := json.Marshal(v)
		out[k] = string(b)
	}
	return out
}

// deadLocked reports whether registration id rid of app appKey receives
// nothing: marked invalid, or (KnownDevicesOnly) never added.
func (s *Server) deadLocked(appKey, rid string) bool {
	if s.invalid[rid] {
		return true
	}
	if !s.cfg.KnownDevicesOnly {
		return false
	}
	return !slices.ContainsFunc(s.devices[appKey], func(d Device) bool { return d.RegistrationID == rid })
}

// resolve returns the registration ids p's audience matches, or 1011.
func (s *Server) resolve(appKey string, p *parsed) ([]string, *refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := p.aud
	var out []string
	if len(a.rids) > 0 && !a.all && len(a.aliases)+len(a.tag)+len(a.tagAnd)+len(a.tagNot)+len(a.seg) == 0 {
		live := 0
		for _, r := range a.rids {
			if !slices.Contains(out, r) {
				out = append(out, r)
				if !s.deadLocked(appKey, r) {
					live++
				}
			}
		}
		if live == 0 {
			return nil, bad(CodeNoTarget, "cannot find user by this audience")
		}
		return out, nil
	}
	for _, d := range s.devices[appKey] {
		if !p.targetsPlatform(d.Platform) || s.invalid[d.RegistrationID] || !a.matches(d) {
			continue
		}
		out = append(out, d.RegistrationID)
	}
	if len(out) == 0 {
		return nil, bad(CodeNoTarget, "cannot find user by this audience")
	}
	return out, nil
}

func (p *parsed) targetsPlatform(platform string) bool {
	return platform == "" || slices.Contains(p.platforms, "all") || slices.Contains(p.platforms, platform)
}

// matches applies every audience key given, intersected, as JPush does.
func (a audience) matches(d Device) bool {
	if a.all {
		return true
	}
	if len(a.rids) > 0 && !slices.Contains(a.rids, d.RegistrationID) {
		return false
	}
	if len(a.aliases) > 0 && !slices.Contains(a.aliases, d.Alias) {
		return false
	}
	if len(a.tag) > 0 && !slices.ContainsFunc(a.tag, func(t string) bool { return slices.Contains(d.Tags, t) }) {
		return false
	}
	for _, t := range a.tagAnd {
		if !slices.Contains(d.Tags, t) {
			return false
		}
	}
	for _, t := range a.tagNot {
		if slices.Contains(d.Tags, t) {
			return false
		}
	}
	if len(a.seg) > 0 && !slices.ContainsFunc(a.seg, func(g string) bool { return slices.Contains(d.Segments, g) }) {
		return false
	}
	return true
}

// decode parses raw keeping numbers as json.Number.
func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}
