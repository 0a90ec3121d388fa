package getuitest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// The APIs, by the name Request.API records.
const (
	apiAuth        = "/auth"
	apiSingleCID   = "/push/single/cid"
	apiSingleAlias = "/push/single/alias"
	apiBatchCID    = "/push/single/batch/cid"
	apiListMessage = "/push/list/message"
	apiListCID     = "/push/list/cid"
	apiListAlias   = "/push/list/alias"
	apiAll         = "/push/all"
	apiTag         = "/push/tag"
	apiReport      = "/report/push/task/{taskid}"
	apiStop        = "/task/{taskid}"
)

func apis() []string {
	return []string{apiAuth, apiSingleCID, apiSingleAlias, apiBatchCID, apiListMessage, apiListCID, apiListAlias,
		apiAll, apiTag, apiReport, apiStop}
}

func deliveringAPIs() []string {
	return []string{apiSingleCID, apiSingleAlias, apiBatchCID, apiListCID, apiListAlias, apiAll, apiTag}
}

// maxBody bounds what the fake reads.
const maxBody = 1 << 20

// response is what a handler answers.
type response struct {
	status      int
	body        []byte
	contentType string
	code        int
	msg         string
}

func envelopeResponse(status, code int, msg string, data json.RawMessage) response {
	env := map[string]any{"code": code, "msg": msg}
	if len(data) > 0 {
		env["data"] = data
	}
	b, err := json.Marshal(env)
	if err != nil {
		return plain(http.StatusInternalServerError, "getuitest: encode response: "+err.Error())
	}
	return response{status: status, body: b, contentType: "application/json;charset=utf-8", code: code, msg: msg}
}

func success(data any) response {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return plain(http.StatusInternalServerError, "getuitest: encode data: "+err.Error())
		}
		raw = b
	}
	return envelopeResponse(http.StatusOK, CodeOK, "success", raw)
}

func failure(r *refusal) response { return envelopeResponse(r.status, r.code, r.msg, nil) }

func plain(status int, msg string) response {
	return response{status: status, body: []byte(msg + "\n"), contentType: "text/plain; charset=utf-8", msg: msg}
}

// route splits /{base}/{appId}/{api…} into its parts and names the API and
// the method it takes; api is "" for a path the fake does not serve.
func route(path string) (base, appID, api, method, id string) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 3 {
		return "", "", "", "", ""
	}
	base, appID = "/"+parts[0], parts[1]
	rest := "/" + parts[2]
	switch rest {
	case apiAuth, apiSingleCID, apiSingleAlias, apiBatchCID, apiListMessage, apiListCID, apiListAlias, apiAll, apiTag:
		return base, appID, rest, http.MethodPost, ""
	}
	if t, ok := strings.CutPrefix(rest, "/report/push/task/"); ok && t != "" && !strings.Contains(t, "/") {
		return base, appID, apiReport, http.MethodGet, t
	}
	if t, ok := strings.CutPrefix(rest, "/task/"); ok && t != "" && !strings.Contains(t, "/") {
		return base, appID, apiStop, http.MethodDelete, t
	}
	return base, appID, "", "", ""
}

// noAPI is the answer to a path the fake serves no API at, naming the
// BaseURL a client needs.
func (s *Server) noAPI(path string) response {
	return failure(refuse(http.StatusNotFound, CodeNotFound, "no API at %s: the client's BaseURL must be the server's URL + %s (Server.BaseURL, or ClientConfig)",
		path, s.currentBasePath()))
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{s: s, w: w, rec: Request{At: s.now(), Method: r.Method, Path: r.URL.Path}}
	rec := &x.rec
	defer x.store()

	select {
	case <-s.closing:
		x.answer(plain(http.StatusServiceUnavailable, "getuitest: server closed"))
		return
	default:
	}
	base, appID, api, method, id := route(r.URL.Path)
	rec.API, rec.AppID, rec.TaskID = api, appID, id
	s.noteArrival(api)
	if api == "" {
		x.answer(s.noAPI(r.URL.Path))
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
			x.answer(failure(bad("body over %d bytes", maxBody)))
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
	if f != nil {
		rec.Fault = true
		if !f.AfterAccept {
			s.applyDelay(ctx, rec, f)
			if f.hasResponse() {
				x.answer(f.response(s))
				return
			}
		}
	}
	resp := s.process(r, base, appID, api, id, body, rec)
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
	rec.StatusCode, rec.Msg = 0, why
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
	x.rec.StatusCode, x.rec.Code, x.rec.Msg = resp.status, resp.code, resp.msg
	x.store()
	if resp.contentType != "" {
		x.w.Header().Set("Content-Type", resp.contentType)
	}
	x.w.WriteHeader(resp.status)
	_, _ = x.w.Write(resp.body)
}

// hostListData is the data of a 301 answer naming the current base URL.
func (s *Server) hostListData() json.RawMessage {
	b, _ := json.Marshal(map[string]any{"host_list": []any{map[string]any{"domain_list": []string{s.BaseURL()}}}})
	return b
}

// process checks host, app, token and rates, then runs the API.
func (s *Server) process(r *http.Request, base, appID, api, id string, body []byte, rec *Request) response {
	s.mu.Lock()
	wrongHost := base != s.basePath
	moved := s.moved
	s.mu.Unlock()
	if wrongHost {
		if moved {
			return envelopeResponse(http.StatusOK, CodeWrongHost, "the app is served by another host", s.hostListData())
		}
		return s.noAPI(r.URL.Path)
	}
	app, ok := s.apps[appID]
	if !ok {
		return failure(bad("appId %q is invalid", appID))
	}
	if api == apiAuth {
		return s.auth(app, body, rec)
	}
	if rf := s.checkToken(app, r.Header.Get("token")); rf != nil {
		return failure(rf)
	}
	rec.Authorized = true
	if rf := s.checkCallRate(app.AppID); rf != nil {
		return failure(rf)
	}
	switch api {
	case apiReport:
		return s.report(app, id, rec)
	case apiStop:
		return s.stop(app, id, rec)
	}
	return s.push(app, api, body, rec)
}

func (s *Server) checkToken(app App, token string) *refusal {
	if token == "" {
		return refuse(http.StatusUnauthorized, CodeTokenExpired, "token is required")
	}
	s.mu.Lock()
	t, ok := s.tokens[token]
	s.mu.Unlock()
	if !ok || t.appID != app.AppID || !s.now().Before(t.expires) {
		return refuse(http.StatusUnauthorized, CodeTokenExpired, "token expired or invalid")
	}
	return nil
}

// countRate records a call at now in log[key] and reports whether it is
// within limit calls a minute.
func (s *Server) countRate(log map[string][]time.Time, key string, limit int) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := log[key][:0]
	for _, at := range log[key] {
		if now.Sub(at) < time.Minute {
			keep = append(keep, at)
		}
	}
	if len(keep) >= limit {
		log[key] = keep
		return false
	}
	log[key] = append(keep, now)
	return true
}

func (s *Server) checkCallRate(appID string) *refusal {
	if s.cfg.CallRateLimit <= 0 || s.countRate(s.callLog, appID, s.cfg.CallRateLimit) {
		return nil
	}
	return refuse(statusForCode(CodeCallRate), CodeCallRate, "API call rate over %d a minute", s.cfg.CallRateLimit)
}

// logRequest writes one record per answered request, with a push's
// push_channel.android.ups.options (the makers' options, the class's
// among them, which a demo can check this way). Secrets, cids and the rest
// of the body stay out.
func (s *Server) logRequest(rec *Request) {
	attrs := []slog.Attr{
		slog.String("method", rec.Method),
		slog.String("api", rec.API),
		slog.String("app_id", rec.AppID),
		slog.Int("status", rec.StatusCode),
		slog.Int("code", rec.Code),
		slog.String("taskid", rec.TaskID),
		slog.Bool("fault", rec.Fault),
	}
	if opts := rec.UpsOptions(); opts != nil {
		attrs = append(attrs, slog.Any("ups_options", opts))
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "getuitest request", attrs...)
}
