package getui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tuisong/push/provider"
)

// Send delivers r. Every check runs before the network: they are the
// checks of Validate, made by the same code. The calls, after the auth call
// a fresh or expiring token needs, are:
//
//	1 cid             POST /push/single/cid
//	2–200 cids        POST /push/list/message (creates a task, delivers
//	                  nothing), then POST /push/list/cid
//	1 alias           POST /push/single/alias
//	2–200 aliases     POST /push/list/message, then POST /push/list/alias
//	broadcast         POST /push/tag, phone_type = the platform
//	                  (POST /push/all with Options.AllDevices)
//	filter            POST /push/tag
//
// Each route makes one delivering call. The pushes to all and to a tag
// take a token of Config.TaskQuota and of Config.TaskRate first; with
// none left, Send makes no call and returns a RateLimited error. A call Getui refuses with 10001
// (token expired) is repeated once after a new auth call.
//
// Single, task and broadcast pushes carry request_id RequestID(key), so
// that Getui drops a retry of a push it took; a retry Getui refuses
// because it saw the request_id before returns a receipt without ID (see
// repeatedReceipt). A list push's creating call
// carries a new random request_id instead (it delivers nothing, and a
// dropped repeat would lose the push); a retry of the key by this Client
// reuses the task it created and makes only the delivering call, which a
// list task answers without delivering twice, and stays a list push when
// it has fewer targets, down to one. A failed list push's error
// carries its task (provider.Error.RetryToken, "task1:…"), and a Request
// that brings it back (RetryToken) reuses the task, so that a retry by
// another process does not create a second one: the token, which names
// the latest try's task, wins over a different one this Client remembers
// for the key. A token of another form, or of a task past its time to
// live, is ignored, and so is an empty one (the Client then uses the task
// it remembers, if any).
//
// The receipt's ID is Getui's taskid. Single pushes are not pollable
// (Getui reports tasks only); list, tag and broadcast pushes are. Raw is
// the answer of the delivering call. Failures lists, in token order, the
// cids whose per-cid status is not a success ("successed_…").
func (c *Client) Send(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
	if c.unbuilt() {
		return nil, notBuilt(opSend)
	}
	p, err := c.build(r, c.retriesList(r))
	if err != nil {
		return nil, err
	}
	var a *answer
	taskID := ""
	switch p.route {
	case routeList:
		key := r.IdempotencyKey
		// One list push of a key at a time: a second Send of the key
		// waits, then reuses the task the first created.
		defer c.lockKey(key)()
		if t, ok := parseTaskToken(r.RetryToken); ok {
			c.adoptTask(key, t)
		}
		task, reused, err := c.listTask(ctx, r, p, key)
		if err != nil {
			return nil, err
		}
		taskID = task.id
		lb := listBody{TaskID: taskID}
		if p.byCID {
			lb.Audience.CID = p.targets
		} else {
			lb.Audience.Alias = p.targets
		}
		body, err := marshal(lb)
		if err != nil {
			return nil, c.withTaskToken(key, err)
		}
		a, err = c.do(ctx, call{op: opSend, platform: r.Platform, method: http.MethodPost, path: p.listPath, body: body, byCID: p.byCID})
		if err != nil {
			return nil, c.withTaskToken(key, c.listRefused(key, reused, err))
		}
	default:
		if now := c.now(); p.route == routeTask {
			if wait, ok := provider.TakeAll(now, c.taskLimit, c.rateLimit); !ok {
				return nil, provider.QuotaError(Name, opSend, "push to all or a tag", c.spentTaskQuota(now), wait)
			}
		}
		a, err = c.do(ctx, call{op: opSend, platform: r.Platform, method: http.MethodPost, path: p.path, body: p.body, byCID: p.oneToken})
		if err != nil {
			if r.IdempotencyKey != "" && repeatsRequestID(err) {
				return repeatedReceipt(r, err), nil
			}
			return nil, err
		}
	}
	id, results := readResults(a.data)
	if taskID != "" {
		id = taskID
	}
	if id == "" {
		return nil, unexpected(opSend, a.status, "success answer without a taskid")
	}
	rc := &provider.Receipt{Provider: Name, Platform: r.Platform, ID: id, Pollable: p.route != routeSingle, Raw: a.raw}
	if r.Audience.Kind == provider.AudienceTokens {
		for _, cid := range distinct(r.Audience.Tokens) {
			st, ok := results[cid]
			if !ok || (strings.HasPrefix(st, "successed") && st != statusIgnored) {
				continue
			}
			kind := provider.Unknown
			if st == statusIgnored || blamesTarget(st) {
				// successed_ignore: the device has not been active for 90
				// days, and Getui sent nothing (its cid lapses after three
				// months without use), as JPush's 1011 for a device inactive
				// for 255 days.
				kind = provider.InvalidToken
			}
			rc.Failures = append(rc.Failures, provider.TokenFailure{Token: cid, Kind: kind, Message: st})
		}
	}
	if rc.Pollable {
		start := c.now()
		if !p.start.IsZero() {
			start = p.start
		}
		c.remember(id, p.start, start.Add(p.ttl))
	}
	return rc, nil
}

// repeatedReceipt is the receipt of a push Getui refused because its
// request_id, derived from r's IdempotencyKey, was used before: an earlier
// try of the key reached Getui, which took it (its answer was lost, or
// this is a retry after the process died), so the push is sent and a
// retry could only fail the same way. Getui's answer names no task, so
// the receipt has no ID and cannot be polled, even for a tag or broadcast
// push: it is final as accepted. Raw is Getui's refusal.
func repeatedReceipt(r *provider.Request, err error) *provider.Receipt {
	var pe *provider.Error
	errors.As(err, &pe)
	raw, _ := json.Marshal(struct {
		Code    json.Number `json:"code"`
		Message string      `json:"msg"`
	}{json.Number(pe.Code), pe.Message})
	return &provider.Receipt{Provider: Name, Platform: r.Platform, Raw: raw}
}

// spentTaskQuota names the quota a push to all or a tag was refused by at
// now: the day's when its bucket is empty, else the minute's. (The wait
// alone cannot tell: a refused call's wait is booked behind the others'.)
func (c *Client) spentTaskQuota(now time.Time) provider.Quota {
	if !c.taskLimit.Ready(now) {
		return c.taskQuota
	}
	return c.taskRate
}

// Validate returns the error Send would return for r before any network
// call, or nil when Send would make its calls: it runs the same code and
// throws the bodies away. That covers Request.Validate, the audience and
// Getui's limits, the Options in Overrides["getui"], the content and its
// sizes, and the times against the Client's clock. It makes no network
// call (no auth call either), has no side effect and is safe for
// concurrent use.
func (c *Client) Validate(r *provider.Request) error {
	if c.unbuilt() {
		return notBuilt(opValidate)
	}
	_, err := c.build(r, false)
	return err
}

// statusIgnored is Getui's per-cid status for a device inactive for 90
// days: a success answer, but nothing was sent to it.
const statusIgnored = "successed_ignore"

// readResults reads a push answer's data: {taskid: {cid: status}} for
// single and list pushes, {"taskid": id} for task pushes.
func readResults(data json.RawMessage) (string, map[string]string) {
	if id := stringField(data, "taskid"); id != "" {
		return id, nil
	}
	var m map[string]map[string]string
	if json.Unmarshal(data, &m) != nil || len(m) != 1 {
		return "", nil
	}
	for id, res := range m {
		return id, res
	}
	return "", nil
}

// stringField returns data[key] when data is an object holding a string
// (or number) there.
func stringField(data json.RawMessage, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	return flexString(m[key])
}

// maxRemembered bounds the tasks Status keeps; expired entries go first.
const maxRemembered = 100_000

// remember notes when task id stops being delivered, for Status.
func (c *Client) remember(id string, start, deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sent) >= maxRemembered {
		now := c.now()
		for k, t := range c.sent {
			if now.After(t.deadline) {
				delete(c.sent, k)
			}
		}
		if len(c.sent) >= maxRemembered {
			clear(c.sent)
		}
	}
	c.sent[id] = &sentTask{start: start, deadline: deadline}
}

// task returns what this Client knows of task id.
func (c *Client) task(id string) (sentTask, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.sent[id]
	if !ok {
		return sentTask{}, false
	}
	return *t, true
}
