package messagecenter

import (
	"encoding/json"
	"strings"

	"github.com/tuisong/push/registry"
)

// SplitReceivers splits sys_message_center.receivers into user_nums. The
// separators are commas (",", "，"), semicolons (";", "；"), "|", the
// enumeration comma "、", and
// white space including newlines; empty items and duplicates are dropped,
// order is kept. A JSON array is accepted too, of strings (["u1","u2"]) or
// numbers ([1001, 1002], taken as written); its other elements (null,
// booleans, objects) name nobody.
func SplitReceivers(s string) []string {
	s = strings.TrimSpace(s)
	if elems, ok := registry.JSONArray(s); ok {
		list := make([]string, 0, len(elems))
		for _, e := range elems {
			var str string
			var num json.Number
			switch {
			case json.Unmarshal(e, &str) == nil:
				list = append(list, str)
			case json.Unmarshal(e, &num) == nil:
				list = append(list, num.String())
			}
		}
		return dedupe(list, strings.TrimSpace)
	}
	fields := strings.FieldsFunc(s, registry.IsReceiverSeparator)
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
