package getui

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tuisong/push/provider"
)

// A list push is two calls: /push/list/message creates a task and delivers
// nothing, then /push/list/cid (or /push/list/alias) delivers the task to
// its targets. A retry of the push (same IdempotencyKey), after the second
// call failed, makes only the second call again, with the task the first
// try created: a list task delivers to each target once, so a retry of a
// call whose answer was lost reaches nobody twice. The Client keeps each
// key's task in memory, and a failed Send's error carries it
// (provider.Error.RetryToken, "task1:…"): a retry that brings it back
// (provider.Request.RetryToken) reuses the task in any process.
//
// The creating call gets a new random request_id each time. It delivers
// nothing, so a second task cannot show the push twice; and a repeated
// request_id is one Getui may drop ("如果request_id重复,会导致消息丢失",
// its push doc), which would lose the whole push on a retry.

// listTask is a task a list push created, and until when it delivers.
type listTask struct {
	id    string
	until time.Time
	// issued is set on a task IssueRetryToken created for the key's next
	// Send, which takes it as its own (not an earlier try's: see
	// listRefused) and clears it.
	issued bool
}

// listTask returns the task the list push r of key delivers, and whether
// an earlier try of key created it: the one this Client keeps for key (a
// task IssueRetryToken created for this Send is not an earlier try's), or
// one it creates now (newTask). The caller holds key's lock (lockKey).
func (c *Client) listTask(ctx context.Context, r *provider.Request, p *prepared, key string) (listTask, bool, error) {
	if task, ok := c.createdTask(key); ok {
		if task.issued {
			task.issued = false
			c.keepTask(key, task)
			return task, false, nil
		}
		return task, true, nil
	}
	task, err := c.newTask(ctx, r, p, key, false)
	return task, false, err
}

// newTask makes p's creating call for the list push r of key and keeps
// the task it created, marked issued when IssueRetryToken created it.
func (c *Client) newTask(ctx context.Context, r *provider.Request, p *prepared, key string, issued bool) (listTask, error) {
	created, err := c.do(ctx, call{op: opSend, platform: r.Platform, method: http.MethodPost, path: p.path, body: freshRequestID(p.body)})
	if err != nil {
		return listTask{}, err
	}
	id := stringField(created.data, "taskid")
	if id == "" {
		return listTask{}, unexpected(opSend, created.status, "task creation answered without a taskid")
	}
	task := listTask{id: id, until: c.now().Add(p.ttl), issued: issued}
	c.keepTask(key, task)
	return task, nil
}

var _ provider.RetryTokenIssuer = (*Client)(nil)

// IssueRetryToken implements provider.RetryTokenIssuer for list pushes
// (token audiences of more than one cid or alias): it creates the key's
// task now, with the creating call Send would make (it delivers nothing),
// unless the Client keeps one or r.RetryToken names one it can still
// deliver, and returns its token ("task1:…"). The key's next Send then
// makes only the delivering call with that task, so that a retry in any
// process given the token delivers the same task. Other pushes, and a
// request without an IdempotencyKey, have no token (""); a request Send
// would refuse, or a creating call that fails, is the error.
func (c *Client) IssueRetryToken(ctx context.Context, r *provider.Request) (string, error) {
	if c.unbuilt() {
		return "", notBuilt(opSend)
	}
	p, err := c.build(r, c.retriesList(r))
	if err != nil || p.route != routeList || r.IdempotencyKey == "" {
		return "", err
	}
	key := r.IdempotencyKey
	defer c.lockKey(key)()
	if t, ok := parseTaskToken(r.RetryToken); ok {
		c.adoptTask(key, t)
	}
	if t, ok := c.createdTask(key); ok {
		return taskToken(t), nil
	}
	task, err := c.newTask(ctx, r, p, key, true)
	if err != nil {
		return "", err
	}
	return taskToken(task), nil
}

// retriesList reports whether r is a try of a list push: this Client
// keeps a task for its key, or r brings one back (RetryToken). Such a try
// stays a list push however few its targets now (the Service leaves out of
// a retry the devices disabled or unlinked since, down to one): the task
// delivers to each target once, where a single push, with a request_id
// Getui never saw, would show the push again to the devices an earlier
// try whose answer was lost had reached.
func (c *Client) retriesList(r *provider.Request) bool {
	if r == nil || r.IdempotencyKey == "" || (r.Audience.Kind != provider.AudienceTokens && r.Audience.Kind != provider.AudienceAliases) {
		return false
	}
	if _, ok := parseTaskToken(r.RetryToken); ok {
		return true
	}
	_, ok := c.createdTask(r.IdempotencyKey)
	return ok
}

// createdTask returns the task a list push of key created and that can
// still deliver.
func (c *Client) createdTask(key string) (listTask, bool) {
	if key == "" {
		return listTask{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists.Get(key, c.now())
}

// keepTask remembers that the list push of key created t. Tasks that can
// deliver no more are dropped, oldest first, and past maxListKeys keys the
// oldest go whatever their age.
func (c *Client) keepTask(key string, t listTask) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lists.Put(key, t, t.until, c.now())
}

// adoptTask keeps t, the task the latest try of key delivered (in this
// process or another, see taskToken), unless t can deliver no more. It
// replaces a different task this Client remembers for key: the latest
// try, which may have been another process's, is the one that may have
// reached the devices.
func (c *Client) adoptTask(key string, t listTask) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if cur, ok := c.lists.Get(key, now); (ok && cur.id == t.id) || !now.Before(t.until) {
		return
	}
	c.lists.Put(key, t, t.until, now)
}

// taskTokenPrefix starts a RetryToken that carries a list push's task:
// "task1:<delivers until, Unix seconds>:<taskid>".
const taskTokenPrefix = "task1:"

// taskToken is the provider.Error.RetryToken that carries t.
func taskToken(t listTask) string {
	return taskTokenPrefix + strconv.FormatInt(t.until.Unix(), 10) + ":" + t.id
}

// maxTaskIDLen bounds a taskid read back from a RetryToken.
const maxTaskIDLen = 128

// parseTaskToken reads a taskToken; ok is false for anything else (a token
// of another form, or one another program wrote), which Send ignores.
func parseTaskToken(token string) (listTask, bool) {
	rest, ok := strings.CutPrefix(token, taskTokenPrefix)
	if !ok {
		return listTask{}, false
	}
	until, id, ok := strings.Cut(rest, ":")
	if !ok || id == "" || len(id) > maxTaskIDLen {
		return listTask{}, false
	}
	sec, err := strconv.ParseInt(until, 10, 64)
	if err != nil || sec <= 0 {
		return listTask{}, false
	}
	return listTask{id: id, until: time.Unix(sec, 0)}, true
}

// withTaskToken returns err, a failed list push of key, carrying the
// RetryToken of key's task while the Client keeps one, so that the key's
// next try (in any process) delivers that task instead of creating
// another. err is returned as it is when it is no *provider.Error.
func (c *Client) withTaskToken(key string, err error) error {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		return err
	}
	cp := *pe
	cp.RetryToken = ""
	if t, ok := c.createdTask(key); ok {
		cp.RetryToken = taskToken(t)
	}
	return &cp
}

// maxListKeys bounds the keys a Client keeps list tasks for.
const maxListKeys = 200_000

// listRefused is the error of a list push whose delivering call failed
// with err. The key keeps its task unless Getui refused the call for what
// was sent (InvalidRequest, InvalidToken): then the task goes, and when it
// was a task an earlier try created (expired or stopped at Getui, say),
// the error becomes Temporary, so that the next try creates a new task
// and sends. That try may show the push a second time to the devices the
// earlier one reached; it never loses it.
func (c *Client) listRefused(key string, reused bool, err error) error {
	var pe *provider.Error
	if key == "" || !errors.As(err, &pe) || (pe.Kind != provider.InvalidRequest && pe.Kind != provider.InvalidToken) {
		return err
	}
	c.mu.Lock()
	c.lists.Delete(key)
	c.mu.Unlock()
	if !reused || pe.Kind != provider.InvalidRequest {
		return err
	}
	cp := *pe
	cp.Kind = provider.Temporary
	cp.Message = "the task an earlier try created was refused; the next try creates a new one: " + pe.Message
	return &cp
}

// lockKey holds the list pushes of key one at a time and returns the
// release. An empty key is not held.
func (c *Client) lockKey(key string) (unlock func()) {
	if key == "" {
		return func() {}
	}
	c.mu.Lock()
	l, ok := c.keyLocks[key]
	if !ok {
		l = &keyLock{}
		c.keyLocks[key] = l
	}
	l.users++
	c.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		c.mu.Lock()
		if l.users--; l.users == 0 {
			delete(c.keyLocks, key)
		}
		c.mu.Unlock()
	}
}

// keyLock serializes the list pushes of one key; users counts those
// holding or waiting for it.
type keyLock struct {
	mu    sync.Mutex
	users int
}

// freshRequestID returns body, a push body (marshal writes request_id
// first, 32 hex digits), with a new random request_id.
func freshRequestID(body []byte) []byte {
	const prefix = `{"request_id":"`
	if !bytes.HasPrefix(body, []byte(prefix)) || len(body) < len(prefix)+32 {
		return body
	}
	out := bytes.Clone(body)
	copy(out[len(prefix):], RequestID(""))
	return out
}
