package getuitest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
)

// Receipt actions the fake posts, in the "actionId" key of its receipts
// (Getui's codes).
const (
	ActionArrived = "0"     // arrived through Getui's own channel
	ActionShown   = "10000" // the notification was shown
	ActionClicked = "10010" // the notification was clicked
)

// ReceiptPost is one post of receipts the fake made to a callback URL, as
// Getui posts them: one JSON receipt a line.
type ReceiptPost struct {
	URL    string
	Body   []byte // the text posted
	Lines  int    // receipts in it
	Status int    // the HTTP status answered, 0 when the post failed
	Err    string // why the post failed, "" when it got an answer
}

// receiptClient posts receipts; a test's callback handler answers at once.
var receiptClient = &http.Client{Timeout: 10 * time.Second}

// PostReceipts posts, in one request to callbackURL (the URL an app sets
// in Getui's console), an arrival receipt (code "200", actionId
// ActionArrived) for every delivery made since the last PostReceipts or
// Reset, signed with its app's master secret as Getui signs them. It
// returns the post, or a zero ReceiptPost and no error when there was
// nothing to post. A post that got no answer is returned with its Err set
// and no error, and is made once: its receipts are not posted again (Getui
// tries three times, then drops them). A callbackURL that is no http(s)
// URL is an ErrInvalidArgument, and takes nothing from the queue.
func (s *Server) PostReceipts(ctx context.Context, callbackURL string) (ReceiptPost, error) {
	if err := checkCallbackURL(callbackURL); err != nil {
		return ReceiptPost{}, err
	}
	s.mu.Lock()
	ds := s.deliveries[s.receipted:]
	s.receipted = len(s.deliveries)
	lines := make([][]byte, 0, len(ds))
	for i, d := range ds {
		lines = append(lines, s.receiptLocked(d, s.forgotten+s.receipted-len(ds)+i, ActionArrived))
	}
	s.mu.Unlock()
	if len(lines) == 0 {
		return ReceiptPost{}, nil
	}
	return s.postReceipts(ctx, callbackURL, lines)
}

// Receipt posts to callbackURL one receipt with code "200" and actionId
// action (ActionClicked, ActionShown or any other Getui action) for every
// delivery to cid so far, such as a click on each.
func (s *Server) Receipt(ctx context.Context, callbackURL, cid, action string) (ReceiptPost, error) {
	if err := checkCallbackURL(callbackURL); err != nil {
		return ReceiptPost{}, err
	}
	s.mu.Lock()
	var lines [][]byte
	for i, d := range s.deliveries {
		if d.CID == cid {
			lines = append(lines, s.receiptLocked(d, s.forgotten+i, action))
		}
	}
	s.mu.Unlock()
	if len(lines) == 0 {
		return ReceiptPost{}, fmt.Errorf("%w: no delivery to cid %q", ErrInvalidArgument, cid)
	}
	return s.postReceipts(ctx, callbackURL, lines)
}

// receiptLocked is the receipt line of the i-th delivery d, counted from
// the first since New or Reset, forgotten ones included.
func (s *Server) receiptLocked(d Delivery, i int, action string) []byte {
	msgID := d.TaskID + "-" + strconv.Itoa(i)
	sum := md5.Sum([]byte(d.AppID + d.CID + d.TaskID + msgID + s.apps[d.AppID].MasterSecret))
	line, _ := json.Marshal(map[string]any{ // strings and a number
		"appid": d.AppID, "cid": d.CID, "taskid": d.TaskID, "msgid": msgID, "code": "200", "desc": "ok",
		"actionId": action, "recvtime": s.now().UnixMilli(), "sign": hex.EncodeToString(sum[:]),
	})
	return line
}

// checkCallbackURL refuses a callback URL that is no http(s) URL with a
// host, before any receipt is taken from the queue.
func checkCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: callback url %q is not an http(s) URL with a host", ErrInvalidArgument, raw)
	}
	return nil
}

// postReceipts posts lines to callbackURL and records the post. A post
// that fails is recorded with its error, and its receipts are not posted
// again, as Getui drops them after its tries.
func (s *Server) postReceipts(ctx context.Context, callbackURL string, lines [][]byte) (ReceiptPost, error) {
	body := bytes.Join(lines, []byte("\n"))
	post := ReceiptPost{URL: callbackURL, Body: body, Lines: len(lines)}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
	if err != nil {
		return post, fmt.Errorf("%w: callback url: %v", ErrInvalidArgument, err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := receiptClient.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		_ = resp.Body.Close()
		post.Status = resp.StatusCode
	} else {
		post.Err = strings.TrimSpace(err.Error())
	}
	s.mu.Lock()
	s.receiptPosts = fakeserver.KeepNewest(append(s.receiptPosts, post), s.cfg.Keep)
	s.mu.Unlock()
	return post, nil
}

// ReceiptPosts returns every post of receipts made so far (the newest
// under Config.Keep), in order.
func (s *Server) ReceiptPosts() []ReceiptPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceiptPost(nil), s.receiptPosts...)
}
