package sqlstore

import "context"

// PendingMigrations returns the names of the library's migrations (those
// Migrate applies, "0007_trace_parent" …) that the database has not
// recorded as applied, in version order: none once Migrate has run with
// this build of the library. A readiness check calls it to tell a
// database that is reachable but not migrated. It is the Pending list of
// MigrationStatus's "push" component: it reads push_schema_migrations and
// writes nothing; a database without that table has every migration
// pending.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.PendingMigrations")
	}
	st, err := s.pushStatus(ctx)
	return st.Pending, err
}

// MissingTables returns the library's tables that its applied migrations
// created and that the database lacks (MigrationStatus's Missing of the
// "push" component): none on a database Migrate has run on, unless one
// was dropped since. A readiness check calls it beside PendingMigrations:
// every push fails while a table is missing. CreateMissingTables creates
// them again, empty.
func (s *Store) MissingTables(ctx context.Context) ([]string, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.MissingTables")
	}
	st, err := s.pushStatus(ctx)
	return st.Missing, err
}

// pushStatus is MigrationStatus's "push" component.
func (s *Store) pushStatus(ctx context.Context) (MigrationStatus, error) {
	st, err := s.MigrationStatus(ctx)
	if err != nil {
		return MigrationStatus{}, err
	}
	for _, c := range st {
		if c.Component == componentPush {
			return c, nil
		}
	}
	return MigrationStatus{}, nil
}
