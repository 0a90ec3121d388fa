package umeng

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/tuisong/push/provider"
)

// castType is the send body's "type".
type castType string

const (
	castUnicast        castType = "unicast"
	castListcast       castType = "listcast"
	castFilecast       castType = "filecast"
	castBroadcast      castType = "broadcast"
	castGroupcast      castType = "groupcast"
	castCustomizedcast castType = "customizedcast"
)

// maxFilterBytes is Umeng's limit on a groupcast filter.
const maxFilterBytes = 3000

// task reports whether Umeng answers the cast with a pollable task id (and
// honours out_biz_no) rather than a msg_id. A customizedcast is a task only
// when sent by file; target.task handles that case.
func (t castType) task() bool {
	switch t {
	case castFilecast, castBroadcast, castGroupcast:
		return true
	}
	return false
}

// target is the audience part of a send body.
type target struct {
	cast         castType
	deviceTokens string
	// plainTokens: every token is plainListItem, so that deviceTokens, or
	// the uploaded file, goes into its body's JSON as it is.
	plainTokens bool
	aliasType   string
	alias       string
	fileID      string
	filter      json.RawMessage
	groupID     string
	// upload holds the lines to upload for file_id before sending
	// (StrategyFilecast); nil otherwise.
	upload []string
}

// task reports whether the send yields a pollable task id.
func (t *target) task() bool {
	return t.cast.task() || (t.cast == castCustomizedcast && t.alias == "")
}

// buildTarget maps r's audience to a cast type and its fields, checking
// Umeng's limits. It makes no network call.
func buildTarget(a *provider.Audience, s Strategy, fileFrom int) (*target, error) {
	switch a.Kind {
	case provider.AudienceTokens:
		limit := MaxTokens
		if fileFrom > 0 {
			limit = MaxFileTokens
		}
		plain, err := checkList("audience.tokens", a.Tokens, limit)
		if err != nil {
			return nil, err
		}
		switch {
		case s == StrategyFilecast || len(a.Tokens) > MaxTokens: // by file (Config.FilecastThreshold)
			if size := provider.FileBytes(a.Tokens); size > maxUploadBytes {
				return nil, invalid("audience.tokens", fmt.Sprintf("make a file of %d bytes; Umeng accepts at most %d", size, maxUploadBytes))
			}
			return &target{cast: castFilecast, upload: a.Tokens, plainTokens: plain}, nil
		case len(a.Tokens) == 1:
			return &target{cast: castUnicast, deviceTokens: a.Tokens[0], plainTokens: plain}, nil
		}
		return &target{cast: castListcast, deviceTokens: strings.Join(a.Tokens, ","), plainTokens: plain}, nil
	case provider.AudienceBroadcast:
		return &target{cast: castBroadcast}, nil
	case provider.AudienceAliases:
		if err := checkAliasType(a.AliasType); err != nil {
			return nil, err
		}
		if _, err := checkList("audience.aliases", a.Aliases, MaxTokens); err != nil {
			return nil, err
		}
		return &target{cast: castCustomizedcast, aliasType: a.AliasType, alias: strings.Join(a.Aliases, ",")}, nil
	case provider.AudienceFilter:
		return groupcastTarget(a)
	case provider.AudienceFile:
		if strings.ContainsFunc(a.FileID, isSpaceOrControl) {
			return nil, invalid("audience.file_id", "must not contain white space")
		}
		if a.AliasType != "" {
			if err := checkAliasType(a.AliasType); err != nil {
				return nil, err
			}
			return &target{cast: castCustomizedcast, aliasType: a.AliasType, fileID: a.FileID}, nil
		}
		return &target{cast: castFilecast, fileID: a.FileID}, nil
	}
	return nil, invalid("audience.kind", fmt.Sprintf("unknown kind %q", a.Kind))
}

// groupcastTarget takes exactly one of a filter object, a group id or a tag
// list. Tags become a filter matching devices with any of them.
func groupcastTarget(a *provider.Audience) (*target, error) {
	given := 0
	for _, set := range []bool{len(a.Filter) > 0, a.GroupID != "", len(a.Tags) > 0} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, invalid("audience.filter", "needs exactly one of a filter, a group id or tags")
	}
	if a.GroupID != "" {
		return &target{cast: castGroupcast, groupID: a.GroupID}, nil
	}
	filter := bytes.TrimSpace(a.Filter)
	if len(a.Tags) > 0 {
		var err error
		if filter, err = tagFilter(a.Tags); err != nil {
			return nil, err
		}
	}
	if !json.Valid(filter) || filter[0] != '{' {
		return nil, invalid("audience.filter", "must be a JSON object")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, filter); err != nil {
		return nil, invalid("audience.filter", "must be a JSON object")
	}
	if compact.Len() > maxFilterBytes {
		return nil, invalid("audience.filter", fmt.Sprintf("is %d bytes; Umeng accepts at most %d", compact.Len(), maxFilterBytes))
	}
	return &target{cast: castGroupcast, filter: compact.Bytes()}, nil
}

// tagFilter builds {"where":{"and":[{"or":[{"tag":t1},{"tag":t2},…]}]}}.
func tagFilter(tags []string) (json.RawMessage, error) {
	type tag struct {
		Tag string `json:"tag"`
	}
	or := make([]tag, len(tags))
	for i, t := range tags {
		if t == "" {
			return nil, invalid(fmt.Sprintf("audience.tags[%d]", i), "is empty")
		}
		or[i] = tag{Tag: t}
	}
	type orClause struct {
		Or []tag `json:"or"`
	}
	type where struct {
		And []orClause `json:"and"`
	}
	return marshal(struct {
		Where where `json:"where"`
	}{Where: where{And: []orClause{{Or: or}}}})
}

// checkList enforces a limit of entries (Umeng's 500 per list, or
// MaxFileTokens by file) and rejects entries that would break its comma-
// and line-separated lists. Token formats differ by vendor channel, so
// nothing stricter is checked. It reports whether every entry was
// plainListItem.
func checkList(field string, items []string, limit int) (plain bool, err error) {
	if len(items) == 0 {
		return false, invalid(field, "is empty")
	}
	if len(items) > limit {
		return false, invalid(field, fmt.Sprintf("has %d entries; Umeng accepts at most %d per call", len(items), limit))
	}
	plain = true
	for i, it := range items {
		if plainListItem(it) {
			continue
		}
		plain = false
		switch {
		case it == "":
			return false, invalid(fmt.Sprintf("%s[%d]", field, i), "is empty")
		case strings.Contains(it, ","):
			return false, invalid(fmt.Sprintf("%s[%d]", field, i), "must not contain a comma")
		case strings.ContainsFunc(it, isSpaceOrControl):
			return false, invalid(fmt.Sprintf("%s[%d]", field, i), "must not contain white space")
		}
	}
	return plain, nil
}

// plainListItem reports that s is a non-empty run of printable ASCII
// without a comma, a space, a double quote or a backslash: a list entry
// checkList accepts without looking at runes, and that JSON writes as it
// is (see sendBody.encode). Anything else (including any non-ASCII byte)
// takes checkList's full checks. It reads eight bytes at a time, so that
// checking 500 tokens stays a small part of a send's cost (issue #9).
func plainListItem(s string) bool {
	if s == "" {
		return false
	}
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8] // of known length: one 8-byte load, no bounds checks
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		// A byte ≥ 0x7f, a byte ≤ 0x20 (space or control), a comma, a
		// double quote, a backslash: each test sets the high bit of the
		// offending byte's lane (the usual "has less than" and "has zero"
		// word tricks; exact as to whether any byte matches).
		high := x & highs
		low := (x - ones*0x21) & ^x & highs
		del := (x + ones*(0x80-0x7f)) & highs
		if high|low|del|hasByte(x, ',')|hasByte(x, '"')|hasByte(x, '\\') != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == ',' || c == '"' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
}

// hasByte is non-zero when a byte of x is b, for x of bytes below 0x80.
func hasByte(x uint64, b byte) uint64 {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	c := x ^ (ones * uint64(b))
	return (c - ones) & ^c & highs
}

func checkAliasType(t string) error {
	if t == "" {
		return invalid("audience.alias_type", "is required")
	}
	if strings.ContainsFunc(t, isSpaceOrControl) || strings.Contains(t, ",") {
		return invalid("audience.alias_type", "must not contain white space or commas")
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
