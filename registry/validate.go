package registry

import (
	"encoding/json"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tuisong/push/internal/textclip"
)

// Column limits of the product brief's schema. VARCHAR limits count characters,
// TEXT limits count bytes (MySQL/MariaDB's TEXT holds 65,535 bytes).
const (
	MaxVarchar = 255
	MaxText    = 65535
	// MaxMediumText is the size in bytes of a MEDIUMTEXT column:
	// sys_push_deliveries.tokens and .response.
	MaxMediumText = 16777215
	// MaxTokensText is the limit of sys_push_messages.*_device_tokens, which
	// the migrations widen from TEXT to MEDIUMTEXT so that a push to many
	// devices is recorded whole.
	MaxTokensText = MaxMediumText
)

// Ranges of the product brief's INT and TINYINT columns: MySQL in strict mode
// would refuse a value outside them only after other statements of a
// transaction ran, SQLite would keep it.
const (
	minInt, maxInt         = math.MinInt32, math.MaxInt32
	minTinyint, maxTinyint = math.MinInt8, math.MaxInt8
)

// storable reports whether a delivery may be created or finished in state
// s. DeliverySplit may not: only SplitDelivery sets it, because a split
// without parts would drop the delivery's tokens from the summary.
func storable(s DeliveryState) bool {
	switch s {
	case DeliveryPending, DeliveryAccepted, DeliveryDone, DeliveryFailed:
		return true
	}
	return false
}

// ValidateDevice checks d and userNum against the schema and the product brief's
// rules. It does not modify d.
func ValidateDevice(d *Device, userNum string) error {
	if err := required("user_num", userNum); err != nil {
		return err
	}
	if err := varchar("user_num", userNum); err != nil {
		return err
	}
	if d == nil {
		return invalid("device", "is nil")
	}
	if err := required("uuid", d.UUID); err != nil {
		return err
	}
	if d.Platform != PlatformIOS && d.Platform != PlatformAndroid {
		return invalid("platform", "must be %q or %q, got %q", PlatformIOS, PlatformAndroid, d.Platform)
	}
	if err := required("push_token", d.PushToken); err != nil {
		return err
	}
	if strings.ContainsAny(d.PushToken, ", \t\r\n") {
		return invalid("push_token", "must not contain commas or white space")
	}

	for _, f := range []struct{ name, v string }{
		{"uuid", d.UUID}, {"push_token", d.PushToken}, {"push_platform", d.PushPlatform},
		{"name", d.Name}, {"os", d.OS}, {"os_version", d.OSVersion}, {"alias", d.Alias},
	} {
		if err := varchar(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// ValidatePushMessage checks m and its deliveries against the schema: m's
// columns, its UserNums (each with ValidateUserNum), each delivery with ValidateDelivery, and the per-platform
// total of tokens against the summary column (MaxTokensText).
func ValidatePushMessage(m *PushMessage, ds []*Delivery) error {
	if m == nil {
		return invalid("push_message", "is nil")
	}
	for _, f := range []struct{ name, v string }{
		{"title", m.Title}, {"extra_params_string", m.Extra}, {"push_type", m.PushType}, {"dedupe_key", m.DedupeKey},
	} {
		if err := varchar(f.name, f.v); err != nil {
			return err
		}
	}
	if err := text("content", m.Content, MaxText); err != nil {
		return err
	}
	if err := classValue("push_class", m.Class); err != nil {
		return err
	}
	if err := text("push_overrides", m.Overrides, MaxText); err != nil {
		return err
	}
	for _, u := range m.UserNums {
		if err := ValidateUserNum(u); err != nil {
			return err
		}
	}
	if err := traceParent(m.TraceParent); err != nil {
		return err
	}
	if m.Fanout != nil {
		if err := ValidateFanout(m.Fanout); err != nil {
			return err
		}
	}
	size := map[string]int{}
	for i, d := range ds {
		if d == nil {
			return invalid("deliveries", "delivery %d is nil", i)
		}
		if d.Platform != PlatformIOS && d.Platform != PlatformAndroid {
			return invalid("delivery.platform", "must be %q or %q, got %q", PlatformIOS, PlatformAndroid, d.Platform)
		}
		for _, t := range d.Tokens {
			size[d.Platform] += len(t) + 1
		}
	}
	// The summary's limit first: it is the one a caller reaches by pushing
	// to many devices, and the one to report.
	for _, p := range []string{PlatformIOS, PlatformAndroid} {
		if n := size[p] - 1; n > MaxTokensText {
			return invalid(p+"_device_tokens", "the push's %d bytes of tokens exceed %d", n, MaxTokensText)
		}
	}
	for _, d := range ds {
		if err := ValidateDelivery(d); err != nil {
			return err
		}
	}
	return nil
}

// ValidateDelivery checks a delivery about to be inserted against the
// columns of sys_push_deliveries: Platform is "ios" or "android"; Provider
// and IdempotencyKey are non-blank; Provider, IdempotencyKey, Audience and
// ClaimToken are UTF-8 of at most 255 characters; a token delivery has
// tokens, each non-empty and free of commas and white space (the column
// keeps them comma-joined), at most MaxMediumText bytes together; Seq is
// within 0..2^31-1; and the outcome fields pass ValidateDeliveryOutcome. It
// does not modify d.
func ValidateDelivery(d *Delivery) error {
	if d == nil {
		return invalid("delivery", "is nil")
	}
	if d.Platform != PlatformIOS && d.Platform != PlatformAndroid {
		return invalid("delivery.platform", "must be %q or %q, got %q", PlatformIOS, PlatformAndroid, d.Platform)
	}
	if err := required("delivery.provider", d.Provider); err != nil {
		return err
	}
	if err := required("delivery.idempotency_key", d.IdempotencyKey); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"delivery.provider", d.Provider}, {"delivery.idempotency_key", d.IdempotencyKey},
		{"delivery.audience", d.Audience}, {"delivery.claim_token", d.ClaimToken},
	} {
		if err := varchar(f.name, f.v); err != nil {
			return err
		}
	}
	if d.Audience == AudienceTokens && len(d.Tokens) == 0 {
		return invalid("delivery.tokens", "is empty for a token delivery")
	}
	for _, t := range d.Tokens {
		if t == "" || strings.ContainsAny(t, ", \t\r\n") {
			return invalid("delivery.tokens", "a token is empty or holds a comma or white space")
		}
	}
	if err := text("delivery.tokens", strings.Join(d.Tokens, ","), MaxMediumText); err != nil {
		return err
	}
	if err := integer("delivery.seq", d.Seq, 0, maxInt); err != nil {
		return err
	}
	return ValidateDeliveryOutcome(d)
}

// ValidateDeliveryOutcome checks the columns a finishing write stores:
// State is pending, accepted, done or failed; Attempts is within
// 0..2^31-1; ReceiptID, VendorState, Ret, ErrorKind, ErrorCode and
// RetryToken are UTF-8 of at most 255 characters; Response is UTF-8 of at most MaxMediumText
// bytes. Vendor text must be made to fit before (SanitizeText): a store
// refuses what does not fit rather than cut it.
func ValidateDeliveryOutcome(d *Delivery) error {
	if d == nil {
		return invalid("delivery", "is nil")
	}
	if !storable(d.State) {
		return invalid("delivery.state", "must be pending, accepted, done or failed, got %q", string(d.State))
	}
	return outcomeFields(d)
}

// outcomeFields checks the outcome columns other than the state.
func outcomeFields(d *Delivery) error {
	if err := integer("delivery.attempts", d.Attempts, 0, maxInt); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"delivery.receipt_id", d.ReceiptID}, {"delivery.vendor_state", d.VendorState}, {"delivery.ret", d.Ret},
		{"delivery.error_kind", d.ErrorKind}, {"delivery.error_code", d.ErrorCode}, {"delivery.retry_token", d.RetryToken},
	} {
		if err := varchar(f.name, f.v); err != nil {
			return err
		}
	}
	return text("delivery.response", d.Response, MaxMediumText)
}

// ValidateRetryToken checks a SetRetryToken call (RetryTokens) before
// anything is written: d is set, and token fits the retry_token column as
// ValidateDeliveryOutcome checks it (UTF-8 without NUL, at most 255
// characters).
func ValidateRetryToken(d *Delivery, token string) error {
	if d == nil {
		return invalid("delivery", "is nil")
	}
	return varchar("delivery.retry_token", token)
}

// ValidateFanout checks a push's fanout against its columns: After is
// UTF-8 of at most 255 characters, ClaimToken is non-blank, of at most 64,
// and LeaseUntil is set.
func ValidateFanout(f *Fanout) error {
	if err := varchar("fanout.after", f.After); err != nil {
		return err
	}
	if err := required("fanout.claim_token", f.ClaimToken); err != nil {
		return err
	}
	if utf8.RuneCountInString(f.ClaimToken) > 64 {
		return invalid("fanout.claim_token", "is longer than 64 characters")
	}
	if f.LeaseUntil.IsZero() {
		return invalid("fanout.lease_until", "is required")
	}
	return nil
}

// ValidateAddDeliveries checks an AddDeliveries call before anything is
// written: m holds a fanout, next (unless nil: the fanout ends) keeps its
// claim and does not go back (ValidateFanout), and every delivery passes
// ValidateDelivery. The summary's column does not bound a fanout: its
// tokens are clipped there when it ends (see Fanouts).
func ValidateAddDeliveries(m *PushMessage, ds []*Delivery, next *Fanout) error {
	if m == nil {
		return invalid("push_message", "is nil")
	}
	if m.Fanout == nil || m.Fanout.ClaimToken == "" {
		return invalid("fanout", "the push holds no fanout claim")
	}
	if next != nil {
		if err := ValidateFanout(next); err != nil {
			return err
		}
		if next.ClaimToken != m.Fanout.ClaimToken {
			return invalid("fanout.claim_token", "is not the claim the push is held by")
		}
		if next.After < m.Fanout.After {
			return invalid("fanout.after", "goes back, from %q to %q", Clip(m.Fanout.After, 32), Clip(next.After, 32))
		}
	}
	for i, d := range ds {
		if d == nil {
			return invalid("deliveries", "delivery %d is nil", i)
		}
		if err := ValidateDelivery(d); err != nil {
			return err
		}
	}
	return nil
}

// ValidateSplit checks a SplitDelivery of d into parts: d's outcome fields
// as ValidateDeliveryOutcome checks them, but not its State (the store sets
// DeliverySplit); at least one part ("parts"); and each part with
// ValidateDelivery as it will be stored, with d's Provider and Platform
// (its Seq is the store's to number). Idempotency keys repeated among the
// parts are the store's ErrConflict, not a validation error. It modifies
// neither d nor parts.
func ValidateSplit(d *Delivery, parts []*Delivery) error {
	if d == nil {
		return invalid("delivery", "is nil")
	}
	if err := outcomeFields(d); err != nil {
		return err
	}
	if len(parts) == 0 {
		return invalid("parts", "is empty: a delivery is split into at least one part")
	}
	for i, p := range parts {
		if p == nil {
			return invalid("parts", "part %d is nil", i)
		}
		c := *p
		c.PushMessageID, c.Provider, c.Platform, c.Seq = d.PushMessageID, d.Provider, d.Platform, 0
		if err := ValidateDelivery(&c); err != nil {
			return err
		}
	}
	return nil
}

// ValidateCenterMessage checks m against the schema of sys_message_center:
// its text columns, a non-blank Receivers, and NotifyLevel and Attempts
// against their INT columns (Attempts not negative).
func ValidateCenterMessage(m *CenterMessage) error {
	if m == nil {
		return invalid("message_center", "is nil")
	}
	for _, f := range []struct{ name, v string }{
		{"title", m.Title}, {"extra_params_string", m.Extra}, {"notify_mode", m.NotifyMode},
	} {
		if err := varchar(f.name, f.v); err != nil {
			return err
		}
	}
	if err := required("receivers", m.Receivers); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"content", m.Content}, {"receivers", m.Receivers}, {"send_result", m.SendResult}, {"remark", m.Remark},
	} {
		if err := text(f.name, f.v, MaxText); err != nil {
			return err
		}
	}
	if err := integer("notify_level", m.NotifyLevel, minInt, maxInt); err != nil {
		return err
	}
	if err := classValue("push_class", m.Class); err != nil {
		return err
	}
	return integer("attempts", m.Attempts, 0, maxInt)
}

// ValidateCenterOutcome checks the columns FinishCenterMessage writes:
// SendResult and Remark are UTF-8 of at most MaxText bytes, SendState fits
// the product brief's TINYINT and Attempts is within 0..2^31-1. Notifier text must
// be made to fit before (SanitizeText): a store refuses what does not fit
// rather than cut it.
func ValidateCenterOutcome(m *CenterMessage) error {
	if m == nil {
		return invalid("message_center", "is nil")
	}
	for _, f := range []struct{ name, v string }{{"send_result", m.SendResult}, {"remark", m.Remark}} {
		if err := text(f.name, f.v, MaxText); err != nil {
			return err
		}
	}
	if err := integer("send_state", m.SendState, minTinyint, maxTinyint); err != nil {
		return err
	}
	return integer("attempts", m.Attempts, 0, maxInt)
}

// MaxClassChars is the limit of the push_class columns.
const MaxClassChars = 32

// classValue checks a push_class value: UTF-8 of at most MaxClassChars
// characters. Which classes exist is the provider package's business.
func classValue(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > MaxClassChars {
		return invalid(field, "is %d characters, more than %d", n, MaxClassChars)
	}
	return nil
}

// traceParent checks a trace_parent value: printable ASCII (a W3C
// traceparent is lower-case hex and dashes) of at most MaxTraceParent
// characters.
func traceParent(v string) error {
	if n := len(v); n > MaxTraceParent {
		return invalid("trace_parent", "is %d characters, longer than %d", n, MaxTraceParent)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return invalid("trace_parent", "holds a character other than printable ASCII at byte %d", i)
		}
	}
	return nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid(field, "is required")
	}
	return nil
}

// ValidateVarchar checks v as every VARCHAR(255) column of the schema is
// checked: valid UTF-8, no NUL, at most MaxVarchar characters. The error
// is a *ValidationError naming field.
func ValidateVarchar(field, v string) error { return varchar(field, v) }

func varchar(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalid(field, "holds a NUL character, which not every supported database can store (PostgreSQL cannot), so none takes it")
	}
	if n := utf8.RuneCountInString(v); n > MaxVarchar {
		return invalid(field, "is %d characters, longer than %d", n, MaxVarchar)
	}
	return nil
}

func integer(field string, v, min, max int) error {
	if v < min || v > max {
		return invalid(field, "is %d, outside %d..%d", v, min, max)
	}
	return nil
}

func text(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalid(field, "holds a NUL character, which not every supported database can store (PostgreSQL cannot), so none takes it")
	}
	if len(v) > max {
		return invalid(field, "is %d bytes, longer than %d", len(v), max)
	}
	return nil
}

// Clip shortens s to at most max characters, marking the cut with "…" so
// that a shortened value is never mistaken for a whole one. Stores use it
// only for summary columns whose whole value is kept elsewhere.
func Clip(s string, max int) string { return textclip.Runes(s, max) }

// ValidateReceipts checks a RecordReceipts call: provider and receiptID
// must be non-empty UTF-8 of at most MaxVarchar characters without NUL
// (PostgreSQL refuses to compare anything else), and the counts must not
// be negative.
func ValidateReceipts(provider, receiptID string, c ReceiptCounts) error {
	switch {
	case provider == "":
		return &ValidationError{Field: "provider", Reason: "is required"}
	case receiptID == "":
		return &ValidationError{Field: "receipt_id", Reason: "is required"}
	case c.Arrived < 0 || c.Opened < 0 || c.Dismissed < 0:
		return &ValidationError{Field: "receipts", Reason: "counts must not be negative"}
	}
	if err := varchar("provider", provider); err != nil {
		return err
	}
	return varchar("receipt_id", receiptID)
}

// ValidatePushToken checks that token, a device token an app registers,
// has only the characters vendors' tokens are made of: ASCII letters and
// digits and the punctuation of TokenPunct (hex for APNs and Getui,
// base64 and its URL form for Umeng Android and Xiaomi, the ':' and '.' of
// other vendors' ids). Every vendor refuses a token with anything else, so
// push.Service.RegisterDevice refuses it before it is stored, naming
// "push_token". ValidateDevice does not check it: a store keeps the rows
// other programs wrote as they are.
func ValidatePushToken(token string) error {
	if i := strings.IndexFunc(token, func(r rune) bool { return !tokenRune(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(token[i:])
		return invalid("push_token", "must hold only ASCII letters, digits and %s, as vendors' tokens do; got %q at byte %d", TokenPunct, r, i)
	}
	return nil
}

// TokenPunct is the punctuation ValidatePushToken allows in a device
// token besides ASCII letters and digits.
const TokenPunct = "-_.:=+/"

func tokenRune(r rune) bool {
	return r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(TokenPunct, r))
}

// IsReceiverSeparator reports whether r separates the user_nums of a
// sys_message_center receivers list (see messagecenter.SplitReceivers):
// commas (",", "，"), semicolons (";", "；"), "|", the enumeration comma
// "、" and white space.
func IsReceiverSeparator(r rune) bool {
	switch r {
	case ',', '，', ';', '；', '|', '、':
		return true
	}
	return unicode.IsSpace(r)
}

// ValidateRegistration checks a device a host registers for userNum, as
// push.Service.RegisterDevice and pushctl's import do before any write:
// ValidateDevice, then ValidatePushToken, ValidateRegisteredUserNum and
// the uuid's characters (no control or invisible character, nor a line or
// paragraph separator, nor a non-ASCII space: a uuid that splits or hides
// in the lines of logs, exports and the ops SQL's output, or reads as
// another), which a store does not apply to the rows other programs wrote.
func ValidateRegistration(d *Device, userNum string) error {
	if err := ValidateDevice(d, userNum); err != nil {
		return err
	}
	if err := ValidatePushToken(d.PushToken); err != nil {
		return err
	}
	if err := ValidateRegisteredUserNum(userNum); err != nil {
		return err
	}
	if i := firstUnfit(d.UUID, uuidUnfit); i >= 0 {
		r, _ := utf8.DecodeRuneInString(d.UUID[i:])
		return invalid("uuid", "must not hold %U, a control, invisible, line-separating or non-ASCII space character", r)
	}
	return nil
}

// uuidUnfit reports whether a registered uuid must not hold r: an
// invisible character, a line or paragraph separator, or a space other
// than ASCII's (a no-break or ideographic space looks like " ", so
// "a\u00a0b" would be a second device that reads as "a b").
func uuidUnfit(r rune) bool {
	return invisible(r) || r == '\u2028' || r == '\u2029' || (r > unicode.MaxASCII && unicode.IsSpace(r))
}

// ValidateRegisteredUserNum checks a user_num a device is registered
// for, beyond ValidateUserNum: it must hold no control or invisible
// character (a "u1" with a zero-width space is another user who looks like
// u1 in every list and log), no receiver separator
// (IsReceiverSeparator), nor be a JSON array (["u1001"], [1]), which a
// receivers value is read as when it is one; otherwise a message-center
// row naming the user would push to the parts of its name, other users,
// instead. push.Service's RegisterDevice refuses such a user_num naming
// "user_num"; stores keep the rows other programs wrote as they are.
func ValidateRegisteredUserNum(userNum string) error {
	if i := firstUnfit(userNum, invisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(userNum[i:])
		return invalid("user_num", "must not hold %U, a control or invisible character: it would be another user who looks like this one", r)
	}
	if i := strings.IndexFunc(userNum, IsReceiverSeparator); i >= 0 {
		r, _ := utf8.DecodeRuneInString(userNum[i:])
		return invalid("user_num", "must not hold %q: a message-center receivers list splits user_nums on it", r)
	}
	if _, ok := JSONArray(userNum); ok {
		return invalid("user_num", "must not be a JSON array: a message-center receivers list that is one is read as the users it lists")
	}
	return nil
}

// invisible reports whether r is a control character (Cc), an invisible
// format character (Cf: zero-width spaces and joiners, the BOM, bidi
// marks), or another character Unicode says to show as nothing
// (Other_Default_Ignorable_Code_Point: the Hangul fillers, the combining
// grapheme joiner, the tags' block) or the blank braille pattern, which a
// user_num and a registered uuid must not hold; nor a variation selector
// that varies nothing (strayVariationSelector).
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point) || r == '\u2800'
}

// strayVariationSelector returns the byte offset of the first variation
// selector in s that follows no character of a kind it varies, -1 when
// none: a selector anywhere else changes nothing on screen ("u1\ufe0f"
// and "李\ufe0f" read as u1 and 李), and would make a second user or
// device that looks like the first. What each kind of selector varies,
// near enough (Go has no table of Unicode's variation sequences):
//   - U+FE0E/U+FE0F (text or emoji presentation): a symbol (So, Sm:
//     "❤️", "☎︎"), or a keycap's digit, '#' or '*' when U+20E3 follows
//     ("1️⃣");
//   - U+FE00–U+FE0D: a mathematical symbol or a Han character;
//   - U+180B–U+180F (Mongolian's free selectors): a Mongolian letter;
//   - U+E0100–U+E01EF (ideographic selectors): a Han character.
func strayVariationSelector(s string) int {
	prev := rune(-1)
	for i, r := range s {
		if unicode.Is(unicode.Variation_Selector, r) && !varies(r, prev, s[i+utf8.RuneLen(r):]) {
			return i
		}
		prev = r
	}
	return -1
}

// varies reports whether selector vs varies base, the rune before it (-1
// at the start), rest being what follows it.
func varies(vs, base rune, rest string) bool {
	switch {
	case base < 0:
		return false
	case vs == '\ufe0e' || vs == '\ufe0f':
		if strings.ContainsRune("0123456789#*", base) {
			return strings.HasPrefix(rest, "\u20e3") // a keycap
		}
		return unicode.In(base, unicode.So, unicode.Sm) && base != '\u2800' // not the blank braille pattern
	case vs >= '\ufe00' && vs <= '\ufe0d':
		return unicode.In(base, unicode.Sm, unicode.Han)
	case vs >= '\u180b' && vs <= '\u180f':
		return base >= '\u1820' && base <= '\u18af' // Mongolian letters
	}
	return unicode.Is(unicode.Han, base) // U+E0100–U+E01EF
}

// firstUnfit is the byte offset of the first rune of s that unfit
// reports, or of a stray variation selector, whichever comes first; -1
// when there is none.
func firstUnfit(s string, unfit func(rune) bool) int {
	i, j := strings.IndexFunc(s, unfit), strayVariationSelector(s)
	switch {
	case i < 0:
		return j
	case j < 0:
		return i
	}
	return min(i, j)
}

// JSONArray returns the elements of s, without surrounding white space,
// when it is a JSON array; ok is false when it is not. A receivers value
// that is one lists its users as the array's strings and numbers (see
// messagecenter.SplitReceivers), and a registered user_num must not be
// one (ValidateRegisteredUserNum).
func JSONArray(s string) (elems []json.RawMessage, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || json.Unmarshal([]byte(s), &elems) != nil {
		return nil, false
	}
	return elems, true
}
