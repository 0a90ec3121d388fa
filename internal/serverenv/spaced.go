package serverenv

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng"
)

// WarnSpacedUserNums logs the links another program wrote with spaces
// around a user_num (sqlstore.Store.SpacedUserNums), which the Store does
// not take for the trimmed user's: that user's pushes miss the device. It
// reads the links whole, within SpacedUserNumsTimeout; examples/server runs
// it beside the server at start-up, pushctl migrate after migrating. A
// ctx cancelled meanwhile (a shutdown) ends it without a word.
func WarnSpacedUserNums(ctx context.Context, log *slog.Logger, st *sqlstore.Store) {
	warnRows(ctx, log, st.SpacedUserNums, "the links with spaces around a user_num", func(users int64) {
		log.Warn("links another program wrote have spaces around a user_num: such a link is no user's, and the pushes "+
			"of the user it names miss its device; trim them, and make that program write them trimmed "+
			"(README: Adopting a database an older system wrote)",
			slog.Int64("user_nums", users),
			slog.String("find", "SELECT id, user_num FROM sys_user_devices WHERE user_num <> TRIM(user_num)"))
	})
}

// warnRows counts rows of the kind what names with count, within
// SpacedUserNumsTimeout, and calls warn with a count above zero. A count
// that fails is logged, unless ctx was cancelled (a shutdown), which ends
// it without a word.
func warnRows(ctx context.Context, log *slog.Logger, count func(context.Context) (int64, error), what string, warn func(int64)) {
	ctx, cancel := context.WithTimeout(ctx, SpacedUserNumsTimeout)
	defer cancel()
	n, err := count(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			log.Warn("could not count "+what, slog.String("error", err.Error()))
		}
	case n > 0:
		warn(n)
	}
}

// SpacedUserNumsTimeout bounds WarnSpacedUserNums and WarnUpperCaseTokens.
var SpacedUserNumsTimeout = time.Minute

// WarnUpperCaseTokens logs the enabled Umeng iOS devices whose token
// holds an upper-case letter (sqlstore.Store.UpperCaseTokens): the
// Service registers such tokens in lower case (umeng.CanonicalToken), and
// compares the stored ones as they are, so such a row and a newer
// lower-case row of the same phone are two phones, and the older row's
// user is shown the newer one's pushes. Like WarnSpacedUserNums it reads
// the devices whole, within SpacedUserNumsTimeout, and a ctx cancelled
// meanwhile ends it without a word.
func WarnUpperCaseTokens(ctx context.Context, log *slog.Logger, st *sqlstore.Store) {
	count := func(ctx context.Context) (int64, error) {
		return st.UpperCaseTokens(ctx, umeng.Name, string(provider.IOS))
	}
	warnRows(ctx, log, count, "the iOS tokens spelled in upper case", func(n int64) {
		log.Warn("Umeng iOS devices hold tokens spelled in upper case, which registrations now store in lower case: such a row "+
			"and a newer lower-case row of the same phone are two phones, and the older row's user is shown the newer one's "+
			"pushes; lower-case them, and make any other program that writes sys_devices write them so "+
			"(README: Adopting a database an older system wrote)",
			slog.Int64("devices", n), slog.String("fix", UpperCaseTokensFix))
	})
}

// UpperCaseTokensFix is the statement WarnUpperCaseTokens suggests.
const UpperCaseTokensFix = "UPDATE sys_devices SET push_device_token = LOWER(push_device_token) " +
	"WHERE LOWER(TRIM(platform)) = 'ios' AND (push_platform IS NULL OR LOWER(TRIM(push_platform)) IN ('', 'umeng'))"

// WarnAutovacuumOff logs, on PostgreSQL, that autovacuum is off for the
// server or for one of the push tables (autovacuum_enabled false, in any
// of the spellings PostgreSQL reads as false): their
// statistics then never follow their growth, and pgx's prepared
// statements may keep plans made while a table was small (README:
// Performance). It reads the settings within SpacedUserNumsTimeout; a
// read that fails is logged, and ctx cancelled meanwhile (a shutdown)
// ends it without a word.
func WarnAutovacuumOff(ctx context.Context, log *slog.Logger, db *sql.DB, st *sqlstore.Store) {
	if st.Dialect() != sqlstore.DialectPostgres {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, SpacedUserNumsTimeout)
	defer cancel()
	// One row whatever the tables: the server's setting, and the push
	// tables whose own setting turns it off, in any spelling of false.
	var server, tables string
	err := db.QueryRowContext(ctx, `SELECT current_setting('autovacuum'), COALESCE(string_agg(c.relname, ',' ORDER BY c.relname), '')
		FROM pg_class c
		WHERE c.relname IN ('sys_push_deliveries', 'sys_message_center', 'sys_push_messages', 'sys_push_message_users',
				'sys_devices', 'sys_user_devices')
			AND pg_catalog.pg_table_is_visible(c.oid)
			AND EXISTS (SELECT 1 FROM unnest(c.reloptions) o
				WHERE lower(o) ~ '^autovacuum_enabled=(f|fa|fal|fals|false|n|no|of|off|0)$')`).Scan(&server, &tables)
	switch {
	case err != nil:
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			log.Warn("could not read PostgreSQL's autovacuum settings", slog.String("error", err.Error()))
		}
	case server != "on":
		log.Warn("PostgreSQL's autovacuum is off: the push tables' statistics never follow their growth, and a statement prepared on a connection may keep a plan made while its table was small (the batched finish's update scanning every delivery); run ANALYZE on them after loads and at intervals, or give PUSH_DB_DSN default_query_exec_mode=cache_describe (README: Performance)")
	case tables != "":
		log.Warn("autovacuum is off for push tables: their statistics never follow their growth, and a statement prepared on a connection may keep a plan made while its table was small; run ANALYZE on them after loads and at intervals, or give PUSH_DB_DSN default_query_exec_mode=cache_describe (README: Performance)",
			slog.String("tables", tables))
	}
}
