package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/registry/sqlstore"
)

// migrateCmd applies the migrations, as examples/server does at start-up.
func migrateCmd(_ *flag.FlagSet, e *env) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		if err := wantArgs(args, 0, ""); err != nil {
			return err
		}
		d, err := e.openDB(ctx, true, true)
		if err != nil {
			return err
		}
		defer d.Close()
		return migrateAll(ctx, e, d)
	}
}

// migrateAll creates the missing tables, applies the migrations and prints
// the status. An interruption (ctx) lets them finish: cancelled, a
// statement in flight would be left to run on the server (MySQL goes on
// with an ALTER whose client is gone) after the migration lock is given
// up; a second interrupt quits at once (see main).
func migrateAll(ctx context.Context, e *env, d *database) error {
	ctx = context.WithoutCancel(ctx)
	// The missing tables first: a pending migration may alter one.
	created, err := d.store.CreateMissingTables(ctx)
	if len(created) > 0 {
		fmt.Fprintf(e.stdout, "created again, empty: %s (they were missing)\n", strings.Join(created, ", "))
	}
	if err != nil {
		return err
	}
	// What this run applied is said even when a migration failed
	// partway (the ones before it stay applied); not what another
	// process applied while this one waited for the lock.
	res, migErr := d.store.MigrateReport(ctx)
	printApplied(e, res)
	if migErr == nil {
		res, migErr = d.store.MigrateUsersReport(ctx)
		printApplied(e, res)
	}
	if migErr != nil {
		return migErr
	}
	if _, err = printStatus(ctx, e, d); err != nil {
		return err
	}
	// Before switching from an old system is when its rows can be
	// trimmed (see the README's adoption notes).
	serverenv.WarnSpacedUserNums(ctx, e.log, d.store)
	serverenv.WarnAutovacuumOff(ctx, e.log, d.db, d.store)
	serverenv.WarnUpperCaseTokens(ctx, e.log, d.store)
	return nil
}

// printApplied prints what one migrate call applied, if anything:
// "push: migrated from version 0 to 16, applied: 0001_brief_tables, …".
func printApplied(e *env, r sqlstore.MigrateResult) {
	if len(r.Applied) > 0 {
		fmt.Fprintf(e.stdout, "%s: migrated from version %d to %d, applied: %s\n", r.Component, r.From, r.To, strings.Join(r.Applied, ", "))
	}
}

// migrateStatusCmd prints the migration versions without changing
// anything; with --check it fails when a migration is pending, so that a
// deploy can wait for one.
func migrateStatusCmd(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
	check := fs.Bool("check", false, "exit 1 when a migration is pending or a table of an applied one is missing")
	return func(ctx context.Context, args []string) error {
		if err := wantArgs(args, 0, ""); err != nil {
			return err
		}
		d, err := e.openDB(ctx, true, false)
		if err != nil {
			return err
		}
		defer d.Close()
		st, err := printStatus(ctx, e, d)
		if err != nil || !*check {
			return err
		}
		var pending []string
		var missing []string
		newer := false
		for _, s := range st {
			if len(s.Pending) > 0 && !optionalUnused(s) {
				pending = append(pending, fmt.Sprintf("%d of %s", len(s.Pending), s.Component))
			}
			missing = append(missing, s.Missing...)
			newer = newer || (len(s.Missing) > 0 && s.Current > s.Latest)
		}
		var problems []string
		if len(pending) > 0 {
			problems = append(problems, fmt.Sprintf("migrations pending (%s)", strings.Join(pending, ", ")))
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("tables missing (%s)", strings.Join(missing, ", ")))
		}
		if len(problems) > 0 {
			if newer {
				// This build's migrate refuses it: its tables may have
				// columns this build does not know.
				return fmt.Errorf("%s: run the pushctl migrate of the release that migrated the database", strings.Join(problems, ", "))
			}
			return fmt.Errorf("%s: run pushctl migrate", strings.Join(problems, ", "))
		}
		return nil
	}
}

// printStatus prints one line per migration component:
// "push: version 6 of 6, up to date", "push: version 0 of 6, pending: …",
// or, when a later release migrated the database, "push: version 7 of 6,
// newer than this build (a later release migrated it)". It returns the
// status it printed.
func printStatus(ctx context.Context, e *env, d *database) ([]sqlstore.MigrationStatus, error) {
	st, err := d.store.MigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range st {
		state := "up to date"
		switch {
		case optionalUnused(s):
			state = "not applied (optional: the brief's sys_users, which pushctl migrate creates; --check ignores it)"
		case s.Current > s.Latest && len(s.Missing) > 0:
			state = "newer than this build (a later release migrated it); tables missing: " + strings.Join(s.Missing, ", ") +
				" (that release's pushctl migrate creates them again, empty)"
		case len(s.Pending) > 0 && len(s.Missing) > 0:
			state = "pending: " + strings.Join(s.Pending, ", ") + "; tables missing: " + strings.Join(s.Missing, ", ") +
				" (pushctl migrate creates them again, empty)"
		case len(s.Pending) > 0:
			state = "pending: " + strings.Join(s.Pending, ", ")
		case len(s.Missing) > 0:
			state = "tables missing: " + strings.Join(s.Missing, ", ") + " (pushctl migrate creates them again, empty)"
		case s.Current > s.Latest:
			state = "newer than this build (a later release migrated it)"
		}
		fmt.Fprintf(e.stdout, "%s: version %d of %d, %s\n", s.Component, s.Current, s.Latest, state)
	}
	return st, nil
}

// optionalUnused reports whether s is the users component (the brief's
// sys_users, which belongs to the host) never applied: a host that
// migrates with Store.Migrate alone has none, and a deploy's --check
// must not wait for it forever. Once applied, its later migrations count.
func optionalUnused(s sqlstore.MigrationStatus) bool {
	return s.Component == "users" && s.Current == 0
}
