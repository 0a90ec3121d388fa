package getui

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tuisong/push/internal/redacted"
	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// ReceiptConfig configures ReceiptHandler, which serves the receipts
// Getui posts to the callback URL set in its console (消息回执).
//
// Getui documents the callback (docs.getui.com, server/receipt): a POST
// whose body is text, one receipt a line, each line a JSON object:
//
//	{"appid": "<app id>", "cid": "<cid>", "taskid": "<task id of the push>",
//	 "msgid": "<message id>", "code": "200", "desc": "ok",
//	 "actionId": "0", "recvtime": 1559252242250,
//	 "sign": "<MD5 hex of appid+cid+taskid+msgid+masterSecret>"}
//
// code is the push's result ("200" success; Getui lists 400 APNs failure,
// 401 unknown user, 402 inactive user, 500 internal error); actionId says
// what happened. Getui posts again only when a post fails or gets no
// answer (three tries); a post answered with any status is never posted
// again. Its wait for the answer is not documented: a post recorded more
// slowly than Getui waits is posted again, and its receipts, which name
// their cid, count once (push.Service.RecordReport counts a device's event
// once per delivery).
//
// The sign covers appid, cid, taskid and msgid only: code, actionId and
// recvtime are not signed, and a receipt seen once can be posted again by
// anybody who saw it, or with another action. The handler counts each
// event of a device and push once per post, and push.Service.RecordReport
// once across posts: a replay adds nothing, another action of the same
// device adds that action once. Serve the endpoint over HTTPS only.
//
// ReceiptHandler counts, of the receipts whose code is "200", these
// actionIds (the others, such as 10000 "notification shown" or the custom
// 90000–90999, are acknowledged and not counted):
//
//	0       arrived (Getui's own channel)
//	10030   arrived (a transmission)
//	110000  arrived (Huawei delivered)
//	120000  arrived (Xiaomi sent)
//	130000  arrived (Meizu sent)
//	140000  arrived (OPPO)
//	150000  arrived (vivo)
//	10010   opened (clicked)
//	10019   opened (clicked, iOS)
//	120010  opened (Xiaomi clicked)
//	130010  opened (Meizu clicked)
type ReceiptConfig struct {
	// AppID is our Getui app's id; a receipt naming any other is refused.
	// Required.
	AppID string
	// MasterSecret is the app's master secret, which signs every receipt.
	// A receipt whose sign does not match is refused. Required.
	MasterSecret string
	// Record receives each receipt counted (see above), parsed: Provider
	// is Name, MsgID the taskid (the id the push is recorded under), Token
	// the cid, Event arrived or opened, At the recvtime (zero when absent).
	// Wire it to push.Service.RecordReport. An error wrapping
	// provider.ErrUnknownReport (a receipt of a push we did not send) is
	// logged and ignored. Record runs detached from the request's
	// cancellation, 30 seconds at most for a post, so that a client
	// hanging up does not leave a post half counted. Required.
	Record func(ctx context.Context, r provider.Report) error
	// MaxBodyBytes limits a post's body; larger ones get 413, and Getui drops
	// their receipts after its retries. Default 16 MiB: Getui gathers the
	// receipts of a busy app's seconds into one post (a line of about 300
	// bytes each).
	MaxBodyBytes int64
	// Logger receives a line per refused post or receipt and per unknown
	// receipt: for the receipts of one post, the first ten lines, then one
	// line counting the rest, so that a post of many bad lines cannot
	// flood the log. Default: slog.Default().
	Logger *slog.Logger
}

// String renders c with its secret redacted.
func (c ReceiptConfig) String() string {
	secret := ""
	if c.MasterSecret != "" {
		secret = "REDACTED"
	}
	return fmt.Sprintf("{AppID:%s MasterSecret:%s MaxBodyBytes:%d}", c.AppID, secret, c.MaxBodyBytes)
}

// GoString renders c for %#v with its secret redacted.
func (c ReceiptConfig) GoString() string { return "getui.ReceiptConfig" + c.String() }

// Format prints String for every verb (GoString for %#v, a quoted String
// for %q), so no verb or flag reaches the secret.
func (c ReceiptConfig) Format(f fmt.State, verb rune) { redacted.Format(f, verb, c) }

// LogValue makes slog record c without its secret.
func (c ReceiptConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("app_id", c.AppID), slog.Bool("secret_set", c.MasterSecret != ""),
		slog.Int64("max_body_bytes", c.MaxBodyBytes))
}

// MarshalJSON encodes LogValue's attributes, so that c nested where slog
// does not call LogValue is logged without its secret. The encoding is
// for logs: it does not decode back into a ReceiptConfig.
func (c ReceiptConfig) MarshalJSON() ([]byte, error) { return redacted.JSON(c.LogValue()) }

// ReceiptHandler returns an http.Handler for the receipts Getui posts (see
// ReceiptConfig's documentation). It answers 405 to any method but
// POST, 413 to a body over MaxBodyBytes, 408 to a body that did not
// arrive within the server's ReadTimeout and 400 to an empty one. Each line
// is judged alone: one that is not a JSON object, lacks its cid, taskid or
// msgid, or holds one that is not UTF-8 text of at most 255 characters
// without NUL, is malformed; one naming another app id or with a wrong
// sign is forged. Neither is counted, and each is logged with its line
// number. A counted event repeated in the post is counted once. The post
// is answered 200 {"ret":"SUCCESS"} when any line was handled (counted,
// acknowledged as not counted, or of an unknown push), 403 when every
// line was forged or malformed and some forged, 400 when every line was
// malformed, and 500 when recording failed and no line was handled.
func ReceiptHandler(cfg ReceiptConfig) (http.Handler, error) {
	switch {
	case strings.TrimSpace(cfg.AppID) == "":
		return nil, provider.Invalid("app_id", "is required")
	case cfg.MasterSecret == "":
		return nil, provider.Invalid("master_secret", "is required")
	case cfg.Record == nil:
		return nil, provider.Invalid("record", "is required")
	case cfg.MaxBodyBytes < 0:
		return nil, provider.Invalid("max_body_bytes", "must not be negative")
	}
	h := &receiptHandler{cfg: cfg}
	if h.cfg.MaxBodyBytes == 0 {
		h.cfg.MaxBodyBytes = 16 << 20
	}
	if h.cfg.Logger == nil {
		h.cfg.Logger = slog.Default()
	}
	return h, nil
}

type receiptHandler struct{ cfg ReceiptConfig }

// receiptLine is one receipt as posted.
type receiptLine struct {
	AppID    string          `json:"appid"`
	CID      string          `json:"cid"`
	TaskID   string          `json:"taskid"`
	MsgID    string          `json:"msgid"`
	Code     json.RawMessage `json:"code"`
	ActionID json.RawMessage `json:"actionId"`
	RecvTime json.RawMessage `json:"recvtime"`
	Sign     string          `json:"sign"`
}

// recordTimeout bounds the recording of one post's receipts, which runs
// detached from the request's cancellation.
const recordTimeout = 30 * time.Second

// maxReceiptField is the longest cid, taskid or msgid a receipt may hold:
// the columns they are matched against hold 255 characters.
const maxReceiptField = 255

func (h *receiptHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		vendorhttp.CloseUnread(w, r)
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		// The error's text is not answered: it names socket addresses.
		switch status := vendorhttp.ReadStatus(err); status {
		case http.StatusRequestEntityTooLarge:
			h.refuse(w, r, status, fmt.Sprintf("the body exceeds %d bytes", h.cfg.MaxBodyBytes))
		case http.StatusRequestTimeout:
			h.refuse(w, r, status, vendorhttp.ReadTimeoutReason)
		default:
			h.refuse(w, r, status, "the body cannot be read")
		}
		return
	}
	// The receipts are counted on their own clock: a post whose client
	// hangs up halfway must not leave half of it counted.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), recordTimeout)
	defer cancel()
	var lines, malformed, forged, handled, failed int
	plog := vendorhttp.NewPostLog(ctx, h.cfg.Logger)
	seen := map[[3]string]bool{} // taskid, cid and event of the receipts counted
	for i, raw := range bytes.Split(body, []byte("\n")) {
		n := i + 1
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue
		}
		lines++
		rep, count, err := h.parse(line)
		key := [3]string{rep.MsgID, rep.Token, string(rep.Event)}
		switch {
		case errors.Is(err, errForged):
			forged++
			plog.Log(slog.LevelWarn, "getui receipt refused", slog.Int("line", n), slog.String("reason", err.Error()))
			continue
		case err != nil:
			malformed++
			plog.Log(slog.LevelWarn, "getui receipt refused", slog.Int("line", n), slog.String("reason", err.Error()))
			continue
		case !count:
			handled++
			continue
		case seen[key]:
			// The same event of the same device and push twice in one
			// post (a replayed line, or two channels reporting one
			// arrival): counted once.
			plog.Log(slog.LevelWarn, "getui receipt repeated in its post, counted once", slog.Int("line", n))
			handled++
			continue
		}
		seen[key] = true
		switch err := h.cfg.Record(ctx, rep); {
		case err == nil:
			handled++
		case errors.Is(err, provider.ErrUnknownReport):
			handled++
			plog.Log(slog.LevelWarn, "getui receipt of an unknown push ignored",
				slog.String("taskid", vendorhttp.Clip(rep.MsgID)), slog.String("event", string(rep.Event)))
		default:
			failed++
			plog.Log(slog.LevelError, "recording getui receipt failed",
				slog.String("taskid", vendorhttp.Clip(rep.MsgID)), slog.String("event", string(rep.Event)), slog.String("error", err.Error()))
		}
	}
	plog.Close("getui receipts of the post not logged one by one", slog.Int("lines", lines), slog.Int("malformed", malformed),
		slog.Int("forged", forged), slog.Int("failed", failed))
	switch {
	case lines == 0:
		h.refuse(w, r, http.StatusBadRequest, "the body holds no receipt")
	case malformed+forged == lines && forged > 0:
		vendorhttp.WriteJSON(w, http.StatusForbidden, map[string]string{"ret": "FAIL", "error": "no receipt of ours with a valid sign"})
	case malformed == lines:
		vendorhttp.WriteJSON(w, http.StatusBadRequest, map[string]string{"ret": "FAIL", "error": "no receipt could be read"})
	case failed > 0 && handled == 0:
		vendorhttp.WriteJSON(w, http.StatusInternalServerError, map[string]string{"ret": "FAIL", "error": "internal error"})
	default:
		vendorhttp.WriteJSON(w, http.StatusOK, map[string]string{"ret": "SUCCESS"})
	}
}

// errForged marks a receipt that is not of our app or not signed with
// its master secret.
var errForged = errors.New("forged")

// parse checks one line and turns it into a Report; count says whether
// the receipt is one ReceiptHandler counts.
func (h *receiptHandler) parse(line []byte) (provider.Report, bool, error) {
	var b receiptLine
	if err := json.Unmarshal(line, &b); err != nil {
		return provider.Report{}, false, errors.New("not a JSON receipt object")
	}
	for _, f := range []struct{ name, v string }{{"cid", b.CID}, {"taskid", b.TaskID}, {"msgid", b.MsgID}} {
		switch {
		case f.v == "":
			return provider.Report{}, false, fmt.Errorf("%s is required", f.name)
		case !utf8.ValidString(f.v) || strings.IndexByte(f.v, 0) >= 0 || utf8.RuneCountInString(f.v) > maxReceiptField:
			return provider.Report{}, false, fmt.Errorf("%s %q is not text of at most %d characters", f.name, vendorhttp.Clip(f.v), maxReceiptField)
		}
	}
	if b.AppID != h.cfg.AppID {
		return provider.Report{}, false, fmt.Errorf("%w: appid %q is not ours", errForged, vendorhttp.Clip(b.AppID))
	}
	want := ReceiptSign(b.AppID, b.CID, b.TaskID, b.MsgID, h.cfg.MasterSecret)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(b.Sign)), []byte(want)) != 1 {
		return provider.Report{}, false, fmt.Errorf("%w: the sign does not match", errForged)
	}
	rep := provider.Report{Provider: Name, MsgID: b.TaskID, Token: b.CID}
	if ms, err := strconv.ParseInt(flexString(b.RecvTime), 10, 64); err == nil && ms > 0 {
		rep.At = time.UnixMilli(ms)
	}
	if flexString(b.Code) != "200" {
		return rep, false, nil
	}
	switch flexString(b.ActionID) {
	case "0", "10030", "110000", "120000", "130000", "140000", "150000":
		rep.Event = provider.EventArrived
	case "10010", "10019", "120010", "130010":
		rep.Event = provider.EventOpened
	default:
		return rep, false, nil
	}
	return rep, true, nil
}

// ReceiptSign is the sign of a receipt: the MD5 of appID, cid, taskID,
// msgID and masterSecret joined, in lower-case hex. The receipts getuitest
// posts carry it.
func ReceiptSign(appID, cid, taskID, msgID, masterSecret string) string {
	sum := md5.Sum([]byte(appID + cid + taskID + msgID + masterSecret))
	return hex.EncodeToString(sum[:])
}

func (h *receiptHandler) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "getui receipt post refused", slog.Int("status", status), slog.String("reason", msg))
	vendorhttp.WriteJSON(w, status, map[string]string{"ret": "FAIL", "error": msg})
}
