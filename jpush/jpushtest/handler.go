package jpushtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// API paths. pathWithdraw stands for DELETE /v3/push/{msg_id}.
const (
	pathPush          = "/v3/push"
	pathValidate      = "/v3/push/validate"
	pathWithdraw      = "/v3/push/{msg_id}"
	pathReceived      = "/v3/received/detail"
	pathStatusMessage = "/v3/status/message"
	pathCID           = "/v3/push/cid"
)

// maxBody bounds what the fake reads.
const maxBody = 1 << 20

// response is what a handler answers.
type response struct {
	status      int
	body        []byte
	contentType string
	header      http.Header
	code        int
	msg         string
	msgID       string
}

func jsonResponse(status int, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		return plain(http.StatusInternalServerError, "jpushtest: encode response: "+err.Error())
	}
	return response{status: status, body: b, contentType: "application/json; charset=utf-8"}
}

type errorObject struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func failure(e *refusal) response {
	r := jsonResponse(e.status, map[string]any{"error": errorObject{e.code, e.msg}})
	r.code, r.msg = e.code, e.msg
	return r
}

func failureWithMsgID(e *refusal, msgID string) response {
	r := jsonResponse(e.status, map[string]any{"error": errorObject{e.code, e.msg}, "msg_id": msgID})
	r.code, r.msg = e.code, e.msg
	return r
}

func plain(status int, msg string) response {
	return response{status: status, body: []byte(msg + "\n"), contentType: "text/plain; charset=utf-8", msg: msg}
}

// rateHeaders builds the rate-limit headers of family f.
func rateHeaders(f HeaderFamily, limit, remaining, reset int) http.Header {
	h := http.Header{}
	if f == HeadersDocs || f == HeadersBoth {
		h.Set("X-Rate-Limit-Quota", strconv.Itoa(limit))
	}
	if f == HeadersSDK || f == HeadersBoth {
		h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	}
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.Itoa(reset))
	return h
}

// route names the API of a request and the method it takes; ok is false for
// a path the fake does not serve.
func route(path string) (api, method string, ok bool) {
	switch path {
	case pathPush, pathValidate, pathStatusMessage:
		return path, http.MethodPost, true
	case pathReceived, pathCID:
		return path, http.MethodGet, true
	}
	if id, found := strings.CutPrefix(path, "/v3/push/"); found && id != "" && allDigits(id) {
		return pathWithdraw, http.MethodDelete, true
	}
	return "", "", false
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{s: s, w: w, rec: Request{At: s.now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}}
	rec := &x.rec
	defer x.store()

	select {
	case <-s.closing:
		x.answer(plain(http.StatusServiceUnavailable, "jpushtest: server closed"))
		return
	default:
	}
	api, method, ok := route(r.URL.Path)
	rec.API = api
	s.noteArrival(api)
	if !ok {
		x.answer(failure(refuse(http.StatusNotFound, CodeNotFound, "no API at %s", r.URL.Path)))
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		x.answer(failure(refuse(http.StatusMethodNotAllowed, CodeMethod, "%s takes %s", api, method)))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			x.answer(failure(refuse(http.StatusRequestEntityTooLarge, CodeTooLarge, "body over %d bytes", maxBody)))
			return
		}
		abandon(rec, "reading body: "+err.Error())
	}
	rec.Body = body

	ctx := r.Context()
	if why := s.gate.Pass(ctx, api); why != "" {
		abandon(rec, why)
	}
	f := s.pickFault(api)
	numeric := s.cfg.NumericMsgID
	if f != nil {
		rec.Fault = true
		numeric = numeric || f.NumericMsgID
		if !f.AfterAccept {
			s.applyDelay(ctx, rec, f)
			if f.hasResponse() {
				x.answer(f.response(s))
				return
			}
		}
	}
	resp := s.process(r, api, body, numeric, rec)
	if f != nil && f.AfterAccept {
		if f.hasResponse() {
			resp = f.response(s)
		}
		s.applyDelay(ctx, rec, f)
	}
	x.answer(resp)
}

// abandon ends a request without an answer; the deferred record still runs.
func abandon(rec *Request, why string) {
	rec.StatusCode, rec.Message = 0, why
	panic(http.ErrAbortHandler)
}

// exchange is one request in flight; its record is stored exactly once,
// before the answer is written.
type exchange struct {
	s      *Server
	w      http.ResponseWriter
	rec    Request
	stored bool
}

func (x *exchange) store() {
	if !x.stored {
		x.stored = true
		x.s.record(&x.rec)
	}
}

func (x *exchange) answer(resp response) {
	x.rec.StatusCode, x.rec.Code, x.rec.Message = resp.status, resp.code, resp.msg
	if resp.msgID != "" {
		x.rec.MsgID = resp.msgID
	}
	x.store()
	for k, v := range resp.header {
		x.w.Header()[k] = v
	}
	if resp.contentType != "" {
		x.w.Header().Set("Content-Type", resp.contentType)
	}
	x.w.WriteHeader(resp.status)
	_, _ = x.w.Write(resp.body)
}

// process authenticates the request and runs its API.
func (s *Server) process(r *http.Request, api string, body []byte, numeric bool, rec *Request) response {
	app, aerr := s.authenticate(r, rec)
	if aerr != nil {
		return failure(aerr)
	}
	switch api {
	case pathPush, pathValidate:
		header, aerr := s.checkRate(app.AppKey)
		if aerr != nil {
			resp := failure(aerr)
			resp.header = header
			return resp
		}
		resp := s.push(app, body, api == pathValidate, numeric, rec)
		resp.header = header
		return resp
	case pathWithdraw:
		return s.withdraw(app, strings.TrimPrefix(r.URL.Path, "/v3/push/"), rec)
	case pathReceived:
		return s.receivedDetail(app, r.URL.Query(), rec)
	case pathStatusMessage:
		return s.statusMessage(app, body, rec)
	case pathCID:
		return s.issueCIDs(app, r.URL.Query(), rec)
	}
	return failure(refuse(http.StatusNotFound, CodeNotFound, "no API at %s", r.URL.Path))
}

// authenticate checks HTTP Basic authentication against the apps.
func (s *Server) authenticate(r *http.Request, rec *Request) (App, *refusal) {
	h := r.Header.Get("Authorization")
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return App{}, refuse(http.StatusUnauthorized, CodeAuth, "Basic authentication required")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return App{}, refuse(http.StatusUnauthorized, CodeAuth, "Basic authentication malformed")
	}
	key, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return App{}, refuse(http.StatusUnauthorized, CodeAuth, "Basic authentication malformed")
	}
	rec.AppKey = key
	if !wellFormedAppKey(key) {
		return App{}, bad(CodeBadAppKey, "app_key is invalid")
	}
	app, known := s.apps[key]
	if !known || app.MasterSecret != secret {
		return App{}, refuse(http.StatusUnauthorized, CodeAuth, "authentication failed")
	}
	rec.Authorized = true
	return app, nil
}

// checkRate counts a push against Config.RateLimit and returns the headers
// to send, or the 2002 refusal.
func (s *Server) checkRate(appKey string) (http.Header, *refusal) {
	if s.cfg.RateLimit <= 0 {
		return nil, nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.rateLog[appKey]
	keep := log[:0]
	for _, at := range log {
		if now.Sub(at) < s.cfg.RateWindow {
			keep = append(keep, at)
		}
	}
	reset := s.cfg.RateWindow
	if len(keep) > 0 {
		reset = s.cfg.RateWindow - now.Sub(keep[0])
	}
	secs := int((reset + time.Second - 1) / time.Second)
	if len(keep) >= s.cfg.RateLimit {
		s.rateLog[appKey] = keep
		return rateHeaders(s.cfg.RateHeaders, s.cfg.RateLimit, 0, secs),
			refuse(http.StatusTooManyRequests, CodeRateLimited, "Request times is out of limit")
	}
	keep = append(keep, now)
	s.rateLog[appKey] = keep
	return rateHeaders(s.cfg.RateHeaders, s.cfg.RateLimit, s.cfg.RateLimit-len(keep), secs), nil
}

// logRequest writes one record per answered request, with a push's
// options.classification and options.third_party_channel (the class and
// the phone makers' channels it was sent with, which a demo can check this
// way). Secrets, registration ids and the rest of the body stay out.
func (s *Server) logRequest(rec *Request) {
	attrs := []slog.Attr{
		slog.String("method", rec.Method),
		slog.String("path", rec.Path),
		slog.String("app_key", rec.AppKey),
		slog.Int("status", rec.StatusCode),
		slog.Int("code", rec.Code),
		slog.String("msg_id", rec.MsgID),
		slog.Bool("fault", rec.Fault),
	}
	for _, k := range []string{"classification", "third_party_channel"} {
		if v, ok := rec.Options[k]; ok {
			attrs = append(attrs, slog.Any(k, v))
		}
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "jpushtest request", attrs...)
}
