package umengtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
)

// Receipt types the fake posts, in the "type" key of its receipt bodies.
const (
	ReceiptArrival = "arrival"
	ReceiptClick   = "click"
	ReceiptDismiss = "dismiss"
)

// ReceiptPost is one receipt the fake posted to a send's receipt_url.
type ReceiptPost struct {
	URL    string
	Body   []byte // the JSON body posted
	MsgID  string
	Token  string
	Type   string // ReceiptArrival, ReceiptClick or ReceiptDismiss
	Status int    // the HTTP status answered, 0 when the post failed
	Err    string // why the post failed, "" when it got an answer
}

// receiptTarget is where and what the receipts of one send go.
type receiptTarget struct {
	url, typ, appKey string
	callback         json.RawMessage
}

// pendingReceipt is a receipt waiting for PostReceipts.
type pendingReceipt struct {
	msgID, token, typ string
	at                time.Time
}

// noteReceiptsLocked remembers the receipt_url of the accepted single cast
// id and queues an arrival receipt for each token it delivered to. The
// caller holds s.mu.
func (s *Server) noteReceiptsLocked(app App, m message, id string, at time.Time) {
	u, _ := m.str("receipt_url")
	if u == "" || id == "" {
		return
	}
	typ, _ := m.str("receipt_type")
	if typ == "" {
		typ = "3"
	}
	var cb json.RawMessage
	if m.has("callback_params") {
		cb = slices.Clone(m["callback_params"])
	}
	s.receiptTargets[id] = receiptTarget{url: u, typ: typ, appKey: app.AppKey, callback: cb}
	// Under Keep, forget the oldest sends' receipt_urls, and their
	// arrivals not yet posted.
	var gone map[string]bool
	s.receiptOrder = fakeserver.KeepNewestFunc(append(s.receiptOrder, id), s.cfg.Keep, func(old string) {
		if gone == nil {
			gone = map[string]bool{}
		}
		gone[old] = true
		delete(s.receiptTargets, old)
	})
	if len(gone) > 0 {
		s.pendingReceipts = slices.DeleteFunc(s.pendingReceipts, func(p pendingReceipt) bool { return gone[p.msgID] })
	}
	if typ != "1" && typ != "3" {
		return
	}
	for _, d := range s.deliveries {
		if d.ID == id {
			s.pendingReceipts = append(s.pendingReceipts, pendingReceipt{msgID: id, token: d.Token, typ: ReceiptArrival, at: at})
		}
	}
}

// PendingReceipts returns how many arrival receipts wait for PostReceipts.
func (s *Server) PendingReceipts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pendingReceipts)
}

// PostReceipts posts every queued arrival receipt to its send's
// receipt_url, one POST per device, in delivery order, and returns the
// posts. A post that fails or is answered other than 200 is not retried:
// its ReceiptPost says what happened. It returns ctx's error if ctx ends
// first; the receipts not yet posted stay queued.
func (s *Server) PostReceipts(ctx context.Context) ([]ReceiptPost, error) {
	s.mu.Lock()
	todo := s.pendingReceipts
	s.pendingReceipts = nil
	s.mu.Unlock()
	var out []ReceiptPost
	for i, p := range todo {
		if err := ctx.Err(); err != nil {
			s.mu.Lock()
			s.pendingReceipts = append(slices.Clone(todo[i:]), s.pendingReceipts...)
			s.mu.Unlock()
			return out, err
		}
		out = append(out, s.postReceipt(ctx, p))
	}
	return out, nil
}

// Click posts a click receipt for every send with a receipt_url (and a
// receipt_type of "2" or "3") that was delivered to token, as when the
// user taps the notification, and returns the posts.
func (s *Server) Click(ctx context.Context, token string) []ReceiptPost {
	return s.userReceipts(ctx, token, ReceiptClick)
}

// Dismiss posts a dismiss receipt for every send with a receipt_url (and
// a receipt_type of "2" or "3") that was delivered to token, as when the
// user swipes the notification away, and returns the posts. Dismissal
// receipts are our assumption (see the package documentation).
func (s *Server) Dismiss(ctx context.Context, token string) []ReceiptPost {
	return s.userReceipts(ctx, token, ReceiptDismiss)
}

func (s *Server) userReceipts(ctx context.Context, token, typ string) []ReceiptPost {
	now := s.now()
	s.mu.Lock()
	var todo []pendingReceipt
	seen := map[string]bool{}
	for _, d := range s.deliveries {
		t, ok := s.receiptTargets[d.ID]
		if d.Token != token || !ok || seen[d.ID] || (t.typ != "2" && t.typ != "3") {
			continue
		}
		seen[d.ID] = true
		todo = append(todo, pendingReceipt{msgID: d.ID, token: token, typ: typ, at: now})
	}
	s.mu.Unlock()
	var out []ReceiptPost
	for _, p := range todo {
		out = append(out, s.postReceipt(ctx, p))
	}
	return out
}

// ReceiptPosts returns every receipt posted so far (the newest under
// Config.Keep), in order.
func (s *Server) ReceiptPosts() []ReceiptPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.receiptPosts)
}

// postReceipt posts one receipt and records the post.
func (s *Server) postReceipt(ctx context.Context, p pendingReceipt) ReceiptPost {
	s.mu.Lock()
	t := s.receiptTargets[p.msgID]
	s.mu.Unlock()
	body := map[string]any{
		"appkey": t.appKey, "msg_id": p.msgID, "device_token": p.token, "type": p.typ, "ts": p.at.UnixMilli(),
	}
	if t.callback != nil {
		body["callback_params"] = t.callback
	}
	raw, _ := json.Marshal(body) // strings, a number and valid JSON
	post := ReceiptPost{URL: t.url, Body: raw, MsgID: p.msgID, Token: p.token, Type: p.typ}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(raw))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		var resp *http.Response
		if resp, err = s.cfg.ReceiptClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			_ = resp.Body.Close()
			post.Status = resp.StatusCode
		}
	}
	if err != nil {
		post.Err = fmt.Sprint(err)
	}
	s.mu.Lock()
	s.receiptPosts = fakeserver.KeepNewest(append(s.receiptPosts, post), s.cfg.Keep)
	s.mu.Unlock()
	return post
}
