package umengtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// API paths of the real service.
const (
	pathSend   = "/api/send"
	pathStatus = "/api/status"
	pathCancel = "/api/cancel"
	pathUpload = "/upload"
)

// maxBody bounds what the fake reads: the largest legal request is an upload
// of 10 MB of content plus its JSON envelope.
const maxBody = 12 << 20

// response is what a handler answers: an HTTP status and a body.
type response struct {
	status      int
	body        []byte
	contentType string
	code, msg   string // the vendor error answered, for the record
}

// envelope is the real service's response shape.
type envelope struct {
	Ret  string `json:"ret"`
	Data any    `json:"data"`
}

type failData struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

func success(data any) response {
	b, err := json.Marshal(envelope{Ret: "SUCCESS", Data: data})
	if err != nil {
		// Every data value is built here from strings and ints.
		return plain(http.StatusInternalServerError, "umengtest: encode response: "+err.Error())
	}
	return response{status: http.StatusOK, body: b, contentType: "application/json;charset=UTF-8"}
}

func failure(status int, e *refusal) response {
	b, _ := json.Marshal(envelope{Ret: "FAIL", Data: failData{ErrorCode: e.code, ErrorMsg: e.msg}})
	return response{status: status, body: b, contentType: "application/json;charset=UTF-8", code: e.code, msg: e.msg}
}

func plain(status int, msg string) response {
	return response{status: status, body: []byte(msg + "\n"), contentType: "text/plain; charset=utf-8", msg: msg}
}

// serveHTTP runs one request through the fault machinery and the API, and
// records it whatever happens, including an abort.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{s: s, w: w, rec: Request{
		At:     s.now(),
		Method: r.Method,
		Path:   r.URL.Path,
		Sign:   r.URL.Query().Get("sign"),
	}}
	rec := &x.rec
	s.noteArrival(r.URL.Path)
	defer x.store() // for requests that end unanswered

	select {
	case <-s.closing:
		x.answer(plain(http.StatusServiceUnavailable, "umengtest: server closed"))
		return
	default:
	}
	switch r.URL.Path {
	case pathSend, pathStatus, pathCancel, pathUpload:
	default:
		x.answer(failure(http.StatusNotFound, refuse(CodeNoSuchAPI, "path: %s is not an API of this service", r.URL.Path)))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		x.answer(plain(http.StatusMethodNotAllowed, "umengtest: "+r.URL.Path+" takes POST"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			x.answer(plain(http.StatusRequestEntityTooLarge, "umengtest: body over "+strconv.Itoa(maxBody)+" bytes"))
			return
		}
		abandon(rec, "reading body: "+err.Error())
	}
	rec.Body = body

	ctx := r.Context()
	if why := s.gate.Pass(ctx, r.URL.Path); why != "" {
		abandon(rec, why)
	}
	f := s.pickFault(r.URL.Path)
	if f != nil {
		rec.Fault = true
		if !f.AfterAccept {
			s.applyDelay(ctx, rec, f)
			if f.hasResponse() {
				x.answer(f.response())
				return
			}
		}
	}
	resp := s.process(r, body, rec)
	if f != nil && f.AfterAccept {
		if f.hasResponse() {
			resp = f.response()
		}
		s.applyDelay(ctx, rec, f)
	}
	x.answer(resp)
}

// abandon ends a request without an answer: the connection is dropped, so
// the client cannot mistake the silence for an empty success. The deferred
// record in serveHTTP still runs.
func abandon(rec *Request, why string) {
	rec.StatusCode, rec.Message = 0, why
	panic(http.ErrAbortHandler)
}

// exchange is one request in flight. Its record is stored exactly once,
// before the answer is written, so a client holding its answer always finds
// the request in Requests.
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

// answer records resp as the outcome and sends it.
func (x *exchange) answer(resp response) {
	x.rec.StatusCode, x.rec.Code, x.rec.Message = resp.status, resp.code, resp.msg
	x.store()
	if resp.contentType != "" {
		x.w.Header().Set("Content-Type", resp.contentType)
	}
	x.w.WriteHeader(resp.status)
	_, _ = x.w.Write(resp.body)
}

// process authenticates the request and runs its API. It fills rec with
// what it parsed and decided.
func (s *Server) process(r *http.Request, body []byte, rec *Request) response {
	now := rec.At
	m, app, aerr := s.authenticate(r, body, now, rec)
	if aerr == nil {
		var data any
		switch r.URL.Path {
		case pathSend:
			data, aerr = s.send(app, m, now, rec)
		case pathStatus:
			data, aerr = s.status(app, m, now, rec)
		case pathCancel:
			data, aerr = s.cancel(app, m, now, rec)
		case pathUpload:
			data, aerr = s.upload(app, m, now, rec)
		}
		if aerr == nil {
			return success(data)
		}
	}
	return failure(http.StatusBadRequest, aerr)
}

// message is a request body, its fields kept raw so each can be checked for
// its exact JSON type and the payload measured as sent.
type message map[string]json.RawMessage

// has reports whether key is present with a non-null value.
func (m message) has(key string) bool {
	raw, ok := m[key]
	return ok && !isNull(raw)
}

// str returns the value of key when it is a JSON string; ok is false when
// the key is absent, null or of another type.
func (m message) str(key string) (v string, ok bool) {
	raw, present := m[key]
	if !present {
		return "", false
	}
	return jsonString(raw)
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func jsonString(raw json.RawMessage) (string, bool) {
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	return v, true
}

// decodeObject decodes raw as a JSON object, numbers kept as json.Number.
func decodeObject(raw json.RawMessage) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	obj, ok := v.(map[string]any)
	return obj, ok
}

// authenticate parses the body and checks, in the real service's order of
// dependence, the appkey, the sign and the timestamp.
func (s *Server) authenticate(r *http.Request, body []byte, now time.Time, rec *Request) (message, App, *refusal) {
	var m message
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, App{}, refuse(CodeBadJSON, "body: not a JSON object")
	}
	key, ok := m.str("appkey")
	if !ok || key == "" {
		return nil, App{}, refuse(CodeMissingAppKey, "appkey: required, a non-empty string")
	}
	rec.AppKey = key
	app, known := s.apps[key]
	if !known {
		return nil, App{}, refuse(CodeUnknownAppKey, "appkey: %q does not exist", key)
	}
	if aerr := verifySign(r, rec.Sign, body, app.AppMasterSecret); aerr != nil {
		return nil, App{}, aerr
	}
	if aerr := s.checkTimestamp(m, now); aerr != nil {
		return nil, App{}, aerr
	}
	return m, app, nil
}

// checkTimestamp enforces a timestamp of 10 (seconds) or 13 (milliseconds)
// digits within TimestampWindow of now. The documentation shows it as a
// string, and its own examples and SDKs send a JSON number too, so both are
// accepted: a number must be an integer written in those digits.
func (s *Server) checkTimestamp(m message, now time.Time) *refusal {
	if !m.has("timestamp") {
		return refuse(CodeMissingTimestamp, "timestamp: required")
	}
	ts, ok := m.str("timestamp")
	if !ok {
		raw := bytes.TrimSpace(m["timestamp"])
		if len(raw) == 0 || !allDigits(string(raw)) {
			return refuse(CodeBadTimestamp, "timestamp: must be a string or number of 10 or 13 digits")
		}
		ts = string(raw)
	}
	if ts == "" {
		return refuse(CodeMissingTimestamp, "timestamp: required")
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !allDigits(ts) || (len(ts) != 10 && len(ts) != 13) {
		return refuse(CodeBadTimestamp, "timestamp: %q is not 10 digits of seconds or 13 of milliseconds", ts)
	}
	at := time.Unix(n, 0)
	if len(ts) == 13 {
		at = time.UnixMilli(n)
	}
	if d := now.Sub(at); d > s.cfg.TimestampWindow || d < -s.cfg.TimestampWindow {
		return refuse(CodeStaleTimestamp, "timestamp: %s is more than %v away from the server's time", ts, s.cfg.TimestampWindow)
	}
	return nil
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// logRequest writes one record per answered request, with a send's
// category and channel_properties (the class and the phone makers'
// channels it was sent with, which a demo can check this way). Signs,
// secrets, tokens and the rest of the body stay out of it.
func (s *Server) logRequest(rec *Request) {
	attrs := []slog.Attr{
		slog.String("path", rec.Path),
		slog.String("appkey", rec.AppKey),
		slog.String("type", rec.Type),
		slog.Int("status", rec.StatusCode),
		slog.String("code", rec.Code),
		slog.String("id", rec.ID),
		slog.Bool("fault", rec.Fault),
	}
	if rec.Category != nil {
		attrs = append(attrs, slog.Int("category", *rec.Category))
	}
	if len(rec.ChannelProperties) > 0 {
		attrs = append(attrs, slog.Any("channel_properties", rec.ChannelProperties))
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "umengtest request", attrs...)
}
