package jpushtest

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// CIDLifetime is how long a cid from GET /v3/push/cid stays valid: one
// day, as JPush documents.
const CIDLifetime = 24 * time.Hour

// maxCIDCount is the most cids one GET /v3/push/cid issues: JPush's
// limit for apps without a VIP plan (a larger count is served as 10).
const maxCIDCount = 10

// cidUse is a cid the fake issued and the push it made, if any.
type cidUse struct {
	appKey string
	issued time.Time
	msgID  string // the push made with it; "" until one is accepted
	sendno int64
}

// issueCIDs answers GET /v3/push/cid?count=n&type=push: {"cidlist": [...]},
// n cids of the form {appkey}-{uuid}.
func (s *Server) issueCIDs(app App, q url.Values, rec *Request) response {
	n := 1
	if raw := q.Get("count"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 {
			return failure(bad(CodeInvalid, "count: must be a positive integer"))
		}
		n = min(v, maxCIDCount)
	}
	switch q.Get("type") {
	case "", "push", "schedule":
	default:
		return failure(bad(CodeInvalid, "type: must be push or schedule"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]string, n)
	for i := range list {
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
		list[i] = fmt.Sprintf("%s-%x-%x-%x-%x-%x", app.AppKey, b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
		s.cids[list[i]] = &cidUse{appKey: app.AppKey, issued: rec.At}
	}
	rec.Accepted = true
	return jsonResponse(200, map[string]any{"cidlist": list})
}

// cidLocked returns the use of cid by a push of appKey at now, or the
// refusal of a cid the fake did not issue to the app or issued more than
// CIDLifetime ago (the code JPush uses for these is unconfirmed).
func (s *Server) cidLocked(appKey, cid string, now time.Time) (*cidUse, *refusal) {
	u, ok := s.cids[cid]
	switch {
	case !ok || u.appKey != appKey:
		return nil, bad(CodeInvalid, "cid %q was not issued to this app", cid)
	case !now.Before(u.issued.Add(CIDLifetime)):
		return nil, bad(CodeInvalid, "cid %q has expired", cid)
	}
	return u, nil
}

// CIDsIssued returns how many cids the fake has issued, to every app.
func (s *Server) CIDsIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cids)
}
