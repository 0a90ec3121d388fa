package umengtest

import (
	"fmt"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
)

// Id prefixes of the real service: msg_ids of single casts, task_ids of task
// casts, file_ids of uploads.
const (
	prefixUnicast               = "uu"
	prefixListcast              = "ul"
	prefixAliasCast             = "ua" // customizedcast by alias
	prefixBroadcast             = "um"
	prefixGroupcast             = "us"
	prefixFilecast              = "uf"
	prefixFileCustomized        = "uc" // customizedcast by file
	prefixFile                  = "PF"
	idDigits                    = 20 // msg_id and task_id: 2 letters + 20 digits
	fileIDDigits                = 18 // file_id: "PF" + 18 digits
	seqDigits                   = 7
	seqModulus           uint64 = 10_000_000
)

// newIDLocked issues an id never issued before by s: prefix, then the
// clock's milliseconds and a sequence number, digits long in all, as the
// real ids look. The caller holds s.mu.
func (s *Server) newIDLocked(prefix string, digits int, now time.Time) string {
	msMod := uint64(1)
	for range digits - seqDigits {
		msMod *= 10
	}
	ms := uint64(now.UnixMilli()) % msMod
	for {
		s.seq++
		id := fmt.Sprintf("%s%0*d%0*d", prefix, digits-seqDigits, ms, seqDigits, s.seq%seqModulus)
		if !s.issued[id] {
			s.issued[id] = true
			// Under Keep only the newest ids are remembered: an older
			// one comes again only after seqModulus more ids in the
			// same millisecond.
			s.issuedOrder = fakeserver.KeepNewestFunc(append(s.issuedOrder, id), s.cfg.Keep,
				func(old string) { delete(s.issued, old) })
			return id
		}
	}
}
