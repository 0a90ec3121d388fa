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
		s = strings.Join(list, ",")
	}
	fields := strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ',', '，', ';', '；', '|', '、':
			return true
		}
		return unicode.IsSpace(r)
	})
	seen := make(map[string]bool, len(fields))
	out := fields[:0]
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
