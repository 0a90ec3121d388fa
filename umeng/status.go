package umeng

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tuisong/push/provider"
)

// taskBody is the JSON body of /api/status and /api/cancel.
type taskBody struct {
	AppKey    string `json:"appkey"`
	Timestamp string `json:"timestamp"`
	TaskID    string `json:"task_id"`
}

// statusData is data of a SUCCESS answer to /api/status. Umeng sends the
// numbers as JSON numbers or strings.
type statusData struct {
	TaskID       string  `json:"task_id"`
	Status       flexInt `json:"status"`
	TotalCount   flexInt `json:"total_count"`
	SentCount    flexInt `json:"sent_count"`
	OpenCount    flexInt `json:"open_count"`
	DismissCount flexInt `json:"dismiss_count"`
}

// stateOf maps Umeng's task status to the provider's state.
func stateOf(status int) (provider.State, bool) {
	switch status {
	case 0:
		return provider.StateQueued, true
	case 1:
		return provider.StateSending, true
	case 2:
		return provider.StateDone, true
	case 3:
		return provider.StateFailed, true
	case 4:
		return provider.StateCanceled, true
	case 5:
		return provider.StateExpired, true
	case 6:
		return provider.StateEmpty, true
	case 7:
		return provider.StateScheduled, true
	}
	return "", false
}

// Status reports the progress of the task id on platform p. Only task ids
// (from broadcast, groupcast, filecast and customizedcast by file) can be
// queried: a msg_id (prefix "uu", "ul" or "ua") is an InvalidRequest error
// without a network call. Status.Code is Umeng's raw status number.
// Status.Total is the iOS answer's total_count (devices handed to APNs);
// Umeng's Android answer has no such count, so it is 0 there, and an
// Android Sent (devices reached) keeps rising after done (2) until the
// push expires, as devices come online.
func (c *Client) Status(ctx context.Context, p provider.Platform, id string) (*provider.Status, error) {
	if c.unbuilt() {
		return nil, notBuilt(opStatus)
	}
	app, err := c.appFor(opStatus, p)
	if err != nil {
		return nil, err
	}
	if err := checkTaskID(id); err != nil {
		return nil, err
	}
	b, err := marshal(taskBody{AppKey: app.AppKey, Timestamp: c.timestamp(), TaskID: id})
	if err != nil {
		return nil, err
	}
	a, err := c.post(ctx, opStatus, p, app, "/api/status", b)
	if err != nil {
		return nil, err
	}
	var d statusData
	if err := json.Unmarshal(a.data, &d); err != nil || !d.Status.set {
		return nil, &provider.Error{
			Provider: Name, Op: opStatus, Kind: provider.Unknown, HTTPStatus: 200,
			Message: "success answer without a readable status",
		}
	}
	code := d.Status.n
	state, ok := stateOf(code)
	if !ok {
		return nil, &provider.Error{
			Provider: Name, Op: opStatus, Kind: provider.Unknown, HTTPStatus: 200,
			Code: strconv.Itoa(code), Message: "unknown task status " + strconv.Itoa(code),
		}
	}
	return &provider.Status{
		ID:        id,
		State:     state,
		Code:      strconv.Itoa(code),
		Total:     d.TotalCount.n,
		Sent:      d.SentCount.n,
		Opened:    d.OpenCount.n,
		Dismissed: d.DismissCount.n,
		Raw:       a.raw,
	}, nil
}

// Cancel stops the task id on platform p while Umeng still can. Umeng
// answers 1028 (InvalidRequest) once a task can no longer be cancelled and
// 1014 (InvalidRequest) for an unknown id. A msg_id cannot be cancelled and
// is rejected without a network call.
func (c *Client) Cancel(ctx context.Context, p provider.Platform, id string) error {
	if c.unbuilt() {
		return notBuilt(opCancel)
	}
	app, err := c.appFor(opCancel, p)
	if err != nil {
		return err
	}
	if err := checkTaskID(id); err != nil {
		return err
	}
	b, err := marshal(taskBody{AppKey: app.AppKey, Timestamp: c.timestamp(), TaskID: id})
	if err != nil {
		return err
	}
	_, err = c.post(ctx, opCancel, p, app, "/api/cancel", b)
	return err
}

// checkTaskID rejects empty ids and Umeng message ids, which its task APIs
// refuse.
func checkTaskID(id string) error {
	switch {
	case id == "":
		return invalid("id", "is required")
	case isMsgID(id):
		return invalid("id", "is a msg_id (unicast, listcast or customizedcast by alias); Umeng reports and cancels task ids only")
	case strings.ContainsFunc(id, isSpaceOrControl):
		return invalid("id", "must not contain white space")
	}
	return nil
}

// isMsgID reports whether id looks like a unicast ("uu"), listcast ("ul")
// or alias ("ua") msg_id.
func isMsgID(id string) bool {
	return strings.HasPrefix(id, "uu") || strings.HasPrefix(id, "ul") || strings.HasPrefix(id, "ua")
}
