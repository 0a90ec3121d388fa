package jpushtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tuisong/push/internal/cst"
)

// withdraw answers DELETE /v3/push/{msg_id}.
func (s *Server) withdraw(app App, id string, rec *Request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	rec.MsgID = id
	switch {
	case !ok || m.appKey != app.AppKey:
		return failure(bad(CodeInvalid, "msg_id %s does not exist", id))
	case m.withdrawn:
		return failure(bad(CodeInvalid, "msg_id %s is already withdrawn", id))
	case !rec.At.Before(m.at.Add(m.ttl)):
		return failure(bad(CodeInvalid, "msg_id %s is past its time to live", id))
	}
	m.withdrawn = true
	rec.Accepted = true
	return jsonResponse(http.StatusOK, map[string]any{})
}

// Withdrawn reports whether msg id was withdrawn.
func (s *Server) Withdrawn(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	return ok && m.withdrawn
}

// receivedDetail answers GET /v3/received/detail?msg_ids=a,b.
func (s *Server) receivedDetail(app App, q url.Values, rec *Request) response {
	raw := q.Get("msg_ids")
	if raw == "" {
		return failure(bad(CodeMissing, "msg_ids is required"))
	}
	ids := strings.Split(raw, ",")
	if len(ids) > 100 {
		return failure(bad(CodeInvalid, "msg_ids: at most 100"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, id := range ids {
		if !allDigits(id) {
			return failure(bad(CodeInvalid, "msg_ids: %q is not a msg_id", id))
		}
		m, ok := s.messages[id]
		if !ok || m.appKey != app.AppKey {
			continue
		}
		// The fields of JPush's documented answer; those of channels the
		// fake does not model (Windows Phone, quick apps, HarmonyOS, live
		// activities) are always null. There is no count of targets.
		e := map[string]any{
			"msg_id": id, "jpush_received": nil,
			"android_pns_sent": nil, "android_pns_received": nil,
			"ios_apns_sent": nil, "ios_apns_received": nil, "ios_msg_received": nil,
			"live_acivity_sent": nil, "live_acivity_received": nil, "wp_mpns_sent": nil,
			"quickapp_jpush_received": nil, "quickapp_pns_sent": nil,
			"hmos_hmpns_sent": nil, "hmos_hmpns_received": nil,
		}
		var android, ios, androidGot, iosGot int
		for _, rid := range m.targets {
			p := s.platformOfLocked(m.appKey, rid, m.platforms)
			got := m.delivered[rid]
			if p == "ios" {
				ios++
				if got {
					iosGot++
				}
			} else {
				android++
				if got {
					androidGot++
				}
			}
		}
		if android > 0 {
			// Every Android device is reached over JPush's own connection.
			e["jpush_received"] = androidGot
			e["android_pns_sent"], e["android_pns_received"] = 0, 0
		}
		if ios > 0 {
			if m.notif {
				e["ios_apns_sent"], e["ios_apns_received"] = iosGot, iosGot
			}
			if m.message {
				e["ios_msg_received"] = iosGot
			}
		}
		out = append(out, e)
	}
	rec.Accepted = true
	return jsonResponse(http.StatusOK, out)
}

// statusMessage answers POST /v3/status/message.
func (s *Server) statusMessage(app App, body []byte, rec *Request) response {
	v, err := decode(body)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return failure(bad(CodeInvalid, "body: not a JSON object"))
	}
	rawID, ok := obj["msg_id"]
	if !ok {
		return failure(bad(CodeMissing, "msg_id is required"))
	}
	n, ok := rawID.(json.Number)
	if !ok || !allDigits(string(n)) {
		return failure(bad(CodeInvalid, "msg_id: must be an integer"))
	}
	rv, ok := obj["registration_ids"]
	if !ok {
		return failure(bad(CodeMissing, "registration_ids is required"))
	}
	rids, ok := stringList(rv)
	if !ok || len(rids) == 0 || len(rids) > 1000 {
		return failure(bad(CodeInvalid, "registration_ids: must be an array of 1 to 1000 strings"))
	}
	day := s.now().In(cst.Location).Format(time.DateOnly)
	if rd, ok := obj["date"]; ok {
		d, isString := rd.(string)
		if _, err := time.Parse(time.DateOnly, d); !isString || err != nil {
			return failure(bad(CodeInvalid, "date: must be a day as yyyy-mm-dd"))
		}
		day = d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := string(n)
	rec.MsgID = id
	m, ok := s.messages[id]
	if !ok || m.appKey != app.AppKey {
		return failure(bad(CodeInvalid, "msg_id %s does not exist", id))
	}
	if sent := m.at.In(cst.Location).Format(time.DateOnly); sent != day {
		return failure(bad(CodeInvalid, "msg_id %s does not exist on %s (it was sent on %s)", id, day, sent))
	}
	out := make(map[string]any, len(rids))
	for _, rid := range rids {
		st := 3
		switch {
		case !s.cfg.AcceptAnyRegistrationID && !wellFormedRegistrationID(rid):
			st = 2
		case m.delivered[rid]:
			st = 0
		case contains(m.targets, rid):
			st = 1
		}
		out[rid] = map[string]int{"status": st}
	}
	rec.Accepted = true
	return jsonResponse(http.StatusOK, out)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
