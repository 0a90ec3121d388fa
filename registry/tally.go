package registry

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Tally is the running account of one platform of a push message from
// which every summary column but DeviceTokens follows exactly as Summarize
// computes it. A store keeps it beside the message and brings it up to
// date with Update whenever a delivery changes, so that recording an
// outcome costs the same whatever the size of the push: nothing is
// re-read from the other deliveries, and their tokens never are.
//
// Its size is bounded by what it summarizes, not by the number of
// deliveries: a few counts, one count per distinct vendor state, the
// latest sent delivery's key and clipped response, and the receipt ids of
// the first deliveries (in Summarize's order) that TaskID shows, at most
// MaxVarchar+1 characters of them. It encodes to JSON; the field names are
// short because a store keeps it in a column. Its fields are exported for
// the encoding only: use NewTally and Update to change them.
type Tally struct {
	Pending  int `json:"p,omitempty"` // pending deliveries
	Failed   int `json:"f,omitempty"` // failed deliveries
	Accepted int `json:"a,omitempty"` // deliveries neither pending nor failed (nor split)
	// Polling counts the accepted (not yet final) deliveries by vendor
	// state, "" counted as "queued".
	Polling map[string]*TallyPoll `json:"q,omitempty"`
	// Finals counts the final deliveries by the state Summarize reports
	// for them: "failed" for a failed delivery, the vendor state of a done
	// one ("accepted" when it has none or one that is not final).
	Finals map[string]int `json:"d,omitempty"`
	// Latest is the sent delivery Summarize takes Response and Timestamp
	// from; nil when none was sent.
	Latest *TallyLatest `json:"l,omitempty"`
	// Receipts are the receipt ids of the first deliveries in Summarize's
	// order, as many as TaskID shows. Clipped says that there are more:
	// then the ids held join to more than MaxVarchar characters.
	Receipts []TallyReceipt `json:"r,omitempty"`
	Clipped  bool           `json:"c,omitempty"`
	// Fanout says that more deliveries are still to be recorded (see
	// PushMessage.Fanout): the summary says pending meanwhile.
	Fanout bool `json:"x,omitempty"`
}

// TallyKey is a delivery's place in Summarize's order: by provider, then
// seq, then id.
type TallyKey struct {
	Provider string `json:"p"`
	Seq      int    `json:"s"`
	ID       int64  `json:"i"`
}

// TallyPoll counts the polled deliveries of one vendor state. First is the
// first of them in Summarize's order, nil when a change made it unknown;
// it decides between vendor states that are equally advanced ("queued"
// and "scheduled").
type TallyPoll struct {
	N     int       `json:"n"`
	First *TallyKey `json:"k,omitempty"`
}

// TallyLatest is the latest sent delivery: its send time in unix
// milliseconds and its response as the summary shows it.
type TallyLatest struct {
	Key      TallyKey `json:"k"`
	MS       int64    `json:"t"`
	Response string   `json:"r,omitempty"`
}

// TallyReceipt is the receipt id of the delivery at Key.
type TallyReceipt struct {
	Key TallyKey `json:"k"`
	ID  string   `json:"v"`
}

func keyOf(d *Delivery) TallyKey {
	return TallyKey{Provider: d.Provider, Seq: d.Seq, ID: d.ID}
}

func compareKeys(a, b TallyKey) int {
	if c := cmp.Compare(a.Provider, b.Provider); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Seq, b.Seq); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// NewTally computes the tally of platform from its deliveries (deliveries
// of other platforms are ignored, as Summarize ignores them). Tokens are
// not read: callers may pass deliveries without them.
func NewTally(platform string, ds []Delivery) Tally {
	var t Tally
	for i := range ds {
		if ds[i].Platform == platform {
			t.add(&ds[i])
		}
	}
	return t
}

// Update brings t up to date with one delivery changing from old to new
// (the same delivery: same ID, Provider, Seq and Platform). It reports
// false when it cannot: the delivery that was the latest sent one lost its
// place, a receipt id TaskID showed went away, or which of two equally
// advanced vendor states comes first is no longer known. Then t is left in
// an unspecified state and the caller computes it anew with NewTally.
func (t *Tally) Update(old, new *Delivery) bool {
	if old == nil || new == nil || old.ID != new.ID || old.Provider != new.Provider || old.Seq != new.Seq ||
		old.Platform != new.Platform {
		return false
	}
	k := keyOf(new)
	// A delivery that stays polled in the same vendor state keeps its
	// place among the polled ones.
	samePoll := old.State == DeliveryAccepted && new.State == DeliveryAccepted &&
		pollState(old.VendorState) == pollState(new.VendorState)
	if old.State != DeliverySplit {
		switch old.State {
		case DeliveryPending:
			t.Pending--
		case DeliveryFailed:
			t.Failed--
			if !t.finalDone(failedState(old.VendorState)) {
				return false
			}
		case DeliveryAccepted:
			t.Accepted--
			if !samePoll {
				p := t.Polling[pollState(old.VendorState)]
				if p == nil {
					return false
				}
				p.N--
				switch {
				case p.N == 0:
					delete(t.Polling, pollState(old.VendorState))
				case p.First != nil && *p.First == k:
					p.First = nil
				}
			}
		default:
			t.Accepted--
			// A tally an earlier release kept may count old under another
			// final state (it took a done delivery's sending as final).
			if !t.finalDone(finalState(old.VendorState)) {
				return false
			}
		}
		if t.Pending < 0 || t.Failed < 0 || t.Accepted < 0 {
			return false
		}
		if old.ReceiptID != "" && (new.State == DeliverySplit || new.ReceiptID != old.ReceiptID) {
			if !t.removeReceipt(k) {
				return false
			}
		}
		if ms, ok := sentMS(old); ok && t.Latest != nil && t.Latest.Key == k {
			// The latest keeps its place only by being sent again, later
			// or at the same millisecond.
			nms, sent := sentMS(new)
			if new.State == DeliverySplit || !sent || nms < ms {
				return false
			}
			t.Latest = nil
		}
	}
	if new.State != DeliverySplit {
		if old.State == DeliverySplit || old.ReceiptID != new.ReceiptID {
			t.addReceipt(k, new.ReceiptID)
		}
		t.count(new, samePoll)
		t.addLatest(new)
	}
	return t.pollingKnown()
}

// Add counts d, a delivery recorded after t was computed (Fanouts).
func (t *Tally) Add(d *Delivery) { t.add(d) }

// add counts d, a delivery not counted yet.
func (t *Tally) add(d *Delivery) {
	if d.State == DeliverySplit {
		return
	}
	t.addReceipt(keyOf(d), d.ReceiptID)
	t.count(d, false)
	t.addLatest(d)
}

// count adds d's state to the counts. samePoll: d is counted among the
// polled ones of its vendor state already.
func (t *Tally) count(d *Delivery, samePoll bool) {
	switch d.State {
	case DeliveryPending:
		t.Pending++
	case DeliveryFailed:
		t.Failed++
		t.final(failedState(d.VendorState))
	case DeliveryAccepted:
		t.Accepted++
		if samePoll {
			return
		}
		st, k := pollState(d.VendorState), keyOf(d)
		p := t.Polling[st]
		if p == nil {
			if t.Polling == nil {
				t.Polling = map[string]*TallyPoll{}
			}
			p = &TallyPoll{First: &k}
			t.Polling[st] = p
		}
		p.N++
		if p.First != nil && compareKeys(k, *p.First) < 0 {
			p.First = &k
		}
	default:
		t.Accepted++
		t.final(finalState(d.VendorState))
	}
}

func (t *Tally) final(s string) {
	if t.Finals == nil {
		t.Finals = map[string]int{}
	}
	t.Finals[s]++
}

// finalDone takes a delivery away from the count of s, reporting false
// when s counted none.
func (t *Tally) finalDone(s string) bool {
	if t.Finals[s] <= 0 {
		return false
	}
	if t.Finals[s]--; t.Finals[s] == 0 {
		delete(t.Finals, s)
	}
	return true
}

// pollState is the vendor state Summarize reports for a polled delivery.
func pollState(s string) string {
	if s == "" {
		return "queued"
	}
	return s
}

// failedState is the final state a failed delivery of vendor state s
// reports: "expired" for one that expired before any send reached the
// vendor, "failed" otherwise.
func failedState(s string) string {
	if s == "expired" {
		return "expired"
	}
	return "failed"
}

// finalState is the vendor state Summarize reports for a done delivery:
// its vendor state when final, otherwise (none, or one of a poll that
// ended before the vendor's was final) "accepted": nothing follows it any
// more.
func finalState(s string) string {
	if _, inFlight := progress[s]; inFlight {
		return "accepted"
	}
	return s
}

// sentMS is the send time Summarize considers: d's SentAt in unix
// milliseconds, if d has one not before 1970.
func sentMS(d *Delivery) (int64, bool) {
	if d.SentAt == nil {
		return 0, false
	}
	ms := d.SentAt.UnixMilli()
	return ms, ms >= 0
}

// addLatest makes d the latest sent delivery if it comes after the
// current one: later, or at the same millisecond and later in Summarize's
// order.
func (t *Tally) addLatest(d *Delivery) {
	ms, ok := sentMS(d)
	if !ok {
		return
	}
	k := keyOf(d)
	if t.Latest != nil && (ms < t.Latest.MS || ms == t.Latest.MS && compareKeys(k, t.Latest.Key) < 0) {
		return
	}
	t.Latest = &TallyLatest{Key: k, MS: ms, Response: Clip(d.Response, MaxVarchar)}
}

// addReceipt adds the receipt id of the delivery at k, unless it is empty
// or comes after the ids TaskID shows.
func (t *Tally) addReceipt(k TallyKey, id string) {
	if id == "" {
		return
	}
	i, _ := slices.BinarySearchFunc(t.Receipts, k, func(r TallyReceipt, k TallyKey) int { return compareKeys(r.Key, k) })
	if t.Clipped && i == len(t.Receipts) {
		return
	}
	t.Receipts = slices.Insert(t.Receipts, i, TallyReceipt{Key: k, ID: id})
	// Keep only as many ids as it takes to be longer than TaskID's column.
	for len(t.Receipts) > 1 && joinedLen(t.Receipts[:len(t.Receipts)-1]) > MaxVarchar {
		t.Receipts = t.Receipts[:len(t.Receipts)-1]
		t.Clipped = true
	}
}

// removeReceipt removes the receipt id of the delivery at k. It reports
// false when the ids left may no longer be all that TaskID shows.
func (t *Tally) removeReceipt(k TallyKey) bool {
	i, found := slices.BinarySearchFunc(t.Receipts, k, func(r TallyReceipt, k TallyKey) int { return compareKeys(r.Key, k) })
	if !found {
		// Only an id after those kept may be missing.
		return t.Clipped && i == len(t.Receipts)
	}
	t.Receipts = slices.Delete(t.Receipts, i, i+1)
	return !t.Clipped || joinedLen(t.Receipts) > MaxVarchar
}

// joinedLen is the length in characters of the receipt ids joined by
// commas.
func joinedLen(rs []TallyReceipt) int {
	n := len(rs) - 1
	for _, r := range rs {
		n += utf8.RuneCountInString(r.ID)
	}
	return n
}

// pollingKnown reports whether the status Summarize reports for the polled
// deliveries is known: it is, unless the least advanced vendor states are
// several and the first delivery of one of them is unknown.
func (t *Tally) pollingKnown() bool {
	least := t.leastAdvanced()
	if len(least) < 2 {
		return true
	}
	for _, s := range least {
		if t.Polling[s].First == nil {
			return false
		}
	}
	return true
}

// leastAdvanced lists the least advanced vendor states of the polled
// deliveries, sorted.
func (t *Tally) leastAdvanced() []string {
	var out []string
	for s := range t.Polling {
		switch {
		case len(out) == 0 || progress[s] < progress[out[0]]:
			out = append(out[:0], s)
		case progress[s] == progress[out[0]]:
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Summary returns the platform's summary columns, with deviceTokens as
// DeviceTokens: what Summarize returns for the deliveries t was computed
// from, when deviceTokens is their tokens joined in Summarize's order.
func (t Tally) Summary(deviceTokens string) PlatformSummary {
	if t.Pending+t.Failed+t.Accepted == 0 {
		return PlatformSummary{}
	}
	s := PlatformSummary{IsSend: true, DeviceTokens: deviceTokens}
	ids := make([]string, len(t.Receipts))
	for i, r := range t.Receipts {
		ids[i] = r.ID
	}
	s.TaskID = Clip(strings.Join(ids, ","), MaxVarchar)
	switch {
	case t.Pending > 0 || t.Fanout:
		s.Ret = RetPending
	case t.Failed == 0:
		s.Ret = RetSuccess
	case t.Accepted == 0:
		s.Ret = RetFail
	default:
		s.Ret = RetPartial
	}
	switch {
	case t.Pending > 0 || t.Fanout:
		s.Status = StatusPending
	case len(t.Polling) > 0:
		least := t.leastAdvanced()
		s.Status = least[0]
		var first *TallyKey
		for _, st := range least {
			// Summarize keeps the first in its order of the equally
			// advanced states.
			if k := t.Polling[st].First; k != nil && (first == nil || compareKeys(*k, *first) < 0) {
				s.Status, first = st, k
			}
		}
	default:
		s.Status = commonFinal(t.Finals)
	}
	if t.Latest != nil {
		s.Response = t.Latest.Response
		s.Timestamp = strconv.FormatInt(t.Latest.MS, 10)
	}
	return s
}
