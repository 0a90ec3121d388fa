package getui

import (
	"bytes"
	"errors"
	"sync"
	"time"

	"github.com/tuisong/push/provider"
)

// A list push is two calls: /push/list/message creates a task and delivers
// nothing, then /push/list/cid (or /push/list/alias) delivers the task to
// its targets. A retry of the push (same IdempotencyKey) by this Client,
// after the second call failed, makes only the second call again, with the
// task it created: a list task delivers to each target once, so a retry of
// a call whose answer was lost reaches nobody twice.
//
// The creating call gets a new random request_id each time. It delivers
// nothing, so a second task cannot show the push twice; and a repeated
// request_id is one Getui may drop ("如果request_id重复,会导致消息丢失",
// its push doc), which would lose the whole push on a retry.

// createdTask returns the task a list push of key created and that can
// still deliver.
func (c *Client) createdTask(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists.Get(key, c.now())
}

// keepTask remembers that the list push of key created task id, which
// delivers until until. Tasks that can deliver no more are dropped, oldest
// first, and past maxListKeys keys the oldest go whatever their age.
func (c *Client) keepTask(key, id string, until time.Time) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lists.Put(key, id, until, c.now())
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
