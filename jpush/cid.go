package jpush

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tuisong/push/internal/expiring"
	"github.com/tuisong/push/provider"
)

// JPush deduplicates pushes by cid: a push that carries the cid of an
// earlier successful push answers that push's result again and sends
// nothing. cids come from GET /v3/push/cid and are valid for one day.
// Send gives each idempotency key a cid and sends it again with every
// retry of the key, so that a push whose answer was lost (Indeterminate)
// and is sent again reaches nobody twice.
//
// A cid only spares a retry a second showing; it never stands in the way
// of a push. When no cid can be had (the fetch failed, or JPush refused
// one), the push goes without: it cannot be deduplicated, but it is sent.
const (
	// cidBatch is how many cids one GET /v3/push/cid asks for: the most
	// JPush issues to an app without a VIP plan.
	cidBatch = 10
	// cidFresh is how old a fetched cid may be when a new key takes it.
	cidFresh = 12 * time.Hour
	// cidKeep is how long after its fetch a key keeps its cid, a little
	// less than the day JPush keeps it valid: a key's retries are
	// deduplicated for at least cidKeep-cidFresh (11 hours) after the key
	// took its cid. A key sent again later gets a new cid.
	cidKeep = 23 * time.Hour
	// cidBackoff is how long Send pushes without fetching cids after a
	// fetch failed; cidBackoffRefused after JPush refused the fetch
	// itself (an app whose credentials may not call the API).
	cidBackoff        = time.Minute
	cidBackoffRefused = time.Hour
	// maxCIDKeys bounds the keys a Client keeps cids for; past it the
	// oldest keys go first.
	maxCIDKeys = 200_000
)

// issuedCID is a cid and when it was fetched.
type issuedCID struct {
	cid string
	at  time.Time
}

// keyCID is the cid a key holds, and when the key took it (the first
// Send of the key, as near as this Client can tell).
type keyCID struct {
	issuedCID
	since time.Time
}

// cidBook hands out cids: one per idempotency key, from a pool fetched
// cidBatch at a time. It lives in memory; a failed Send hands the key's
// cid to its caller (provider.Error.RetryToken), and a retry that brings
// it back (provider.Request.RetryToken) sends it again, in whatever
// process it runs.
type cidBook struct {
	mu     sync.Mutex
	pool   []issuedCID           // fetched and not handed out, oldest first
	byKey  *expiring.Map[keyCID] // each key's cid, until cidKeep after its fetch
	offTil time.Time             // no fetch before this (a fetch failed)
}

// cidFor returns the cid of idempotency key key, when it was fetched and
// when the key took it, fetching new cids when the pool has none fresh
// enough. ok is false when no cid can be had now: the push goes without
// one. err is the fetch's error when this call's fetch failed (none is
// made for a while after one failed: ok is then false with no error).
func (c *Client) cidFor(ctx context.Context, key string) (_ keyCID, ok bool, err error) {
	now := c.now()
	if e, ok := c.cids.take(key, now); ok {
		return e, true, nil
	}
	if !c.cids.mayFetch(now) {
		return keyCID{}, false, nil
	}
	fetched, err := c.fetchCIDs(ctx)
	if err != nil {
		wait := cidBackoff
		if k := provider.KindOf(err); k == provider.Auth || k == provider.InvalidRequest {
			wait = cidBackoffRefused
		}
		c.cids.pause(c.now().Add(wait))
		c.log.LogAttrs(ctx, slog.LevelWarn, "jpush: no cid for this push, it is sent without (a retry of it cannot be deduplicated)",
			slog.String("error", err.Error()), slog.Duration("next_fetch_in", wait))
		return keyCID{}, false, err
	}
	return c.cids.add(key, fetched, c.now()), true, nil
}

// take returns key's cid, or gives key the oldest fresh cid of the pool;
// ok is false when the pool has none.
func (b *cidBook) take(key string, now time.Time) (keyCID, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.keys().Get(key, now); ok {
		return e, true
	}
	for len(b.pool) > 0 {
		e := b.pool[0]
		b.pool = b.pool[1:]
		if now.Sub(e.at) < cidFresh {
			return b.keepLocked(key, e, now), true
		}
	}
	return keyCID{}, false
}

// add pools fetched and returns key's cid: the one key got meanwhile
// (another Send of the same key fetched too), or the first of fetched.
func (b *cidBook) add(key string, fetched []issuedCID, now time.Time) keyCID {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.keys().Get(key, now); ok {
		b.pool = append(b.pool, fetched...)
		return e
	}
	b.pool = append(b.pool, fetched[1:]...)
	return b.keepLocked(key, fetched[0], now)
}

// keys returns byKey, made on first use. Its keys whose cids are too old
// to reuse are dropped, oldest first, and past maxCIDKeys keys the oldest
// go whatever their age.
func (b *cidBook) keys() *expiring.Map[keyCID] {
	if b.byKey == nil {
		b.byKey = expiring.New[keyCID](maxCIDKeys)
	}
	return b.byKey
}

// keepLocked records e as key's cid from now on.
func (b *cidBook) keepLocked(key string, e issuedCID, now time.Time) keyCID {
	k := keyCID{e, now}
	b.keys().Put(key, k, e.at.Add(cidKeep), now)
	return k
}

// forget drops key's cid, which JPush refused: the key's next Send takes
// another. The pooled cids fetched no later than it go too: JPush refuses
// a cid it no longer keeps (its day ran out by JPush's clock, or JPush
// lost it), and those of its batch would each be refused in turn, every
// refusal a spent try of some push, where a fresh fetch costs one call.
func (b *cidBook) forget(key, cid string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.keys().Get(key, time.Time{})
	if !ok || e.cid != cid {
		return
	}
	b.byKey.Delete(key)
	kept := b.pool[:0]
	for _, p := range b.pool {
		if p.at.After(e.at) {
			kept = append(kept, p)
		}
	}
	clear(b.pool[len(kept):])
	b.pool = kept
}

// peek returns key's cid without giving it one.
func (b *cidBook) peek(key string, now time.Time) (keyCID, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.keys().Get(key, now)
}

// adopt gives key the cid of e, which the latest try of key (in this
// process or another) sent, unless e's is too old to reuse. It replaces
// a different cid this Client remembers for key: the latest try, which
// may have been another process's, is the one whose push may have been
// delivered.
func (b *cidBook) adopt(key string, e keyCID, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur, ok := b.keys().Get(key, now); (ok && cur.cid == e.cid) || !now.Before(e.at.Add(cidKeep)) {
		return
	}
	b.keys().Put(key, e, e.at.Add(cidKeep), now)
}

// cidTokenPrefix starts a RetryToken that carries a cid:
// "cid1:<fetched, Unix seconds>:<taken, Unix seconds>:<cid>".
const cidTokenPrefix = "cid1:"

// retryToken is the provider.Error.RetryToken that carries e: the cid,
// when it was fetched and when the key took it.
func retryToken(e keyCID) string {
	return cidTokenPrefix + strconv.FormatInt(e.at.Unix(), 10) + ":" + strconv.FormatInt(e.since.Unix(), 10) + ":" + e.cid
}

// parseRetryToken reads a retryToken; ok is false for anything else (a
// token of another form, or one another program wrote), which Send
// ignores.
func parseRetryToken(token string) (e keyCID, ok bool) {
	rest, ok := strings.CutPrefix(token, cidTokenPrefix)
	if !ok {
		return keyCID{}, false
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 || parts[2] == "" || len(parts[2]) > maxCIDLen {
		return keyCID{}, false
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	since, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || at <= 0 || since < at {
		return keyCID{}, false
	}
	return keyCID{issuedCID{parts[2], time.Unix(at, 0)}, time.Unix(since, 0)}, true
}

// withRetryToken returns err, a failed Send of key, carrying the
// RetryToken of key's cid, so that the key's next try (in any process)
// sends that cid again. err is returned as it is when it is no
// *provider.Error or key holds no cid.
func (c *Client) withRetryToken(key string, err error) error {
	var pe *provider.Error
	if key == "" || !errors.As(err, &pe) {
		return err
	}
	e, ok := c.cids.peek(key, c.now())
	if !ok {
		return err
	}
	cp := *pe
	cp.RetryToken = retryToken(e)
	return &cp
}

var _ provider.RetryTokenIssuer = (*Client)(nil)

// IssueRetryToken implements provider.RetryTokenIssuer: the RetryToken
// ("cid1:…") of the cid Send will give r, taken now for r's
// IdempotencyKey as Send would take it (fetched when the pool has none
// fresh), so that the caller can store it before the push is sent. A
// readable r.RetryToken is adopted first, as Send adopts it. It is ""
// when r has no key, Config.DisableCID is set or no cid can be had now
// (the push then goes without, as Send's would). The error is the cid
// fetch's, when it failed: the push goes without a cid, and the caller
// (push.Service logs a warning naming the delivery) learns why; fetches
// then pause for a while, during which the token is "" with no error.
func (c *Client) IssueRetryToken(ctx context.Context, r *provider.Request) (string, error) {
	if c.unbuilt() {
		return "", notBuilt(opSend)
	}
	if c.noCID || r.IdempotencyKey == "" {
		return "", nil
	}
	key := r.IdempotencyKey
	if e, ok := parseRetryToken(r.RetryToken); ok {
		c.cids.adopt(key, e, c.now())
	}
	e, ok, err := c.cidFor(ctx, key)
	if !ok {
		return "", err
	}
	return retryToken(e), nil
}

// mayFetch reports whether a fetch may be made at now.
func (b *cidBook) mayFetch(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !now.Before(b.offTil)
}

// pause holds fetches until until.
func (b *cidBook) pause(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.offTil = until
}

// maxCIDLen bounds a cid JPush hands out ({appkey}-{uuid} is 61 bytes).
const maxCIDLen = 128

// fetchCIDs asks GET /v3/push/cid for cidBatch cids. Its errors say so
// ("GET /v3/push/cid: …"); Send pushes without a cid after one.
func (c *Client) fetchCIDs(ctx context.Context) ([]issuedCID, error) {
	a, err := c.do(ctx, call{op: opSend, method: http.MethodGet,
		url: c.baseURL + "/v3/push/cid?count=" + strconv.Itoa(cidBatch) + "&type=push", path: "/v3/push/cid"})
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) {
			cp := *pe
			cp.Message = "GET /v3/push/cid: " + pe.Message
			return nil, &cp
		}
		return nil, err
	}
	var ans struct {
		CIDList []string `json:"cidlist"`
	}
	_ = json.Unmarshal(a.raw, &ans)
	now := c.now()
	out := make([]issuedCID, 0, len(ans.CIDList))
	for _, cid := range ans.CIDList {
		if cid == "" || len(cid) > maxCIDLen {
			continue
		}
		out = append(out, issuedCID{cid, now})
	}
	if len(out) == 0 {
		return nil, &provider.Error{Provider: Name, Op: opSend, Kind: provider.Unknown, HTTPStatus: a.status,
			Message: "GET /v3/push/cid: the answer holds no usable cid"}
	}
	return out, nil
}

// refusesCID reports whether err is JPush refusing the push's cid (an
// InvalidRequest whose message names it), rather than the push.
func refusesCID(err error) bool {
	var pe *provider.Error
	return errors.As(err, &pe) && pe.Kind == provider.InvalidRequest && strings.Contains(strings.ToLower(pe.Message), "cid")
}

// withCID returns the push body b (a JSON object) with the member "cid"
// first.
func withCID(b []byte, cid string) []byte {
	q, _ := json.Marshal(cid) // a string always encodes
	out := make([]byte, 0, len(b)+len(q)+8)
	out = append(out, `{"cid":`...)
	out = append(out, q...)
	if len(b) > 2 {
		out = append(out, ',')
	}
	return append(out, b[1:]...)
}
