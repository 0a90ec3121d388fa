package getui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tuisong/push/provider"
)

// singlePrefix starts the taskid of a single push (RASS_…); Getui reports
// only on tasks (list, tag and broadcast pushes: RASL_…, RASA_…).
const singlePrefix = "RASS_"

// counts is one group of a task report.
type counts struct {
	MsgNum     *int `json:"msg_num"`
	TargetNum  *int `json:"target_num"`
	ReceiveNum *int `json:"receive_num"`
	DisplayNum *int `json:"display_num"`
	ClickNum   *int `json:"click_num"`
}

type taskReport struct {
	Total *counts `json:"total"`
}

func val(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// Status reports task id from GET /report/push/task/{taskid}.
//
// Getui reports counts, not a state, so the state is derived from
// data.{taskid}.total:
//   - Total is msg_num (devices the task can be delivered to: Getui's
//     可下发数; target_num is how many it was dispatched to so far), Sent is
//     receive_num (devices that received it), Opened is click_num;
//   - StateCanceled for a task this Client cancelled; StateScheduled for
//     a task it scheduled whose start time has not come;
//   - StateDone once every targeted device received it (Total > 0 and
//     Sent ≥ Total) or once its time to live has passed (for tasks this
//     Client sent; kept in memory), after which Getui delivers nothing;
//   - StateQueued while Getui has counted nothing (no total, or all
//     zero), StateSending otherwise.
//
// For a task this Client did not send, the time-to-live rule cannot apply
// and a task whose devices stay offline stays StateSending, so a caller
// should bound its polling. A single push's taskid (RASS_…) is an
// InvalidRequest error naming "id", without a call.
func (c *Client) Status(ctx context.Context, p provider.Platform, id string) (*provider.Status, error) {
	if c.unbuilt() {
		return nil, notBuilt(opStatus)
	}
	if err := checkTaskArgs(p, id); err != nil {
		return nil, err
	}
	a, err := c.do(ctx, call{op: opStatus, platform: p, method: http.MethodGet,
		path: "/report/push/task/" + url.PathEscape(id), logPath: "/report/push/task/{taskid}"})
	if err != nil {
		return nil, err
	}
	var byID map[string]json.RawMessage
	_ = json.Unmarshal(a.data, &byID)
	raw, ok := byID[id]
	if !ok {
		raw = a.data
	}
	var rep taskReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, &provider.Error{Provider: Name, Op: opStatus, Kind: provider.Unknown, HTTPStatus: a.status,
			Message: "unreadable task report"}
	}
	st := &provider.Status{ID: id, Raw: a.raw}
	counted := false
	if t := rep.Total; t != nil {
		st.Total, st.Sent, st.Opened = val(t.MsgNum), val(t.ReceiveNum), val(t.ClickNum)
		counted = st.Total+val(t.TargetNum)+st.Sent+val(t.DisplayNum)+st.Opened > 0
	}
	known, sent := c.task(id)
	now := c.now()
	switch {
	case sent && known.canceled:
		st.State = provider.StateCanceled
	case sent && !known.start.IsZero() && now.Before(known.start):
		st.State = provider.StateScheduled
	case st.Total > 0 && st.Sent >= st.Total:
		st.State = provider.StateDone
	case sent && !now.Before(known.deadline):
		st.State = provider.StateDone
	case !counted:
		st.State = provider.StateQueued
	default:
		st.State = provider.StateSending
	}
	st.Code = string(st.State)
	return st, nil
}

// Cancel stops task id with DELETE /task/{taskid}: Getui stops delivering
// a list, tag or broadcast task that is still running. Getui refuses a
// task it can no longer stop (the error carries its code). A single
// push's taskid is an InvalidRequest error naming "id", without a call.
func (c *Client) Cancel(ctx context.Context, p provider.Platform, id string) error {
	if c.unbuilt() {
		return notBuilt(opCancel)
	}
	if err := checkTaskArgs(p, id); err != nil {
		return err
	}
	_, err := c.do(ctx, call{op: opCancel, platform: p, method: http.MethodDelete,
		path: "/task/" + url.PathEscape(id), logPath: "/task/{taskid}"})
	if err != nil {
		return err
	}
	c.mu.Lock()
	if t, ok := c.sent[id]; ok {
		t.canceled = true
	}
	c.mu.Unlock()
	return nil
}

func checkTaskArgs(p provider.Platform, id string) error {
	switch {
	case !p.Valid():
		return invalid("platform", fmt.Sprintf("must be %q or %q, got %q", provider.IOS, provider.Android, p))
	case id == "":
		return invalid("id", "is required")
	case strings.HasPrefix(id, singlePrefix):
		return invalid("id", fmt.Sprintf("%q is a single push; Getui reports and stops tasks only", id))
	case strings.ContainsAny(id, ",/?# \t\r\n") || len(id) > 128:
		// A comma would make the report name several tasks.
		return invalid("id", fmt.Sprintf("%q is not a Getui taskid", id))
	}
	return nil
}
