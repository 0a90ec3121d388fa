package getui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tuisong/push/provider"
)

// tokenCache holds the auth token every goroutine of a Client shares, and
// the auth call in flight, if any, so that N goroutines needing a token at
// once make one auth call between them.
type tokenCache struct {
	mu     sync.Mutex
	cur    *cachedToken
	flight *tokenFlight
}

// cachedToken keeps the token in a closure, out of reach of printers.
type cachedToken struct {
	value   func() string
	expires time.Time
}

// tokenFlight is one auth call; done is closed when tok or err is set.
type tokenFlight struct {
	done chan struct{}
	tok  *cachedToken
	err  error
}

// invalidate forgets the cached token if it is still tok, so the next
// caller fetches a new one; a token another goroutine already replaced is
// left alone.
func (tc *tokenCache) invalidate(tok string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.cur != nil && tc.cur.value() == tok {
		tc.cur = nil
	}
}

// token returns a token valid for at least TokenRefreshAhead more. When
// there is none it joins the auth call in flight or starts one. The auth
// call runs on its own clock (Config.Timeout), detached from ctx, so a
// caller that gives up does not fail the others waiting for it; the caller
// itself stops waiting when ctx ends, with a Temporary error. When the
// refresh of a token that has not expired yet fails (auth rate limited,
// say), that token is used while it lasts.
func (c *Client) token(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", transportError(opAuth, err, false)
	}
	now := c.now()
	c.tokens.mu.Lock()
	cur := c.tokens.cur
	if cur != nil && now.Before(cur.expires.Add(-c.refresh)) {
		c.tokens.mu.Unlock()
		return cur.value(), nil
	}
	f := c.tokens.flight
	if f == nil {
		f = &tokenFlight{done: make(chan struct{})}
		c.tokens.flight = f
		go c.authenticate(context.WithoutCancel(ctx), f)
	}
	c.tokens.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			if cur != nil && c.now().Before(cur.expires) {
				return cur.value(), nil
			}
			return "", f.err
		}
		return f.tok.value(), nil
	case <-ctx.Done():
		return "", transportError(opAuth, ctx.Err(), false)
	}
}

// Sign returns Getui's auth sign: the lowercase hex SHA-256 of appKey,
// timestamp (milliseconds, as sent) and masterSecret concatenated.
func Sign(appKey, timestamp, masterSecret string) string {
	sum := sha256.Sum256([]byte(appKey + timestamp + masterSecret))
	return hex.EncodeToString(sum[:])
}

type authBody struct {
	Sign      string `json:"sign"`
	Timestamp string `json:"timestamp"`
	AppKey    string `json:"appkey"`
}

type authData struct {
	ExpireTime json.RawMessage `json:"expire_time"`
	Token      string          `json:"token"`
}

// authenticate makes one POST /auth and settles f.
func (c *Client) authenticate(ctx context.Context, f *tokenFlight) {
	tok, err := c.fetchToken(ctx)
	c.tokens.mu.Lock()
	if err == nil {
		c.tokens.cur = tok
	}
	// A failed refresh keeps the old token: token decides whether it
	// still serves.
	c.tokens.flight = nil
	f.tok, f.err = tok, err
	c.tokens.mu.Unlock()
	close(f.done)
}

// fetchToken makes one auth call, when Config.AuthQuota has a token for
// it; otherwise it returns the RateLimited error of the empty bucket.
func (c *Client) fetchToken(ctx context.Context) (*cachedToken, error) {
	if wait, ok := c.authLimit.Take(c.now()); !ok {
		return nil, provider.QuotaError(Name, opAuth, "auth", c.authQuota, wait)
	}
	ts := strconv.FormatInt(c.now().UnixMilli(), 10)
	sign := Sign(c.appKey, ts, c.secret())
	body, err := marshal(authBody{Sign: sign, Timestamp: ts, AppKey: c.appKey})
	if err != nil {
		return nil, err
	}
	a, err := c.exchange(ctx, call{op: opAuth, method: http.MethodPost, path: "/auth", body: body, secrets: []string{sign}}, "")
	if err != nil {
		return nil, authError(err)
	}
	var d authData
	if json.Unmarshal(a.data, &d) != nil || d.Token == "" {
		return nil, &provider.Error{Provider: Name, Op: opAuth, Kind: provider.Unknown, HTTPStatus: a.status,
			Message: "auth answer without a token"}
	}
	ms, perr := strconv.ParseInt(flexString(d.ExpireTime), 10, 64)
	if perr != nil || ms <= 0 {
		return nil, &provider.Error{Provider: Name, Op: opAuth, Kind: provider.Unknown, HTTPStatus: a.status,
			Message: "auth answer without a readable expire_time"}
	}
	token := d.Token
	return &cachedToken{value: func() string { return token }, expires: time.UnixMilli(ms)}, nil
}

// authError adjusts the kind of a failed auth call. Auth has no effect
// beyond issuing a token, so a lost answer is Temporary, not Indeterminate.
// Auth carries nothing of the caller's request, so a refusal Getui does not
// explain as a rate or a passing fault is a credentials problem: Auth.
func authError(err error) error {
	switch provider.KindOf(err) {
	case provider.Indeterminate:
		return withKind(err, provider.Temporary, "")
	case provider.InvalidRequest, provider.InvalidToken, provider.Unknown:
		return withKind(err, provider.Auth, "")
	}
	return err
}
