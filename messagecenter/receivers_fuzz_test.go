package messagecenter_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/tuisong/push/messagecenter"
)

// FuzzSplitReceivers checks SplitReceivers' promises for any column value:
// it never panics, returns no empty or duplicate item, no item with
// surrounding white space, and joining its answer with "," and splitting
// again gives the same answer.
//
// Two kinds of answer cannot survive a join with ",", by the format's
// design rather than by a fault of the split, and are left out of that
// last check: a JSON array's string elements are taken whole, separators
// included (["u1","u 2"] names "u 2"); and a value that only looks like a
// JSON array (["0," "0"]) is split as text into pieces such as ["0 that,
// joined again, may happen to be a valid JSON array.
func FuzzSplitReceivers(f *testing.F) {
	for _, s := range []string{
		"", "u1", "u1,u2", "u1, u2 ,u1", "u1，u2；u3;u4|u5、u6", "u1\nu2\r\nu3\tu4",
		`["u1","u2"]`, `[1001, 1002]`, `["u1", null, true, {"a":1}, 3.5]`, `[" u1 ", "u1"]`,
		`[`, `["u1",]`, " , ; | ", "\u3000u1\u3000", `[1e3, 1000]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := messagecenter.SplitReceivers(s)
		seen := map[string]bool{}
		for _, item := range got {
			if item == "" {
				t.Fatalf("SplitReceivers(%q) = %q: an empty item", s, got)
			}
			if seen[item] {
				t.Fatalf("SplitReceivers(%q) = %q: %q twice", s, got, item)
			}
			seen[item] = true
			first, _ := utf8.DecodeRuneInString(item)
			last, _ := utf8.DecodeLastRuneInString(item)
			if unicode.IsSpace(first) || unicode.IsSpace(last) || strings.TrimSpace(item) != item {
				t.Fatalf("SplitReceivers(%q) = %q: %q has surrounding white space", s, got, item)
			}
		}
		if len(got) > 0 && strings.HasPrefix(got[0], "[") || slices.ContainsFunc(got, hasSeparator) {
			return
		}
		again := messagecenter.SplitReceivers(strings.Join(got, ","))
		if !slices.Equal(got, again) && !(len(got) == 0 && len(again) == 0) {
			t.Fatalf("SplitReceivers(%q) = %q, but splitting it joined with \",\" gives %q", s, got, again)
		}
	})
}

// hasSeparator reports whether s holds a rune SplitReceivers splits text on.
func hasSeparator(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return strings.ContainsRune(",，;；|、", r) || unicode.IsSpace(r)
	})
}
