package sqlstore

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// migrationFiles holds the migrations of every dialect:
// migrations/<dialect>/NNNN_name.sql are the library's (component "push"),
// migrations/<dialect>/users/NNNN_name.sql the optional sys_users table
// (component "users").
//
//go:embed migrations
var migrationFiles embed.FS

// Components of the version table: each has its own version sequence.
const (
	componentPush  = "push"
	componentUsers = "users"
)

// migration is one embedded, versioned file of statements.
type migration struct {
	component string
	version   int
	name      string // the file name without ".sql"
	steps     []migrationStep
	tables    []string // the tables its CREATE TABLE statements create
	// rerun, when set, holds the tables a migration recorded as applied
	// is run again for (CreateMissingTables): only its steps that create,
	// alter or index one of them run, and it is not recorded twice.
	rerun map[string]bool
}

// createTable finds the table a CREATE TABLE statement creates.
var createTable = regexp.MustCompile(`(?i)^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[` + "`" + `"]?([A-Za-z_][A-Za-z0-9_]*)`)

// migrationStep is one statement of a migration and the directives that
// precede it in the file:
//
//	-- push:if no-column TABLE COLUMN            run only if the column is missing
//	-- push:if no-index TABLE INDEX              run only if the index is missing
//	-- push:if column-type TABLE COLUMN T1,T2    run only if the column's type is one of these (MySQL)
//	-- push:if charset-not TABLE CHARSET         run only if the table or a column of it has another charset (MySQL)
//	-- push:if collation-not TABLE COLUMN COLL   run only if the column has another collation (MySQL)
//	-- push:if row-format TABLE F1,F2            run only if the table's row format is one of these (MySQL)
//	-- push:unique TABLE C1,C2                   refuse to run while rows share a value of these columns
//
// Several conditions must all hold. The conditions make each statement
// idempotent on every dialect (MySQL runs DDL outside transactions, so a
// migration cut short is run again from its first statement), and let a
// database created from the product brief's own DDL be adopted: what it has is
// skipped, what it lacks is added.
type migrationStep struct {
	line   int // of the statement's first line in the file, for errors
	sql    string
	conds  []condition
	unique *uniqueKey
	// table is the table the statement creates, alters or indexes
	// (stepTable), in lower case; "" for another statement.
	table string
}

// stepTable finds the table a CREATE TABLE, ALTER TABLE or CREATE INDEX …
// ON statement works on.
var stepTable = regexp.MustCompile(`(?is)^\s*(?:CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?|ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?|CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+(?:ONLY\s+)?)[` + "`" + `"]?([A-Za-z_][A-Za-z0-9_]*)`)

type condition struct {
	kind string
	args []string
}

type uniqueKey struct {
	table   string
	columns []string
}

// conditionArgs is how many arguments each condition takes, and which
// dialects can evaluate it.
var conditionArgs = map[string]struct {
	n        int
	dialects []Dialect
}{
	"no-column":     {2, []Dialect{DialectMySQL, DialectPostgres, DialectSQLite}},
	"no-index":      {2, []Dialect{DialectMySQL, DialectPostgres, DialectSQLite}},
	"column-type":   {3, []Dialect{DialectMySQL}},
	"charset-not":   {2, []Dialect{DialectMySQL}},
	"collation-not": {3, []Dialect{DialectMySQL}},
	"row-format":    {2, []Dialect{DialectMySQL}},
}

// loadMigrations returns the migrations of one component of dialect d,
// ordered by version.
func loadMigrations(d Dialect, component string) ([]migration, error) {
	dir := path.Join("migrations", string(d))
	if component == componentUsers {
		dir = path.Join(dir, "users")
	}
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", d, err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".sql")
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s/%s: the name must start with a positive version and _", dir, e.Name())
		}
		text, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		steps, err := parseMigration(d, string(text))
		if err != nil {
			return nil, fmt.Errorf("migration %s/%s: %w", dir, e.Name(), err)
		}
		m := migration{component: component, version: version, name: name, steps: steps}
		for _, st := range steps {
			if t := createTable.FindStringSubmatch(st.sql); t != nil {
				m.tables = append(m.tables, strings.ToLower(t[1]))
			}
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// parseMigration splits a migration file into statements. A statement ends
// with a line ending in ";". Lines starting with "--" are comments, except
// "-- push:" directives, which apply to the next statement.
func parseMigration(d Dialect, text string) ([]migrationStep, error) {
	var steps []migrationStep
	var cur migrationStep
	var body []string
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "-- push:"):
			if len(body) > 0 {
				return nil, fmt.Errorf("line %d: a directive inside a statement", i+1)
			}
			if err := cur.addDirective(d, strings.TrimPrefix(trimmed, "-- push:")); err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
		case trimmed == "" || strings.HasPrefix(trimmed, "--"):
			// Comments explain the file; the database needs none of them.
		default:
			if len(body) == 0 {
				cur.line = i + 1
			}
			body = append(body, strings.TrimRight(line, " \t\r"))
			if strings.HasSuffix(trimmed, ";") {
				cur.sql = strings.TrimSuffix(strings.Join(body, "\n"), ";")
				if m := stepTable.FindStringSubmatch(cur.sql); m != nil {
					cur.table = strings.ToLower(m[1])
				}
				steps = append(steps, cur)
				cur, body = migrationStep{}, nil
			}
		}
	}
	if len(body) > 0 || cur.conds != nil || cur.unique != nil {
		return nil, fmt.Errorf("the file ends inside a statement (a missing ;)")
	}
	return steps, nil
}

func (st *migrationStep) addDirective(d Dialect, directive string) error {
	f := strings.Fields(directive)
	if len(f) == 0 {
		return fmt.Errorf("empty directive")
	}
	switch f[0] {
	case "if":
		if len(f) < 2 {
			return fmt.Errorf("push:if without a condition")
		}
		spec, ok := conditionArgs[f[1]]
		if !ok {
			return fmt.Errorf("unknown condition %q", f[1])
		}
		if len(f)-2 != spec.n {
			return fmt.Errorf("condition %s takes %d arguments, got %d", f[1], spec.n, len(f)-2)
		}
		if !slices.Contains(spec.dialects, d) {
			return fmt.Errorf("condition %s is not available on %s", f[1], d)
		}
		st.conds = append(st.conds, condition{kind: f[1], args: f[2:]})
	case "unique":
		if len(f) != 3 || st.unique != nil {
			return fmt.Errorf("push:unique takes a table and a comma-separated column list, once per statement")
		}
		st.unique = &uniqueKey{table: f[1], columns: strings.Split(f[2], ",")}
	default:
		return fmt.Errorf("unknown directive %q", f[0])
	}
	return nil
}
