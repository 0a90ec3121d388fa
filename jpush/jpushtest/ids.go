package jpushtest

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// RegistrationID returns a well-formed registration id derived from seed:
// "1" followed by 18 lowercase hex digits, the shape JPush's ids have. The
// same seed gives the same id; distinct seeds give distinct ids with
// overwhelming probability.
func RegistrationID(seed string) string {
	sum := sha256.Sum256([]byte("jpushtest:" + seed))
	return "1" + hex.EncodeToString(sum[:])[:18]
}

// wellFormedRegistrationID is the fake's format rule: 11 to 64 characters
// of [0-9a-zA-Z]. JPush documents no format; real ids are 19 characters.
func wellFormedRegistrationID(id string) bool {
	if len(id) < 11 || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// msgIDBase keeps msg_ids ten digits long, like JPush's documented example,
// and well inside the range a float64 holds exactly, so numeric answers
// survive any JSON decoder.
const msgIDBase = 2_000_000_000

// newMsgIDLocked issues the next msg_id. The caller holds s.mu.
func (s *Server) newMsgIDLocked() string {
	s.seq++
	return strconv.FormatUint(msgIDBase+s.seq, 10)
}
