package umeng

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tuisong/push/internal/redacted"
	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// The receipts Umeng posts to Options.ReceiptURL.
//
// What we know and what we assume. Umeng's current U-Push API
// documentation does not describe the receipt callback at all: receipt_url
// and receipt_type are gone from it (receipts are set up in Umeng's console
// for Umeng Pro accounts), and neither the documentation nor the public
// material we searched (Umeng's pages, SDKs and issue threads) shows the
// body of a receipt or any signature on it. What is documented is the
// request side: receipt_type "1" (arrival), "2" (click) or "3" (both), and
// callback_params, an object "handed back with every receipt". The body
// below is therefore our assumption, shaped like the receipt callbacks of
// the Chinese push services that do document theirs (a JSON POST naming
// the app, the message id, the device and what happened, with a time); it
// is what umengtest posts, and a host must check it against the first real
// receipts before relying on the counts:
//
//	POST <receipt_url>
//	Content-Type: application/json
//
//	{"appkey": "<app key>", "msg_id": "<msg_id or task_id of the send>",
//	 "device_token": "<token>", "type": "arrival" | "click" | "dismiss",
//	 "ts": <unix milliseconds>, "callback_params": {...}}
//
// A JSON array of such objects is taken too (a batch), and so is a form
// (application/x-www-form-urlencoded) with the same keys. "task_id" is
// read when "msg_id" is absent. Keys other than these are ignored.
//
// Authenticity. With no signature to check, the handler verifies what can
// be verified: the appkey is one of ours (ReceiptConfig.AppKeys), the
// msg_id is one we sent and, when the receipt names a device, the push
// went to it (both checked by ReceiptConfig.Record, which the push Service
// answers with provider.ErrUnknownReport otherwise); and, when
// ReceiptConfig.Secret is set, the receipt_url carries it in its query
// string (?secret=...), compared in constant time. Put the secret in the
// receipt_url you send (Options.ReceiptURL) and serve it over HTTPS.

// ReceiptConfig configures ReceiptHandler.
type ReceiptConfig struct {
	// AppKeys are the app keys of our Umeng apps; a receipt naming any other
	// is refused (403). Required.
	AppKeys []string
	// Record receives each receipt, parsed: Provider is Name, MsgID the
	// msg_id (or task_id), Token the device_token, Event arrived, opened
	// (Umeng's click) or dismissed, At the ts (zero when absent). Wire it to
	// push.Service.RecordReport. An error wrapping provider.ErrUnknownReport
	// (a receipt of a push we did not send) is logged and answered 200, as
	// Umeng would only post it again. Any other error is logged, and the
	// post is answered 500 so that Umeng posts it again, unless a receipt
	// of it without a device_token was counted: posted again, that one
	// would be counted twice, so the post is answered 200 and the ones that
	// failed are lost. Record must therefore count a receipt with a
	// device_token once however often it is given it, as RecordReport
	// does. Record runs detached from the request's cancellation, 30
	// seconds at most for a post, so that a client hanging up does not
	// leave a post half counted. Required.
	Record func(ctx context.Context, r provider.Report) error
	// Secret, when set, must be the value of the query parameter "secret"
	// of every receipt's URL; otherwise the post is answered 401. It is the
	// endpoint's only credential, so it must have at least
	// MinReceiptSecret characters (a random one: openssl rand -hex 16).
	Secret string
	// MaxBodyBytes limits a post's body; larger ones get 413. Default 1 MiB.
	MaxBodyBytes int64
	// Logger receives a line per refused post and per unknown receipt:
	// for the receipts of one post, the first ten lines, then one line
	// counting the rest, so that a post of many receipts cannot flood the
	// log. Default: slog.Default().
	Logger *slog.Logger
}

// String renders c with its secret redacted.
func (c ReceiptConfig) String() string {
	secret := ""
	if c.Secret != "" {
		secret = "REDACTED"
	}
	return fmt.Sprintf("{AppKeys:%v Secret:%s MaxBodyBytes:%d}", c.AppKeys, secret, c.MaxBodyBytes)
}

// GoString renders c for %#v with its secret redacted.
func (c ReceiptConfig) GoString() string { return "umeng.ReceiptConfig" + c.String() }

// Format prints String for every verb (GoString for %#v, a quoted String
// for %q), so no verb or flag reaches the secret.
func (c ReceiptConfig) Format(f fmt.State, verb rune) { redacted.Format(f, verb, c) }

// LogValue makes slog record c without its secret.
func (c ReceiptConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("app_keys", c.AppKeys), slog.Bool("secret_set", c.Secret != ""),
		slog.Int64("max_body_bytes", c.MaxBodyBytes))
}

// MarshalJSON encodes LogValue's attributes, so that c nested where slog
// does not call LogValue is logged without its secret. The encoding is
// for logs: it does not decode back into a ReceiptConfig.
func (c ReceiptConfig) MarshalJSON() ([]byte, error) { return redacted.JSON(c.LogValue()) }

// MinReceiptSecret is the fewest characters ReceiptConfig.Secret may have:
// anyone who guesses it can post receipts.
const MinReceiptSecret = 16

// ReceiptHandler returns an http.Handler for the receipts Umeng posts
// (see the comment on the receipt body above ReceiptConfig). It answers
// 405 to any method but POST, 401 to a missing or wrong secret, 415 to a
// body that is neither JSON nor a form, 400 to a malformed receipt (no
// msg_id, a msg_id that is not UTF-8 text of at most 255 characters
// without NUL, a device_token that is not such text, no appkey, an unknown
// type, a ts that is no number), 403 to an
// appkey that is not ours, 413 to a body over MaxBodyBytes, 408 to a body
// that did not arrive within the server's ReadTimeout, and 200 with
// {"ret":"SUCCESS"} once every receipt of the post is recorded or known to
// be unknown, 500 when recording failed for any (unless a receipt without a
// device_token was counted: see ReceiptConfig.Record). Nothing of a post
// is recorded unless every receipt in it parses. A receipt the post holds
// more than once (the same msg_id, device_token, type and ts) is recorded
// once.
func ReceiptHandler(cfg ReceiptConfig) (http.Handler, error) {
	if len(cfg.AppKeys) == 0 {
		return nil, provider.Invalid("app_keys", "at least one app key is required")
	}
	if cfg.Record == nil {
		return nil, provider.Invalid("record", "is required")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, provider.Invalid("max_body_bytes", "must not be negative")
	}
	if n := utf8.RuneCountInString(cfg.Secret); cfg.Secret != "" && n < MinReceiptSecret {
		return nil, provider.Invalid("secret", fmt.Sprintf("must have at least %d characters (a random one: openssl rand -hex 16), has %d",
			MinReceiptSecret, n))
	}
	h := &receiptHandler{cfg: cfg}
	if h.cfg.MaxBodyBytes == 0 {
		h.cfg.MaxBodyBytes = 1 << 20
	}
	if h.cfg.Logger == nil {
		h.cfg.Logger = slog.Default()
	}
	return h, nil
}

type receiptHandler struct{ cfg ReceiptConfig }

// receiptBody is one receipt as posted.
type receiptBody struct {
	AppKey      string          `json:"appkey"`
	MsgID       string          `json:"msg_id"`
	TaskID      string          `json:"task_id"`
	DeviceToken string          `json:"device_token"`
	Type        string          `json:"type"`
	TS          json.RawMessage `json:"ts"`
}

func (h *receiptHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		vendorhttp.CloseUnread(w, r)
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if h.cfg.Secret != "" {
		// One secret: with two, a proxy checking the other one than
		// this handler reads could be fooled.
		got := r.URL.Query()["secret"]
		if len(got) != 1 || subtle.ConstantTimeCompare([]byte(got[0]), []byte(h.cfg.Secret)) != 1 {
			vendorhttp.CloseUnread(w, r)
			h.refuse(w, r, http.StatusUnauthorized, "missing or wrong secret")
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
	bodies, status, err := readReceipts(r)
	if err != nil {
		vendorhttp.CloseUnread(w, r) // a 415 has not read it
		h.refuse(w, r, status, err.Error())
		return
	}
	reports := make([]provider.Report, 0, len(bodies))
	for i, b := range bodies {
		rep, err := parseReceipt(b)
		if err != nil {
			h.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("receipt %d: %v", i, err))
			return
		}
		if !slices.Contains(h.cfg.AppKeys, b.AppKey) {
			h.refuse(w, r, http.StatusForbidden, fmt.Sprintf("receipt %d: appkey is not one of ours", i))
			return
		}
		reports = append(reports, rep)
	}
	// The receipts are counted on their own clock: a post whose client
	// hangs up halfway must not leave half of it counted, to be counted
	// again when Umeng posts it anew.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), recordTimeout)
	defer cancel()
	counted, failed, tokenless := 0, 0, 0
	plog := vendorhttp.NewPostLog(ctx, h.cfg.Logger)
	// A receipt the post holds twice (the same msg_id, device_token, type
	// and time) is counted once, as Getui's handler does: one without a
	// device_token would otherwise count as two devices.
	type key struct {
		msgID, token string
		event        provider.Event
		at           int64
	}
	seen := make(map[key]bool, len(reports))
	for _, rep := range reports {
		k := key{rep.MsgID, rep.Token, rep.Event, rep.At.UnixMilli()}
		if seen[k] {
			continue
		}
		seen[k] = true
		err := h.cfg.Record(ctx, rep)
		switch {
		case err == nil:
			counted++
			if rep.Token == "" {
				tokenless++
			}
		case errors.Is(err, provider.ErrUnknownReport):
			plog.Log(slog.LevelWarn, "umeng receipt of an unknown push ignored",
				slog.String("msg_id", vendorhttp.Clip(rep.MsgID)), slog.String("event", string(rep.Event)))
		default:
			failed++
			plog.Log(slog.LevelError, "recording umeng receipt failed",
				slog.String("msg_id", vendorhttp.Clip(rep.MsgID)), slog.String("event", string(rep.Event)), slog.String("error", err.Error()))
		}
	}
	plog.Close("umeng receipts of the post not logged one by one", slog.Int("receipts", len(reports)), slog.Int("counted", counted),
		slog.Int("failed", failed))
	if failed > 0 && tokenless == 0 {
		// What was counted of the post counts once (a device's receipt is
		// not counted again): Umeng may post it again safely.
		vendorhttp.WriteJSON(w, http.StatusInternalServerError, map[string]string{"ret": "FAIL", "error": "internal error"})
		return
	}
	if failed > 0 {
		// A receipt without a device_token was counted: posted again, it
		// would be counted twice. The receipts that failed are lost, and
		// logged above.
		h.cfg.Logger.LogAttrs(ctx, slog.LevelError, "umeng receipts not counted, answered SUCCESS so that the counted ones without a device_token are not posted again",
			slog.Int("failed", failed), slog.Int("counted", counted), slog.Int("counted_without_token", tokenless))
	}
	vendorhttp.WriteJSON(w, http.StatusOK, map[string]string{"ret": "SUCCESS"})
}

// recordTimeout bounds the recording of one post's receipts, which runs
// detached from the request's cancellation.
const recordTimeout = 30 * time.Second

// readReceipts reads a post's receipts from a JSON object, a JSON array of
// objects or a form. On error it returns the status to answer.
func readReceipts(r *http.Request) ([]receiptBody, int, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "text/json", "":
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			status, err := readFailure(err, "the body cannot be read")
			return nil, status, err
		}
		raw = bytes.TrimSpace(raw)
		if !utf8.Valid(raw) {
			// encoding/json would read the bytes as U+FFFD: a msg_id or
			// token that was never sent.
			return nil, http.StatusBadRequest, errors.New("the body is not valid UTF-8")
		}
		dec := func(v any) error {
			d := json.NewDecoder(bytes.NewReader(raw))
			if err := d.Decode(v); err != nil {
				return err
			}
			if d.More() {
				return errors.New("data after the JSON value")
			}
			return nil
		}
		if len(raw) > 0 && raw[0] == '[' {
			var list []receiptBody
			if err := dec(&list); err != nil || len(list) == 0 {
				return nil, http.StatusBadRequest, errors.New("the body is not a non-empty JSON array of receipt objects")
			}
			return list, 0, nil
		}
		var one receiptBody
		if err := dec(&one); err != nil {
			return nil, http.StatusBadRequest, errors.New("the body is not a JSON receipt object")
		}
		return []receiptBody{one}, 0, nil
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			status, err := readFailure(err, "the form cannot be parsed")
			return nil, status, err
		}
		f := r.PostForm
		b := receiptBody{AppKey: f.Get("appkey"), MsgID: f.Get("msg_id"), TaskID: f.Get("task_id"),
			DeviceToken: f.Get("device_token"), Type: f.Get("type")}
		if ts := f.Get("ts"); ts != "" {
			b.TS = json.RawMessage(strconv.Quote(ts))
		}
		return []receiptBody{b}, 0, nil
	}
	return nil, http.StatusUnsupportedMediaType, errors.New("send application/json or a form")
}

// readFailure is the status and the error to answer when reading the body
// failed with err: a body that did not arrive in time is 408, as the
// Handler answers it; otherwise the error says what, never err's text,
// which names socket addresses.
func readFailure(err error, what string) (int, error) {
	status := vendorhttp.ReadStatus(err)
	var tooLarge *http.MaxBytesError
	switch {
	case status == http.StatusRequestTimeout:
		return status, errors.New(vendorhttp.ReadTimeoutReason)
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, fmt.Errorf("the body exceeds %d bytes", tooLarge.Limit)
	}
	return status, errors.New(what)
}

// parseReceipt checks one receipt and turns it into a Report.
func parseReceipt(b receiptBody) (provider.Report, error) {
	rep := provider.Report{Provider: Name, MsgID: strings.TrimSpace(b.MsgID), Token: strings.TrimSpace(b.DeviceToken)}
	if rep.MsgID == "" {
		rep.MsgID = strings.TrimSpace(b.TaskID)
	}
	if rep.MsgID == "" {
		return rep, errors.New("msg_id is required")
	}
	switch {
	case !isText(rep.MsgID):
		// No push of ours has such an id, and PostgreSQL refuses to
		// compare one at all.
		return rep, fmt.Errorf("msg_id %q is not text", vendorhttp.Clip(rep.MsgID))
	case utf8.RuneCountInString(rep.MsgID) > maxMsgID:
		return rep, fmt.Errorf("msg_id is longer than %d characters", maxMsgID)
	}
	switch {
	case !isText(rep.Token):
		return rep, errors.New("device_token is not text")
	case utf8.RuneCountInString(rep.Token) > maxToken:
		// No device of ours has such a token, and recording it would
		// fail on every post: Umeng would post it again and again.
		return rep, fmt.Errorf("device_token is longer than %d characters", maxToken)
	}
	if b.AppKey == "" {
		return rep, errors.New("appkey is required")
	}
	switch strings.ToLower(strings.TrimSpace(b.Type)) {
	case "arrival", "arrive", "arrived":
		rep.Event = provider.EventArrived
	case "click", "clicked", "open", "opened":
		rep.Event = provider.EventOpened
	case "dismiss", "dismissed", "ignore", "ignored":
		rep.Event = provider.EventDismissed
	default:
		return rep, fmt.Errorf("type must be arrival, click or dismiss, got %q", vendorhttp.Clip(b.Type))
	}
	if len(b.TS) > 0 && string(b.TS) != "null" {
		var s string
		if json.Unmarshal(b.TS, &s) != nil {
			s = string(b.TS)
		}
		ms, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || ms < 0 {
			return rep, fmt.Errorf("ts must be unix milliseconds, got %q", vendorhttp.Clip(s))
		}
		rep.At = time.UnixMilli(ms)
	}
	return rep, nil
}

// isText reports whether s is UTF-8 without NUL, as the store's text
// columns take it.
func isText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// maxMsgID is the longest msg_id a receipt may name: the receipt_id
// column's 255 characters. maxToken is the longest device_token, the
// push_device_token column's.
const maxMsgID, maxToken = 255, 255

func (h *receiptHandler) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "umeng receipt refused", slog.Int("status", status), slog.String("reason", msg))
	vendorhttp.WriteJSON(w, status, map[string]string{"ret": "FAIL", "error": msg})
}

// ReceiptURLWithSecret returns base with the query parameter "secret" set
// to secret, for Options.ReceiptURL when ReceiptConfig.Secret is used.
// A Client removes the value of a "secret" query parameter from every
// answer and error it returns, and, when it is at least 8 bytes long, a
// Defaults receipt secret wherever it appears (see Client.Redact), in
// case Umeng echoes the receipt_url of a send it refuses.
func ReceiptURLWithSecret(base, secret string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", provider.Invalid("receipt_url", err.Error())
	}
	q := u.Query()
	q.Set("secret", secret)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
