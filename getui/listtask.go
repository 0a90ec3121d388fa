package getui

import (
	"bytes"
	"errors"
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

// listTask is the task a list push of one key created, and until when it
// can still deliver (its time to live).
type listTask struct {
	id    string
	until time.Time
}

// createdTask returns the task a list push of key created and that can
// still deliver.
func (c *Client) createdTask(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.lists[key]
	if !ok || !c.now().Before(t.until) {
		return "", false
	}
	return t.id, true
}

// keepTask remembers that the list push of key created task id, which
// delivers until until. At most maxRemembered keys are kept: past that,
// the expired go first, then all.
func (c *Client) keepTask(key, id string, until time.Time) {
	if key == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lists) >= maxRemembered {
		now := c.now()
		for k, t := range c.lists {
			if !now.Before(t.until) {
				delete(c.lists, k)
			}
		}
		if len(c.lists) >= maxRemembered {
			clear(c.lists)
		}
	}
	c.lists[key] = listTask{id, until}
}

// forgetTask drops the task of key after a delivering call Getui refused:
// the next retry creates a new one.
func (c *Client) forgetTask(key string, err error) {
	var pe *provider.Error
	if key == "" || !errors.As(err, &pe) || pe.Kind == provider.Indeterminate || pe.Kind == provider.Temporary {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.lists, key)
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
