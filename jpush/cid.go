package jpush

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tuisong/push/provider"
)

// JPush deduplicates pushes by cid: a push that carries the cid of an
// earlier successful push answers that push's result again and sends
// nothing. cids come from GET /v3/push/cid and are valid for one day.
// Send gives each idempotency key a cid and sends it again with every
// retry of the key, so that a push whose answer was lost (Indeterminate)
// and is sent again reaches nobody twice.
const (
	// cidBatch is how many cids one GET /v3/push/cid asks for: the most
	// JPush issues to an app without a VIP plan.
	cidBatch = 10
	// cidFresh is how old a fetched cid may be when a new key takes it,
	// so that it stays valid for retries of that key for at least
	// cidLifetime-cidFresh.
	cidFresh = 12 * time.Hour
	// cidKeep is how long a key keeps its cid: a little less than the
	// day JPush keeps it valid. A key sent again later gets a new cid.
	cidKeep = 23 * time.Hour
)

// issuedCID is a cid and when it was fetched.
type issuedCID struct {
	cid string
	at  time.Time
}

// cidBook hands out cids: one per idempotency key, from a pool fetched
// cidBatch at a time. It lives in memory: a retry in another process (or
// after a restart) gets a new cid, and JPush cannot tell it is a retry.
type cidBook struct {
	mu    sync.Mutex
	pool  []issuedCID // fetched and not handed out, oldest first
	byKey map[string]issuedCID
}

// cidFor returns the cid of idempotency key key, fetching new cids when
// the pool has none fresh enough.
func (c *Client) cidFor(ctx context.Context, key string) (string, error) {
	if cid, ok := c.cids.take(key, c.now()); ok {
		return cid, nil
	}
	fetched, err := c.fetchCIDs(ctx)
	if err != nil {
		return "", err
	}
	return c.cids.add(key, fetched, c.now()), nil
}

// take returns key's cid, or gives key the oldest fresh cid of the pool;
// ok is false when the pool has none.
func (b *cidBook) take(key string, now time.Time) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.byKey[key]; ok && now.Sub(e.at) < cidKeep {
		return e.cid, true
	}
	for len(b.pool) > 0 {
		e := b.pool[0]
		b.pool = b.pool[1:]
		if now.Sub(e.at) < cidFresh {
			b.keepLocked(key, e, now)
			return e.cid, true
		}
	}
	return "", false
}

// add pools fetched and returns key's cid: the one key got meanwhile
// (another Send of the same key fetched too), or the first of fetched.
func (b *cidBook) add(key string, fetched []issuedCID, now time.Time) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.byKey[key]; ok && now.Sub(e.at) < cidKeep {
		b.pool = append(b.pool, fetched...)
		return e.cid
	}
	b.keepLocked(key, fetched[0], now)
	b.pool = append(b.pool, fetched[1:]...)
	return fetched[0].cid
}

// keepLocked records e as key's cid. The book keeps at most
// maxRemembered keys: past that, the keys whose cids are too old to reuse
// go first, then all.
func (b *cidBook) keepLocked(key string, e issuedCID, now time.Time) {
	if b.byKey == nil {
		b.byKey = make(map[string]issuedCID)
	}
	if len(b.byKey) >= maxRemembered {
		for k, v := range b.byKey {
			if now.Sub(v.at) >= cidKeep {
				delete(b.byKey, k)
			}
		}
		if len(b.byKey) >= maxRemembered {
			clear(b.byKey)
		}
	}
	b.byKey[key] = e
}

// maxCIDLen bounds a cid JPush hands out ({appkey}-{uuid} is 61 bytes).
const maxCIDLen = 128

// fetchCIDs asks GET /v3/push/cid for cidBatch cids. It pushes nothing, so
// a failure of any kind, a lost answer included, is Temporary: the Send
// that needed it stops before its push and can be made again.
func (c *Client) fetchCIDs(ctx context.Context) ([]issuedCID, error) {
	a, err := c.do(ctx, call{op: opSend, method: http.MethodGet,
		url: c.baseURL + "/v3/push/cid?count=" + strconv.Itoa(cidBatch) + "&type=push", path: "/v3/push/cid"})
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Kind == provider.Indeterminate {
			cp := *pe
			cp.Kind, cp.Message = provider.Temporary, "cid request sent, answer lost; nothing was pushed"
			return nil, &cp
		}
		return nil, err
	}
	var ans struct {
		CIDList []string `json:"cidlist"`
	}
	if err := json.Unmarshal(a.raw, &ans); err != nil || len(ans.CIDList) == 0 {
		return nil, &provider.Error{Provider: Name, Op: opSend, Kind: provider.Temporary, HTTPStatus: a.status,
			Message: "GET /v3/push/cid answered without a cidlist; nothing was pushed"}
	}
	now := c.now()
	out := make([]issuedCID, 0, len(ans.CIDList))
	for _, cid := range ans.CIDList {
		if cid == "" || len(cid) > maxCIDLen {
			continue
		}
		out = append(out, issuedCID{cid, now})
	}
	if len(out) == 0 {
		return nil, &provider.Error{Provider: Name, Op: opSend, Kind: provider.Temporary, HTTPStatus: a.status,
			Message: "GET /v3/push/cid answered without a usable cid; nothing was pushed"}
	}
	return out, nil
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
