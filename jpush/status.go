package jpush

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tuisong/push/internal/cst"
	"github.com/tuisong/push/provider"
)

// received is one entry of GET /v3/received/detail. JPush sends counts as
// numbers or null (not yet counted); msg_id as a string or number. The
// entry counts what was sent and received per channel; it has no count of
// the devices targeted (only the VIP-only /v3/messages/detail has one), and
// the channels this Client does not push to (HarmonyOS, quick apps,
// Windows Phone, live activities) are not read.
type received struct {
	MsgID              json.RawMessage `json:"msg_id"`
	JPushReceived      *int            `json:"jpush_received"`
	AndroidPNSSent     *int            `json:"android_pns_sent"`
	AndroidPNSReceived *int            `json:"android_pns_received"`
	IOSAPNsSent        *int            `json:"ios_apns_sent"`
	IOSAPNsReceived    *int            `json:"ios_apns_received"`
	IOSMsgReceived     *int            `json:"ios_msg_received"`
}

func val(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Status reports the delivery of msg id on platform p from
// GET /v3/received/detail?msg_ids=id on the Report API.
//
// JPush reports counts of what was sent and received, never a final state
// and never how many devices were targeted, so:
//   - Total stays 0 (not reported). Sent is what reached a device or a
//     channel that delivers to it: on Android, received over JPush's own
//     connection plus handed to the phone makers' channels
//     (android_pns_sent: their arrival receipts need set-up on the maker's
//     side, so android_pns_received may stay 0); on iOS, handed to APNs
//     plus in-app messages received. A device counted on two channels
//     counts twice.
//   - StateCanceled once this Client withdrew the message (Cancel);
//     StateDone once the message's time_to_live has passed, after which
//     JPush delivers nothing more; StateQueued while JPush has not counted
//     anything on p yet; StateSending otherwise.
//
// The time_to_live is known for messages this Client sent (send time plus
// the time_to_live it sent, or JPush's one-day default), kept in memory. For
// an id it did not send (another process, a restart) the state stays
// StateQueued or StateSending: a caller bounds its polling, as
// Capabilities.Polling.Horizon asks (push.Service does).
//
// An id that is not a JPush msg_id (digits) is an InvalidRequest error
// without a network call. An id JPush reports nothing for is StateQueued
// (StateDone after its time to live) when this Client sent it, since JPush
// counts with a delay, and otherwise an InvalidRequest error naming "id".
// JPush keeps these counts for 28 days.
func (c *Client) Status(ctx context.Context, p provider.Platform, id string) (*provider.Status, error) {
	if c.unbuilt() {
		return nil, notBuilt(opStatus)
	}
	rs, err := c.Statuses(ctx, p, []string{id})
	if err != nil {
		return nil, err
	}
	return rs[0].Status, rs[0].Err
}

// MaxReceivedIDs is the most msg_ids one GET /v3/received/detail (and so
// one Statuses call) asks about.
const MaxReceivedIDs = 100

// MaxStatusIDs implements provider.BatchStatusQuerier: MaxReceivedIDs.
func (c *Client) MaxStatusIDs() int { return MaxReceivedIDs }

// Statuses implements provider.BatchStatusQuerier: it reports each of ids
// on platform p as Status would, from one GET /v3/received/detail that
// names every distinct msg_id among them. An id that is not a msg_id gets
// Status's InvalidRequest error, and is left out of the call; the call is
// not made when no id is left. Each Status's Raw is the entry JPush
// answered for its id, as a list of one (the answer Status gets), or the
// empty list when JPush answered nothing for it.
func (c *Client) Statuses(ctx context.Context, p provider.Platform, ids []string) ([]provider.StatusResult, error) {
	if c.unbuilt() {
		return nil, notBuilt(opStatus)
	}
	if !p.Valid() {
		return nil, invalid("platform", fmt.Sprintf("must be %q or %q, got %q", provider.IOS, provider.Android, p))
	}
	if len(ids) > MaxReceivedIDs {
		return nil, invalid("ids", fmt.Sprintf("has %d ids; received/detail takes at most %d", len(ids), MaxReceivedIDs))
	}
	out := make([]provider.StatusResult, len(ids))
	var ask []string
	asked := make(map[string]bool, len(ids))
	for i, id := range ids {
		if err := checkMsgID(id); err != nil {
			out[i].Err = err
			continue
		}
		if !asked[id] {
			asked[id] = true
			ask = append(ask, id)
		}
	}
	if len(ask) == 0 {
		return out, nil
	}
	u := c.reportURL + "/v3/received/detail?msg_ids=" + url.QueryEscape(strings.Join(ask, ","))
	a, err := c.do(ctx, call{op: opStatus, platform: p, method: http.MethodGet, url: u, path: "/v3/received/detail"})
	if err != nil {
		return nil, err
	}
	var list []json.RawMessage
	if err := json.Unmarshal(a.raw, &list); err != nil {
		return nil, unreadableReceived(a.status)
	}
	type entry struct {
		received
		raw json.RawMessage
	}
	entries := make(map[string]entry, len(list))
	for _, raw := range list {
		var e received
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, unreadableReceived(a.status)
		}
		if id := flexString(e.MsgID); !asked[id] {
			continue // not asked about
		} else if _, ok := entries[id]; !ok {
			entries[id] = entry{e, raw}
		}
	}
	for i, id := range ids {
		if out[i].Err != nil {
			continue
		}
		e, ok := entries[id]
		raw := json.RawMessage("[]")
		if ok {
			raw = slices.Concat([]byte("["), e.raw, []byte("]"))
		}
		if len(ask) == 1 {
			raw = a.raw // the whole answer, as JPush gave it
		}
		if !ok {
			out[i].Status, out[i].Err = c.unreported(id, raw, a.status)
			continue
		}
		st := &provider.Status{ID: id, Raw: raw}
		counted := false
		if p == provider.Android {
			st.Sent = val(e.JPushReceived) + val(e.AndroidPNSSent)
			counted = st.Sent+val(e.AndroidPNSReceived) > 0
		} else {
			st.Sent = val(e.IOSAPNsSent) + val(e.IOSMsgReceived)
			counted = st.Sent+val(e.IOSAPNsReceived) > 0
		}
		sent, known := c.sentMessage(id)
		switch {
		case known && sent.canceled:
			st.State = provider.StateCanceled
		case known && !c.now().Before(sent.deadline):
			st.State = provider.StateDone
		case !counted:
			st.State = provider.StateQueued
		default:
			st.State = provider.StateSending
		}
		st.Code = string(st.State)
		out[i].Status = st
	}
	return out, nil
}

// unreported is the Status of msg id when JPush reported nothing for it:
// queued (done after its time to live) when this Client sent it, since
// JPush counts with a delay; otherwise an InvalidRequest error naming
// "id".
func (c *Client) unreported(id string, raw json.RawMessage, status int) (*provider.Status, error) {
	if sent, known := c.sentMessage(id); known {
		st := &provider.Status{ID: id, State: provider.StateQueued, Raw: raw}
		switch {
		case sent.canceled:
			st.State = provider.StateCanceled
		case !c.now().Before(sent.deadline):
			st.State = provider.StateDone
		}
		st.Code = string(st.State)
		return st, nil
	}
	return nil, &provider.Error{Provider: Name, Op: opStatus, Kind: provider.InvalidRequest, HTTPStatus: status,
		Err: &provider.FieldError{Field: "id", Reason: fmt.Sprintf("JPush reports nothing for msg_id %q", id)}}
}

// unreadableReceived is the error of a received/detail answer that is not
// a list of entries.
func unreadableReceived(status int) error {
	return &provider.Error{Provider: Name, Op: opStatus, Kind: provider.Unknown, HTTPStatus: status,
		Message: "unreadable received/detail answer"}
}

// DeliveryState is the per-registration-id state of POST /v3/status/message.
type DeliveryState int

// The states JPush reports.
const (
	Delivered         DeliveryState = 0 // the device received the message
	NotDelivered      DeliveryState = 1 // not (yet) received
	NotInApp          DeliveryState = 2 // the registration id does not belong to the app
	NotTarget         DeliveryState = 3 // the registration id was not a target of the message
	DeliverySystemErr DeliveryState = 4 // JPush could not tell
)

// MaxStatusRegistrationIDs is the most registration ids one MessageStatus
// call may ask about.
const MaxStatusRegistrationIDs = 1000

// MessageStatus asks POST /v3/status/message on the Report API whether each
// of rids received msg id, and returns JPush's answer per registration id.
// It makes one call; more than MaxStatusRegistrationIDs ids, none, or an
// id that is not a msg_id is an InvalidRequest error without a call.
//
// JPush looks the message up on one day, today (Beijing time) unless the
// body names another. For a message this Client sent, the body names the
// day it was sent (its date in Beijing time, kept in memory like Status's
// time to live), so that a message sent before midnight is still found
// after it. For any other id JPush looks at today.
func (c *Client) MessageStatus(ctx context.Context, id string, rids []string) (map[string]DeliveryState, error) {
	if c.unbuilt() {
		return nil, notBuilt(opMessageStatus)
	}
	if err := checkMsgID(id); err != nil {
		return nil, err
	}
	switch {
	case len(rids) == 0:
		return nil, invalid("registration_ids", "is empty")
	case len(rids) > MaxStatusRegistrationIDs:
		return nil, invalid("registration_ids", fmt.Sprintf("has %d ids; JPush takes at most %d", len(rids), MaxStatusRegistrationIDs))
	}
	for i, r := range rids {
		if r == "" {
			return nil, invalid(fmt.Sprintf("registration_ids[%d]", i), "is empty")
		}
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	date := ""
	if m, ok := c.sentMessage(id); ok {
		date = m.at.In(cst.Location).Format(time.DateOnly)
	}
	body, err := marshal(struct {
		MsgID           int64    `json:"msg_id"`
		RegistrationIDs []string `json:"registration_ids"`
		Date            string   `json:"date,omitempty"`
	}{n, rids, date})
	if err != nil {
		return nil, err
	}
	a, err := c.do(ctx, call{op: opMessageStatus, method: http.MethodPost,
		url: c.reportURL + "/v3/status/message", path: "/v3/status/message", body: body})
	if err != nil {
		return nil, err
	}
	var m map[string]struct {
		Status json.RawMessage `json:"status"`
	}
	dec := json.NewDecoder(bytes.NewReader(a.raw))
	if err := dec.Decode(&m); err != nil {
		return nil, &provider.Error{Provider: Name, Op: opMessageStatus, Kind: provider.Unknown, HTTPStatus: a.status,
			Message: "unreadable status/message answer"}
	}
	out := make(map[string]DeliveryState, len(m))
	for rid, v := range m {
		s, err := strconv.Atoi(flexString(v.Status))
		if err != nil {
			return nil, &provider.Error{Provider: Name, Op: opMessageStatus, Kind: provider.Unknown, HTTPStatus: a.status,
				Message: "unreadable status for a registration id"}
		}
		out[rid] = DeliveryState(s)
	}
	return out, nil
}

// Cancel withdraws msg id with DELETE /v3/push/{msg_id}: JPush removes the
// message from devices that have not shown it yet and stops delivering it,
// and Status then reports a message this Client sent as
// provider.StateCanceled (this Client only: JPush reports no withdrawal).
// JPush refuses once it can no longer withdraw (the error carries its code);
// an id that is not a msg_id is an InvalidRequest error without a call.
func (c *Client) Cancel(ctx context.Context, p provider.Platform, id string) error {
	if c.unbuilt() {
		return notBuilt(opCancel)
	}
	if !p.Valid() {
		return invalid("platform", fmt.Sprintf("must be %q or %q, got %q", provider.IOS, provider.Android, p))
	}
	if err := checkMsgID(id); err != nil {
		return err
	}
	_, err := c.do(ctx, call{op: opCancel, platform: p, method: http.MethodDelete,
		url: c.baseURL + "/v3/push/" + id, path: "/v3/push/{msg_id}"})
	if err != nil {
		return err
	}
	// JPush's reports say nothing of a withdrawal: Status says canceled
	// for a message this Client sent and withdrew, as the Getui client
	// does for its tasks.
	c.mu.Lock()
	if m, ok := c.sent[id]; ok {
		m.canceled = true
		c.sent[id] = m
	}
	c.mu.Unlock()
	return nil
}

// checkMsgID accepts JPush msg_ids: positive decimal integers.
func checkMsgID(id string) error {
	if id == "" {
		return invalid("id", "is required")
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return invalid("id", fmt.Sprintf("%q is not a JPush msg_id (a positive integer)", id))
	}
	return nil
}

var _ provider.BatchStatusQuerier = (*Client)(nil)
