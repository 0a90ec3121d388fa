package push

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The warning about a request's unknown parameters names at most
// maxUnknownNames of them, each cut to maxUnknownName bytes: the names are
// the client's, and a body of a million members, or one of a megabyte,
// must not make a log line of that size.
const (
	maxUnknownNames = 8
	maxUnknownName  = 64
)

// unknownNames collects the names of a request's parameters that its
// endpoint does not take: how many there are, and the first
// maxUnknownNames in byte order, so that the warning does not depend on
// the order of a map's keys.
type unknownNames struct {
	n     int
	first []string // sorted; at most maxUnknownNames
}

// add notes one unknown name.
func (u *unknownNames) add(name string) {
	u.n++
	if len(u.first) == maxUnknownNames {
		if name >= u.first[maxUnknownNames-1] {
			return
		}
		u.first = u.first[:maxUnknownNames-1]
	}
	i, _ := slices.BinarySearch(u.first, name)
	u.first = slices.Insert(u.first, i, name)
}

// String lists the names, each quoted as Go does (%q), so that a name
// holding a newline or a quote cannot forge a line or an attribute of a
// log, and cut to maxUnknownName bytes (marked "…" after the quotes);
// "(and N more)" counts the names left out.
func (u *unknownNames) String() string {
	var b strings.Builder
	for i, name := range u.first {
		if i > 0 {
			b.WriteString(", ")
		}
		cut := len(name) > maxUnknownName
		if cut {
			end := maxUnknownName
			for end > 0 && !utf8.RuneStart(name[end]) {
				end--
			}
			name = name[:end]
		}
		b.WriteString(strconv.Quote(name))
		if cut {
			b.WriteString("…")
		}
	}
	if more := u.n - len(u.first); more > 0 {
		b.WriteString(" (and " + strconv.Itoa(more) + " more)")
	}
	return b.String()
}

// warnUnknown logs one line, at warn level, naming the parameters of a
// POST body that its endpoint does not take (known): a misspelled
// "extras" is otherwise dropped without a trace. They are still accepted
// and ignored, as apps send members of their own. Only names are logged,
// never a value. The JSON members were decoded already, and a form's
// fields parsed: the names are read from those, not from the body again.
func (h *Handler) warnUnknown(r *http.Request, p params, known []string) {
	var u unknownNames
	if p.json != nil {
		for name := range p.json {
			if !slices.Contains(known, name) {
				u.add(name)
			}
		}
	} else {
		for name := range p.form {
			if !slices.Contains(known, name) {
				u.add(name)
			}
		}
		if r.MultipartForm != nil {
			// No endpoint takes a file.
			for name := range r.MultipartForm.File {
				u.add(name)
			}
		}
	}
	if u.n == 0 {
		return
	}
	h.log.LogAttrs(r.Context(), slog.LevelWarn, "request has unknown parameters; they are ignored",
		slog.String("path", r.URL.Path), slog.Int("unknown_count", u.n), slog.String("unknown", u.String()))
}
