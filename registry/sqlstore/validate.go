package sqlstore

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tuisong/push/registry"
)

// maxMediumText is the size in bytes of a MySQL MEDIUMTEXT column, which
// holds sys_push_deliveries.tokens and .response.
const maxMediumText = registry.MaxTokensText

// deliveryStates are the states a stored delivery may be in.
var deliveryStates = []registry.DeliveryState{
	registry.DeliveryPending, registry.DeliveryAccepted, registry.DeliveryDone, registry.DeliveryFailed,
}

// checkVarchar refuses a value that is not UTF-8 or longer than the
// VARCHAR(255) columns the Store adds hold.
func checkVarchar(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > registry.MaxVarchar {
		return invalid(field, "is %d characters, longer than %d", n, registry.MaxVarchar)
	}
	return nil
}

// checkText refuses a value that is not UTF-8 or longer than max bytes.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if len(v) > max {
		return invalid(field, "is %d bytes, longer than %d", len(v), max)
	}
	return nil
}

// checkInt refuses a value outside [min, max], the range of the integer
// column it goes to: MySQL in strict mode would refuse it only after other
// statements of the transaction ran, SQLite would keep it.
func checkInt(field string, v, min, max int) error {
	if v < min || v > max {
		return invalid(field, "is %d, outside %d..%d", v, min, max)
	}
	return nil
}

// Ranges of the brief's INT and TINYINT columns.
const (
	minInt, maxInt         = math.MinInt32, math.MaxInt32
	minTinyint, maxTinyint = math.MinInt8, math.MaxInt8
)

// checkDeliveryCreate checks what registry.ValidatePushMessage leaves to
// the store: the columns of sys_push_deliveries.
func checkDeliveryCreate(d *registry.Delivery) error {
	if !validState(d.State) {
		return invalid("delivery.state", "must be pending, accepted, done or failed, got %q", string(d.State))
	}
	for _, f := range []struct{ name, v string }{
		{"delivery.provider", d.Provider}, {"delivery.audience", d.Audience}, {"delivery.claim_token", d.ClaimToken},
	} {
		if err := checkVarchar(f.name, f.v); err != nil {
			return err
		}
	}
	for _, t := range d.Tokens {
		if t == "" || strings.ContainsAny(t, ", \t\r\n") {
			return invalid("delivery.tokens", "a token is empty or holds a comma or white space")
		}
	}
	if n := len(strings.Join(d.Tokens, ",")); n > maxMediumText {
		return invalid("delivery.tokens", "is %d bytes, longer than %d", n, maxMediumText)
	}
	if err := checkInt("delivery.seq", d.Seq, 0, maxInt); err != nil {
		return err
	}
	return checkDeliveryOutcome(d)
}

// checkDeliveryOutcome checks the columns FinishDelivery writes.
func checkDeliveryOutcome(d *registry.Delivery) error {
	if !validState(d.State) {
		return invalid("delivery.state", "must be pending, accepted, done or failed, got %q", string(d.State))
	}
	if err := checkInt("delivery.attempts", d.Attempts, 0, maxInt); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"delivery.receipt_id", d.ReceiptID}, {"delivery.vendor_state", d.VendorState}, {"delivery.ret", d.Ret},
		{"delivery.error_kind", d.ErrorKind}, {"delivery.error_code", d.ErrorCode},
	} {
		if err := checkVarchar(f.name, f.v); err != nil {
			return err
		}
	}
	return checkText("delivery.response", d.Response, maxMediumText)
}

func validState(s registry.DeliveryState) bool { return slices.Contains(deliveryStates, s) }
