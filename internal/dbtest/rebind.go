package dbtest

import (
	"strconv"

	"github.com/tuisong/push/registry/sqlstore"
)

// Rebind turns the ? placeholders of a test's own SQL into $1, $2 … for
// PostgreSQL, and leaves it as it is for the other dialects.
func Rebind(d sqlstore.Dialect, query string) string {
	if d != sqlstore.DialectPostgres {
		return query
	}
	out := make([]byte, 0, len(query)+8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			out = append(out, '$')
			out = strconv.AppendInt(out, int64(n), 10)
			continue
		}
		out = append(out, query[i])
	}
	return string(out)
}
