package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Message is a push to the devices of one or many users (the brief's POST
// /api/v1.1/user/push_message).
type Message struct {
	UserNums []string
	Title    string
	Content  string
	// Extra is delivered to the app with the notification, for the action
	// on tap. Stored as a JSON object in extra_params_string.
	Extra map[string]string
	// DedupeKey makes Push idempotent: a second Push with the same key
	// returns the first push message and sends nothing.
	DedupeKey string
	// ExpireAt is when vendors stop trying; zero means now + Config.Expiry.
	ExpireAt time.Time
}

// Broadcast is a push to every device of a platform of one provider.
type Broadcast struct {
	Platform  string // "ios" or "android"
	Provider  string // "" means the default provider
	Title     string
	Content   string
	Extra     map[string]string
	DedupeKey string
	ExpireAt  time.Time
}

// Result reports what Push or Broadcast did. Vendor failures are reported
// here per delivery, not as the error of the call: once the push message is
// recorded, it is the record that tells the truth, and pending deliveries
// are retried by the message center Scanner.
type Result struct {
	PushMessageID int64
	// Duplicate is true when the DedupeKey matched an existing push; that
	// push's id is returned and nothing was sent.
	Duplicate  bool
	Devices    int // distinct tokens targeted
	Deliveries []DeliveryOutcome
	// Skipped counts devices whose push_platform names no configured
	// provider; they were not pushed to.
	Skipped int
}

// DeliveryOutcome is the state of one delivery after Push tried it.
type DeliveryOutcome struct {
	DeliveryID int64
	Provider   string
	Platform   string
	Tokens     int
	State      registry.DeliveryState
	ReceiptID  string
	// Err is the vendor error of the last attempt, if any.
	Err error
}

// Accepted, Pending and Failed count deliveries by state.
func (r *Result) Accepted() int { return r.count(registry.DeliveryAccepted, registry.DeliveryDone) }

// Pending counts deliveries left for a retry.
func (r *Result) Pending() int { return r.count(registry.DeliveryPending) }

// Failed counts deliveries that failed for good.
func (r *Result) Failed() int { return r.count(registry.DeliveryFailed) }

func (r *Result) count(states ...registry.DeliveryState) int {
	n := 0
	for _, d := range r.Deliveries {
		for _, s := range states {
			if d.State == s {
				n++
			}
		}
	}
	return n
}

// FirstError returns the error of the first failed delivery, or nil.
func (r *Result) FirstError() error {
	for _, d := range r.Deliveries {
		if d.State == registry.DeliveryFailed && d.Err != nil {
			return d.Err
		}
	}
	return nil
}

// Push records a push message to the active devices of m.UserNums, then
// sends it: tokens are grouped by provider and platform and sent in chunks
// of each provider's MaxTokens, one delivery row per chunk. The message and
// its deliveries are committed before any vendor call, so a crash loses
// nothing: the Scanner finishes whatever this call did not.
//
// Push returns ErrNoDevices (and records nothing) when no user has an
// active device, and a *FieldError for bad input. Vendor failures do not
// fail the call; see Result.
func (s *Service) Push(ctx context.Context, m Message) (*Result, error) {
	users, err := normalizeUsers(m.UserNums)
	if err != nil {
		return nil, err
	}
	extra, err := encodeExtra(m.Extra)
	if err != nil {
		return nil, err
	}
	if err := checkText(m.Title, m.Content); err != nil {
		return nil, err
	}
	now := s.now()
	if r, ok, err := s.existing(ctx, m.DedupeKey); ok || err != nil {
		return r, err
	}

	type group struct{ provider, platform string }
	tokens := map[group][]string{}
	seen := map[group]map[string]bool{}
	skipped := 0
	for after := int64(0); ; {
		page, err := s.store.ListTargets(ctx, registry.TargetQuery{UserNums: users, AfterUserDeviceID: after})
		if err != nil {
			return nil, fmt.Errorf("push: list targets: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, t := range page {
			name := t.PushPlatform
			if name == "" {
				name = s.def
			}
			if _, ok := s.providers[name]; !ok {
				skipped++
				continue
			}
			g := group{name, t.Platform}
			if seen[g] == nil {
				seen[g] = map[string]bool{}
			}
			if !seen[g][t.Token] {
				seen[g][t.Token] = true
				tokens[g] = append(tokens[g], t.Token)
			}
		}
		after = page[len(page)-1].UserDeviceID
	}
	if skipped > 0 {
		s.log.LogAttrs(ctx, slog.LevelWarn, "devices skipped: push_platform names no configured provider",
			slog.Int("devices", skipped))
	}
	if len(tokens) == 0 {
		return nil, ErrNoDevices
	}

	msg := &registry.PushMessage{
		Title: m.Title, Content: m.Content, Extra: extra, PushType: registry.PushTypeUsers,
		DedupeKey: m.DedupeKey, ExpireAt: s.expireAt(now, m.ExpireAt),
	}
	nonce := newNonce()
	claim := newNonce()
	var ds []*registry.Delivery
	devices := 0
	for _, name := range s.names {
		for _, pl := range provider.Platforms() {
			toks := tokens[group{name, string(pl)}]
			devices += len(toks)
			max := s.providers[name].Capabilities(pl).MaxTokens
			for seq := 0; len(toks) > 0; seq++ {
				n := min(max, len(toks))
				ds = append(ds, s.newDelivery(name, string(pl), seq, registry.AudienceTokens, toks[:n:n],
					fmt.Sprintf("%s-%d", nonce, len(ds)), claim, now, msg.ExpireAt))
				toks = toks[n:]
			}
		}
	}
	return s.record(ctx, msg, ds, devices, skipped)
}

// Broadcast records and sends a push to every device of b.Platform through
// the provider's broadcast cast. It needs no tokens.
func (s *Service) Broadcast(ctx context.Context, b Broadcast) (*Result, error) {
	pl, err := provider.ParsePlatform(b.Platform)
	if err != nil {
		return nil, invalid("platform", "must be %q or %q, got %q", provider.IOS, provider.Android, b.Platform)
	}
	p, err := s.Provider(b.Provider)
	if err != nil {
		return nil, invalid("provider", "%v", err)
	}
	if !p.Capabilities(pl).Supports(provider.AudienceBroadcast) {
		return nil, invalid("provider", "%q cannot broadcast to %s", p.Name(), pl)
	}
	extra, err := encodeExtra(b.Extra)
	if err != nil {
		return nil, err
	}
	if err := checkText(b.Title, b.Content); err != nil {
		return nil, err
	}
	if r, ok, err := s.existing(ctx, b.DedupeKey); ok || err != nil {
		return r, err
	}
	now := s.now()
	msg := &registry.PushMessage{
		Title: b.Title, Content: b.Content, Extra: extra, PushType: registry.PushTypeBroadcast,
		DedupeKey: b.DedupeKey, ExpireAt: s.expireAt(now, b.ExpireAt),
	}
	d := s.newDelivery(p.Name(), string(pl), 0, registry.AudienceBroadcast, nil, newNonce()+"-0", newNonce(), now, msg.ExpireAt)
	return s.record(ctx, msg, []*registry.Delivery{d}, 0, 0)
}

// existing returns the result for a push already recorded under key.
func (s *Service) existing(ctx context.Context, key string) (*Result, bool, error) {
	if key == "" {
		return nil, false, nil
	}
	m, err := s.store.GetPushMessageByDedupeKey(ctx, key)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("push: look up dedupe key: %w", err)
	}
	r := &Result{PushMessageID: m.ID, Duplicate: true}
	ds, err := s.store.ListDeliveries(ctx, m.ID)
	if err != nil {
		return nil, false, fmt.Errorf("push: list deliveries: %w", err)
	}
	for i := range ds {
		r.Devices += len(ds[i].Tokens)
		r.Deliveries = append(r.Deliveries, outcomeOf(&ds[i], nil))
	}
	return r, true, nil
}

// record commits the message and its deliveries (claimed by this call),
// then sends them.
func (s *Service) record(ctx context.Context, msg *registry.PushMessage, ds []*registry.Delivery, devices, skipped int) (*Result, error) {
	if err := s.store.CreatePushMessage(ctx, msg, ds); err != nil {
		if errors.Is(err, registry.ErrConflict) && msg.DedupeKey != "" {
			// Another caller recorded the same key between our look-up and
			// our insert: theirs is the push.
			if r, ok, err2 := s.existing(ctx, msg.DedupeKey); ok && err2 == nil {
				return r, nil
			}
		}
		return nil, fmt.Errorf("push: record push message: %w", fromRegistry(err))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "push recorded", slog.Int64("push_message_id", msg.ID),
		slog.Int("deliveries", len(ds)), slog.Int("devices", devices))
	r := &Result{PushMessageID: msg.ID, Devices: devices, Skipped: skipped}
	r.Deliveries = s.sendAll(ctx, msg, ds)
	return r, nil
}

func (s *Service) newDelivery(prov, platform string, seq int, audience string, tokens []string,
	key, claim string, now time.Time, expire *time.Time) *registry.Delivery {
	lease := now.Add(s.lease)
	return &registry.Delivery{
		Provider: prov, Platform: platform, Seq: seq, Audience: audience, Tokens: tokens,
		IdempotencyKey: key, State: registry.DeliveryPending, Attempts: 1, NextAttemptAt: now,
		ExpireAt: expire, ClaimToken: claim, LeaseUntil: &lease,
	}
}

func (s *Service) expireAt(now, at time.Time) *time.Time {
	if at.IsZero() {
		at = now.Add(s.expiry)
	}
	return &at
}

// sendAll sends the claimed deliveries of msg, at most SendConcurrency at a
// time, and returns their outcomes in the order given.
func (s *Service) sendAll(ctx context.Context, msg *registry.PushMessage, ds []*registry.Delivery) []DeliveryOutcome {
	out := make([]DeliveryOutcome, len(ds))
	sem := make(chan struct{}, s.conc)
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = s.send(ctx, msg, d)
		}()
	}
	wg.Wait()
	return out
}

// send makes one vendor call for a delivery this instance has claimed,
// applies the outcome (DESIGN.md invariant 5) and records it.
func (s *Service) send(ctx context.Context, msg *registry.PushMessage, d *registry.Delivery) DeliveryOutcome {
	now := s.now()
	var err error
	var rc *provider.Receipt
	switch {
	case d.ExpireAt != nil && !now.Before(*d.ExpireAt):
		err = &provider.Error{Provider: d.Provider, Op: "send", Kind: provider.InvalidRequest,
			Message: "the push expired before it could be sent"}
		d.VendorState = string(provider.StateExpired)
	default:
		var p provider.Provider
		if p, err = s.Provider(d.Provider); err == nil {
			rc, err = p.Send(ctx, s.request(msg, d))
		} else {
			err = &provider.Error{Provider: d.Provider, Op: "send", Kind: provider.Auth, Err: err}
		}
	}
	now = s.now()
	d.SentAt = &now
	disable := s.applySend(d, rc, err, now)
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	if len(disable) > 0 {
		n, derr := s.store.DisableTokens(wctx, d.Provider, d.Platform, disable, "invalid token reported by "+d.Provider)
		if derr != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "disable tokens failed", slog.Int64("delivery_id", d.ID),
				slog.String("error", derr.Error()))
		} else {
			s.log.LogAttrs(ctx, slog.LevelInfo, "tokens disabled", slog.Int64("delivery_id", d.ID),
				slog.Int64("devices", n))
		}
	}
	if ferr := s.store.FinishDelivery(wctx, d); ferr != nil {
		// The outcome is lost only for this instance: the delivery stays
		// claimed until its lease runs out, then it is sent again with the
		// same idempotency key.
		s.log.LogAttrs(ctx, slog.LevelError, "recording delivery outcome failed", slog.Int64("delivery_id", d.ID),
			slog.String("error", ferr.Error()))
	}
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, lvl, "delivery sent", slog.Int64("push_message_id", msg.ID), slog.Int64("delivery_id", d.ID),
		slog.String("provider", d.Provider), slog.String("platform", d.Platform), slog.Int("tokens", len(d.Tokens)),
		slog.Int("attempt", d.Attempts), slog.String("state", string(d.State)), slog.String("error_kind", d.ErrorKind),
		slog.String("error_code", d.ErrorCode))
	return outcomeOf(d, err)
}

func outcomeOf(d *registry.Delivery, err error) DeliveryOutcome {
	return DeliveryOutcome{DeliveryID: d.ID, Provider: d.Provider, Platform: d.Platform, Tokens: len(d.Tokens),
		State: d.State, ReceiptID: d.ReceiptID, Err: err}
}

// applySend sets d's outcome fields from the vendor's answer and returns
// the tokens to disable.
func (s *Service) applySend(d *registry.Delivery, rc *provider.Receipt, err error, now time.Time) []string {
	d.ErrorKind, d.ErrorCode = "", ""
	if err == nil {
		d.ReceiptID = rc.ID
		d.Pollable = rc.Pollable
		d.Ret = registry.RetSuccess
		d.Response = string(rc.Raw)
		_, canPoll := s.providers[d.Provider].(provider.StatusQuerier)
		if rc.Pollable && canPoll {
			d.State = registry.DeliveryAccepted
			d.VendorState = string(provider.StateQueued)
			d.NextAttemptAt = now.Add(s.poll)
		} else {
			d.State = registry.DeliveryDone
			d.VendorState = string(provider.StateAccepted)
		}
		var dead []string
		for _, f := range rc.Failures {
			if f.Kind == provider.InvalidToken {
				dead = append(dead, f.Token)
			}
		}
		return dead
	}
	kind := provider.KindOf(err)
	d.ErrorKind = kind.String()
	d.ErrorCode = provider.CodeOf(err)
	d.Response = err.Error()
	switch {
	case kind == provider.RateLimited || kind == provider.QuotaExceeded:
		// Not the delivery's fault: try again without spending an attempt.
		d.Attempts = max(d.Attempts-1, 0)
		d.State = registry.DeliveryPending
		d.NextAttemptAt = now.Add(max(provider.RetryAfterOf(err), s.retry.RateLimitDelay))
	case kind.Retryable() && !s.retry.Exhausted(d.Attempts):
		d.State = registry.DeliveryPending
		d.NextAttemptAt = now.Add(s.retry.Backoff(d.Attempts, provider.RetryAfterOf(err)))
	case kind.Retryable():
		d.State = registry.DeliveryFailed
		d.Ret = registry.RetFail
		d.Response = fmt.Sprintf("%v after %d attempts: %v", errExhausted, d.Attempts, err)
	default:
		d.State = registry.DeliveryFailed
		d.Ret = registry.RetFail
		if kind == provider.InvalidToken && len(d.Tokens) == 1 {
			return d.Tokens
		}
	}
	return nil
}

// request builds the vendor request of a delivery.
func (s *Service) request(msg *registry.PushMessage, d *registry.Delivery) *provider.Request {
	r := &provider.Request{
		Platform:       provider.Platform(d.Platform),
		Notification:   provider.Notification{Title: msg.Title, Body: msg.Content, Extras: ParseExtra(msg.Extra)},
		IdempotencyKey: d.IdempotencyKey,
		Description:    fmt.Sprintf("push_message#%d", msg.ID),
	}
	if d.ExpireAt != nil {
		r.ExpireTime = *d.ExpireAt
	}
	if d.Audience == registry.AudienceBroadcast {
		r.Audience = provider.Audience{Kind: provider.AudienceBroadcast}
	} else {
		r.Audience = provider.Audience{Kind: provider.AudienceTokens, Tokens: d.Tokens}
	}
	return r
}

func normalizeUsers(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, u := range in {
		u = strings.TrimSpace(u)
		if u == "" || seen[u] {
			continue
		}
		if utf8.RuneCountInString(u) > registry.MaxVarchar {
			return nil, invalid("user_num", "%q is longer than %d characters", registry.Clip(u, 20), registry.MaxVarchar)
		}
		seen[u] = true
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, invalid("user_num", "is required")
	}
	return out, nil
}

func checkText(title, content string) error {
	if strings.TrimSpace(title) == "" {
		return invalid("title", "is required")
	}
	if strings.TrimSpace(content) == "" {
		return invalid("content", "is required")
	}
	return nil
}

func encodeExtra(extra map[string]string) (string, error) {
	if len(extra) == 0 {
		return "", nil
	}
	for k := range extra {
		if k == "" {
			return "", invalid("extra", "has an empty key")
		}
	}
	b, err := json.Marshal(extra)
	if err != nil {
		return "", invalid("extra", "%v", err)
	}
	if n := utf8.RuneCount(b); n > registry.MaxVarchar {
		return "", invalid("extra", "is %d characters as JSON, longer than extra_params_string's %d", n, registry.MaxVarchar)
	}
	return string(b), nil
}

// ParseExtra reads an extra_params_string value. Other programs may have written it:
// a JSON object's values become strings (non-strings as their JSON text);
// anything else is delivered whole under the key "extra".
func ParseExtra(s string) map[string]string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return map[string]string{"extra": s}
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var str string
		if json.Unmarshal(v, &str) == nil {
			out[k] = str
		} else {
			out[k] = string(v)
		}
	}
	return out
}

// newNonce returns 16 random hex characters.
func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
