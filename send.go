package push

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Message is a push to the devices of one or many users (the product brief's POST
// /api/v1.1/user/push_message).
type Message struct {
	// UserNums are the users to push to, each pushed once: surrounding
	// white space is trimmed, and blank entries and repeats are left out
	// silently. At least one must remain, and a user_num that is not
	// valid UTF-8, holds a NUL or is longer than 255 characters refuses
	// the whole push: a *FieldError naming user_num, nothing recorded.
	// (The Scanner, reading receivers another program wrote, pushes the
	// rest and names such an entry in the row's remark instead.)
	UserNums []string
	// Title and Content are the notification's title and text, both
	// required (not blank). The title is at most the title column's 255
	// characters; the content is bounded by each provider's payload limit.
	// Both are checked before anything is recorded.
	Title   string
	Content string
	// Extra is delivered to the app with the notification, for the action
	// on tap. Stored as a JSON object in extra_params_string, of at most
	// 255 characters (a longer one is refused, naming extra).
	Extra map[string]string
	// RawExtra, instead of Extra, is stored in extra_params_string as it
	// is and delivered as ParseExtra reads it: for text another program
	// wrote there already, such as a message center row's. At most 255
	// characters.
	RawExtra string
	// DedupeKey makes Push idempotent: a second Push with the same key
	// returns the first push message and sends nothing. The key names the
	// push, not its content: a second Push with the same key and another
	// title, content or users gets the first push too (Duplicate true), so
	// derive keys from what makes a push unique (an order's id and the
	// event). Keys compare case-sensitively and without their trailing
	// spaces, as the stores keep them ("k1 " is "k1"; " k1" and "k1\t"
	// are other keys). The HTTP Handler scopes its idempotency keys by
	// caller and users, and answers 409 to a key reused with other content.
	DedupeKey string
	// ExpireAt is when vendors stop trying; zero means now +
	// Config.Expiry. One that is not in the future is a *FieldError
	// ("expire_at"), before anything is stored.
	ExpireAt time.Time
	// Class is the message class (provider.ClassMarketing or
	// provider.ClassService) phone makers' channels throttle by; empty
	// leaves it to the vendors. Each provider maps it (Umeng: category and
	// Huawei importance on Android).
	Class provider.Class
	// Overrides are vendor-specific options keyed by provider name, such as
	// Overrides["umeng"] = &umeng.Options{…}. Each value is stored with the
	// push as JSON, so that the first send and every retry, by any
	// instance, carry it; a key that names no configured provider, or a
	// value its provider refuses, is a *FieldError ("overrides") before
	// anything is stored. The provider reads the value's JSON, whatever its
	// Go type: another provider's Options whose fields this provider's has
	// too are taken as those fields.
	Overrides map[string]any
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
	Class     provider.Class // as Message.Class
	Overrides map[string]any // as Message.Overrides
}

// Result reports what Push or Broadcast did. Vendor failures are reported
// here per delivery, not as the error of the call: once the push message is
// recorded, it is the record that tells the truth, and pending deliveries
// are retried by the message center Scanner.
type Result struct {
	PushMessageID int64
	// Duplicate is true when the DedupeKey matched an existing push; that
	// push's id is returned and nothing was sent. Its Devices and
	// Deliveries are those recorded by then, with their recorded states:
	// of a push recorded in stages whose listing has not ended (Unlisted
	// when it was sent), more are to come, and Unlisted and Expired are
	// not set; its status (Service.PushStatus) says pending until the end.
	Duplicate  bool
	Devices    int // distinct tokens targeted
	Deliveries []DeliveryOutcome
	// Skipped counts devices that were not pushed to: their push_platform
	// names no configured provider, that provider does not serve their
	// platform, or their row holds no usable platform or token.
	Skipped int
	// Unreached names the users of a push to at most MaxUnreachedUsers
	// users that it reached no device of: none active with a usable token
	// that a configured provider serves (ErrNoDevices when that is every
	// user). It is nil for a larger push (UnreachedCount counts them) and
	// for a Duplicate.
	Unreached []string
	// UnreachedCount is how many users of the push it reached no device
	// of, whatever the push's size: len(Unreached) for a push to at most
	// MaxUnreachedUsers users. A push recorded in stages counts the users
	// this call listed (see Unlisted and Expired). 0 for a Duplicate.
	UnreachedCount int
	// Unlisted is true when a push recorded in stages (a large audience:
	// see Push) stopped listing its audience before the end, because the
	// caller's ctx ended or a read of the store failed: the push is
	// recorded, Deliveries are those of the stages recorded, and the rest
	// of the audience is listed, recorded and sent by the Scanner's next
	// pass (Service.RetryPending).
	Unlisted bool
	// Expired is true when a push recorded in stages reached its ExpireAt
	// before its whole audience was listed: the users not listed by then
	// are not pushed, since no vendor would show the push anymore. The
	// push's record ends there; Deliveries are those recorded before.
	Expired bool
}

// DeliveryOutcome is the state of one delivery after Push tried it.
type DeliveryOutcome struct {
	DeliveryID int64
	Provider   string
	Platform   string
	Tokens     int
	// State is the delivery's state after this call: pending, failed,
	// accepted (taken by the vendor and being polled, not final) or done
	// (final). The push's ios_status and android_status name the vendor's
	// own states instead (PushStatus, and the README's table): a Umeng
	// unicast is done here and "accepted" there.
	State     registry.DeliveryState
	ReceiptID string
	// Deferred is true when the delivery was not sent by this call (the
	// caller's ctx ended, or too little of its lease was left): it is
	// pending and due at once, for the Scanner's next pass.
	Deferred bool
	// Unrecorded is true when the delivery was sent but its outcome (State,
	// the vendor's answer) could not be written to the store, retries
	// included (the database stayed unreachable, or the claim's lease ran
	// out first): the store still holds it pending, and once its lease
	// runs out the Scanner sends it again, with the same idempotency key
	// (a vendor that cannot dedupe by it shows the push twice). The
	// Service counts such deliveries (UnrecordedOutcomes).
	Unrecorded bool
	// Err is the vendor error of the last attempt, if any.
	Err error
}

// Accepted counts the deliveries the vendor took: those in state accepted
// (a task it still reports on, polled until final) and those done (final
// at once, such as Umeng's unicasts and listcasts). A nil Result has none,
// as with Pending, Failed and FirstError.
func (r *Result) Accepted() int { return r.count(registry.DeliveryAccepted, registry.DeliveryDone) }

// Pending counts deliveries left for a retry.
func (r *Result) Pending() int { return r.count(registry.DeliveryPending) }

// Failed counts deliveries that failed for good.
func (r *Result) Failed() int { return r.count(registry.DeliveryFailed) }

// Unrecorded counts the deliveries sent whose outcome the store does not
// hold (DeliveryOutcome.Unrecorded); they are counted by their State too.
func (r *Result) Unrecorded() int {
	return r.countIf(func(d *DeliveryOutcome) bool { return d.Unrecorded })
}

func (r *Result) count(states ...registry.DeliveryState) int {
	return r.countIf(func(d *DeliveryOutcome) bool { return slices.Contains(states, d.State) })
}

// countIf counts the deliveries f takes; a nil Result has none.
func (r *Result) countIf(f func(d *DeliveryOutcome) bool) int {
	if r == nil {
		return 0
	}
	n := 0
	for i := range r.Deliveries {
		if f(&r.Deliveries[i]) {
			n++
		}
	}
	return n
}

// FirstError returns the error of the first failed delivery, or nil. A
// delivery still pending (a temporary failure, to be retried: see
// Pending) is not failed: its error is in Deliveries[i].Err.
func (r *Result) FirstError() error {
	if r == nil {
		return nil
	}
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
// A push to more users than one stage (10,000) is recorded and sent in
// stages instead, while the rest of its audience is listed, when the
// store implements registry.Fanouts and no provider sends by file: see
// the README's "Large audiences". A crash or an early stop then loses
// nothing either: the Scanner goes on where the listing stopped
// (Result.Unlisted). Such a push that reaches its ExpireAt while it is
// listed stops there (Result.Expired).
//
// Push returns ErrNoDevices (and records nothing) when no user has an
// active device, and a *FieldError for bad input. Vendor failures do not
// fail the call; see Result.
//
// ctx's end stops what has not started: no vendor call begins after it,
// and the deliveries not sent are left pending for the Scanner
// (Result.Deliveries' Deferred). It does not cut a vendor call short: a
// call under way runs to its answer, bounded by its provider's send
// timeout (Config.SendTimeout), so that its outcome is recorded and not
// sent twice. A Push can so outlast ctx's deadline by up to that timeout
// plus WriteTimeout (see DrainTimeout).
func (s *Service) Push(ctx context.Context, m Message) (*Result, error) {
	if s.unbuilt() {
		return nil, notBuilt("Service.Push", "push.New")
	}
	ctx, span := s.tel.startPush(ctx, "push.Push", pushAttrs(len(m.UserNums))...)
	r, err := s.pushUsers(ctx, s.newSem(), m)
	endPush(span, r, err)
	return r, err
}

// pushUsers is Push, under the span Push started, its vendor calls
// bounded by sem (see sendWith).
func (s *Service) pushUsers(ctx context.Context, sem chan struct{}, m Message) (*Result, error) {
	p, err := s.preparePush(m)
	if err != nil {
		return nil, err
	}
	if r, ok, err := s.existing(ctx, m.DedupeKey); ok || err != nil {
		return r, err
	}
	if fo, ok := s.fanoutStore(); ok && len(p.users) > s.stage*s.chunk {
		return s.pushStaged(ctx, sem, fo, p)
	}
	tokens, err := s.targets(ctx, p.users)
	if err != nil {
		return nil, err
	}
	msg, ds, err := s.build(ctx, p, tokens)
	if err != nil {
		return nil, err
	}
	r, err := s.record(ctx, sem, msg, ds, tokens.devices(), tokens.skipped.n)
	if err == nil && !r.Duplicate {
		r.Unreached, r.UnreachedCount = tokens.reach.names, tokens.reach.count
	}
	return r, err
}

// preparedPush is a Message checked and normalized, before its targets
// are known.
type preparedPush struct {
	m         Message
	users     []string
	extra     string
	overrides string
	now       time.Time
}

// preparePush checks m as Push does before it reads anything.
func (s *Service) preparePush(m Message) (*preparedPush, error) {
	users, err := normalizeUsers(m.UserNums)
	if err != nil {
		return nil, err
	}
	now := s.now()
	extra, err := checkContent(now, m.Title, m.Content, m.Extra, m.RawExtra, m.ExpireAt)
	if err != nil {
		return nil, err
	}
	overrides, err := s.checkOptions(m.Class, m.Overrides)
	if err != nil {
		return nil, err
	}
	if err := checkDedupeKey(m.DedupeKey); err != nil {
		return nil, err
	}
	return &preparedPush{m: m, users: users, extra: extra, overrides: overrides, now: now}, nil
}

// checkDedupeKey checks a DedupeKey as the store checks the column, before
// the key is looked up: a key that is not UTF-8 or holds a NUL is a
// *FieldError on every database, not a lookup that PostgreSQL refuses.
func checkDedupeKey(key string) error {
	return fromRegistry(registry.ValidateVarchar("dedupe_key", key))
}

// messageOf is the record of p, a push to users, before it is stored.
func (s *Service) messageOf(p *preparedPush) *registry.PushMessage {
	m := p.m
	return &registry.PushMessage{
		Title: m.Title, Content: m.Content, Extra: p.extra, PushType: registry.PushTypeUsers,
		DedupeKey: m.DedupeKey, ExpireAt: s.expireAt(p.now, m.ExpireAt), Class: string(m.Class), Overrides: p.overrides,
		UserNums: p.users,
	}
}

// build makes p's message and its deliveries, claimed by this call, for
// tokens, and checks them as the providers would: ErrNoDevices when
// nobody has a usable device, a *FieldError when a provider refuses the
// message.
func (s *Service) build(ctx context.Context, p *preparedPush, tokens *tokenSet) (*registry.PushMessage, []*registry.Delivery, error) {
	if tokens.skipped.n > 0 {
		s.log.LogAttrs(ctx, slog.LevelWarn, "devices skipped", slog.Int("devices", tokens.skipped.n),
			slog.String("why", tokens.skipped.String()))
	}
	msg := s.messageOf(p)
	nonce := newNonce()
	claim := newNonce()
	// The claims' leases start now, after the targets were collected, not
	// when the call began: a large audience must not use up the lease of
	// the calls that send it.
	claimed := s.now()
	var ds []*registry.Delivery
	for _, name := range s.names {
		for _, pl := range provider.Platforms() {
			toks := tokens.tokens[target{name, string(pl)}]
			// Batches of MaxTokens, or by file for a large audience
			// (Capabilities.FileThreshold).
			caps := s.providers[name].Capabilities(pl)
			max := caps.BatchSize(len(toks))
			for seq := 0; len(toks) > 0; seq++ {
				n := min(max, len(toks))
				if n > caps.MaxTokens && caps.MaxFileBytes > 0 {
					n = fileBatch(toks[:n], caps.MaxFileBytes)
				}
				ds = append(ds, s.newDelivery(name, string(pl), seq, registry.AudienceTokens, toks[:n:n],
					fmt.Sprintf("%s-%d", nonce, len(ds)), claim, claimed, msg.ExpireAt))
				toks = toks[n:]
			}
		}
	}
	if len(ds) == 0 {
		return nil, nil, s.noDevicesOf(ctx, p.users, tokens.skipped)
	}
	if err := s.check(msg, ds); err != nil {
		return nil, nil, err
	}
	return msg, ds, nil
}

// fileBatch is how many of toks, from the first, make a file of at most
// maxBytes (provider.FileBytes of them, counted as it goes). At least one.
func fileBatch(toks []string, maxBytes int) int {
	size := 0
	for i, t := range toks {
		if size += len(t) + 1; size > maxBytes {
			return max(i, 1)
		}
	}
	return len(toks)
}

// target is a provider and a platform: the deliveries of a push are
// grouped by them.
type target struct{ provider, platform string }

// targetChunk bounds the users of one ListTargets query, so that a push
// to many users pages through each chunk of them once: the cost of
// collecting targets grows with the audience, not with its square.
const targetChunk = 500

// The page size of those queries is four times the chunk's users: room
// for four devices a user, so that a chunk is read in one query. (With the
// default page, a chunk of users with two devices each fills it exactly,
// and costs a second query that finds nothing.)

// tokenSet is the usable tokens of a push's targets, by provider and
// platform, in the order they were added, and the count of the devices
// skipped because no configured provider serves them or their token is
// unusable. distinct drops the repeats.
type tokenSet struct {
	tokens  map[target][]string
	skipped skips
	reach   *reach // the users reached, told the end of each chunk of them
}

// MaxUnreachedUsers is the most users a push may name for its Result to
// list those it reached no device of (Result.Unreached).
const MaxUnreachedUsers = 100

// newTokenSet returns an empty tokenSet for a push to users.
func newTokenSet(users []string) *tokenSet {
	return &tokenSet{tokens: map[target][]string{}, reach: newReach(len(users))}
}

// add adds t's token, or counts t as skipped.
func (ts *tokenSet) add(s *Service, t registry.Target) {
	g, token, ok := s.targetOf(t)
	if !ok {
		ts.skipped.add(s, g) // a row no configured vendor takes: never fail the push for it
		return
	}
	ts.tokens[g] = append(ts.tokens[g], token)
	ts.reach.add(t.UserNum)
}

// reach counts the users of a push it reached no device of, one chunk of
// its users at a time, so that it keeps a set of one chunk's users only
// however large the audience; it names them too for a push to at most
// MaxUnreachedUsers users (Result.Unreached, Result.UnreachedCount).
type reach struct {
	name  bool
	seen  map[string]bool // the users of the chunk with a token added
	count int
	names []string
}

func newReach(users int) *reach {
	return &reach{name: users <= MaxUnreachedUsers, seen: map[string]bool{}}
}

// add notes that a token of userNum was added. As the stores match a
// user_num: without trailing spaces.
func (r *reach) add(userNum string) {
	r.seen[strings.TrimRight(userNum, " ")] = true
}

// done ends a chunk: the users of chunk (normalized, as Push lists them)
// with no token added are counted, and named while the push is small.
func (r *reach) done(chunk []string) {
	for _, u := range chunk {
		if !r.seen[u] {
			r.count++
			if r.name {
				r.names = append(r.names, u)
			}
		}
	}
	clear(r.seen)
}

// skips counts the active devices of a push that were skipped, by why:
// the (push_platform, platform) pairs no configured provider serves, and
// tokens no store keeps.
type skips struct {
	n        int
	unserved map[unservedPair]int
	unusable int
}

// unservedPair is a (push_platform, platform) pair no configured provider
// serves; configured says that the provider is configured, for the other
// platform only.
type unservedPair struct {
	target
	configured bool
}

// add counts a device targetOf refused, g being the pair it named: the
// pair is not served, or else the token was unusable.
func (k *skips) add(s *Service, g target) {
	k.n++
	if s.serves(g.provider, provider.Platform(g.platform)) {
		k.unusable++
		return
	}
	if k.unserved == nil {
		k.unserved = map[unservedPair]int{}
	}
	_, configured := s.providers[g.provider]
	k.unserved[unservedPair{g, configured}]++
}

// String says how many devices were skipped and why, for an error or a
// log: "2 active devices skipped: 1 on \"android\" through \"umeng\",
// which does not serve \"android\" here; 1 with a token no vendor takes
// (…)".
func (k skips) String() string {
	var why []string
	for _, g := range slices.SortedFunc(maps.Keys(k.unserved), func(a, b unservedPair) int {
		return cmp.Or(cmp.Compare(a.provider, b.provider), cmp.Compare(a.platform, b.platform))
	}) {
		if g.configured {
			why = append(why, fmt.Sprintf("%d on %q through %q, which does not serve %q here", k.unserved[g], g.platform, g.provider, g.platform))
		} else {
			why = append(why, fmt.Sprintf("%d on %q through %q, which is not configured", k.unserved[g], g.platform, g.provider))
		}
	}
	if k.unusable > 0 {
		why = append(why, fmt.Sprintf("%d with a token no vendor takes (blank, not UTF-8, or holding a NUL, a comma or white space)", k.unusable))
	}
	return fmt.Sprintf("%d active %s skipped: %s", k.n, plural(k.n, "device", "devices"), strings.Join(why, "; "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// noDevices is ErrNoDevices, saying how many active devices were
// skipped, and why, when there were some: the users have devices, but none
// this Service can push to.
func (s *Service) noDevices(skipped skips) error {
	if skipped.n == 0 {
		return ErrNoDevices
	}
	return fmt.Errorf("%w: %s (configured providers: %s; a device row without a push_platform is %q)",
		ErrNoDevices, skipped, strings.Join(s.names, ", "), registry.DefaultPushPlatform)
}

// maxExplained bounds the users noDevicesOf looks up to say why a push
// found no device.
const maxExplained = 10

// noDevicesOf is noDevices for a push to users (at most maxExplained of
// them, and a store that answers Reads), which also counts their active
// devices whose token is disabled and the devices they are logged out of:
// the targets never list those, and without them the error said no more
// than "no active device".
func (s *Service) noDevicesOf(ctx context.Context, users []string, skipped skips) error {
	err := s.noDevices(skipped)
	rd, ok := s.store.(registry.Reads)
	if !ok || len(users) > maxExplained {
		return err
	}
	disabled, takenOver, loggedOut, superseded := 0, 0, 0, 0
	// A user unknown whose user_num no device can be registered for, and
	// why: it reads as a list, or holds an invisible character.
	unregistrable, reason := "", ""
	for _, u := range users {
		links, lerr := rd.ListUserDevices(ctx, u)
		if lerr != nil {
			return err // the explanation is a courtesy; the push found nothing
		}
		if len(links) == 0 && unregistrable == "" {
			if verr := registry.ValidateRegisteredUserNum(u); verr != nil {
				unregistrable, reason = u, verr.Error()
				var ve *registry.ValidationError
				if errors.As(verr, &ve) {
					reason = ve.Reason
				}
			}
		}
		for _, l := range links {
			switch {
			case l.Device.ID == 0:
			case !l.Link.Active:
				loggedOut++
			case l.Device.TokenDisabledAt != nil:
				disabled++
				if l.Device.TokenDisabledReason == registry.TokenTakenOver {
					takenOver++
				}
			case l.Superseded:
				superseded++
			}
		}
	}
	var why []string
	if disabled > 0 {
		why = append(why, fmt.Sprintf("%d active device(s) with a disabled token (%d registered by another device since, %d reported invalid by the vendor; registering the device again enables its token)",
			disabled, takenOver, disabled-takenOver))
	}
	if superseded > 0 {
		why = append(why, fmt.Sprintf("%d active device(s) another user's newer row holds (in rows another program wrote: the device's newer login, or a newer device with the same token)",
			superseded))
	}
	if loggedOut > 0 {
		why = append(why, fmt.Sprintf("%d device(s) the user(s) are logged out of (a logout, or another user registered the device since)", loggedOut))
	}
	if unregistrable != "" {
		w := fmt.Sprintf("no device can be registered for user_num %q: it %s", registry.Clip(unregistrable, 64), reason)
		if _, array := registry.JSONArray(unregistrable); array || strings.ContainsFunc(unregistrable, registry.IsReceiverSeparator) {
			w += " (several users are named one by one, as user_nums does)"
		}
		why = append(why, w)
	}
	if len(why) == 0 {
		return err
	}
	if skipped.n == 0 {
		return fmt.Errorf("%w: %s", ErrNoDevices, strings.Join(why, "; "))
	}
	return fmt.Errorf("%w; %s", err, strings.Join(why, "; "))
}

// targetOf is the provider and platform t is pushed through, and its
// token; ok is false when no configured provider serves t's push_platform
// and platform, or its token is unusable (g is then the pair t names, for
// skips.add).
func (s *Service) targetOf(t registry.Target) (g target, token string, ok bool) {
	g = target{s.providerName(t.PushPlatform), strings.ToLower(strings.TrimSpace(t.Platform))}
	if g.provider == "" {
		g.provider = s.def
	}
	token = strings.Trim(t.Token, " ")
	// A token another program wrote that no store keeps (not UTF-8, a
	// NUL) would fail the record of the whole push: it is skipped instead.
	if !s.serves(g.provider, provider.Platform(g.platform)) || !registry.UsableToken(token) {
		return g, "", false
	}
	return g, token, true
}

// distinct drops the repeated tokens of each group, keeping each token's
// first place, and returns ts.
func (ts *tokenSet) distinct() *tokenSet {
	var scratch []string
	for g, toks := range ts.tokens {
		ts.tokens[g], scratch = distinct(toks, scratch)
	}
	return ts
}

// distinct drops the repeats of tokens in toks, in place, keeping each
// token's first place, and returns the shortened slice and scratch, the
// buffer it used (pass it back for the next call). It finds the repeats by
// sorting a copy, so that the usual audience, without any, costs no set of
// every token.
func distinct(toks, scratch []string) ([]string, []string) {
	scratch = append(scratch[:0], toks...)
	slices.Sort(scratch)
	var kept map[string]bool // the repeated tokens: whether their first place is taken
	for i := 1; i < len(scratch); i++ {
		if scratch[i] == scratch[i-1] {
			if kept == nil {
				kept = map[string]bool{}
			}
			kept[scratch[i]] = false
		}
	}
	if kept == nil {
		return toks, scratch
	}
	out := toks[:0]
	for _, t := range toks {
		if done, repeated := kept[t]; repeated {
			if done {
				continue
			}
			kept[t] = true
		}
		out = append(out, t)
	}
	clear(toks[len(out):])
	return out, scratch
}

// devices counts the distinct tokens (after distinct).
func (ts *tokenSet) devices() int {
	n := 0
	for _, toks := range ts.tokens {
		n += len(toks)
	}
	return n
}

// targets collects the distinct usable tokens of the users' active
// devices, by provider and platform, in the order ListTargets returns them
// chunk after chunk, and counts the devices skipped because no configured
// provider serves them or their token is unusable.
func (s *Service) targets(ctx context.Context, users []string) (*tokenSet, error) {
	ts := newTokenSet(users)
	err := s.eachChunk(ctx, users, func(i int, targets []registry.Target) error {
		for _, t := range targets {
			ts.add(s, t)
		}
		ts.reach.done(s.chunkOf(users, i))
		return nil
	})
	return ts.distinct(), err
}

// chunkOf is chunk i of users, as eachChunk lists them.
func (s *Service) chunkOf(users []string, i int) []string {
	return users[i*s.chunk : min((i+1)*s.chunk, len(users))]
}

// targetWorkers is how many chunks of a large audience eachTarget lists at
// once: the store's reads run beside each other (SQLite's readers in WAL
// mode, a server's connections), while their targets still reach fn in
// chunk order.
const targetWorkers = 2

// eachTarget calls fn with each target of users, users targetChunk at a
// time, each chunk's in UserDeviceID order (see eachChunk).
func (s *Service) eachTarget(ctx context.Context, users []string, fn func(registry.Target)) error {
	return s.eachChunk(ctx, users, func(_ int, ts []registry.Target) error {
		for _, t := range ts {
			fn(t)
		}
		return nil
	})
}

// eachChunk calls fn with the targets of each chunk of targetChunk users
// in turn (chunk i holds users[i*targetChunk:]), in UserDeviceID order.
// The chunks are listed targetWorkers at a time, at most that many ahead
// of fn. An error of fn stops the listing and is returned.
func (s *Service) eachChunk(ctx context.Context, users []string, fn func(i int, ts []registry.Target) error) error {
	chunks := slices.Collect(slices.Chunk(users, s.chunk))
	if len(chunks) == 1 {
		ts, err := s.listChunk(ctx, chunks[0], nil)
		if err != nil {
			return err
		}
		return fn(0, ts)
	}
	census := s.newCensus(len(users), len(chunks))
	defer census.wait()
	ctx, cancel := context.WithCancel(ctx)
	type listed struct {
		targets []registry.Target
		err     error
	}
	outs := make([]chan listed, len(chunks))
	for i := range outs {
		outs[i] = make(chan listed, 1)
	}
	slots := make(chan struct{}, targetWorkers) // chunks listed and not yet handed to fn
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() {
		for i, chunk := range chunks {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return // the caller stopped reading: what is left is not listed
			}
			c := census.get(ctx)
			wg.Go(func() {
				ts, err := s.listChunk(ctx, chunk, c)
				outs[i] <- listed{ts, err}
			})
		}
	})
	for i := range chunks {
		var r listed
		select {
		case r = <-outs[i]:
		case <-ctx.Done():
			// The caller stopped: the chunks not started yet never will
			// be, so their results must not be waited for.
			return fmt.Errorf("push: list targets: %w", ctx.Err())
		}
		<-slots
		if r.err != nil {
			return r.err
		}
		if err := fn(i, r.targets); err != nil {
			return err
		}
	}
	return nil
}

// listChunk lists every target of the users of one chunk, page after page,
// with census (none: nil).
func (s *Service) listChunk(ctx context.Context, chunk []string, census *registry.Census) ([]registry.Target, error) {
	var out []registry.Target
	for after := int64(0); ; {
		page, err := s.store.ListTargets(ctx, registry.TargetQuery{UserNums: chunk, AfterUserDeviceID: after, Limit: 4 * s.chunk, Census: census})
		if err != nil {
			return out, fmt.Errorf("push: list targets: %w", err)
		}
		if out == nil {
			out = page
		} else {
			out = append(out, page...)
		}
		if len(page) < 4*s.chunk {
			return out, nil // the last page
		}
		after = page[len(page)-1].UserDeviceID
	}
}

// Broadcast records and sends a push to every device of b.Platform through
// the provider's broadcast cast. It needs no tokens.
func (s *Service) Broadcast(ctx context.Context, b Broadcast) (*Result, error) {
	if s.unbuilt() {
		return nil, notBuilt("Service.Broadcast", "push.New")
	}
	ctx, span := s.tel.startPush(ctx, "push.Broadcast", broadcastAttrs(b)...)
	r, err := s.broadcast(ctx, b)
	endPush(span, r, err)
	return r, err
}

// broadcast is Broadcast, under the span Broadcast started.
func (s *Service) broadcast(ctx context.Context, b Broadcast) (*Result, error) {
	// In any case and without surrounding spaces, as RegisterDevice reads
	// a device's platform and push platform.
	pl, err := provider.ParsePlatform(strings.ToLower(strings.TrimSpace(b.Platform)))
	if err != nil {
		return nil, invalid("platform", "must be %q or %q, got %q", provider.IOS, provider.Android, b.Platform)
	}
	p, err := s.Provider(s.providerName(b.Provider))
	if err != nil {
		return nil, invalid("provider", "%s", strings.TrimPrefix(err.Error(), "push: "))
	}
	if !s.serves(p.Name(), pl) {
		return nil, invalid("platform", "provider %q is not configured for %s", p.Name(), pl)
	}
	if !p.Capabilities(pl).Supports(provider.AudienceBroadcast) {
		return nil, invalid("provider", "%q cannot broadcast to %s", p.Name(), pl)
	}
	now := s.now()
	extra, err := checkContent(now, b.Title, b.Content, b.Extra, "", b.ExpireAt)
	if err != nil {
		return nil, err
	}
	overrides, err := s.checkOptions(b.Class, b.Overrides)
	if err != nil {
		return nil, err
	}
	if err := checkDedupeKey(b.DedupeKey); err != nil {
		return nil, err
	}
	if r, ok, err := s.existing(ctx, b.DedupeKey); ok || err != nil {
		return r, err
	}
	msg := &registry.PushMessage{
		Title: b.Title, Content: b.Content, Extra: extra, PushType: registry.PushTypeBroadcast,
		DedupeKey: b.DedupeKey, ExpireAt: s.expireAt(now, b.ExpireAt), Class: string(b.Class), Overrides: overrides,
	}
	d := s.newDelivery(p.Name(), string(pl), 0, registry.AudienceBroadcast, nil, newNonce()+"-0", newNonce(), now, msg.ExpireAt)
	if err := s.check(msg, []*registry.Delivery{d}); err != nil {
		return nil, err
	}
	return s.record(ctx, s.newSem(), msg, []*registry.Delivery{d}, 0, 0)
}

// check asks each provider that can check a request without sending it
// (provider.Validator) whether it would refuse msg, once per provider and
// platform of ds, before anything is stored: what a vendor refuses for
// every device of a platform (a payload over its limit, a reserved extra
// key) is a *FieldError naming the input field — title, content, extra,
// expire_at — and nothing is recorded. A refusal of the audience (one
// device's token) is not the message's fault: that delivery fails, or is
// split, when it is sent.
func (s *Service) check(msg *registry.PushMessage, ds []*registry.Delivery) error {
	type group struct{ provider, platform string }
	seen := map[group]bool{}
	for _, d := range ds {
		g := group{d.Provider, d.Platform}
		if seen[g] {
			continue
		}
		seen[g] = true
		v, ok := s.providers[d.Provider].(provider.Validator)
		if !ok {
			continue
		}
		if err := refusal(d, v.Validate(s.request(msg, d)), false); err != nil {
			return err
		}
	}
	return s.checkUnusedOverrides(msg, ds)
}

// refusal is the push's field error for err, what provider d.Provider's
// Validate said of the message on d's platform: nil when it accepted it,
// or when the fault is not the message's (the audience: Send will tell),
// or, with overridesOnly, not the overrides'.
func refusal(d *registry.Delivery, err error, overridesOnly bool) error {
	var fe *provider.FieldError
	if provider.KindOf(err) != provider.InvalidRequest || !errors.As(err, &fe) || strings.HasPrefix(fe.Field, "audience") {
		return nil
	}
	if strings.HasPrefix(fe.Field, "overrides.") {
		// The field is "overrides", as the product brief names it; the
		// reason says which of the vendor's options is wrong.
		return invalid("overrides", "%s refuses %s for %s: %s", d.Provider, fe.Field, d.Platform, fe.Reason)
	}
	if overridesOnly {
		return nil
	}
	return invalid(inputField(fe.Field), "%s refuses it for %s: %s", d.Provider, d.Platform, fe.Reason)
}

// placeholder is a delivery of provider name on platform pl to a
// placeholder audience, for check to ask the provider about msg before
// any device is known (checkEvery, checkUnusedOverrides).
func placeholder(msg *registry.PushMessage, name string, pl provider.Platform) *registry.Delivery {
	return &registry.Delivery{Provider: name, Platform: string(pl), Audience: registry.AudienceTokens,
		Tokens: []string{"0"}, ExpireAt: msg.ExpireAt}
}

// checkUnusedOverrides asks each provider msg has overrides for that none
// of ds goes through whether it would refuse them (a placeholder delivery
// of each platform it serves), so that a misspelt option is refused as it
// is for a provider the push uses, not stored unread. Only a refusal of
// the overrides counts: the rest of the message is not for that provider.
func (s *Service) checkUnusedOverrides(msg *registry.PushMessage, ds []*registry.Delivery) error {
	if msg.Overrides == "" {
		return nil
	}
	var byProvider map[string]json.RawMessage
	if json.Unmarshal([]byte(msg.Overrides), &byProvider) != nil {
		return nil // not stored by checkOptions: request fails the deliveries that read it
	}
	used := map[string]bool{}
	for _, d := range ds {
		used[d.Provider] = true
	}
	for _, name := range s.names {
		if _, ok := byProvider[name]; !ok || used[name] {
			continue
		}
		v, ok := s.providers[name].(provider.Validator)
		if !ok {
			continue
		}
		for _, pl := range provider.Platforms() {
			if !s.serves(name, pl) {
				continue
			}
			d := placeholder(msg, name, pl)
			if err := refusal(d, v.Validate(s.request(msg, d)), true); err != nil {
				return err
			}
		}
	}
	return nil
}

// canonicalJSON is the JSON value raw in one spelling: objects' members
// in key order, no white space, strings escaped alike (as json.Marshal
// escapes them, HTML's characters included), numbers as written. It is
// nil for null. So overrides that say the same thing are stored alike,
// and a replay that spells them otherwise is the same push (see
// Idempotency). An object with two keys that differ only in case (or not
// at all) is an error: a provider decodes its options matching keys
// without regard to case, the last one winning, so reordering them would
// change what the vendor receives.
func canonicalJSON(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b bytes.Buffer
	if err := canonicalValue(dec, &b); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	if b.String() == "null" {
		return nil, nil
	}
	return b.Bytes(), nil
}

// canonicalValue writes the next JSON value of dec to b as canonicalJSON
// spells it.
func canonicalValue(dec *json.Decoder, b *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			b.WriteByte('[')
			for n := 0; dec.More(); n++ {
				if n > 0 {
					b.WriteByte(',')
				}
				if err := canonicalValue(dec, b); err != nil {
					return err
				}
			}
			_, err := dec.Token() // ]
			b.WriteByte(']')
			return err
		}
		type member struct {
			key string
			val []byte
		}
		var ms []member
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			for _, m := range ms {
				if strings.EqualFold(m.key, key) {
					return fmt.Errorf("member %q and %q: keys are matched without regard to case", registry.Clip(m.key, 32), registry.Clip(key, 32))
				}
			}
			var vb bytes.Buffer
			if err := canonicalValue(dec, &vb); err != nil {
				return err
			}
			ms = append(ms, member{key, vb.Bytes()})
		}
		if _, err := dec.Token(); err != nil { // }
			return err
		}
		slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
		b.WriteByte('{')
		for n, m := range ms {
			if n > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(m.key)
			b.Write(k)
			b.WriteByte(':')
			b.Write(m.val)
		}
		b.WriteByte('}')
	case string:
		q, _ := json.Marshal(t)
		b.Write(q)
	case json.Number:
		b.WriteString(t.String())
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case nil:
		b.WriteString("null")
	}
	return nil
}

// checkOptions validates a push's class and overrides, and returns the
// overrides as the JSON object to store ("" for none): each value becomes
// its provider's entry, as the canonical JSON (canonicalJSON) of what the
// caller gave (a json.RawMessage is taken as the JSON it holds; a null is
// none). Whether the provider accepts it is for check to ask, with the
// rest of the request.
func (s *Service) checkOptions(class provider.Class, overrides map[string]any) (string, error) {
	if err := checkClass(class); err != nil {
		return "", err
	}
	if len(overrides) == 0 {
		return "", nil
	}
	raws := make(map[string]json.RawMessage, len(overrides))
	for name, v := range overrides {
		if _, ok := s.providers[name]; !ok {
			return "", invalid("overrides", "%q is not a configured provider (configured: %v)", registry.Clip(name, 32), s.names)
		}
		if v == nil {
			continue
		}
		raw, ok := v.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(v); err != nil {
				return "", invalid("overrides", "%s: %v", name, err)
			}
		}
		raws[name] = raw
	}
	stored, err := storedOverrides(raws)
	if err != nil {
		return "", invalid("overrides", "%v", err)
	}
	if len(stored) > registry.MaxText {
		return "", invalid("overrides", "are %d bytes as JSON, more than %d", len(stored), registry.MaxText)
	}
	return stored, nil
}

// storedOverrides is what a push stores of overrides given as each
// provider's JSON: one object of each provider's canonical JSON
// (canonicalJSON), a null left out; "" for none.
func storedOverrides(byProvider map[string]json.RawMessage) (string, error) {
	out := make(map[string]json.RawMessage, len(byProvider))
	for name, raw := range byProvider {
		canon, err := canonicalJSON(raw)
		if err != nil {
			return "", fmt.Errorf("%s: is not valid JSON: %w", name, err)
		}
		if canon != nil {
			out[name] = canon
		}
	}
	if len(out) == 0 {
		return "", nil
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// checkClass refuses a message class other than marketing, service or
// unset, naming the field "class".
func checkClass(class provider.Class) error {
	if !class.Valid() {
		return invalid("class", "must be %q or %q, got %q", provider.ClassMarketing, provider.ClassService, registry.Clip(string(class), 32))
	}
	return nil
}

// inputField names the Message field behind a provider.Request field.
func inputField(f string) string {
	switch {
	case f == "notification.title":
		return "title"
	case f == "notification.body":
		return "content"
	case strings.HasPrefix(f, "notification.extras"):
		return "extra"
	case f == "expire_time":
		return "expire_at"
	case f == "notification.class":
		return "class"
	case strings.HasPrefix(f, "overrides"):
		return "overrides"
	}
	return f
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
		if ds[i].State == registry.DeliverySplit {
			continue // its parts follow
		}
		r.Devices += len(ds[i].Tokens)
		r.Deliveries = append(r.Deliveries, outcomeOf(&ds[i], recordedError(&ds[i])))
	}
	return r, true, nil
}

// recordedError is the error a failed delivery recorded (its error kind,
// the vendor's code and response), so that the Result of a push found by
// its dedupe key says why, as the call that sent it did; nil for a
// delivery that did not fail.
func recordedError(d *registry.Delivery) error {
	if d.State != registry.DeliveryFailed {
		return nil
	}
	kind := provider.Unknown
	if d.ErrorKind != "" {
		kind = provider.ParseKind(d.ErrorKind)
	}
	msg := d.Response
	if msg == "" {
		msg = "failed, as recorded"
	}
	return &provider.Error{Provider: d.Provider, Op: OpSend, Kind: kind, Code: d.ErrorCode, Message: msg}
}

// record commits the message and its deliveries (claimed by this call),
// then sends them, their vendor calls bounded by sem.
func (s *Service) record(ctx context.Context, sem chan struct{}, msg *registry.PushMessage, ds []*registry.Delivery, devices, skipped int) (*Result, error) {
	r, err := s.create(ctx, msg, ds, devices, skipped)
	if err != nil || r.Duplicate {
		return r, err
	}
	content := sendable(msg)
	r.Deliveries = s.sendWith(ctx, sem, func(int64) *registry.PushMessage { return content }, ds)
	return r, nil
}

// sendable returns a copy of msg with what its vendor calls need: its
// content, not what only its record holds (the summary, every token of
// the push joined per platform, and the users), so that a large push does
// not keep them while it sends.
func sendable(msg *registry.PushMessage) *registry.PushMessage {
	content := *msg
	content.IOS, content.Android, content.UserNums = registry.PlatformSummary{}, registry.PlatformSummary{}, nil
	return &content
}

// create commits the message and its deliveries, claimed by this call,
// and returns the Result to fill with their outcomes. When another caller
// recorded the same dedupe key between the look-up and the insert, theirs
// is the push: its Result is returned, Duplicate set.
//
// Once started, the commit runs to its end even when ctx ends meanwhile
// (see commitCtx): a commit whose answer the caller's cancel took would
// leave a push recorded that its caller was told failed (one who tried
// again without a DedupeKey recorded and sent it twice), its deliveries
// held by nobody for a whole Lease. The deliveries of a push committed
// after ctx ended are released, due at once, by the sends that follow.
func (s *Service) create(ctx context.Context, msg *registry.PushMessage, ds []*registry.Delivery, devices, skipped int) (*Result, error) {
	msg.TraceParent = traceParent(ctx) // for the retries, by any instance
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("push: record push message: %w", err)
	}
	wctx, cancel := s.commitCtx(ctx)
	err := s.store.CreatePushMessage(wctx, msg, ds)
	cancel()
	if err != nil {
		if errors.Is(err, registry.ErrConflict) && msg.DedupeKey != "" {
			if r, ok, err2 := s.existing(ctx, msg.DedupeKey); ok && err2 == nil {
				return r, nil
			}
		}
		err = fromRegistry(err)
		if fe := (*FieldError)(nil); errors.As(err, &fe) {
			return nil, err // "push: title: …" says it all
		}
		return nil, fmt.Errorf("push: record push message: %w", err)
	}
	s.tel.recordedMessage(ctx, msg)
	s.log.LogAttrs(ctx, slog.LevelInfo, "push recorded", slog.Int64("push_message_id", msg.ID),
		slog.Int("deliveries", len(ds)), slog.Int("devices", devices))
	return &Result{PushMessageID: msg.ID, Devices: devices, Skipped: skipped}, nil
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

func normalizeUsers(in []string) ([]string, error) {
	// Checked before the listing: PostgreSQL fails a query that carries a
	// value that is not text, and PushMany lists the users of many pushes
	// in one query.
	if err := checkUserNums("user_num", in); err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, u := range in {
		u = strings.TrimSpace(u)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, invalid("user_num", "is required")
	}
	return out, nil
}

// checkUserNums checks each of users, without surrounding white space and
// blanks left out, with checkVarchar, naming field.
func checkUserNums(field string, users []string) error {
	for _, u := range users {
		if u = strings.TrimSpace(u); u != "" {
			if err := checkVarchar(field, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkVarchar refuses a value no VARCHAR(255) column can hold or be
// compared with on every database: not UTF-8, holding a NUL (which
// PostgreSQL refuses in any query), or longer than registry.MaxVarchar
// characters.
func checkVarchar(field, v string) error {
	switch {
	case !utf8.ValidString(v):
		return invalid(field, "%q is not valid UTF-8", registry.Clip(v, 20))
	case strings.IndexByte(v, 0) >= 0:
		return invalid(field, "%q holds a NUL character", registry.Clip(v, 20))
	case utf8.RuneCountInString(v) > registry.MaxVarchar:
		return invalid(field, "%q is longer than %d characters", registry.Clip(v, 20), registry.MaxVarchar)
	}
	return nil
}

// checkContent validates what Push and Broadcast share — title, content,
// extra and expiry — and returns the extra_params_string to store.
func checkContent(now time.Time, title, content string, extra map[string]string, raw string, expireAt time.Time) (string, error) {
	if err := checkText(title, content); err != nil {
		return "", err
	}
	if err := checkExpiry(now, expireAt); err != nil {
		return "", err
	}
	return messageExtra(extra, raw)
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

func checkExpiry(now, at time.Time) error {
	if !at.IsZero() && !at.After(now) {
		return invalid("expire_at", "%s is not in the future", at.Format(time.RFC3339))
	}
	return nil
}

// messageExtra returns the extra_params_string of a push: raw as given, or
// extra encoded as a JSON object (without HTML escaping, which would only
// make it longer).
func messageExtra(extra map[string]string, raw string) (string, error) {
	if raw != "" {
		if len(extra) > 0 {
			return "", invalid("extra", "set Extra or RawExtra, not both")
		}
		if n := utf8.RuneCountInString(raw); n > registry.MaxVarchar {
			return "", invalid("extra", "is %d characters, longer than extra_params_string's %d", n, registry.MaxVarchar)
		}
		return raw, nil
	}
	if len(extra) == 0 {
		return "", nil
	}
	for k, v := range extra {
		switch {
		case k == "":
			return "", invalid("extra", "has an empty key")
		case !utf8.ValidString(k):
			// Encoded, it would turn into U+FFFD, and two keys could
			// become one, a value lost.
			return "", invalid("extra", "key %q is not valid UTF-8", registry.Clip(k, 20))
		case !utf8.ValidString(v):
			return "", invalid("extra", "the value of %q is not valid UTF-8", registry.Clip(k, 20))
		}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(extra); err != nil {
		return "", invalid("extra", "%v", err)
	}
	out := strings.TrimSuffix(b.String(), "\n")
	if n := utf8.RuneCountInString(out); n > registry.MaxVarchar {
		return "", invalid("extra", "is %d characters as JSON, longer than extra_params_string's %d", n, registry.MaxVarchar)
	}
	return out, nil
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
	return stringValues(raw)
}

// stringValues turns a JSON object's values into strings: strings as they
// are, anything else as its JSON text.
func stringValues(raw map[string]json.RawMessage) map[string]string {
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
