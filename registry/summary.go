package registry

import (
	"sort"
	"strconv"
	"strings"
)

// Summarize computes the product brief's per-platform columns of a push message
// from the deliveries of that platform (deliveries of other platforms are
// ignored). Every store uses it, so the ops queries read the same values on
// every database.
//
// A DeliverySplit delivery counts for nothing — not its tokens, receipt,
// Ret, state, response or send time — because the parts that replaced it
// carry its tokens and their own outcomes: each token is listed once, and
// Ret and Status are those of the parts.
//
// Ret is SUCCESS when every delivery was accepted, FAIL when every one
// failed, PENDING while any is unsent and PARTIAL for a mix. Status is
// "pending" while any is unsent, the least advanced vendor state while any
// is being polled, and once all are final the common final state,
// "accepted" when they differ only between "accepted" and "done", or
// "partial" for any other mix. TaskID and Response are clipped to the
// brief's VARCHAR(255) with a visible "…"; the whole values stay on the
// deliveries.
func Summarize(platform string, ds []Delivery) PlatformSummary {
	var mine []Delivery
	for _, d := range ds {
		if d.Platform == platform && d.State != DeliverySplit {
			mine = append(mine, d)
		}
	}
	if len(mine) == 0 {
		return PlatformSummary{}
	}
	// Seq numbers the deliveries of a provider; ID only orders what other
	// programs may have numbered twice, the same way on every store.
	sort.SliceStable(mine, func(i, j int) bool {
		if mine[i].Provider != mine[j].Provider {
			return mine[i].Provider < mine[j].Provider
		}
		if mine[i].Seq != mine[j].Seq {
			return mine[i].Seq < mine[j].Seq
		}
		return mine[i].ID < mine[j].ID
	})
	s := PlatformSummary{IsSend: true}
	// The tokens are joined as they are read, into a buffer of the
	// summary's size: a push of 100,000 devices holds no slice of every
	// token beside the joined text.
	size := 0
	for i := range mine {
		for _, t := range mine[i].Tokens {
			size += len(t) + 1
		}
	}
	var tokens strings.Builder
	tokens.Grow(size)
	first := true
	var ids []string
	var pending, accepted, failed int
	var latest *Delivery
	var latestSent int64
	finals := map[string]bool{}
	polling := ""
	for i := range mine {
		d := &mine[i]
		for _, t := range d.Tokens {
			if !first {
				tokens.WriteByte(',')
			}
			tokens.WriteString(t)
			first = false
		}
		if d.ReceiptID != "" {
			ids = append(ids, d.ReceiptID)
		}
		switch d.State {
		case DeliveryPending:
			pending++
		case DeliveryFailed:
			failed++
			finals[failedState(d.VendorState)] = true
		case DeliveryAccepted:
			accepted++
			polling = lessAdvanced(polling, d.VendorState)
		default:
			accepted++
			finals[finalState(d.VendorState)] = true
		}
		if d.SentAt != nil {
			if ms := d.SentAt.UnixMilli(); ms >= latestSent {
				latestSent = ms
				latest = d
			}
		}
	}
	s.DeviceTokens = tokens.String()
	s.TaskID = Clip(strings.Join(ids, ","), MaxVarchar)
	switch {
	case pending > 0:
		s.Ret = RetPending
	case failed == 0:
		s.Ret = RetSuccess
	case accepted == 0:
		s.Ret = RetFail
	default:
		s.Ret = RetPartial
	}
	switch {
	case pending > 0:
		s.Status = StatusPending
	case polling != "":
		s.Status = polling
	default:
		s.Status = commonFinal(finals)
	}
	if latest != nil {
		s.Response = Clip(latest.Response, MaxVarchar)
		s.Timestamp = strconv.FormatInt(latestSent, 10)
	}
	return s
}

// commonFinal is the Status of a platform whose deliveries are all final,
// given the final states they report (keys with a true or non-zero value):
// the one state they share; "accepted" when they differ only between
// "accepted" and "done", because every part reached the vendor and
// "accepted" is what holds for all of them (a Getui single push stays
// accepted beside its list task that is polled to done); otherwise
// "partial".
func commonFinal[V comparable](finals map[string]V) string {
	var zero V
	common, success := "", true
	for k, v := range finals {
		if v == zero {
			continue
		}
		if common == "" {
			common = k
		} else if common != k {
			common = StatusPartial
		}
		if k != "done" && k != "accepted" {
			success = false
		}
	}
	if common == StatusPartial && success {
		return "accepted"
	}
	if common == "" {
		return StatusPartial
	}
	return common
}

// progress orders the non-final vendor states from least to most advanced.
var progress = map[string]int{"": 0, "queued": 1, "scheduled": 1, "sending": 2}

func lessAdvanced(a, b string) string {
	if b == "" {
		b = "queued"
	}
	if a == "" || progress[b] < progress[a] {
		return b
	}
	return a
}

// ClipTokens cuts a comma-joined list of tokens to at most max bytes,
// whole tokens only: the summary of a push whose tokens outgrow its
// column (every token stays on its delivery).
func ClipTokens(tokens string, max int) string {
	if len(tokens) <= max {
		return tokens
	}
	if i := strings.LastIndexByte(tokens[:max+1], ','); i >= 0 {
		return tokens[:i]
	}
	return ""
}

// SharesOut reports whether every token of parts is among parent, the
// tokens of a delivery being split: such a split leaves its push's summary
// as large as it was, and the stores clip it rather than refuse it.
func SharesOut(parent []string, parts []Delivery) bool {
	have := make(map[string]bool, len(parent))
	for _, t := range parent {
		have[t] = true
	}
	for _, p := range parts {
		for _, t := range p.Tokens {
			if !have[t] {
				return false
			}
		}
	}
	return true
}
