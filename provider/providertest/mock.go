package providertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/tuisong/push/provider"
)

// Compile-time checks that the Mock offers every optional capability.
var (
	_ provider.Provider         = (*Mock)(nil)
	_ provider.StatusQuerier    = (*Mock)(nil)
	_ provider.Canceler         = (*Mock)(nil)
	_ provider.Validator        = (*Mock)(nil)
	_ provider.RetryTokenIssuer = (*Mock)(nil)
)

// Result is one scripted answer to a Send. When Err is non-nil the Send
// fails with it and Receipt is ignored. When both are nil the Send succeeds
// with a generated receipt, as if nothing had been scripted.
type Result struct {
	Receipt *provider.Receipt
	Err     error
}

// SendFunc computes the answer to a Send that no queued Result answers. It
// gets the Mock's own copy of the request, which it may keep. Returning a nil
// receipt and a nil error gives the generated receipt.
type SendFunc func(ctx context.Context, r *provider.Request) (*provider.Receipt, error)

// Cancellation is one Cancel call the Mock received.
type Cancellation struct {
	Platform provider.Platform
	ID       string
}

// Mock is an in-memory provider.Provider for host applications' unit tests.
// It validates requests like a real provider, records every request that
// passes, and answers from a script: queued Results first, in order, then the
// SendFunc if one is set, then a generated success with ids "mock-1",
// "mock-2", …. It never retries and never sleeps. It also implements
// provider.StatusQuerier, provider.Canceler, provider.Validator and
// provider.RetryTokenIssuer.
//
// Name a Mock after the provider it stands in for. The push Service routes
// a device to the provider whose Name is the device's push_platform, and
// device rows written without one (by other programs, or to the store
// directly) are read as "umeng"; a host test with such rows therefore
// needs MockConfig{Name: "umeng"}, and its pushes to them fail with
// ErrNoDevices while the Mock keeps its default name "mock" (see the
// Mock_umeng example). Devices the Service registers without one get its
// DefaultProvider, the only provider when there is one.
//
// A Mock is safe for concurrent use. Its methods never block, except Send
// while a SendFunc blocks.
type Mock struct {
	name     string
	caps     map[provider.Platform]provider.Capabilities
	pollable []provider.AudienceKind
	check    func(*provider.Request) error
	issue    func(*provider.Request) (string, error)

	mu       sync.Mutex
	queue    []Result
	sendFunc SendFunc
	requests []provider.Request
	nextID   int
	tasks    map[string]task
	cancels  []Cancellation
	dead     map[string]bool // tokens marked with MarkInvalid
}

// task is what Status knows about one id.
type task struct {
	// platform is the platform the id was issued for; empty when SetStatus
	// created the task, which then answers on every platform.
	platform provider.Platform
	status   provider.Status
}

// NewMock returns a Mock configured by cfg, or an error naming the first
// invalid field of cfg.
func NewMock(cfg MockConfig) (*Mock, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Mock{
		name:     cfg.Name,
		caps:     cfg.Capabilities,
		pollable: cfg.Pollable,
		check:    cfg.Validate,
		issue:    cfg.IssueRetryToken,
		tasks:    make(map[string]task),
	}, nil
}

// Name returns the configured name.
func (m *Mock) Name() string { return m.name }

// Capabilities returns the configured capabilities of p, in a copy the
// caller may change. An unknown platform gets the zero Capabilities, which
// accept nothing.
func (m *Mock) Capabilities(p provider.Platform) provider.Capabilities {
	c := m.caps[p]
	c.Audiences = slices.Clone(c.Audiences)
	return c
}

// Send validates r as a real provider would, with the checks of Validate,
// and fails with the error Validate returns, recording nothing. A ctx that is already done gives a
// Temporary error, recording nothing. Otherwise Send records a copy of r,
// counts a call and answers from the script (see Mock).
//
// Scripted errors that are not *provider.Error are wrapped in one of this
// Mock, so every error keeps the provider contract: Indeterminate when the
// cause is ctx's error (the request had reached the "vendor"), Unknown
// otherwise.
func (m *Mock) Send(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
	if err := m.validate(r); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, m.wrap("send", provider.Temporary, err)
	}
	req := cloneRequest(r)

	m.mu.Lock()
	m.requests = append(m.requests, cloneRequest(r))
	if err := m.refuseDead(r); err != nil {
		m.mu.Unlock()
		return nil, err
	}
	res, scripted := m.dequeue()
	f := m.sendFunc
	m.mu.Unlock()

	if !scripted && f != nil {
		res.Receipt, res.Err = f(ctx, &req)
	}
	if res.Err != nil {
		return nil, m.asProviderError("send", res.Err)
	}
	return m.receipt(r.Platform, r.Audience.Kind, res.Receipt), nil
}

// IssueRetryToken implements provider.RetryTokenIssuer with
// MockConfig.IssueRetryToken; without one it returns "". It records
// nothing and consumes no scripted result.
func (m *Mock) IssueRetryToken(_ context.Context, r *provider.Request) (string, error) {
	if m.issue == nil {
		return "", nil
	}
	return m.issue(r)
}

// MarkInvalid marks tokens as dead at the "vendor", as after the app was
// uninstalled: from now on a Send whose token audience holds one of them
// is refused as a whole with an InvalidToken error (after it is recorded
// and counted, before the script), as Umeng refuses a unicast to a dead
// token and JPush a batch with a bad registration id. When the platform's
// Capabilities declare TokenFailures, the error names the dead tokens in
// provider.Error.Failures, in the order given; otherwise it names none,
// and the caller must find them (push.Service halves the batch).
func (m *Mock) MarkInvalid(tokens ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead == nil {
		m.dead = map[string]bool{}
	}
	for _, t := range tokens {
		m.dead[t] = true
	}
}

// refuseDead returns the refusal of r when its audience holds a token
// marked with MarkInvalid, or nil. m.mu must be held.
func (m *Mock) refuseDead(r *provider.Request) error {
	if len(m.dead) == 0 || r.Audience.Kind != provider.AudienceTokens {
		return nil
	}
	var failures []provider.TokenFailure
	for _, t := range r.Audience.Tokens {
		if m.dead[t] {
			failures = append(failures, provider.TokenFailure{Token: t, Kind: provider.InvalidToken, Code: "dead", Message: "marked invalid"})
		}
	}
	if len(failures) == 0 {
		return nil
	}
	e := m.Err(provider.InvalidToken, "dead")
	e.Message = fmt.Sprintf("%d of the %d tokens are dead", len(failures), len(r.Audience.Tokens))
	if m.caps[r.Platform].TokenFailures {
		e.Failures = failures
	}
	return e
}

// Validate returns the error Send would return for r before recording it,
// or nil when Send would pass r on to its script. It checks, in order:
// Request.Validate; that the platform's Capabilities list the audience
// kind; an AliasType for an alias audience when the Capabilities declare
// NeedsAliasType; at most MaxTokens tokens (MaxFileTokens with a
// FileThreshold); when MaxPayloadBytes is set, that the
// content fits in it (see MockConfig.Capabilities); and then
// MockConfig.Validate, if set. Refusals are InvalidRequest errors of this
// Mock, Op "validate", naming the field by its Request path.
//
// Validate records nothing, consumes no scripted result, never blocks and
// is safe for concurrent use, as provider.Validator requires.
func (m *Mock) Validate(r *provider.Request) error { return m.validate(r) }

// validate checks r against the contract and this Mock's configuration.
func (m *Mock) validate(r *provider.Request) error {
	if err := r.Validate(); err != nil {
		return m.own(err)
	}
	caps := m.caps[r.Platform]
	if !caps.Supports(r.Audience.Kind) {
		return m.invalid("validate", "audience.kind", fmt.Sprintf("%s does not support audience %q on %s", m.name, r.Audience.Kind, r.Platform))
	}
	if caps.NeedsAliasType && r.Audience.Kind == provider.AudienceAliases && r.Audience.AliasType == "" {
		return m.invalid("validate", "audience.alias_type", fmt.Sprintf("is required: %s types its aliases", m.name))
	}
	if limit := caps.MaxSendTokens(); r.Audience.Kind == provider.AudienceTokens && len(r.Audience.Tokens) > limit {
		return m.invalid("validate", "audience.tokens", fmt.Sprintf("has %d tokens, more than the %d one send accepts", len(r.Audience.Tokens), limit))
	}
	if toks := r.Audience.Tokens; caps.MaxFileBytes > 0 && len(toks) > caps.MaxTokens {
		if size := provider.FileBytes(toks); size > caps.MaxFileBytes {
			return m.invalid("validate", "audience.tokens", fmt.Sprintf("make a file of %d bytes, more than the %d one send accepts", size, caps.MaxFileBytes))
		}
	}
	if limit := caps.MaxPayloadBytes; limit > 0 {
		if size := ContentBytes(&r.Notification); size > limit {
			field, part := largestPart(&r.Notification)
			return m.invalid("validate", field, fmt.Sprintf("takes %d of %d content bytes; %s accepts at most %d on %s",
				part, size, m.name, limit, r.Platform))
		}
	}
	if m.check == nil {
		return nil
	}
	err := m.check(r)
	if err == nil {
		return nil
	}
	var pe *provider.Error
	if errors.As(err, &pe) {
		return m.own(err)
	}
	return m.wrap("validate", provider.InvalidRequest, err)
}

// ContentBytes is the size the Mock holds against MaxPayloadBytes: the
// bytes of the title, subtitle and body, and of every extras key and value.
// A real vendor counts its encoded payload, which is larger; the Mock counts
// only what the caller wrote, so a test can aim at the limit exactly.
func ContentBytes(n *provider.Notification) int {
	size := len(n.Title) + len(n.Subtitle) + len(n.Body)
	for k, v := range n.Extras {
		size += len(k) + len(v)
	}
	return size
}

// largestPart names the part of n that takes the most of ContentBytes, and
// its size. Ties go to the first of body, title, subtitle, extras.
func largestPart(n *provider.Notification) (field string, size int) {
	extras := 0
	for k, v := range n.Extras {
		extras += len(k) + len(v)
	}
	field, size = "notification.body", len(n.Body)
	for _, pt := range []struct {
		field string
		size  int
	}{
		{"notification.title", len(n.Title)},
		{"notification.subtitle", len(n.Subtitle)},
		{"notification.extras", extras},
	} {
		if pt.size > size {
			field, size = pt.field, pt.size
		}
	}
	return field, size
}

// dequeue pops the next scripted Result. m.mu must be held.
func (m *Mock) dequeue() (Result, bool) {
	if len(m.queue) == 0 {
		return Result{}, false
	}
	res := m.queue[0]
	m.queue[0] = Result{} // drop the reference so a consumed receipt can be collected
	m.queue = m.queue[1:]
	return res, true
}

// receipt returns the receipt to hand out for a send of audience kind to
// platform: a copy of scripted with Provider and Platform filled in when it
// left them empty, or a generated one. A pollable receipt becomes a task
// that Status answers.
func (m *Mock) receipt(platform provider.Platform, kind provider.AudienceKind, scripted *provider.Receipt) *provider.Receipt {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rc *provider.Receipt
	if scripted != nil {
		rc = cloneReceipt(scripted)
	} else {
		m.nextID++
		rc = &provider.Receipt{
			ID:       "mock-" + strconv.Itoa(m.nextID),
			Pollable: slices.Contains(m.pollable, kind),
		}
	}
	if rc.Provider == "" {
		rc.Provider = m.name
	}
	if rc.Platform == "" {
		rc.Platform = platform
	}
	if _, known := m.tasks[rc.ID]; rc.Pollable && !known {
		m.tasks[rc.ID] = task{platform: rc.Platform, status: provider.Status{ID: rc.ID, State: provider.StateQueued}}
	}
	return rc
}

// Enqueue appends results to the script; each answers one later Send, in
// order, before any SendFunc or generated receipt.
func (m *Mock) Enqueue(results ...Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range results {
		if r.Receipt != nil {
			r.Receipt = cloneReceipt(r.Receipt)
		}
		m.queue = append(m.queue, r)
	}
}

// FailNext makes the next n Sends that reach the script fail with err,
// after any results already queued. A nil err means a Temporary error of
// this Mock. n <= 0 changes nothing.
func (m *Mock) FailNext(n int, err error) {
	if n <= 0 {
		return
	}
	if err == nil {
		err = m.Err(provider.Temporary, "")
	}
	results := make([]Result, n)
	for i := range results {
		results[i].Err = err
	}
	m.Enqueue(results...)
}

// SetSendFunc makes f answer every Send that no queued Result answers; nil
// restores generated receipts. f is called without any lock held, so it may
// block (honouring its ctx) and may call the Mock's other methods.
func (m *Mock) SetSendFunc(f SendFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sendFunc = f
}

// Pending returns how many queued Results no Send has consumed yet.
func (m *Mock) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue)
}

// Requests returns copies of the requests that passed validation, in
// arrival order. Changing them changes nothing in the Mock.
func (m *Mock) Requests() []provider.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]provider.Request, len(m.requests))
	for i := range m.requests {
		out[i] = cloneRequest(&m.requests[i])
	}
	return out
}

// Calls returns how many Sends passed validation and reached the script:
// the calls a real vendor would have received.
func (m *Mock) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.requests)
}

// Reset returns the Mock to its state just after NewMock: no script, no
// SendFunc, no recorded requests, statuses, cancellations or dead tokens, and ids
// starting again at "mock-1". The configuration is kept.
func (m *Mock) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queue = nil
	m.sendFunc = nil
	m.requests = nil
	m.nextID = 0
	m.tasks = make(map[string]task)
	m.cancels = nil
	m.dead = nil
}
