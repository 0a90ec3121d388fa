package jpush

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/tuisong/push/provider"
)

// pushAnswer is JPush's answer to an accepted push:
// {"sendno":"18","msg_id":"1828256757"}; both arrive as strings or numbers.
type pushAnswer struct {
	SendNo json.RawMessage `json:"sendno"`
	MsgID  json.RawMessage `json:"msg_id"`
}

// Send delivers r with one call to POST /v3/push. Every check runs before
// the network: they are the checks of Validate, made by the same code.
//
// A request with an IdempotencyKey carries a cid (unless Config.DisableCID
// is set): the same cid for every Send of that key for at least 11 hours
// (up to 23), so that JPush answers a retry of an accepted push with its
// first result and sends nothing again. cids are fetched from
// GET /v3/push/cid ten at a time, before the push that first needs one.
// A cid never stands in the way of a push: when the fetch fails (it is
// tried again a minute later, or an hour after JPush refused it) the push
// is sent without one, and when JPush refuses a push's cid the Send fails
// Temporary and the next try takes another. A failed Send's error carries
// the key's cid (provider.Error.RetryToken, "cid1:…"); a Request that
// brings it back (RetryToken) sends that cid again, so that a retry made
// by another process is deduplicated too: the token, which names the
// latest try's cid, wins over a different one this Client remembers for
// the key. A token of another form, or too old to reuse, is ignored, and
// so is an empty one: the Client then sends the cid it remembers, if any
// (one JPush refused to another process is refused again, and dropped).
//
// The key must name one request: a key sent again with other content or
// another audience is answered with the first push's result and sends
// nothing, as JPush does for a cid.
//
// The receipt's ID is JPush's msg_id (a JSON string or number on the wire),
// Pollable, because Status reads its delivery counts from the Report API;
// Raw is JPush's answer. JPush reports nothing per registration id in an
// accepted answer, so its Failures is always empty (MessageStatus asks
// afterwards). A refusal with code 1011 for registration ids names every
// one of them in the error's Failures: JPush knew none of them.
func (c *Client) Send(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
	if c.unbuilt() {
		return nil, notBuilt(opSend)
	}
	p, err := c.build(r)
	if err != nil {
		return nil, err
	}
	key := ""
	if !c.noCID && r.IdempotencyKey != "" {
		key = r.IdempotencyKey
		if e, ok := parseRetryToken(r.RetryToken); ok {
			c.cids.adopt(key, e, c.now())
		}
	}
	if err := c.takeQuota(opSend); err != nil {
		return nil, c.withRetryToken(key, err)
	}
	body := p.bytes
	start := c.now()
	cid := ""
	if key != "" {
		if e, ok, _ := c.cidFor(ctx, key); ok {
			cid = e.cid
			body = withCID(body, cid)
			// The key's first Send (whose answer may have been lost):
			// JPush files the push under the day of that one.
			if e.since.Before(start) {
				start = e.since
			}
		}
	}
	a, err := c.do(ctx, call{op: opSend, platform: r.Platform, method: http.MethodPost,
		url: c.baseURL + "/v3/push", path: "/v3/push", body: body, tokens: p.tokens})
	if err != nil {
		if cid != "" && refusesCID(err) {
			// JPush refused the cid (expired by its clock, say), not the
			// push: the next try takes another cid and is sent. It may be
			// shown twice, if an earlier try with this cid was delivered;
			// never lost.
			c.cids.forget(key, cid)
			var pe *provider.Error
			errors.As(err, &pe)
			cp := *pe
			cp.Kind, cp.Message = provider.Temporary, "JPush refused the cid, not the push; the next try takes another: "+pe.Message
			cp.RetryToken = ""
			return nil, &cp
		}
		return nil, c.withRetryToken(key, err)
	}
	var pa pushAnswer
	if err := json.Unmarshal(a.raw, &pa); err != nil {
		return nil, c.withRetryToken(key, unexpected(opSend, a.status, "unreadable success answer"))
	}
	id := flexString(pa.MsgID)
	if id == "" || id == "0" {
		return nil, c.withRetryToken(key, unexpected(opSend, a.status, "success answer without msg_id"))
	}
	c.remember(id, start, start.Add(p.ttl))
	return &provider.Receipt{Provider: Name, Platform: r.Platform, ID: id, Pollable: true, Raw: a.raw}, nil
}

// Validate returns the error Send would return for r before any network
// call, or nil when Send would make its call: it runs the same checks,
// through the same code, and throws the body away. That covers
// Request.Validate, the audience and JPush's limits (1000 registration ids,
// 1000 aliases, 20 tags per tag list), the Options in Overrides["jpush"],
// the notification or message and its size, and the times against the
// Client's clock. It makes no network call, has no side effect and is safe
// for concurrent use. ValidateRemote asks JPush as well.
func (c *Client) Validate(r *provider.Request) error {
	if c.unbuilt() {
		return notBuilt(opValidate)
	}
	_, err := c.build(r)
	return err
}

// ValidateRemote runs Validate and then posts the body Send would post to
// POST /v3/push/validate, which JPush checks like a push without sending
// it. A nil error means JPush would accept the push now. Errors are
// classified like Send's, with Op "validate_remote".
func (c *Client) ValidateRemote(ctx context.Context, r *provider.Request) error {
	if c.unbuilt() {
		return notBuilt(opValidateRemote)
	}
	p, err := c.build(r)
	if err != nil {
		return err
	}
	if err := c.takeQuota(opValidateRemote); err != nil {
		return err
	}
	_, err = c.do(ctx, call{op: opValidateRemote, platform: r.Platform, method: http.MethodPost,
		url: c.baseURL + "/v3/push/validate", path: "/v3/push/validate", body: p.bytes, tokens: p.tokens})
	return err
}

// maxRemembered bounds the send times Status keeps; expired entries are
// dropped first.
const maxRemembered = 100_000

// sentMsg is what a Client remembers of a message it sent: when, when
// JPush stops delivering it, and whether Cancel withdrew it.
type sentMsg struct {
	at, deadline time.Time
	canceled     bool
}

// remember notes when msg id was sent and stops being delivered, for
// Status and MessageStatus.
func (c *Client) remember(id string, at, deadline time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sent) >= maxRemembered {
		now := c.now()
		for k, m := range c.sent {
			if now.After(m.deadline) {
				delete(c.sent, k)
			}
		}
		if len(c.sent) >= maxRemembered {
			clear(c.sent)
		}
	}
	if m, ok := c.sent[id]; ok && m.at.Before(at) {
		return // a retry answered with the first push's msg_id: keep when that was sent
	}
	c.sent[id] = sentMsg{at: at, deadline: deadline}
}

// sentMessage returns what this Client remembers of msg id, if it sent it.
func (c *Client) sentMessage(id string) (sentMsg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.sent[id]
	return m, ok
}

// takeQuota takes a token of Config.Quota for a push, or returns the
// RateLimited error of an empty bucket, before any network call.
func (c *Client) takeQuota(op string) error {
	if wait, ok := c.limit.Take(c.now()); !ok {
		return provider.QuotaError(Name, op, "push", c.quota, wait)
	}
	return nil
}
