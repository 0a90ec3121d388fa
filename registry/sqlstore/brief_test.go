package sqlstore_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// briefTables are the product brief's five tables, in the order their DDL is run.
var briefTables = []string{"sys_users", "sys_devices", "sys_user_devices", "sys_push_messages", "sys_message_center"}

// readTestdata returns a file of testdata as it is.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// briefDDL returns the product brief's CREATE TABLE statement of table, verbatim.
func briefDDL(t *testing.T, table string) string {
	t.Helper()
	return readTestdata(t, filepath.Join("brief", table+".sql"))
}

// briefColumn is a column of the product brief's DDL.
type briefColumn struct {
	name    string
	typ     string // as written, e.g. "varchar(255)", "int(11)", "text"
	notNull bool
}

var briefColumnLine = regexp.MustCompile("^\\s*`(\\w+)` (\\w+(?:\\(\\d+\\))?)(.*)$")

// briefColumns parses the column lines of the product brief's DDL of table.
func briefColumns(t *testing.T, table string) []briefColumn {
	t.Helper()
	var cols []briefColumn
	for _, line := range strings.Split(briefDDL(t, table), "\n") {
		m := briefColumnLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cols = append(cols, briefColumn{name: m[1], typ: strings.ToLower(m[2]), notNull: strings.Contains(m[3], "NOT NULL")})
	}
	require.NotEmpty(t, cols, "no columns parsed from the product brief's %s", table)
	return cols
}

// execScript runs the statements of a testdata file one by one: a
// statement ends with a line ending in ";", and lines starting with "--"
// are comments.
func execScript(t *testing.T, db *sql.DB, name string) {
	t.Helper()
	var stmt []string
	for _, line := range strings.Split(readTestdata(t, name), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		stmt = append(stmt, line)
		if strings.HasSuffix(trimmed, ";") {
			_, err := db.ExecContext(t.Context(), strings.Join(stmt, "\n"))
			require.NoError(t, err, "%s: %s", name, strings.Join(stmt, "\n"))
			stmt = nil
		}
	}
	require.Empty(t, stmt, "%s ends inside a statement", name)
}

// snapshot returns every row of table (its brief columns, ordered by id)
// as text, NULL as "<NULL>".
func snapshot(t *testing.T, db *sql.DB, table string) [][]string {
	t.Helper()
	cols := briefColumns(t, table)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	_, rows := queryStrings(t, db, "SELECT "+strings.Join(names, ", ")+" FROM "+table+" ORDER BY id")
	return rows
}

// queryStrings runs a query and returns its rows as text, NULL as
// "<NULL>", with the column names.
func queryStrings(t *testing.T, db *sql.DB, query string, args ...any) ([]string, [][]string) {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), query, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(dest...))
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "<NULL>"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return cols, out
}
