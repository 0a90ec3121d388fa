package sqlstore

import "context"

// PendingMigrations returns the names of the library's migrations (those
// Migrate applies, "0007_trace_parent" …) that the database has not
// recorded as applied, in version order: none once Migrate has run with
// this build of the library. A readiness check calls it to tell a
// database that is reachable but not migrated. It reads
// push_schema_migrations and writes nothing; a database without that
// table has every migration pending.
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	const op = "PendingMigrations"
	ms, err := loadMigrations(s.dialect, componentPush)
	if err != nil {
		return nil, wrap(op, err)
	}
	applied, err := s.applied(ctx, s.q, componentPush)
	if err != nil {
		return nil, wrap(op, err)
	}
	var out []string
	for _, m := range ms {
		if !applied[m.version] {
			out = append(out, m.name)
		}
	}
	return out, nil
}
