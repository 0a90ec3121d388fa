package messagecenter

import (
	"encoding/json"
	"strings"
	"unicode"
)

// SplitReceivers splits sys_message_center.receivers into user_nums. The
// separators are commas (",", "，"), semicolons (";", "；"), "|", and
// white space including newlines; empty items and duplicates are dropped,
// order is kept. A JSON array of strings (["u1","u2"]) is accepted too.
func SplitReceivers(s string) []string {
	s = strings.TrimSpace(s)
	var list []string
	if strings.HasPrefix(s, "[") && json.Unmarshal([]byte(s), &list) == nil {
		return dedupe(list, strings.TrimSpace)
	}
	fields := strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ',', '，', ';', '；', '|', '、':
			return true
		}
		return unicode.IsSpace(r)
	})
	return dedupe(fields, nil)
}

func dedupe(in []string, clean func(string) string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, f := range in {
		if clean != nil {
			f = clean(f)
		}
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
