package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// The product brief's endpoints, and the listings of a user's devices and
// pushes.
const (
	PathDevice      = "/api/v1.1/app/device"
	PathPushMessage = "/api/v1.1/user/push_message"
	PathQueryPush   = "/api/v1.1/query/push_message"
	PathLogout      = "/api/v1.1/user/logout"
	PathUserDevices = "/api/v1.1/user/devices"
	PathQueryPushes = "/api/v1.1/query/push_messages"
)

// Action names what a request wants to do, for the Authorizer.
type Action string

// Actions of the product brief's endpoints.
const (
	ActionRegisterDevice Action = "register_device"
	ActionPush           Action = "push"
	ActionQueryPush      Action = "query_push"
	ActionLogout         Action = "logout"
	ActionListDevices    Action = "list_devices"
	ActionListPushes     Action = "list_pushes"
)

// ErrUnauthenticated is returned by an Authorizer when the request carries
// no valid credentials; the handler answers 401. Any other Authorizer error
// answers 403.
var ErrUnauthenticated = errors.New("push: unauthenticated")

// Authorizer decides whether r may perform action for userNum. userNum is
// the user_num as the Service stores and pushes to it: trimmed of white
// space. It is empty for ActionQueryPush, which names a push message
// instead, unless Identify identified the caller (then it is the caller),
// and for an ActionListPushes without a user_num, which lists every push.
// Return nil to allow.
type Authorizer func(r *http.Request, action Action, userNum string) error

// HandlerConfig configures the HTTP handlers.
type HandlerConfig struct {
	// Service does the work. Required.
	Service *Service
	// Authenticate is called first for every request to every endpoint (and
	// to any other path ServeHTTP is given), before the method check and
	// before any of the body is read. A non-nil error answers 401 with the
	// error code "unauthenticated", whatever the request holds, and the
	// error's text is not sent. Use it for credentials that do not depend on
	// the parameters, such as a bearer token. Default: every request is
	// authenticated.
	Authenticate func(r *http.Request) error
	// Authorize is called after the parameters are read and checked, before
	// every action, for per-user decisions. Default: allow everything;
	// hosts exposing the API beyond a trusted network must set it (or
	// Authenticate).
	Authorize Authorizer
	// Identify, when set, maps a request to its caller's user_num, from a
	// bearer token or a session. It is called for every endpoint after
	// Authenticate and the method check, before any of the body is read.
	//
	// (userNum, true, nil) means the caller is that user, and every
	// endpoint then acts for that user only: a user_num the request leaves
	// out is the caller's; a user_num (or a user_nums entry of
	// push_message) naming anybody else answers 403 "forbidden" with
	// nothing written or sent; query/push_message answers 404 "not_found"
	// for a push that was not addressed to the caller, as for an unknown
	// one, so that its existence is not revealed; the listings list the
	// caller's devices and pushes only. Authorize is still called, with
	// the caller's user_num.
	//
	// ("", false, nil) means the request identifies no user: a backend
	// that may act for every user. The endpoints then behave as without
	// Identify, and Authorize alone decides; return it only for such
	// callers. An error, or ok with a blank userNum, answers 401
	// "unauthenticated", and the error's text is not sent. Default: no
	// request identifies a user.
	Identify func(r *http.Request) (userNum string, ok bool, err error)
	// MaxBodyBytes limits request bodies; larger ones get 413. Default 1 MiB.
	MaxBodyBytes int64
	// Timeout bounds the work of each request against the store: a
	// database that stops answering (hung, or cut off behind a proxy that
	// keeps the connection open) makes the request answer 503
	// "unavailable" with Retry-After at this deadline, instead of holding
	// it and a connection until the client leaves. A push's vendor calls
	// are never cut by it (they finish on their own clock and are
	// recorded; what was not sent is pending for the Scanner), nor is the
	// commit of a push once started (see Config.WriteTimeout). A push whose
	// audience is still being listed at the deadline answers 200 with
	// "unlisted", the Scanner finishing it. A push whose vendor calls were
	// made answers once their outcomes are recorded: their writes are
	// retried through a database outage for as long as the deliveries'
	// leases allow (up to Config.Lease), since an outcome not recorded is
	// sent again, so during an outage such a request may be answered that
	// long after Timeout. That holds with Stop set; without it, the
	// client's leaving (or the server's BaseContext ending) ends those
	// retries at the drain's bound, and a delivery whose outcome was not
	// recorded by then is sent again after its lease: set Stop, and give
	// clients a longer timeout. Default 30 seconds; negative: no bound but
	// the client's.
	Timeout time.Duration
	// Stop, when set, is what cuts a push short instead of its client: a
	// push_message request whose client hangs up carries on, its
	// remaining deliveries sent and every outcome recorded on its full
	// budget (retried through a database blip for as long as the
	// delivery's lease allows: see Config.WriteTimeout), so that a client
	// giving up during an outage does not leave an answer unrecorded, to
	// be sent again. Stop's end (the server shutting down) then stops the
	// push as a client's hang-up does without it: no more vendor calls
	// start, the deliveries not sent are left pending for the Scanner, and
	// the outcomes' writes keep to the drain's bound. Timeout stops it
	// likewise, but for those writes, which keep their budget (see
	// Timeout).
	// Pass the context a shutdown ends, such as one the server cancels
	// when its shutdown begins (the example server cancels its own before
	// it waits for the requests in flight). Default: nil, the request's
	// context decides.
	Stop context.Context
	// Logger receives a line, at error level, per request answered 500
	// (the answer says only "internal error"; the cause is in the line),
	// one at warn level per request answered 503 because the store
	// could not be reached or did not answer in time, and one at warn
	// level per POST whose body holds parameters its endpoint does not
	// take (see Handler). Default: the
	// Service's Logger, or slog.Default() when the Service was given
	// none, so that a 500's cause is never thrown away.
	Logger *slog.Logger
}

// Handler serves the product brief's four endpoints and the two listings:
// GET /api/v1.1/user/devices?user_num= (ListDevices) and GET
// /api/v1.1/query/push_messages?user_num=&since=&until=&status=&after=&limit=
// (ListPushes). Mount it whole (it routes by path) or mount its methods one
// by one on any router. Every endpoint runs Authenticate, then Identify,
// then reads and checks its parameters, then asks Authorize, before it
// acts; see HandlerConfig.Identify for what an identified caller may do.
//
// A POST body's members (JSON) or fields (form) that its endpoint does not
// take are ignored, not refused: apps send parameters of their own. Each
// such request is logged once at warn level to HandlerConfig.Logger,
// naming the unknown parameters (names only, never values; the first 8
// in byte order and a count of the rest, each cut to 64 bytes and quoted
// as by %q), so that a misspelled one ("extras" for "extra") is noticed.
// A multipart form's file parts count as unknown. The GET endpoints'
// queries are not checked.
//
// Make one with NewHandler. A Handler it did not make (a zero Handler{}
// or a nil *Handler) answers every request 500 "internal", reading none
// of its body, and logs an error wrapping ErrNotBuilt to slog.Default().
type Handler struct {
	svc     *Service
	authn   func(*http.Request) error
	ident   func(*http.Request) (string, bool, error)
	auth    Authorizer
	limit   int64
	timeout time.Duration // <= 0: none
	stop    context.Context
	log     *slog.Logger
	routes  map[string]http.HandlerFunc
}

// DefaultHandlerTimeout is HandlerConfig.Timeout's default.
const DefaultHandlerTimeout = 30 * time.Second

// bound returns r with its context bounded by h's Timeout, and the cancel
// to defer.
func (h *Handler) bound(r *http.Request) (*http.Request, context.CancelFunc) {
	if h == nil || h.timeout <= 0 {
		return r, func() {}
	}
	// The request's own end (its client hanging up, the server's
	// BaseContext ended at shutdown) after the Timeout is a stop all the
	// same: see requestTimedOut.
	ctx, cancel := context.WithTimeoutCause(context.WithValue(r.Context(), stopKey{}, r.Context()), h.timeout, errRequestTimeout)
	return r.WithContext(ctx), cancel
}

// pushCtx is the context of the push of r: r's own, or, with
// HandlerConfig.Stop set, one that r's client hanging up does not end,
// with r's values and deadline (Timeout), ended by Stop; and the cancel
// to defer.
func (h *Handler) pushCtx(r *http.Request) (context.Context, context.CancelFunc) {
	if h.stop == nil {
		return r.Context(), func() {}
	}
	ctx, cancel := context.WithCancelCause(context.WithValue(context.WithoutCancel(r.Context()), stopKey{}, h.stop))
	unwatch := context.AfterFunc(h.stop, func() { cancel(context.Cause(h.stop)) })
	cancelDeadline := context.CancelFunc(func() {})
	if dl, ok := r.Context().Deadline(); ok {
		ctx, cancelDeadline = context.WithDeadlineCause(ctx, dl, errRequestTimeout)
	}
	return ctx, func() {
		unwatch()
		cancelDeadline()
		cancel(nil)
	}
}

// errRequestTimeout is the cause of a request context that reached
// HandlerConfig.Timeout: the store did not answer in time. It is not a
// stop: the outcomes of a push's vendor calls are still recorded on their
// full budget (see retryWrite).
var errRequestTimeout = errors.New("push: the request's Timeout passed")

// requestTimedOut reports whether ctx ended at HandlerConfig.Timeout,
// and what stops the push has not ended since (HandlerConfig.Stop, or
// without it the request's own context): a push's context that reached
// its Timeout keeps that cause when the stop comes later, and the
// outcomes' writes must then keep to the drain's bound all the same.
func requestTimedOut(ctx context.Context) bool {
	if stop, ok := ctx.Value(stopKey{}).(context.Context); ok && stop.Err() != nil {
		return false
	}
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), errRequestTimeout)
}

// stopKey keys the context whose end stops a push (see requestTimedOut):
// HandlerConfig.Stop, put there by pushCtx, or else the request's own,
// put there by bound.
type stopKey struct{}

// NewHandler validates cfg and returns a Handler.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	if cfg.Service == nil {
		return nil, invalid("service", "is required")
	}
	if cfg.Service.unbuilt() {
		return nil, invalid("service", "is a zero push.Service; make it with push.New")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, invalid("max_body_bytes", "must not be negative")
	}
	h := &Handler{svc: cfg.Service, authn: cfg.Authenticate, ident: cfg.Identify, auth: cfg.Authorize, limit: cfg.MaxBodyBytes,
		timeout: cfg.Timeout, stop: cfg.Stop, log: cfg.Logger}
	if h.limit == 0 {
		h.limit = 1 << 20
	}
	if h.timeout == 0 {
		h.timeout = DefaultHandlerTimeout
	}
	if h.log == nil {
		h.log = cfg.Service.log
		if !cfg.Service.logGiven {
			h.log = slog.Default()
		}
	}
	if cfg.Authenticate == nil && cfg.Authorize == nil {
		// The brief's API has no authentication of its own: said once, so
		// that a host that forgot its hooks sees it.
		h.log.LogAttrs(context.Background(), slog.LevelWarn, "push.Handler has neither Authenticate nor Authorize: every endpoint is open to anyone who reaches it")
	} else if cfg.Identify != nil && cfg.Authenticate == nil {
		h.log.LogAttrs(context.Background(), slog.LevelWarn, "push.Handler has Identify but no Authenticate: a request Identify does not identify acts for every user unless Authorize refuses it")
	}
	h.routes = map[string]http.HandlerFunc{
		PathDevice:      h.RegisterDevice,
		PathPushMessage: h.PushMessage,
		PathQueryPush:   h.QueryPushMessage,
		PathLogout:      h.Logout,
		PathUserDevices: h.ListDevices,
		PathQueryPushes: h.ListPushes,
	}
	return h, nil
}

// ServeHTTP routes the six paths by exact match. Any other path is
// answered 404 with the error code "not_found" (401 first when Authenticate
// refuses the request).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.unbuilt() {
		h.refuseUnbuilt(w, r)
		return
	}
	if serve, ok := h.routes[r.URL.Path]; ok {
		serve(w, r)
		return
	}
	if !h.authenticated(w, r) {
		return
	}
	vendorhttp.CloseUnread(w, r)
	writeError(w, http.StatusNotFound, "not_found", "no endpoint at this path")
}

// RegisterDevice serves POST /api/v1.1/app/device.
func (h *Handler) RegisterDevice(w http.ResponseWriter, r *http.Request) {
	r, cancel := h.bound(r)
	defer cancel()
	p, ok := h.params(w, r, http.MethodPost, "user_num", "uuid", "push_token", "push_platform", "name", "platform", "os", "os_version")
	if !ok {
		return
	}
	if err := p.strings("user_num", "uuid", "push_token", "push_platform", "name", "platform", "os", "os_version"); err != nil {
		h.fail(w, r, err)
		return
	}
	user, ok := h.own(w, p, p.trimmed("user_num"))
	if !ok {
		return
	}
	// Trimmed as RegisterDevice stores them, so that the Authorizer sees the
	// user_num that is stored.
	d := Device{
		UserNum: user, UUID: p.trimmed("uuid"), PushToken: p.trimmed("push_token"),
		PushPlatform: p.trimmed("push_platform"), Name: p.trimmed("name"), Platform: p.trimmed("platform"),
		OS: p.trimmed("os"), OSVersion: p.trimmed("os_version"),
	}
	for _, f := range []struct{ name, v string }{{"user_num", d.UserNum}, {"uuid", d.UUID}, {"push_token", d.PushToken}, {"platform", d.Platform}} {
		if f.v == "" {
			h.fail(w, r, invalid(f.name, "is required"))
			return
		}
	}
	if !h.allow(w, r, ActionRegisterDevice, d.UserNum) {
		return
	}
	reg, err := h.svc.RegisterDevice(r.Context(), d)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"device_uuid": reg.DeviceUUID, "user_device_id": reg.UserDeviceID})
}

// PushMessage serves POST /api/v1.1/user/push_message. Besides the product
// brief's user_num, title and content it takes user_nums (several users),
// extra (a JSON object; a value that is not a string is delivered as its
// JSON text, 1 as "1" and {"x":1} as `{"x":1}`, and null as "", as
// ParseExtra reads it),
// class ("marketing" or "service", in any case),
// overrides (a JSON object of per-provider options, such as
// {"umeng":{"channel_properties":{"channel_activity":"…"}}}) and
// expire_at (Message.ExpireAt: an RFC 3339 time with its offset, or Unix
// seconds; it must be in the future, and a vendor keeps the push at most
// its own limit, 7 days for Umeng). A replay of an idempotency key
// compares no expire_at: the first push's stands, so a client may compute
// it anew for each try.
//
// A client that may send a push twice, such as a retry after a timeout or
// a reset connection, sends an idempotency key: the Idempotency-Key header
// (HeaderIdempotencyKey, as draft-ietf-httpapi-idempotency-key-header
// names it; a plain value or the draft's quoted string) or, for clients
// that cannot set headers, the idempotency_key parameter. Both may be
// sent only when they hold the same key. A key is 1..MaxIdempotencyKey
// (128) bytes of printable ASCII once surrounding spaces and tabs are
// trimmed; any other key, or a header and a parameter that differ,
// answers 400 "invalid_idempotency_key" and nothing is written or sent.
//
// A key is scoped to the caller Identify identified or, for a request it
// does not identify (a backend), to the exact set of users the push goes
// to (trimmed, without repeats, in any order): two callers never share a
// key, and a backend's key never answers for another audience. The push
// is recorded under the dedupe_key "http#" and the hex SHA-256 of the
// scope and the key; neither the key nor a user_num is stored as it is.
// Within one scope:
//
//   - The same key with the same title, content, extra, class and
//     overrides answers 200 with the first push's push_message_id and
//     devices, the current counts of its deliveries and "duplicate": true,
//     and sends nothing. Concurrent requests with one key record one push
//     and make one vendor call per delivery.
//   - The same key with another title, content, extra, class or overrides
//     answers 409 "idempotency_key_reused", and nothing is written or
//     sent. (The draft suggests 422 for a reused key; 409 is kept for all
//     key conflicts, as the state of the key, not the request's syntax,
//     is at fault.)
//   - For a backend, the same key with another set of users is another
//     scope: it records a new push to those users, never the other one.
//
// Every check of the request, Authorize included, comes before the key is
// looked up, so a replay answers only a request the caller may make. A
// request refused, or answered 404 "no_active_device", recorded nothing:
// its key stays free. A key stays bound to its push as long as the push's
// row exists.
func (h *Handler) PushMessage(w http.ResponseWriter, r *http.Request) {
	r, cancel := h.bound(r)
	defer cancel()
	p, ok := h.params(w, r, http.MethodPost, "user_num", "user_nums", "title", "content", "extra", "class", "overrides", "expire_at", "idempotency_key")
	if !ok {
		return
	}
	if err := p.strings("user_num", "title", "content"); err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := p.list("user_nums")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Each value is checked under the name it came by: normalizeUsers
	// below would name a bad entry of user_nums "user_num".
	err = checkUserNums("user_num", []string{p.str("user_num")})
	if err == nil {
		err = checkUserNums("user_nums", list)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	named := append([]string{p.str("user_num")}, list...)
	if p.identified {
		// The caller pushes to itself only; naming nobody names it.
		for _, u := range named {
			if u = strings.TrimSpace(u); u == "" {
				continue
			}
			if _, ok := h.own(w, p, u); !ok {
				return
			}
		}
		named = []string{p.caller}
	}
	// Push trims user_nums too: authorize exactly the users it will reach.
	users, err := normalizeUsers(named)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	extra, err := p.extra("extra")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := p.strings("class"); err != nil {
		h.fail(w, r, err)
		return
	}
	// In any case, as a center row's push_class is read.
	class := provider.Class(strings.ToLower(p.trimmed("class")))
	if err := checkClass(class); err != nil {
		h.fail(w, r, err)
		return
	}
	overrides, err := p.overrides("overrides")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := p.strings("expire_at"); err != nil {
		h.fail(w, r, err)
		return
	}
	expire, err := p.time("expire_at")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	key, err := idempotencyKey(r, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, u := range users {
		if !h.allow(w, r, ActionPush, u) {
			return
		}
	}
	m := Message{UserNums: users, Title: p.str("title"), Content: p.str("content"), Extra: extra,
		Class: class, Overrides: overrides, ExpireAt: expire}
	if key != "" {
		m.DedupeKey = dedupeKeyOf(idempotencyScope(p, users), key)
	}
	pctx, cancelPush := h.pushCtx(r)
	res, err := h.svc.Push(pctx, m)
	cancelPush()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if res.Duplicate {
		same, err := h.samePush(r.Context(), res.PushMessageID, m)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if !same {
			writeError(w, http.StatusConflict, "idempotency_key_reused",
				"idempotency_key was used before for a different push (another title, content, extra, class or overrides); use a new key for a new push")
			return
		}
	}
	out := map[string]any{
		"push_message_id": res.PushMessageID, "devices": res.Devices,
		"accepted": res.Accepted(), "pending": res.Pending(), "failed": res.Failed(),
	}
	if res.Duplicate {
		out["duplicate"] = true
	}
	if len(res.Unreached) > 0 {
		out["unreached"] = res.Unreached // users with no device reached: see Result.Unreached
	}
	if res.UnreachedCount > 0 {
		out["unreached_count"] = res.UnreachedCount // for a push of any size: see Result.UnreachedCount
	}
	if res.Unlisted {
		out["unlisted"] = true // the Scanner lists and sends the rest: see Result.Unlisted
	}
	if res.Expired {
		out["expired"] = true // the users not listed before ExpireAt are not pushed: see Result.Expired
	}
	if n := res.Unrecorded(); n > 0 {
		out["unrecorded"] = n // sent, the outcome not stored: sent again once its lease ends (DeliveryOutcome.Unrecorded)
	}
	writeJSON(w, http.StatusOK, out)
}

// QueryPushMessage serves GET /api/v1.1/query/push_message?push_message_id=.
// Besides the product brief's ios_status and android_status it answers the
// receipt counts of the push per platform: ios_arrived, ios_opened,
// ios_dismissed, android_arrived, android_opened and android_dismissed.
func (h *Handler) QueryPushMessage(w http.ResponseWriter, r *http.Request) {
	r, cancel := h.bound(r)
	defer cancel()
	p, ok := h.params(w, r, http.MethodGet, "push_message_id", "user_num")
	if !ok {
		return
	}
	id, err := p.id("push_message_id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !h.allow(w, r, ActionQueryPush, p.caller) {
		return
	}
	var st Status
	if p.identified {
		st, err = h.svc.PushStatusFor(r.Context(), p.caller, id)
	} else {
		st, err = h.svc.PushStatus(r.Context(), id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"push_message_id": st.PushMessageID, "ios_status": st.IOSStatus, "android_status": st.AndroidStatus,
		"ios_arrived": st.Receipts.IOS.Arrived, "ios_opened": st.Receipts.IOS.Opened, "ios_dismissed": st.Receipts.IOS.Dismissed,
		"android_arrived": st.Receipts.Android.Arrived, "android_opened": st.Receipts.Android.Opened,
		"android_dismissed": st.Receipts.Android.Dismissed})
}

// Logout serves POST /api/v1.1/user/logout. A user_device_id of another
// user's link answers 403 "not_owner", or, for a caller Identify
// identified, 404 "not_found" as an unknown id does, so that no user can
// tell which ids other users' links have.
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request) {
	r, cancel := h.bound(r)
	defer cancel()
	p, ok := h.params(w, r, http.MethodPost, "user_num", "user_device_id")
	if !ok {
		return
	}
	if err := p.strings("user_num"); err != nil {
		h.fail(w, r, err)
		return
	}
	user, ok := h.ownRequired(w, r, p)
	if !ok {
		return
	}
	id, err := p.id("user_device_id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !h.allow(w, r, ActionLogout, user) {
		return
	}
	if err := h.svc.Logout(r.Context(), user, id); err != nil {
		if p.identified && errors.Is(err, registry.ErrNotOwner) {
			// An identified caller learns nothing of other users' links:
			// theirs and none answer alike, as query/push_message does.
			writeError(w, http.StatusNotFound, "not_found", "no such record")
			return
		}
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": "successfully"})
}

// ListDevices serves GET /api/v1.1/user/devices?user_num=: every device
// the user has logged in on, active or not, as Service.ListDevices reports
// them (tokens masked), in {"user_num": …, "devices": […]}. user_num is
// required unless Identify identified the caller.
func (h *Handler) ListDevices(w http.ResponseWriter, r *http.Request) {
	r, cancel := h.bound(r)
	defer cancel()
	p, ok := h.params(w, r, http.MethodGet, "user_num")
	if !ok {
		return
	}
	user, ok := h.ownRequired(w, r, p)
	if !ok {
		return
	}
	if !h.allow(w, r, ActionListDevices, user) {
		return
	}
	devices, err := h.svc.ListDevices(r.Context(), user)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_num": user, "devices": devices})
}

// ListPushes serves GET
// /api/v1.1/query/push_messages?user_num=&since=&until=&status=&after=&limit=:
// one page of pushes, newest first, as Service.ListPushMessages lists
// them, in {"push_messages": […], "next": …}; pass next as after for the
// following page (no next: the last page). since and until are RFC 3339
// times or Unix seconds; status is pending, success, partial or failed;
// limit is 1..200 (default 50). Without user_num every push is listed
// (the Authorizer is asked with an empty user) unless Identify
// identified the caller, whose pushes alone are listed.
func (h *Handler) ListPushes(w http.ResponseWriter, r *http.Request) {
	r, cancel := h.bound(r)
	defer cancel()
	p, ok := h.params(w, r, http.MethodGet, "user_num", "after", "limit", "since", "until", "status")
	if !ok {
		return
	}
	user, ok := h.own(w, p, p.trimmed("user_num"))
	if !ok {
		return
	}
	f := PushMessageFilter{UserNum: user, Status: p.trimmed("status"), After: p.trimmed("after")}
	var err error
	if f.Since, err = p.time("since"); err != nil {
		h.fail(w, r, err)
		return
	}
	if f.Until, err = p.time("until"); err != nil {
		h.fail(w, r, err)
		return
	}
	if v := p.trimmed("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > MaxPushMessagesLimit {
			h.fail(w, r, invalid("limit", "must be an integer in 1..%d, got %q", MaxPushMessagesLimit, registry.Clip(v, 32)))
			return
		}
		f.Limit = n
	}
	// The filter is checked whole before the Authorizer is asked, as the
	// other endpoints check their parameters first.
	if _, _, err := filterQuery(f); err != nil {
		h.fail(w, r, err)
		return
	}
	if !h.allow(w, r, ActionListPushes, user) {
		return
	}
	page, err := h.svc.ListPushMessages(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// own returns the user_num a request acts for: user as sent, unless
// Identify identified the caller; then the caller's when user is empty,
// and otherwise user only if it is the caller's: another user answers 403.
func (h *Handler) own(w http.ResponseWriter, p params, user string) (string, bool) {
	switch {
	case !p.identified:
		return user, true
	case user == "":
		return p.caller, true
	case user != p.caller:
		writeError(w, http.StatusForbidden, "forbidden", "user_num names another user than the caller")
		return "", false
	}
	return user, true
}

// ownRequired is own for an endpoint that needs a user: the request's
// trimmed user_num or the identified caller, and a 400 naming user_num
// when there is neither.
func (h *Handler) ownRequired(w http.ResponseWriter, r *http.Request, p params) (string, bool) {
	user, ok := h.own(w, p, p.trimmed("user_num"))
	if ok && user == "" {
		h.fail(w, r, invalid("user_num", "is required"))
		return "", false
	}
	return user, ok
}

// identify runs the Identify hook, answering 401 itself when it fails.
func (h *Handler) identify(w http.ResponseWriter, r *http.Request) (string, bool, bool) {
	if h.ident == nil {
		return "", false, true
	}
	user, ok, err := h.ident(r)
	user = strings.TrimSpace(user)
	if err != nil || (ok && user == "") {
		vendorhttp.CloseUnread(w, r)
		writeError(w, http.StatusUnauthorized, "unauthenticated", "missing or invalid credentials")
		return "", false, false
	}
	if !ok {
		return "", false, true
	}
	return user, true, true
}

func (h *Handler) allow(w http.ResponseWriter, r *http.Request, a Action, user string) bool {
	if h.auth == nil {
		return true
	}
	err := h.auth(r, a, user)
	if err == nil {
		return true
	}
	if errors.Is(err, ErrUnauthenticated) {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "missing or invalid credentials")
	} else {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("not allowed to %s for this user", a))
	}
	return false
}

// fail maps an error to its status and JSON error body. Internal errors
// are logged, and answered without their text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *FieldError
	var ve *registry.ValidationError
	var pe *provider.FieldError
	switch {
	case errors.As(err, &fe):
		writeError(w, http.StatusBadRequest, "invalid_"+fe.Field, fe.Error())
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, "invalid_"+ve.Field, ve.Error())
	case errors.As(err, &pe):
		writeError(w, http.StatusBadRequest, "invalid_"+pe.Field, pe.Error())
	case errors.Is(err, ErrNoDevices):
		msg := "no active device for the user(s)"
		if err != ErrNoDevices {
			msg = strings.TrimPrefix(err.Error(), "push: ") // how many were skipped, and why
		}
		writeError(w, http.StatusNotFound, "no_active_device", msg)
	case errors.Is(err, registry.ErrNotOwner):
		writeError(w, http.StatusForbidden, "not_owner", "the user_device_id belongs to another user")
	case errors.Is(err, registry.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such record")
	case requestTimedOut(r.Context()) && transientStoreError(err): // a deadline is one
		// The store did not answer within Timeout: a database hung or
		// cut off behind a proxy. An outage, said as the one below.
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "request failed: the store did not answer within the handler's Timeout",
			slog.String("path", r.URL.Path), slog.Duration("timeout", h.timeout), slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the database did not answer in time; retry")
	case (r.Context().Err() != nil || h.stop != nil && h.stop.Err() != nil) &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// The request was stopped (the server is shutting down, or the
		// client left) before it was done: by its own context, or by
		// Stop, which ends a push whatever its request's context says. A push stopped so has recorded
		// nothing (one recorded answers with its deliveries pending), so
		// that it may be sent again.
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the request was stopped before it was done; retry")
	case transientStoreError(err):
		// The store could not be reached or did not answer in time: an
		// outage that passes, which clients and load balancers should
		// tell from a bug. Logged all the same: operators need to see it.
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "request failed: the store is unavailable", slog.String("path", r.URL.Path),
			slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the database is unavailable; retry")
	default:
		h.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}

// unbuilt reports whether NewHandler did not make h (see ErrNotBuilt):
// every Handler it makes has a Service.
func (h *Handler) unbuilt() bool { return h == nil || h.svc == nil }

// refuseUnbuilt answers a request to a Handler NewHandler did not make:
// 500, as for any bug of the host's, with the cause logged to
// slog.Default(), the only logger such a Handler has.
func (h *Handler) refuseUnbuilt(w http.ResponseWriter, r *http.Request) {
	slog.Default().LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("path", r.URL.Path),
		slog.String("error", notBuilt("Handler", "push.NewHandler").Error()))
	vendorhttp.CloseUnread(w, r)
	writeError(w, http.StatusInternalServerError, "internal", "internal error")
}

// authenticated runs the Authenticate hook, answering 401 itself when it
// refuses the request.
func (h *Handler) authenticated(w http.ResponseWriter, r *http.Request) bool {
	if h.authn == nil {
		return true
	}
	if err := h.authn(r); err != nil {
		vendorhttp.CloseUnread(w, r)
		writeError(w, http.StatusUnauthorized, "unauthenticated", "missing or invalid credentials")
		return false
	}
	return true
}

// params authenticates the request, then reads its parameters from the
// query (GET) or from a JSON or form body (POST), answering the error
// itself when it cannot. known names the parameters a POST endpoint
// takes: the body's others are logged (warnUnknown) and ignored.
func (h *Handler) params(w http.ResponseWriter, r *http.Request, method string, known ...string) (params, bool) {
	if h.unbuilt() {
		h.refuseUnbuilt(w, r)
		return params{}, false
	}
	if !h.authenticated(w, r) {
		return params{}, false
	}
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		vendorhttp.CloseUnread(w, r)
		allow := method
		if method == http.MethodGet {
			allow = "GET, HEAD" // HEAD is GET without the body, as net/http serves it
		}
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use "+method)
		return params{}, false
	}
	caller, identified, ok := h.identify(w, r)
	if !ok {
		return params{}, false
	}
	p, ok := h.read(w, r, method, known)
	p.caller, p.identified = caller, identified
	return p, ok
}

// read reads the parameters of a request whose method is method, and
// warns of the body's parameters that are not known.
func (h *Handler) read(w http.ResponseWriter, r *http.Request, method string, known []string) (params, bool) {
	q, ok := strictQuery(w, r, known)
	if !ok {
		vendorhttp.CloseUnread(w, r)
		return params{}, false
	}
	if method == http.MethodGet {
		// A GET's parameters are in its query, and a body sent with it
		// is never read: its answer must not wait for that body.
		vendorhttp.CloseUnread(w, r)
		if k, dup := repeatedValue(q, plainName); dup {
			refuseRepeated(w, k, nil) // a query's names are its own: named as given
			return params{}, false
		}
		if refuseMisspelled(w, maps.Keys(q), known) {
			return params{}, false
		}
		return formParams(q), true
	}
	// A POST's parameters are in its body. One named in its query too
	// would be read by a proxy or a gateway in front of the server (to
	// authorize the user_num it names, say) and not by the server.
	for k := range q {
		if kn, ok := knownAs(k, known); ok {
			vendorhttp.CloseUnread(w, r)
			writeError(w, http.StatusBadRequest, "invalid_"+kn,
				fmt.Sprintf("%q is given in the query of a POST: send it in the body only", registry.Clip(k, 32)))
			return params{}, false
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.limit)
	// A charset is not refused: clients label ASCII bodies ISO-8859-1 or
	// US-ASCII, and whatever bytes are not UTF-8 the checks below and the
	// fields' refuse.
	if len(r.Header.Values("Content-Type")) > 1 {
		// Of two, a proxy might read the body as one type and this server
		// as the other.
		vendorhttp.CloseUnread(w, r)
		writeError(w, http.StatusBadRequest, "invalid_body", "the request has more than one Content-Type header")
		return params{}, false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if enc := r.Header.Values("Content-Encoding"); len(enc) > 0 && !(len(enc) == 1 && strings.EqualFold(strings.TrimSpace(enc[0]), "identity")) {
		// The body would be read as it came: compressed bytes as text.
		vendorhttp.CloseUnread(w, r)
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body without a Content-Encoding")
		return params{}, false
	}

	var err error
	var p params
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		var body []byte
		if body, err = io.ReadAll(r.Body); err != nil && !isTooLarge(err) {
			unreadable(w, err)
			return params{}, false
		}
		if err == nil && !utf8.Valid(body) {
			// encoding/json would put U+FFFD in place of the bytes and
			// push what the client did not write (RFC 8259 requires UTF-8).
			writeError(w, http.StatusBadRequest, "invalid_body", "the JSON body is not valid UTF-8"+invalidUTF8Where(body))
			return params{}, false
		}
		if err == nil && loneSurrogate(body) {
			// encoding/json would put U+FFFD in its place, as for bytes
			// that are not UTF-8.
			writeError(w, http.StatusBadRequest, "invalid_body", `the JSON body holds a \u escape of half a surrogate pair, which is no character`)
			return params{}, false
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err == nil {
			err = dec.Decode(&m)
		}
		if err == nil && m == nil {
			writeError(w, http.StatusBadRequest, "invalid_body", "the body is null, not a JSON object")
			return params{}, false
		}
		if err == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				writeError(w, http.StatusBadRequest, "invalid_body", "the body has data after its JSON object")
				return params{}, false
			}
			if k, within, dup := repeatedMember(body); dup {
				if within != "" {
					// Named by the field it is in, as a form's extra or
					// overrides with a member twice is.
					writeError(w, http.StatusBadRequest, "invalid_"+paramCode(within, known),
						fmt.Sprintf("%s: member %q is given twice", registry.Clip(within, 32), registry.Clip(k, 32)))
					return params{}, false
				}
				refuseRepeated(w, k, known)
				return params{}, false
			}
			if refuseMisspelled(w, maps.Keys(m), known) {
				return params{}, false
			}
			p = jsonParams(m)
		}
		if err != nil && !isTooLarge(err) {
			writeError(w, http.StatusBadRequest, "invalid_body", "the body is not a JSON object: "+err.Error())
			return params{}, false
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		var body *readCount
		if ct == "multipart/form-data" {
			body = &readCount{ReadCloser: r.Body}
			r.Body = body
			err = r.ParseMultipartForm(h.limit)
		} else {
			err = r.ParseForm()
		}
		switch {
		case err == nil:
			if body != nil && !body.atEnd(r.ContentLength) {
				// A multipart form ends at its final boundary: bytes
				// announced after it are never read, and net/http would
				// wait for them before it answers.
				vendorhttp.CloseUnread(w, r)
			}
			if k, dup := repeatedValue(r.PostForm, nil); dup {
				refuseRepeated(w, k, known)
				return params{}, false
			}
			if refuseMisspelled(w, maps.Keys(r.PostForm), known) {
				return params{}, false
			}
			p = formParams(r.PostForm)
		case isTooLarge(err):
		case readFailed(err):
			unreadable(w, err)
			return params{}, false
		default:
			// A multipart form is read part by part, so one that cannot be
			// parsed may have left the rest of its body unread.
			vendorhttp.CloseUnread(w, r)
			writeError(w, http.StatusBadRequest, "invalid_body", "the form cannot be parsed")
			return params{}, false
		}
	default:
		vendorhttp.CloseUnread(w, r)
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json or a form")
		return params{}, false
	}
	if isTooLarge(err) {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body exceeds %d bytes", h.limit))
		return params{}, false
	}
	h.warnUnknown(r, p, known)
	return p, true
}

// strictQuery parses the query of r, refusing one that cannot be read
// whole with 400: r.URL.Query drops a pair it cannot unescape, or one with
// a semicolon, so that "?user_num=u2%zz" would read as no user_num at all
// (for a listing, every user's pushes).
func strictQuery(w http.ResponseWriter, r *http.Request, known []string) (url.Values, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		return q, true
	}
	code := "query"
	if k := unreadablePair(r.URL.RawQuery); k != "" {
		if kn, ok := knownAs(k, known); ok {
			code = kn
		}
	}
	writeError(w, http.StatusBadRequest, "invalid_"+code, "the query cannot be read: "+registry.Clip(err.Error(), 120))
	return nil, false
}

// unreadablePair returns the name of the first pair of the query raw that
// url.ParseQuery cannot read, when that name can be read; "" otherwise.
func unreadablePair(raw string) string {
	for pair := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil || strings.Contains(k, ";") {
			return ""
		}
		if _, err := url.QueryUnescape(v); err != nil || strings.Contains(v, ";") {
			return name
		}
	}
	return ""
}

// knownAs returns the parameter of known that k names, in any case
// ("USER_NUM" is user_num).
func knownAs(k string, known []string) (string, bool) {
	for _, kn := range known {
		if strings.EqualFold(k, kn) {
			return kn, true
		}
	}
	return "", false
}

// refuseMisspelled answers 400 for a parameter among names that names one
// of known in another case ("USER_NUM"): a reader that matches names
// without case, as many decoders do, would take its value for the
// parameter, the server would not. It reports whether it answered.
func refuseMisspelled(w http.ResponseWriter, names iter.Seq[string], known []string) bool {
	for k := range names {
		if slices.Contains(known, k) {
			continue
		}
		if kn, ok := knownAs(k, known); ok {
			writeError(w, http.StatusBadRequest, "invalid_"+kn,
				fmt.Sprintf("%q: the API's parameters are named in lower case (%q)", registry.Clip(k, 32), kn))
			return true
		}
	}
	return false
}

// refuseRepeated answers 400 for parameter k given twice. encoding/json
// keeps a repeated member's last copy and a form's reader the first: a
// proxy that checked the other copy would be fooled.
func refuseRepeated(w http.ResponseWriter, k string, known []string) {
	writeError(w, http.StatusBadRequest, "invalid_"+paramCode(k, known), fmt.Sprintf("%q is given twice", registry.Clip(k, 32)))
}

// listParams are the parameters a form may repeat: one value each.
var listParams = map[string]bool{"user_nums": true}

// repeatedValue returns a parameter of v given more than once, other than
// a list's, if any; with only, among the names only accepts. (A query's
// other names, such as a cache buster "_", are no parameter of ours.)
func repeatedValue(v url.Values, only func(string) bool) (string, bool) {
	for k, vals := range v {
		if len(vals) > 1 && !listParams[k] && (only == nil || only(k)) {
			return k, true
		}
	}
	return "", false
}

// repeatedMember returns a member name that some object of the JSON text
// data holds twice, at any depth ("extra":{"a":1,"a":2} included), if
// any, and the member of the outermost object it is found in ("extra"),
// or "" when that object holds it twice itself. data must be valid JSON
// of bounded depth (decode it first).
func repeatedMember(data []byte) (name, within string, ok bool) {
	type frame struct {
		keys      map[string]bool // nil for an array
		expectKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*frame
	for {
		t, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		top := len(stack) - 1
		switch v := t.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{keys: map[string]bool{}, expectKey: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			}
			stack = stack[:top] // the end of an object or array: a value of its parent ended
		case string:
			if top >= 0 && stack[top].keys != nil && stack[top].expectKey {
				if stack[top].keys[v] {
					if top == 0 {
						within = ""
					}
					return v, within, true
				}
				if top == 0 {
					within = v
				}
				stack[top].keys[v], stack[top].expectKey = true, false
				continue
			}
		}
		if len(stack) == 0 {
			return "", "", false
		}
		if f := stack[len(stack)-1]; f.keys != nil {
			f.expectKey = true // a member's value ended
		}
	}
}

// paramCode is the field of an error code about parameter k: k when it is
// one of the endpoint's known parameters (a GET names none: then any name
// of lowercase letters and underscores, as every parameter's is), else
// "body", so that no odd name is echoed into a code.
func paramCode(k string, known []string) string {
	if slices.Contains(known, k) || len(known) == 0 && plainName(k) {
		return k
	}
	return "body"
}

// plainName reports whether k is named as every parameter of the API is:
// a lowercase letter, then lowercase letters and underscores, at most 32.
func plainName(k string) bool {
	return len(k) > 0 && len(k) <= 32 && k[0] >= 'a' && k[0] <= 'z' && strings.Trim(k, "abcdefghijklmnopqrstuvwxyz_") == ""
}

// jsonKind names the kind of the JSON value v for an error: "a JSON
// object", "a JSON array", "a JSON boolean" (or "a JSON value").
func jsonKind(v json.RawMessage) string {
	switch b := bytes.TrimSpace(v); {
	case len(b) == 0:
		return "a JSON value"
	case b[0] == '{':
		return "a JSON object"
	case b[0] == '[':
		return "a JSON array"
	case b[0] == 't' || b[0] == 'f':
		return "a JSON boolean"
	}
	return "a JSON value"
}

// readCount is a request body that counts the bytes read from it and
// notes its end.
type readCount struct {
	io.ReadCloser
	n   int64
	eof bool
}

func (b *readCount) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	b.eof = b.eof || err == io.EOF
	return n, err
}

// atEnd reports whether nothing of the body is left to read: its end was
// read, or all of the contentLength bytes it announced.
func (b *readCount) atEnd(contentLength int64) bool {
	return b.eof || (contentLength >= 0 && b.n >= contentLength)
}

// readFailed reports whether err is a failure to read a request's body
// (the client was too slow, or went away), not a body that cannot be
// parsed.
func readFailed(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// unreadable answers a request whose body could not be read: 408 when the
// server's read deadline passed, 400 otherwise. The error's text is not
// answered: it names the server's and the client's socket addresses.
func unreadable(w http.ResponseWriter, err error) {
	w.Header().Set("Connection", "close")
	if vendorhttp.ReadStatus(err) == http.StatusRequestTimeout {
		writeError(w, http.StatusRequestTimeout, "request_timeout", vendorhttp.ReadTimeoutReason)
		return
	}
	writeError(w, http.StatusBadRequest, "invalid_body", "the body could not be read")
}

// invalidUTF8Where names the first member of a JSON object body whose
// value or name holds bytes that are not UTF-8, as ": in \"title\"", or
// returns "" when the body is no such object.
func invalidUTF8Where(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		start := dec.InputOffset()
		k, err := dec.Token()
		if err != nil {
			return ""
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ""
		}
		if !utf8.Valid(body[start:dec.InputOffset()]) {
			return fmt.Sprintf(": in %q", strings.ToValidUTF8(k.(string), "\uFFFD"))
		}
	}
	return ""
}

// loneSurrogate reports whether a JSON string in body holds a \u escape
// of a UTF-16 surrogate that is not one half of a pair (a high one
// followed at once by an escaped low one).
func loneSurrogate(body []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(body) || body[i] != '\\' || body[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(body[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	inString := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			r, ok := hex4(i)
			if !ok {
				i++ // another escape: skip the escaped character
				continue
			}
			switch {
			case r >= 0xD800 && r <= 0xDBFF:
				low, ok := hex4(i + 6)
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return true
				}
				i += 11
			case r >= 0xDC00 && r <= 0xDFFF:
				return true
			default:
				i += 5
			}
		}
	}
	return false
}

func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// params is a request's parameters, from a JSON object or a form/query,
// and the caller Identify identified, if any.
type params struct {
	json       map[string]json.RawMessage
	form       url.Values
	caller     string
	identified bool
}

func jsonParams(m map[string]json.RawMessage) params { return params{json: m} }
func formParams(v url.Values) params                 { return params{form: v} }

// str returns a string parameter; JSON numbers are accepted as their text.
func (p params) str(name string) string {
	if p.json == nil {
		return p.form.Get(name)
	}
	v, ok := p.json[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String()
	}
	return ""
}

// trimmed returns a string parameter without surrounding white space.
func (p params) trimmed(name string) string { return strings.TrimSpace(p.str(name)) }

// raw returns a parameter as JSON: a JSON body's value as sent (a string
// holding JSON is unwrapped, as form-minded clients send objects that
// way), or a form value parsed as JSON. JSON text from a string or a
// form, which the body's checks did not see, is refused as they refuse a
// body: bytes that are not UTF-8, or a \u escape of half a surrogate
// pair, which encoding/json would turn into U+FFFD unseen.
func (p params) raw(name string) (json.RawMessage, bool, error) {
	var text string
	if p.json == nil {
		if text = p.form.Get(name); text == "" {
			return nil, false, nil
		}
	} else {
		v, ok := p.json[name]
		if !ok || string(v) == "null" {
			return nil, false, nil
		}
		if json.Unmarshal(v, &text) != nil {
			return v, true, nil // the body's own JSON, checked whole
		}
		if text == "" {
			return nil, false, nil
		}
	}
	switch {
	case !utf8.ValidString(text):
		return nil, false, invalid(name, "is not valid UTF-8")
	case loneSurrogate([]byte(text)):
		return nil, false, invalid(name, `holds a \u escape of half a surrogate pair, which is no character`)
	}
	return json.RawMessage(text), true, nil
}

// id returns a required positive integer parameter.
func (p params) id(name string) (int64, error) {
	if v, ok := p.json[name]; ok && string(v) != "null" && !isStringOrNumber(v) {
		// true, an object or an array: sent, but no id.
		return 0, invalid(name, "must be a positive integer, got %s", jsonKind(p.json[name]))
	}
	v := strings.TrimSpace(p.str(name))
	if v == "" {
		return 0, invalid(name, "is required")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, invalid(name, "must be a positive integer, got %q", registry.Clip(v, 32))
	}
	return n, nil
}

// time returns an optional time parameter: an RFC 3339 time, or Unix
// seconds.
func (p params) time(name string) (time.Time, error) {
	v := p.trimmed(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n < 1<<35 {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, invalid(name, "must be an RFC 3339 time (2030-06-15T08:00:00+08:00) or Unix seconds, got %q", registry.Clip(v, 40))
}

// list returns a list of strings sent as a JSON array, or in a form as
// repeated values.
func (p params) list(name string) ([]string, error) {
	if p.json == nil {
		return p.form[name], nil
	}
	v, ok := p.json[name]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, invalid(name, "must be an array of strings")
	}
	return out, nil
}

// extra returns an optional JSON object; values that are not strings are
// delivered as their JSON text, as ParseExtra does.
func (p params) extra(name string) (map[string]string, error) {
	v, ok, err := p.raw(name)
	if !ok {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return nil, invalid(name, "must be a JSON object")
	}
	if k, _, dup := repeatedMember(v); dup {
		return nil, invalid(name, "member %q is given twice", registry.Clip(k, 32))
	}
	return stringValues(m), nil
}

// overrides returns an optional JSON object of per-provider options, each
// value kept as its JSON for the provider to read.
func (p params) overrides(name string) (map[string]any, error) {
	v, ok, err := p.raw(name)
	if !ok {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return nil, invalid(name, "must be a JSON object keyed by provider name")
	}
	if k, _, dup := repeatedMember(v); dup {
		return nil, invalid(name, "member %q is given twice", registry.Clip(k, 32))
	}
	out := make(map[string]any, len(m))
	for k, raw := range m {
		out[k] = raw
	}
	return out, nil
}

// strings checks that each named parameter, when present in a JSON body,
// is a string (or a number, taken as its text).
func (p params) strings(names ...string) error {
	for _, name := range names {
		v, ok := p.json[name]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		var n json.Number
		if json.Unmarshal(v, &s) == nil {
			continue
		}
		if json.Unmarshal(v, &n) != nil {
			return invalid(name, "must be a string")
		}
		if !plainInteger(n.String()) {
			// Read as its text here, as a float by JavaScript and by Go's
			// any: 123456789012345678 would be another user to a gateway
			// in front, and 1e2 and 100.0 users other than 100.
			return invalid(name, "a number must be a whole number of at most 15 digits written plainly, got %s: send it as a string",
				registry.Clip(n.String(), 32))
		}
	}
	return nil
}

// isStringOrNumber reports whether the JSON value v is a string or a number.
func isStringOrNumber(v json.RawMessage) bool {
	var s string
	var n json.Number
	return json.Unmarshal(v, &s) == nil || json.Unmarshal(v, &n) == nil
}

// plainInteger reports whether a JSON number's text is an integer every
// reader reads alike: digits only (after a minus), no leading zero, and at
// most 15 of them, below 2^53.
func plainInteger(s string) bool {
	d := strings.TrimPrefix(s, "-")
	return d != "" && len(d) <= 15 && strings.Trim(d, "0123456789") == "" && (d == "0" || d[0] != '0')
}

// writeJSON answers status with v as JSON. v is encoded before anything
// is written: a value that cannot be encoded is answered 500, not 200 with
// an empty body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(map[string]any{"error": map[string]string{"code": "internal",
			"message": "the answer could not be encoded as JSON"}})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n')) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
