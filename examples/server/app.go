package main

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// app is the wired server: database, store, providers, Service, HTTP
// handler and Scanner.
type app struct {
	cfg      config
	readyLog probeLog // /readyz's database failures and pending migrations, logged when they change
	db       *sql.DB
	store    *sqlstore.Store
	// fake, jfake and gfake are the built-in fake Umeng, JPush and Getui,
	// non-nil in demo mode.
	fake    *umengtest.Server
	jfake   *jpushtest.Server
	gfake   *getuitest.Server
	svc     *push.Service
	scanner *messagecenter.Scanner
	handler http.Handler
	log     *slog.Logger
	// tel serves the metrics and gives requests and pushes their traces.
	tel *telemetry
	// stopping ends when a shutdown begins: the API requests' contexts
	// (gate.guard) and the pushes' (HandlerConfig.Stop).
	stopping     context.Context
	stopRequests context.CancelFunc
	// api admits the API's requests until a shutdown begins, and counts
	// those in flight for the drain to wait for.
	api gate
	// drainBound, when positive, bounds a drain instead of drainTimeout
	// (tests of a drain past its bound).
	drainBound time.Duration
	// names are the names of the configured providers, and platforms
	// the platforms at least one of them serves.
	names     []string
	platforms []string
	// checks are the start-up checks that read whole tables: they run
	// beside the server, and Close waits for them.
	checks sync.WaitGroup
}

// newApp opens the database, wires everything and then applies the
// migrations, so that a bad setting changes nothing. Close releases what
// it opened.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (a *app, err error) {
	log = slog.New(withTraceIDs(log.Handler())) // every line of a request carries its trace_id
	a = &app{cfg: cfg, log: log}
	a.stopping, a.stopRequests = context.WithCancel(context.WithoutCancel(ctx))
	// The error returns below set a to nil: close what was opened through
	// opened, not a.
	opened := a
	defer func() {
		if err != nil {
			opened.Close()
		}
	}()
	if a.tel, err = newTelemetry(); err != nil {
		return nil, err
	}
	if cfg.DBDriver == "mysql" {
		// The driver's own notes ("closing bad idle connection: EOF") go
		// to the structured log, not to stderr as bare text.
		_ = mysql.SetLogger(serverenv.DriverLog{Log: log})
	}
	// Everything the environment configures is checked before the
	// migrations run: a bad setting stops the server with the
	// database as it was (on one another system set up, the migrations
	// alter its tables).
	if cfg.Demo() {
		if err = a.startFakes(); err != nil {
			return nil, err
		}
		log.Warn("demo mode: no vendor credentials are set, pushes go to the built-in fake Umeng, JPush and Getui and reach no phone",
			slog.String("fake_umeng_url", a.fake.URL), slog.String("fake_jpush_url", a.jfake.URL),
			slog.String("fake_getui_url", a.gfake.BaseURL()))
	}
	providers, err := a.newProviders()
	if err != nil {
		return nil, err
	}
	if a.db, a.store, err = serverenv.Open(ctx, cfg); err != nil {
		return nil, err
	}
	for _, pl := range provider.Platforms() {
		for _, p := range providers {
			if p.Capabilities(pl).MaxTokens > 0 {
				a.platforms = append(a.platforms, string(pl))
				break
			}
		}
	}
	a.svc, err = push.New(push.Config{Store: a.store, Providers: providers, DefaultProvider: a.cfg.DefaultProvider(),
		Logger: log, Retry: push.RetryPolicy{Base: cfg.RetryBase}, MeterProvider: a.tel.meters, TracerProvider: a.tel.tracers})
	if err != nil {
		return nil, err
	}
	a.scanner, err = messagecenter.New(messagecenter.Config{Service: a.svc, Interval: cfg.ScanInterval,
		Retry: push.RetryPolicy{Base: cfg.RetryBase}, DefaultTitle: cfg.CenterDefaultTitle, LeaveModes: cfg.CenterLeaveModes,
		Logger: log, MeterProvider: a.tel.meters, TracerProvider: a.tel.tracers})
	if err != nil {
		var fe *messagecenter.FieldError
		if errors.As(err, &fe) && fe.Field == "default_title" {
			return nil, fmt.Errorf("PUSH_CENTER_DEFAULT_TITLE: %s", fe.Reason)
		}
		if errors.As(err, &fe) && fe.Field == "leave_modes" {
			return nil, fmt.Errorf("PUSH_CENTER_LEAVE_MODES: %s", fe.Reason)
		}
		return nil, err
	}
	if len(cfg.CenterLeaveModes) == 0 {
		log.Warn("sys_message_center: this server delivers push rows only; a row of another notify_mode (sms, email) fails, its remark saying no notifier. " +
			"If another program sends those from the same table, set PUSH_CENTER_LEAVE_MODES=sms,email to leave them to it")
	} else {
		log.Info("sys_message_center: rows of these notify modes are left to another program", slog.String("modes", strings.Join(cfg.CenterLeaveModes, ",")))
	}
	var authn func(*http.Request) error
	if cfg.APIToken != "" {
		authn = bearer(cfg.APIToken)
	}
	// A client that hangs up mid-push does not cut it short; a shutdown
	// does (see serve).
	api, err := push.NewHandler(push.HandlerConfig{Service: a.svc, Authenticate: authn, Logger: log, Stop: a.stopping})
	if err != nil {
		return nil, err
	}
	a.handler = api
	// The vendors' receipt callbacks are outside Authenticate: they cannot
	// send our bearer token. Each is guarded in its own way.
	mux := http.NewServeMux()
	if a.cfg.Umeng() && a.cfg.ReceiptURL != "" { // a.cfg: in demo mode, the fake's apps
		// The shared secret in the receipt_url stands in for the token.
		var keys []string
		for _, k := range []string{a.cfg.IOSKey, a.cfg.AndroidKey} {
			if k != "" {
				keys = append(keys, k)
			}
		}
		receipts, err := umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: keys, Secret: a.cfg.ReceiptSecret,
			Record: a.svc.RecordReport, Logger: log})
		if err != nil {
			return nil, err
		}
		mux.Handle(PathUmengReceipt, receipts)
	}
	if a.cfg.Getui() {
		// Getui signs every receipt with the app's master secret.
		receipts, err := getui.ReceiptHandler(getui.ReceiptConfig{AppID: a.cfg.GetuiAppID, MasterSecret: a.cfg.GetuiMasterSecret,
			Record: a.svc.RecordReport, Logger: log})
		if err != nil {
			return nil, err
		}
		mux.Handle(PathGetuiReceipt, receipts)
	}
	// The API behind the drain's gate; the vendors' receipts not: Getui
	// posts a receipt again only when a post got no answer, so a 503
	// during a drain would lose it, and recording one starts no vendor
	// call (Shutdown waits for those in flight).
	mux.Handle("/", a.api.guard(a.stopping, api))
	a.handler = a.operational(mux)
	if err = a.migrate(ctx); err != nil {
		return nil, err
	}
	warnClockSkew(ctx, log, a.store, cfg.DBLocation)
	serverenv.WarnAutovacuumOff(ctx, log, a.db, a.store)
	a.checks.Go(func() { serverenv.WarnSpacedUserNums(a.stopping, log, a.store) })
	a.checks.Go(func() { serverenv.WarnUpperCaseTokens(a.stopping, log, a.store) })
	return a, nil
}

// migrate applies the migrations the database lacks and logs what they
// changed.
func (a *app) migrate(ctx context.Context) error {
	// Read first: the tables missing, and a later release's migrations.
	before, err := a.store.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	var missing []string
	for _, st := range before {
		missing = append(missing, st.Missing...)
		if st.Current > st.Latest {
			// Allowed (a rolling deploy runs both releases), but after a
			// rollback an operator should see it: /readyz passes.
			a.log.Warn("the database was migrated by a later release than this build: this build runs on it without the later migrations' changes",
				slog.String("component", st.Component), slog.Int("database_version", st.Current), slog.Int("build_latest", st.Latest),
				slog.String("version", serverenv.Version()))
		}
	}
	if len(missing) > 0 {
		// Before the migrations: a pending one may alter a missing table.
		createMissing(ctx, a.log, missing, a.store.CreateMissingTables)
	}
	// Logged by the instance that applied them, not by each of those
	// that started at once and found them applied.
	res, err := a.store.MigrateReport(ctx)
	a.logMigrated(res)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	res, err = a.store.MigrateUsersReport(ctx)
	a.logMigrated(res)
	if err != nil {
		return fmt.Errorf("migrate sys_users: %w", err)
	}
	return nil
}

// logMigrated logs what one migrate call applied, if anything (also the
// migrations applied before one that failed).
func (a *app) logMigrated(r sqlstore.MigrateResult) {
	if n := len(r.Applied); n > 0 {
		a.log.Info("database migrated", slog.String("component", r.Component), slog.Int("from_version", r.From),
			slog.Int("to_version", r.To), slog.Int("migrations", n), slog.String("first", r.Applied[0]), slog.String("last", r.Applied[n-1]))
	}
}

// createMissing creates again the tables missing from the database
// (dropped by hand since they were migrated) with create, and logs what it
// did. Its failure does not stop the server: one run with DML rights only
// may not create tables, and runs not ready (/readyz names them) until
// pushctl migrate has.
func createMissing(ctx context.Context, log *slog.Logger, missing []string, create func(context.Context) ([]string, error)) {
	created, err := create(ctx)
	switch {
	case err != nil:
		log.Error("tables are missing from the database, and creating them again failed: every push that needs them fails, "+
			"and /readyz says so, until pushctl migrate (with the right to create tables) creates them",
			slog.String("tables", strings.Join(missing, ",")), slog.String("error", err.Error()))
	case len(created) > 0:
		log.Warn("tables missing from the database were created again, empty", slog.String("tables", strings.Join(created, ",")))
	}
}

// PathUmengReceipt is where the server takes the receipts Umeng posts
// (mounted when UMENG_RECEIPT_URL is set; that URL must lead here).
const PathUmengReceipt = "/api/v1.1/umeng/receipt"

// PathGetuiReceipt is where the server takes the receipts Getui posts
// (mounted when Getui is configured; set the callback URL in Getui's
// console to lead here).
const PathGetuiReceipt = "/api/v1.1/getui/receipt"

// demoKeep bounds what each built-in fake remembers of its traffic (its
// Config.Keep): the newest requests and deliveries. Unbounded, a fake keeps
// a few kilobytes a send for as long as the demo server runs.
var demoKeep = 1_000

// startFakes starts the built-in fake Umeng, JPush and Getui with their
// default apps, and points the configuration at them.
func (a *app) startFakes() error {
	var err error
	if a.fake, err = umengtest.New(umengtest.Config{Logger: a.log, Keep: demoKeep}); err != nil {
		return err
	}
	if err = a.fake.Start(); err != nil {
		return fmt.Errorf("start the fake Umeng: %w", err)
	}
	if a.jfake, err = jpushtest.New(jpushtest.Config{Logger: a.log, Keep: demoKeep}); err != nil {
		return err
	}
	if err = a.jfake.Start(); err != nil {
		return fmt.Errorf("start the fake JPush: %w", err)
	}
	if a.gfake, err = getuitest.New(getuitest.Config{Logger: a.log, Keep: demoKeep}); err != nil {
		return err
	}
	if err = a.gfake.Start(); err != nil {
		return fmt.Errorf("start the fake Getui: %w", err)
	}
	c := &a.cfg
	c.UmengBaseURL = a.fake.URL
	for _, app := range umengtest.DefaultApps() {
		if app.Platform == umengtest.PlatformIOS {
			c.IOSKey, c.IOSSecret = app.AppKey, app.AppMasterSecret
		} else {
			c.AndroidKey, c.AndroidSecret = app.AppKey, app.AppMasterSecret
		}
	}
	japp := jpushtest.DefaultApps()[0]
	c.JPushAppKey, c.JPushMasterSecret, c.JPushBaseURL = japp.AppKey, japp.MasterSecret, a.jfake.URL
	gapp := getuitest.DefaultApps()[0]
	c.GetuiAppID, c.GetuiAppKey, c.GetuiMasterSecret, c.GetuiBaseURL = gapp.AppID, gapp.AppKey, gapp.MasterSecret, a.gfake.BaseURL()
	return nil
}

// providers builds a client for every provider whose credentials a.cfg
// holds (in demo mode, those of the fakes), and records their names.
func (a *app) newProviders() ([]provider.Provider, error) {
	ps, err := serverenv.Providers(a.cfg, a.log)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		a.names = append(a.names, p.Name())
	}
	return ps, nil
}

// Close releases the database, the fakes and the telemetry.
func (a *app) Close() {
	if a.stopRequests != nil {
		a.stopRequests()
	}
	a.checks.Wait() // their queries end with a.stopping
	if a.svc != nil {
		_ = a.svc.Close() // its gauges' callback, before the database it counts closes
	}
	if a.fake != nil {
		a.fake.Close()
	}
	if a.jfake != nil {
		a.jfake.Close()
	}
	if a.gfake != nil {
		a.gfake.Close()
	}
	if a.db != nil {
		_ = a.db.Close() // nothing more to do with a close error at exit
	}
	if a.tel != nil {
		_ = a.tel.Shutdown(context.Background()) // nothing is exported: nothing to flush
	}
}

// bearer authenticates requests carrying "Authorization: Bearer <token>",
// comparing the token in constant time so that the answer's timing does
// not reveal how much of a guess was right.
func bearer(token string) func(*http.Request) error {
	want := []byte(token)
	return func(r *http.Request) error {
		// One Authorization header: of two, a proxy might check one and
		// this server the other.
		headers := r.Header.Values("Authorization")
		if len(headers) > 1 || subtle.ConstantTimeCompare([]byte(bearerCredentials(r.Header.Get("Authorization"))), want) != 1 {
			return push.ErrUnauthenticated
		}
		return nil
	}
}

// bearerCredentials is what follows the Bearer scheme of an Authorization
// header, the scheme matched in any case and followed by one or more
// spaces (RFC 9110, section 11.1: "bearer" is the same scheme), or "" for
// another scheme or none.
func bearerCredentials(h string) string {
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimLeft(rest, " ")
}

// run serves until ctx ends, then shuts down the HTTP server and the
// Scanner.
func run(ctx context.Context, getenv func(string) string, log *slog.Logger) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// The address first: one in use stops the server before the
	// migrations change the database.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("PUSH_ADDR: %w", err)
	}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		_ = ln.Close() // newApp's error is the one to report
		return err
	}
	defer a.Close()
	return a.serve(ctx, ln)
}

// drainMargin is added to the Service's DrainTimeout for the store round
// trips of a drain (claims released, rows finished) and the HTTP replies.
const drainMargin = 5 * time.Second

// drainTimeout bounds a shutdown: the vendor calls and notifier calls in
// flight finish and are recorded within the Service's DrainTimeout.
func (a *app) drainTimeout() time.Duration { return a.svc.DrainTimeout() + drainMargin }

// serve runs the HTTP API on ln and the Scanner until ctx ends. Then it
// drains both at once: the API refuses new requests (503 shutting_down),
// and those in flight are stopped as the Scanner is: they start no more
// vendor calls, and the calls already made finish and are recorded.
// /healthz, /readyz (503 "draining"), /metrics and the vendors' receipt
// paths answer until then. serve returns when both are done, or after
// drainTimeout.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	// The API requests' contexts end when shutdown begins (Shutdown alone
	// would leave them running): a push in flight then starts no more
	// vendor calls, gives the deliveries it has not started back for the
	// Scanner, and answers with them pending, so that the drain waits only
	// for the calls already made.
	stopRequests := a.stopRequests
	defer stopRequests()
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	sctx, stopScanner := context.WithCancel(ctx)
	defer stopScanner()
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		_ = a.scanner.Run(sctx) // returns nil once sctx ends and its pass drained
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	attrs := []slog.Attr{slog.String("addr", ln.Addr().String()), slog.String("version", serverenv.Version()), slog.String("db", a.cfg.DBDriver),
		slog.String("database", dbTarget(a.cfg.DBDriver, a.cfg.DBDSN)),
		slog.Duration("scan_interval", a.cfg.ScanInterval), slog.Bool("demo", a.fake != nil),
		slog.String("providers", strings.Join(a.names, ",")), slog.String("default_provider", a.cfg.DefaultProvider()),
		slog.String("platforms", strings.Join(a.platforms, ","))}
	a.log.LogAttrs(ctx, slog.LevelInfo, "push server listening", append(attrs, a.cfg.VendorAttrs()...)...)

	var err error
	select {
	case err = <-errc: // the listener failed: nothing is being served
	case <-ctx.Done():
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	bound := a.drainTimeout()
	if a.drainBound > 0 {
		bound = a.drainBound
	}
	unrecorded := a.svc.UnrecordedOutcomes()
	a.log.Info("shutting down: draining requests and the Scanner (a second signal quits at once)", slog.Duration("within", bound))
	began := time.Now()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	answered := a.api.close()
	srv.SetKeepAlivesEnabled(false) // each answer from now on closes its connection
	stopScanner()
	stopRequests()
	// Each wait is checked for its own end first, so that one that ended
	// is not blamed for the bound another used up.
	var shutErr error
	if !done(dctx, answered) {
		shutErr = fmt.Errorf("the API requests in flight were not answered within %v", bound)
	}
	if !done(dctx, scanned) {
		shutErr = errors.Join(shutErr, fmt.Errorf("the Scanner did not drain within %v", bound))
	}
	cut := false
	if shutErr == nil {
		// Drained: the listener closes now, the probes, scrapes and
		// receipts in flight answered first. A connection still open at
		// the bound is cut: the pushes are done and recorded, so it is
		// said, not counted as a drain that failed.
		if serr := srv.Shutdown(dctx); serr != nil {
			_ = srv.Close()
			cut = true
			a.log.Warn("drained the pushes and the Scanner, but connections of probes, scrapes or vendor receipts were still open at the bound: closed (a vendor posts a receipt that got no answer again)",
				slog.String("error", serr.Error()), slog.Duration("took", time.Since(began).Round(time.Millisecond)))
		}
	}
	if shutErr != nil {
		_ = srv.Close() // past the bound: drop what is left
		// What was left: the sends not recorded so far (sent again when
		// their lease runs out) and the work dropped now, which other
		// instances or the next start take over when its lease runs out.
		a.log.Error("shutdown did not drain in time: the work in flight is taken over when its lease runs out", slog.String("error", shutErr.Error()),
			slog.Int64("unrecorded_deliveries", a.svc.UnrecordedOutcomes()-unrecorded), slog.Duration("took", time.Since(began).Round(time.Millisecond)))
		err = errors.Join(err, fmt.Errorf("shutdown: %w", shutErr))
	} else if n := a.svc.UnrecordedOutcomes() - unrecorded; n > 0 {
		// The drain ended in time, but the database did not take every
		// outcome: say so rather than claim all was recorded.
		a.log.Error("drained, but the outcomes of deliveries whose writes gave up during the drain (their vendor calls made before or during it) could not be recorded: they are sent again when their lease runs out (see the lines \"recording delivery outcome failed\" above)",
			slog.Int64("deliveries", n), slog.Duration("took", time.Since(began).Round(time.Millisecond)))
	} else if !cut {
		a.log.Info("drained: every request answered and the Scanner's pass recorded", slog.Duration("took", time.Since(began).Round(time.Millisecond)))
	}
	return err
}

// done waits for c to close, until ctx ends, and reports whether it
// closed; a c closed already wins over a ctx ended already.
func done(ctx context.Context, c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
	}
	select {
	case <-c:
		return true
	case <-ctx.Done():
		return false
	}
}

// maxClockSkew is how far the database's NOW() may read from this
// process's clock, in PUSH_DB_TIMEZONE, before start-up warns.
const maxClockSkew = 2 * time.Minute

// maxLeaseSkew is how far the database's clock may read from this
// process's, beyond a zone's difference, before start-up warns that the
// instances' clocks may disagree: each compares its claims' leases with
// its own, and the default lease has a minute of margin over the longest
// vendor call (push.Config.Lease), which two instances each this far off
// the database, in opposite directions, use up.
const maxLeaseSkew = 30 * time.Second

// warnClockSkew logs the signs that PUSH_DB_TIMEZONE is not the zone of
// the programs that write the tables, whose scheduled rows would then run
// early or late by the difference: the newest center row written ahead
// of this clock in loc (a strong sign: their NOW() is east of loc), and the
// database's NOW() in this connection's session lying more than
// maxClockSkew from this clock in loc (a sign only when those programs use
// the database's default zone: one that sets its own session zone is not
// seen here). It also warns when loc observes daylight saving time.
func warnClockSkew(ctx context.Context, log *slog.Logger, st *sqlstore.Store, loc *time.Location) {
	if ahead, err := st.CenterRowsAhead(ctx); err == nil && ahead > maxClockSkew {
		log.Warn("the newest sys_message_center row was created ahead of this clock in PUSH_DB_TIMEZONE: the program that wrote it likely uses a zone east of it, and their scheduled rows run late by as much; set PUSH_DB_TIMEZONE to their zone",
			slog.String("ahead", ahead.Round(time.Second).String()), slog.String("db_timezone", loc.String()))
	}
	skew, err := st.ClockSkew(ctx)
	if err != nil {
		log.Warn("could not read the database's clock", slog.String("error", err.Error()))
	}
	if err == nil && (skew > maxClockSkew || skew < -maxClockSkew) {
		log.Warn("the database's NOW() in this server's session (SQLite: CURRENT_TIMESTAMP, in UTC) is far from this clock in PUSH_DB_TIMEZONE: if the programs that write its tables use that NOW() as it is, set PUSH_DB_TIMEZONE to its zone, or their scheduled rows run early or late by the skew; programs that set their own session zone are not seen here",
			slog.String("skew", skew.Round(time.Second).String()), slog.String("db_timezone", loc.String()))
	}
	// Read in UTC, the clocks compare whatever the zones.
	off, err := st.ClockOffset(ctx)
	if err != nil {
		log.Warn("could not read the database's clock in UTC", slog.String("error", err.Error()))
	}
	if err == nil && (off > maxLeaseSkew || off < -maxLeaseSkew) {
		log.Warn("the database's clock reads away from this one: every instance compares the leases of its claims with its own clock, and instances whose clocks differ by more than a lease's margin over its longest vendor call (a minute by default) may take over a push another is still sending, and send it twice; synchronise the clocks (NTP) of every instance and of the database's host",
			slog.String("offset", off.Round(time.Second).String()))
	}
	if observesDST(loc, time.Now()) {
		log.Warn("PUSH_DB_TIMEZONE observes daylight saving time: the wall-clock times written in the hour repeated when clocks go back compare wrongly (a lease may look ended, a retry due early); prefer a zone without it, such as UTC or Asia/Shanghai",
			slog.String("db_timezone", loc.String()))
	}
}

// observesDST reports whether loc's offset changes within the year after
// now.
func observesDST(loc *time.Location, now time.Time) bool {
	_, first := now.In(loc).Zone()
	for m := 1; m <= 12; m++ {
		if _, off := now.AddDate(0, m, 0).In(loc).Zone(); off != first {
			return true
		}
	}
	return false
}

// dbTarget names the database of dsn for the log, from what the driver
// reads in it, never its password: the user, address and database on
// MySQL and PostgreSQL, the DSN itself on SQLite (a path, or a file: URI
// with pragmas). A DSN the driver cannot read, which Open would have
// refused, is named as such.
func dbTarget(driver, dsn string) string {
	switch driver {
	case "mysql":
		c, err := mysql.ParseDSN(dsn)
		if err != nil {
			return "(a DSN the driver cannot read)"
		}
		return c.User + "@" + c.Net + "(" + c.Addr + ")/" + c.DBName
	case "postgres":
		c, err := pgconn.ParseConfig(dsn)
		if err != nil {
			return "(a DSN the driver cannot read)"
		}
		return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
	}
	return dsn
}
