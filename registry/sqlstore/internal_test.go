package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		dialect Dialect
		in      string
		want    string
	}{
		{DialectPostgres, "SELECT a FROM t WHERE b = ? AND c IN (?, ?)", "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"},
		{DialectPostgres, "UPDATE t SET a = '?' WHERE b = ?", "UPDATE t SET a = '?' WHERE b = $1"},
		{DialectPostgres, "SELECT 1", "SELECT 1"},
		{DialectPostgres, "SELECT '', ? WHERE c = 'it''s ?' AND d = ?", "SELECT '', $1 WHERE c = 'it''s ?' AND d = $2"},
		{DialectPostgres, "? ? ? ? ? ? ? ? ? ? ?", "$1 $2 $3 $4 $5 $6 $7 $8 $9 $10 $11"},
		{DialectPostgres, "SELECT ? WHERE a = 'open ?", "SELECT $1 WHERE a = 'open ?"},
		{DialectMySQL, "SELECT a FROM t WHERE b = ?", "SELECT a FROM t WHERE b = ?"},
		{DialectSQLite, "SELECT a FROM t WHERE b = ?", "SELECT a FROM t WHERE b = ?"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.dialect.rebind(tt.in), "%s: %s", tt.dialect, tt.in)
	}
}

func TestParseWall(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	want := time.Date(2030, 6, 15, 16, 30, 5, 250000000, cst)
	tests := []struct {
		name   string
		src    any
		want   time.Time
		wantOK bool
		err    string
	}{
		{"NULL", nil, time.Time{}, false, ""},
		{"driver time in UTC (pgx, modernc)", time.Date(2030, 6, 15, 16, 30, 5, 250000000, time.UTC), want, true, ""},
		{"driver time in another zone (mysql parseTime&loc)", time.Date(2030, 6, 15, 16, 30, 5, 250000000, time.FixedZone("X", -5*3600)), want, true, ""},
		{"mysql zero date with parseTime", time.Time{}, time.Time{}, false, ""},
		{"mysql text", []byte("2030-06-15 16:30:05.250000"), want, true, ""},
		{"sqlite text", "2030-06-15 16:30:05.25", want, true, ""},
		{"ISO text", "2030-06-15T16:30:05.25", want, true, ""},
		{"zoned text", "2030-06-15T08:30:05.25Z", want, true, ""},
		{"zoned text with offset", "2030-06-15 09:30:05.25+01:00", want, true, ""},
		{"minutes", "2030-06-15 16:30", time.Date(2030, 6, 15, 16, 30, 0, 0, cst), true, ""},
		{"date", "2030-06-15", time.Date(2030, 6, 15, 0, 0, 0, 0, cst), true, ""},
		{"mysql zero date", []byte("0000-00-00 00:00:00"), time.Time{}, false, ""},
		{"empty", "", time.Time{}, false, ""},
		{"a number (sqlite): unix seconds?", int64(want.Unix()), time.Time{}, false, "cannot read the number 1907742605 as a DATETIME"},
		{"a number (sqlite): 2099-12-31?", int64(20991231), time.Time{}, false, "cannot read the number 20991231 as a DATETIME"},
		{"garbage", "yesterday", time.Time{}, false, `cannot read "yesterday" as a DATETIME`},
		{"a real (sqlite)", 1.5, time.Time{}, false, "cannot read the number 1.5 as a DATETIME"},
		{"wrong type", true, time.Time{}, false, "cannot read bool as a DATETIME"},
		{"zoned text that falls past 9999 here", "9999-12-31T23:59:59-05:00", time.Time{}, false, "falls in year 10000"},
		{"zoned text that falls before year 1 here", "0001-01-01 01:00:00+10:00", time.Time{}, false, "falls in year 0"},
		{"year 0 (mysql, sqlite)", "0000-06-01 00:00:00", time.Time{}, false, `cannot read "0000-06-01 00:00:00" as a DATETIME: year 0`},
		{"postgres text of a date BC", "2500-06-01 00:00:00 BC", time.Time{}, false, `cannot read "2500-06-01 00:00:00 BC" as a DATETIME`},
		{"driver time BC", time.Date(-2499, 6, 1, 0, 0, 0, 0, time.UTC), time.Time{}, false, "cannot read year -2499"},
		{"last second of 9999", "9999-12-31 23:59:59", time.Date(9999, 12, 31, 23, 59, 59, 0, cst), true, ""},
		{"driver time past 9999", time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, false, "cannot read year 12000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := parseWall(tt.src, cst)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantOK, ok)
			assert.True(t, tt.want.Equal(got), "got %v, want %v", got, tt.want)
		})
	}
}

// TestAZeroDateIsUnreadableWhereNullIsNoTime: MySQL's zero date, as text
// or as go-sql-driver/mysql's parseTime makes it, and empty text read as
// the zero time in a column read into a time, and as set but unreadable
// in one read into a pointer, whose NULL alone is no time.
func TestAZeroDateIsUnreadableWhereNullIsNoTime(t *testing.T) {
	s := &Store{loc: time.UTC}
	for _, tc := range []struct {
		src  any
		want string
	}{
		{[]byte("0000-00-00 00:00:00"), `token_disabled_at: cannot read "0000-00-00 00:00:00" as a date-time`},
		{"0000-00-00 00:00:00.000000", `token_disabled_at: cannot read "0000-00-00 00:00:00.000000" as a date-time`},
		{time.Time{}, "token_disabled_at: cannot read the zero date as a date-time"},
		{"", `token_disabled_at: cannot read "" as a date-time`},
	} {
		var bad readProblems
		var ptr *time.Time
		require.NoError(t, s.wallPtr("token_disabled_at", &ptr, &bad).Scan(tc.src))
		require.NotNil(t, ptr, "%q is not NULL", tc.src)
		assert.True(t, ptr.IsZero())
		assert.Equal(t, tc.want, bad.String())

		bad = readProblems{}
		at := time.Now()
		require.NoError(t, s.wall("created_at", &at, &bad).Scan(tc.src))
		assert.True(t, at.IsZero())
		assert.Empty(t, bad.String(), "%q in a time column is no time", tc.src)
	}
	var bad readProblems
	ptr := new(time.Time)
	require.NoError(t, s.wallPtr("token_disabled_at", &ptr, &bad).Scan(nil))
	assert.Nil(t, ptr, "NULL is no time")
	assert.Empty(t, bad.String())
}

func TestTimeArg(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	in := time.Date(2030, 6, 15, 8, 0, 0, 123456789, time.UTC)
	for _, tt := range []struct {
		dialect Dialect
		want    any
	}{
		{DialectMySQL, "2030-06-15 16:00:00.123456"},
		{DialectSQLite, "2030-06-15 16:00:00.123456"},
		{DialectPostgres, time.Date(2030, 6, 15, 16, 0, 0, 123456000, cst)},
	} {
		s := &Store{dialect: tt.dialect, loc: cst}
		assert.Equal(t, tt.want, s.timeArg(in), string(tt.dialect))
		assert.Equal(t, "2030-06-15 16:00:00", (&Store{dialect: DialectSQLite, loc: cst}).timeArg(in.Truncate(time.Second)))
	}
	// Four digits of year, whatever the time: past them, the end of the
	// range, so that the text still sorts in time order.
	for _, d := range []Dialect{DialectMySQL, DialectSQLite} {
		s := &Store{dialect: d, loc: cst}
		assert.Equal(t, "9999-12-31 23:59:59.999999", s.timeArg(time.Date(9999, 12, 31, 16, 0, 0, 0, time.UTC)), "year 10000 in CST")
		assert.Equal(t, "9999-12-31 23:59:59", s.timeArg(time.Date(9999, 12, 31, 15, 59, 59, 0, time.UTC)))
		assert.Equal(t, "0001-01-01 00:00:00", s.timeArg(time.Date(0, 12, 31, 12, 0, 0, 0, time.UTC)))
		assert.Equal(t, "0001-01-01 00:00:00", (&Store{dialect: d, loc: time.UTC}).timeArg(time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
}

// fakeErrors stand for the drivers' error types, which the store never
// imports.
type pgError struct{ code string }

func (e *pgError) Error() string    { return "ERROR: (SQLSTATE " + e.code + ")" }
func (e *pgError) SQLState() string { return e.code }

type sqliteError struct{ code int }

func (e *sqliteError) Error() string { return fmt.Sprintf("sqlite error %d", e.code) }
func (e *sqliteError) Code() int     { return e.code }

func TestClassify(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("insert: %w", err) }
	tests := []struct {
		name    string
		dialect Dialect
		err     error
		want    errClass
	}{
		{"nil", DialectMySQL, nil, classOther},
		{"mysql duplicate", DialectMySQL, errors.New("Error 1062 (23000): Duplicate entry 'a' for key 'k'"), classDuplicate},
		{"mysql duplicate, wrapped", DialectMySQL, wrapped(errors.New("Error 1062 (23000): Duplicate entry")), classDuplicate},
		{"mysql deadlock", DialectMySQL, errors.New("Error 1213 (40001): Deadlock found"), classRetry},
		{"mysql lock wait timeout is not retried", DialectMySQL, errors.New("Error 1205 (HY000): Lock wait timeout exceeded"), classOther},
		{"mysql other", DialectMySQL, errors.New("Error 1146 (42S02): Table doesn't exist"), classOther},
		{"mysql number in text is not an error number", DialectMySQL, errors.New("bad value: Error 1062"), classOther},
		{"postgres unique", DialectPostgres, wrapped(&pgError{"23505"}), classDuplicate},
		{"postgres deadlock", DialectPostgres, &pgError{"40P01"}, classRetry},
		{"postgres serialization", DialectPostgres, &pgError{"40001"}, classRetry},
		{"postgres other", DialectPostgres, &pgError{"42P01"}, classOther},
		{"postgres ignores mysql text", DialectPostgres, errors.New("Error 1062 (23000): Duplicate entry"), classOther},
		{"sqlite unique", DialectSQLite, wrapped(&sqliteError{2067}), classDuplicate},
		{"sqlite primary key", DialectSQLite, &sqliteError{1555}, classDuplicate},
		{"sqlite busy", DialectSQLite, &sqliteError{5}, classRetry},
		{"sqlite busy snapshot", DialectSQLite, &sqliteError{517}, classRetry},
		{"sqlite locked", DialectSQLite, &sqliteError{6}, classRetry},
		{"sqlite other", DialectSQLite, &sqliteError{1}, classOther},
		{"sqlite unique by text", DialectSQLite, errors.New("constraint failed: UNIQUE constraint failed: t.k (2067)"), classDuplicate},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.dialect.classify(tt.err), tt.name)
	}
}

func TestParseMigration(t *testing.T) {
	steps, err := parseMigration(DialectMySQL, strings.Join([]string{
		"-- a comment",
		"",
		"-- push:if no-column t c",
		"-- push:if collation-not t c utf8mb4_bin",
		"ALTER TABLE t",
		"  ADD COLUMN c INT;",
		"-- push:if no-index t ux",
		"-- push:unique t a,b",
		"CREATE UNIQUE INDEX ux ON t (a, b);",
		"CREATE TABLE x (s VARCHAR(10) DEFAULT 'a;b');",
	}, "\n"))
	require.NoError(t, err)
	require.Len(t, steps, 3)
	assert.Equal(t, migrationStep{line: 5, sql: "ALTER TABLE t\n  ADD COLUMN c INT", conds: []condition{
		{kind: "no-column", args: []string{"t", "c"}}, {kind: "collation-not", args: []string{"t", "c", "utf8mb4_bin"}},
	}, table: "t"}, steps[0])
	assert.Equal(t, &uniqueKey{table: "t", columns: []string{"a", "b"}}, steps[1].unique)
	assert.Equal(t, "t", steps[1].table, "the index's table")
	assert.Equal(t, "CREATE TABLE x (s VARCHAR(10) DEFAULT 'a;b')", steps[2].sql)
	assert.Equal(t, "x", steps[2].table)

	bad := []struct {
		name    string
		dialect Dialect
		text    string
		err     string
	}{
		{"unknown directive", DialectMySQL, "-- push:maybe\nSELECT 1;", `line 1: unknown directive "maybe"`},
		{"unknown condition", DialectMySQL, "-- push:if sunny t\nSELECT 1;", `line 1: unknown condition "sunny"`},
		{"wrong argument count", DialectMySQL, "-- push:if no-column t\nSELECT 1;", "line 1: condition no-column takes 2 arguments, got 1"},
		{"condition of another dialect", DialectSQLite, "-- push:if charset-not t utf8mb4\nSELECT 1;", "line 1: condition charset-not is not available on sqlite"},
		{"no condition", DialectMySQL, "-- push:if\nSELECT 1;", "line 1: push:if without a condition"},
		{"empty directive", DialectMySQL, "-- push:\nSELECT 1;", "line 1: empty directive"},
		{"unique twice", DialectMySQL, "-- push:unique t a\n-- push:unique t b\nSELECT 1;", "line 2: push:unique takes"},
		{"directive inside a statement", DialectMySQL, "SELECT\n-- push:if no-column t c\n1;", "line 2: a directive inside a statement"},
		{"missing semicolon", DialectMySQL, "SELECT 1", "the file ends inside a statement"},
		{"dangling directive", DialectMySQL, "SELECT 1;\n-- push:if no-column t c\n", "the file ends inside a statement"},
	}
	for _, tt := range bad {
		_, err := parseMigration(tt.dialect, tt.text)
		assert.ErrorContains(t, err, tt.err, tt.name)
	}
}

// TestEmbeddedMigrations: every embedded file parses for its dialect, the
// versions increase from 1 and every dialect has the same migrations.
// Versions may skip a number: Migrate applies every version it finds
// unrecorded, whatever its place (TestMigrateAppliesAnUnrecordedLowerVersion),
// so migrations written in parallel can take their numbers ahead.
func TestEmbeddedMigrations(t *testing.T) {
	names := map[string][]string{}
	for _, d := range []Dialect{DialectMySQL, DialectPostgres, DialectSQLite} {
		for _, component := range []string{componentPush, componentUsers} {
			ms, err := loadMigrations(d, component)
			require.NoError(t, err, "%s/%s", d, component)
			require.NotEmpty(t, ms)
			var got []string
			for i, m := range ms {
				if i == 0 {
					assert.Equal(t, 1, m.version, m.name)
				} else {
					assert.Greater(t, m.version, ms[i-1].version, m.name)
				}
				assert.Equal(t, component, m.component)
				assert.NotEmpty(t, m.steps, m.name)
				got = append(got, m.name)
			}
			if want, ok := names[component]; ok {
				assert.Equal(t, want, got, "%s has the migrations of the other dialects", d)
			}
			names[component] = got
		}
	}
	_, err := loadMigrations("oracle", componentPush)
	assert.ErrorContains(t, err, "migrations of oracle")
}

func TestDuplicatesErrorMessage(t *testing.T) {
	e := &DuplicatesError{Table: "sys_devices", Columns: []string{"platform", "uuid"},
		Values: [][]string{{"ios", `a"b`}}, Counts: []int64{2}}
	assert.Equal(t, `sqlstore: sys_devices has rows sharing (platform, uuid), which must be unique: ("ios", "a\"b") in 2 rows;`+
		" merge or delete the duplicates, then run Migrate again", e.Error())
	e.Values = make([][]string, maxReportedDuplicates)
	e.Counts = make([]int64, maxReportedDuplicates)
	assert.Contains(t, e.Error(), "and maybe more")
}

func TestSQLiteDSN(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/var/lib/push/push.db", "file:/var/lib/push/push.db"},
		{"push.db", "file:push.db"},
		{"/tmp/a b/p?x#1%.db", "file:/tmp/a%20b/p%3Fx%231%25.db"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate", SQLiteDSN(tt.path))
	}
}

// TestEveryMigrationStepNamesItsTable: CreateMissingTables runs again the
// steps on a missing table only, found by stepTable: every step of every
// migration names its table that way, except those that change rows
// (which it never runs again).
func TestEveryMigrationStepNamesItsTable(t *testing.T) {
	for _, d := range []Dialect{DialectMySQL, DialectPostgres, DialectSQLite} {
		for _, component := range []string{componentPush, componentUsers} {
			ms, err := loadMigrations(d, component)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				for _, st := range m.steps {
					first := strings.ToUpper(strings.Fields(st.sql)[0])
					switch {
					case first == "UPDATE" || first == "INSERT" || first == "DELETE":
						if st.table != "" {
							t.Errorf("%s %s line %d: a data step taken for one on %q", d, m.name, st.line, st.table)
						}
					case st.table == "":
						t.Errorf("%s %s line %d: no table found in %.60q", d, m.name, st.line, st.sql)
					case !strings.HasPrefix(st.table, "sys_"):
						t.Errorf("%s %s line %d: table %q", d, m.name, st.line, st.table)
					}
				}
			}
		}
	}
}
