package getuitest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// CID returns a well-formed Getui cid derived from seed: 32 lowercase hex
// digits, the shape Getui's client ids have. The same seed gives the same
// cid; distinct seeds give distinct cids with overwhelming probability.
func CID(seed string) string {
	sum := sha256.Sum256([]byte("getuitest:" + seed))
	return hex.EncodeToString(sum[:16])
}

func wellFormedCID(cid string) bool {
	if len(cid) != 32 {
		return false
	}
	for _, c := range []byte(cid) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Taskid prefixes: single pushes, list tasks, app (all and tag) tasks.
const (
	prefixSingle = "RASS"
	prefixList   = "RASL"
	prefixApp    = "RASA"
)

// newIDLocked issues a taskid or token. The caller holds s.mu.
func (s *Server) newIDLocked(prefix string) string {
	s.seq++
	sum := sha256.Sum256(fmt.Appendf(nil, "getuitest:%s:%d", prefix, s.seq))
	if prefix == "" {
		return hex.EncodeToString(sum[:16])
	}
	return fmt.Sprintf("%s_%s_%s", prefix, s.now().Format("0102"), hex.EncodeToString(sum[:12]))
}
