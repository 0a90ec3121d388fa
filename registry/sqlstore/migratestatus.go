package sqlstore

import (
	"context"
	"slices"
)

// MigrationStatus is how far the database is in one component's
// migrations.
type MigrationStatus struct {
	// Component is "push" (Migrate's tables) or "users" (MigrateUsers').
	Component string
	// Current is the highest applied version, 0 when none is.
	Current int
	// Latest is the highest version this build of the library has.
	Latest int
	// Pending names the migrations of this build not yet applied, in the
	// order Migrate would apply them.
	Pending []string
	// Missing names the tables that migrations recorded as applied
	// created and that the database lacks (dropped by hand, or lost), or
	// holds from a CreateMissingTables cut short, which may lack columns
	// and indexes: every statement on them fails. CreateMissingTables
	// creates them again, empty, or finishes them.
	Missing []string
}

// MigrationStatus reports, for the "push" and then the "users" component,
// the applied and the latest migration version. It only reads: nothing is
// created, not even push_schema_migrations.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.MigrationStatus")
	}
	const op = "MigrationStatus"
	var out []MigrationStatus
	for _, component := range []string{componentPush, componentUsers} {
		ms, err := loadMigrations(s.dialect, component)
		if err != nil {
			return nil, wrap(op, err)
		}
		applied, err := s.applied(ctx, s.q, component)
		if err != nil {
			return nil, wrap(op, err)
		}
		missing, _, err := s.missingTables(ctx, s.q, ms, applied)
		if err != nil {
			return nil, wrap(op, err)
		}
		st := MigrationStatus{Component: component, Missing: missing, Current: highest(applied)}
		for _, m := range ms {
			st.Latest = max(st.Latest, m.version)
			if !applied[m.version] {
				st.Pending = append(st.Pending, m.name)
			}
		}
		slices.Sort(st.Pending)
		out = append(out, st)
	}
	return out, nil
}
