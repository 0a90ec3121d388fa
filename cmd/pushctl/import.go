package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng"
)

// Columns of an import file. The header row names them, in any order and
// case; a column outside these is refused, so that a misspelt optional
// column is not silently dropped.
var (
	requiredColumns = []string{"uuid", "platform", "push_token", "user_num"}
	optionalColumns = []string{"push_platform", "name", "os", "os_version"}
)

// maxColumnName is the longest header cell an error echoes (and only one
// without a digit, as no column's name has): longer than any column's
// name. Tokens are longer, or hold digits: a JPush registration id may be
// 19 characters, or fewer, of letters and digits.
const maxColumnName = 16

// maxReasons is how many rejections the summary lists.
const maxReasons = 10

// The store calls of a row run detached from an interruption, so that
// the rows in flight finish and the resume line is exact; writeTimeout
// bounds those of one row, and writeTimeout plus rowTimeout per row a
// batch's transaction (a slow database must not fail a whole batch that
// is making progress).
const (
	writeTimeout = 30 * time.Second
	rowTimeout   = time.Second
)

// importCmd registers the devices of a CSV file.
func importCmd(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
	rejects := fs.String("rejects", "", "write every rejected row to this CSV file: line, field, reason, then the row's fields")
	quiet := fs.Bool("quiet", false, "no progress bar (it is shown only when standard error is a terminal)")
	from := fs.Int("from-line", 0, "skip the rows that start before this line of the file, as printed by an interrupted import")
	workers := fs.Int("workers", 0, "transactions run at once (default 1 on SQLite, which has one writer, else 4); rows of one device or one token are always written in file order")
	batch := fs.Int("batch", 200, "rows per transaction")
	dryRun := fs.Bool("dry-run", false, "check and count every row as an import would, each transaction rolled back: nothing is written (the id counters of MySQL and PostgreSQL still move)")
	return func(ctx context.Context, args []string) error {
		if err := wantArgs(args, 1, "FILE.csv"); err != nil {
			return err
		}
		if *workers < 0 || *workers > 64 {
			return usagef("--workers: must be 1 to 64, got %d", *workers)
		}
		if *batch < 1 || *batch > 10000 {
			return usagef("--batch: must be 1 to 10000, got %d", *batch)
		}
		if *from < 0 {
			return usagef("--from-line: must be a line number, got %d", *from)
		}
		f, err := os.Open(args[0])
		if err != nil {
			return usagef("%v", err) // a file that cannot be read: the command line's
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		if *rejects != "" {
			if err := checkRejectsPath(*rejects, info); err != nil {
				return err
			}
		}
		d, err := e.openDB(ctx, false, false)
		if err != nil {
			return err
		}
		defer d.Close()
		im := newImporter(d, *workers, *batch, *from)
		im.rejectsPath, im.dryRun = *rejects, *dryRun
		defer im.closeRejects()
		var in io.Reader = f
		if !*quiet && isTerminal(e.stderr) {
			im.bar = importBar(info, e.stderr)
			in = io.TeeReader(f, im.bar)
		}
		start := time.Now()
		runErr := im.run(ctx, in)
		if im.bar != nil {
			_ = im.bar.Finish() // clears the bar; one that fails to draw changes nothing
		}
		if err := im.closeRejects(); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("--rejects: %w", err))
		}
		if !im.started {
			return runErr // the header was refused: nothing was read
		}
		im.summary(e.stdout, *rejects)
		if n := im.imported + im.updated + im.unchanged + im.rejected; !*quiet && n > 0 {
			el := time.Since(start)
			fmt.Fprintf(e.stderr, "%d rows in %v (%.0f rows/s)\n", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
		}
		if runErr != nil {
			return runErr
		}
		if im.rejected > 0 {
			return fmt.Errorf("%d %s rejected", im.rejected, plural(im.rejected, "row", "rows"))
		}
		return nil
	}
}

// importBar is the progress bar of reading the file of info, drawn on w:
// against its size, or a spinner when it has none to measure against (a
// pipe, whose size is 0: a bar of 0 bytes fails every write, which failed
// the read it tees).
func importBar(info os.FileInfo, w io.Writer) *progressbar.ProgressBar {
	size := info.Size()
	if !info.Mode().IsRegular() {
		size = -1
	}
	return progressbar.NewOptions64(size, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("importing"), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
}

// rejectsHeader begins the header of a rejects file, before the input's
// columns.
var rejectsHeader = []string{"line", "field", "reason"}

// checkRejectsPath refuses a --rejects path that is the input (in), or an
// existing file that is not a rejects file (its first line the
// rejectsHeader): an import must not overwrite the database, or any other
// file, that a mistyped flag names. It reads only the first line.
func checkRejectsPath(path string, in os.FileInfo) error {
	ri, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usagef("--rejects: %v", err)
	}
	if os.SameFile(in, ri) {
		return usagef("--rejects: %q is the input file", path)
	}
	if !ri.Mode().IsRegular() {
		return usagef("--rejects: %q is not a regular file", path)
	}
	if ri.Size() == 0 {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return usagef("--rejects: %v", err)
	}
	defer f.Close()
	first, err := csv.NewReader(io.LimitReader(f, 64<<10)).Read()
	if err != nil || len(first) < len(rejectsHeader) || !slices.Equal(first[:len(rejectsHeader)], rejectsHeader) {
		return usagef("--rejects: %q exists and is not a rejects file (its first line is not %q): name a new file", path,
			strings.Join(rejectsHeader, ",")+",…")
	}
	return nil
}

// openRejects opens the rejects file once the header was accepted: a new
// one, with its header, or, resuming (--from-line), the one an earlier
// run wrote, appended to, so that its rejections stay.
func (im *importer) openRejects(header []string) error {
	if im.rejectsPath == "" {
		return nil
	}
	flags, head := os.O_WRONLY|os.O_CREATE|os.O_TRUNC, true
	if im.from > 1 {
		if ri, err := os.Stat(im.rejectsPath); err == nil && ri.Size() > 0 {
			flags, head = os.O_RDWR|os.O_APPEND, false
			if im.written, err = rejectedLines(im.rejectsPath, im.from); err != nil {
				return fmt.Errorf("--rejects: %w", err)
			}
		}
	}
	rf, err := os.OpenFile(im.rejectsPath, flags, 0o644)
	if err != nil {
		return fmt.Errorf("--rejects: %w", err)
	}
	if !head {
		if err := endLine(rf); err != nil {
			_ = rf.Close()
			return fmt.Errorf("--rejects: %w", err)
		}
	}
	im.rejectsFile, im.rejects = rf, csv.NewWriter(rf)
	if head {
		im.rejects.Write(append(slices.Clone(rejectsHeader), header...)) // errors surface at Flush
	}
	return nil
}

// rejectedLines returns the lines from from on that the rejects file at
// path holds: the interrupted run read ahead of the line it stopped at,
// and rejected rows this run reads again.
func rejectedLines(path string, from int) (map[int]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = true
	lines := map[int]bool{}
	for {
		rec, err := cr.Read()
		if err != nil {
			// The end, or a last record a crash cut short (the writer
			// flushes in blocks): what could be read is what was written.
			return lines, nil
		}
		if n, err := strconv.Atoi(rec[0]); err == nil && n >= from && len(rec) > len(rejectsHeader) {
			lines[n] = true
		}
	}
}

// endLine ends the file f with a line break when it does not end
// with one (a last record a crash cut short), so that what is appended
// starts a record of its own.
func endLine(f *os.File) error {
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, info.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = f.Write([]byte("\n"))
	return err
}

// closeRejects flushes and closes the rejects file, if open, once.
func (im *importer) closeRejects() error {
	if im.rejectsFile == nil {
		return nil
	}
	im.rejects.Flush()
	err := errors.Join(im.rejects.Error(), im.rejectsFile.Close())
	im.rejectsFile = nil
	return err
}

// newImporter returns an importer into d: workers 0 means 1 on SQLite
// (one writer: more would only wait for its lock) and 4 elsewhere.
func newImporter(d *database, workers, batch, from int) *importer {
	im := &importer{db: d.db, store: d.store, cfg: d.cfg, def: d.cfg.DefaultProvider(), allowed: pushPlatforms(d.cfg), workers: workers,
		batch: batch, from: from, busy: map[string]bool{}}
	im.cond = sync.NewCond(&im.mu)
	if im.workers == 0 {
		im.workers = 4
		if d.cfg.DBDriver == "sqlite" {
			im.workers = 1
		}
	}
	if d.cfg.DBDriver == "mysql" {
		// As the Store's own transactions: no gap locks between workers.
		im.txOpts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return im
}

// pushPlatforms are the push_platform values an import accepts: the
// configured providers, as RegisterDevice accepts them, or, when none is
// configured, every provider pushctl knows, so that devices can be moved
// in before the credentials are set.
func pushPlatforms(c serverenv.Config) []string {
	var out []string
	for _, p := range []struct {
		on   bool
		name string
	}{{c.Umeng(), umeng.Name}, {c.JPush(), jpush.Name}, {c.Getui(), getui.Name}} {
		if p.on || c.Demo() {
			out = append(out, p.name)
		}
	}
	return out
}

// serves reports whether the configuration lets provider pushPlatform
// reach devices of platform, as push.Service checks a registration: a Umeng
// with only one platform's app configured serves that platform only; the
// others, and every provider in demo mode, serve both.
func (im *importer) serves(pushPlatform, platform string) bool {
	if pushPlatform != umeng.Name || im.cfg.Demo() {
		return true
	}
	if platform == string(provider.IOS) {
		return im.cfg.IOSKey != ""
	}
	return im.cfg.AndroidKey != ""
}

// tokenCheckers check the shape of each vendor's tokens, by provider name.
var tokenCheckers = map[string]func(provider.Platform, string) error{
	umeng.Name: umeng.CheckToken, jpush.Name: jpush.CheckToken, getui.Name: getui.CheckToken,
}

// tokenCanons spell each vendor's tokens as its client does for
// push.Service (provider.TokenCanonicalizer), by provider name.
var tokenCanons = map[string]func(provider.Platform, string) string{umeng.Name: umeng.CanonicalToken}

// otherPlatform is the platform that is not p.
func otherPlatform(p string) string {
	if p == string(provider.IOS) {
		return string(provider.Android)
	}
	return string(provider.IOS)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// importer streams an import file into the store: one reader, workers
// registering rows in transactions of up to batch rows, each row through
// the Store's RegisterDevice (run inside the transaction with WithTx), so
// that a batch has a registration's semantics and one commit. Rows that share a device (platform, uuid) or a token
// (push_platform, platform, push_token) are registered one after the
// other in file order, so that the result is that of a sequential import:
// the last row of a device wins, and a token moves to its last device.
type importer struct {
	db      *sql.DB
	txOpts  *sql.TxOptions
	store   *sqlstore.Store
	batch   int      // rows per transaction
	def     string   // the default push_platform
	allowed []string // the push_platform values accepted
	cfg     serverenv.Config
	workers int
	from    int
	bar     *progressbar.ProgressBar

	dryRun      bool        // --dry-run: every transaction rolled back
	rejectsPath string      // --rejects; "" for none
	rejectsFile *os.File    // open once the header was accepted
	rejects     *csv.Writer // on rejectsFile
	limit       *rowLimit   // bounds the rows the CSV reader reads
	// written holds the lines, from --from-line on, that the rejects file
	// an interrupted run wrote holds already: not written twice.
	written map[int]bool

	col     map[string]int // column name → index
	started bool           // the header was accepted

	mu   sync.Mutex
	cond *sync.Cond
	busy map[string]bool // keys of the rows in flight
	// The counts, the reasons kept for the summary and the first failure.
	imported, updated, unchanged, rejected, skipped int
	reasons                                         []string
	failLine                                        int
	failErr                                         error
	// next is the line of the first row not registered when the import
	// stopped early (0: it did not).
	next int
}

// row is one valid line of the file.
type row struct {
	line int
	rec  []string // the fields as read, for the rejects file
	dev  registry.Device
	user string
	keys [2]string
}

// run reads r to the end, or until ctx ends or a row fails.
func (im *importer) run(ctx context.Context, r io.Reader) error {
	// A UTF-8 byte order mark, as spreadsheet exports write, goes before
	// the CSV reader sees it: it would make a quoted first column a bare
	// quote.
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	im.limit = &rowLimit{r: br}
	cr := csv.NewReader(im.limit)
	cr.ReuseRecord = false
	header, err := cr.Read()
	im.limit.mark(cr)
	if errors.Is(err, io.EOF) {
		return usagef("the file is empty: a header row naming the columns is required")
	}
	if errors.Is(err, errRowTooLong) {
		if im.limit.bareCR() {
			// The cell is not echoed: it holds the file's rows.
			return usagef("line 1: %s", bareCRLines)
		}
		return usagef("line 1: %v", err)
	}
	if err != nil {
		return err
	}
	if err := im.readHeader(header); err != nil {
		return err
	}
	if err := im.openRejects(header); err != nil {
		return err
	}
	im.started = true

	rows := make(chan row, im.workers*im.batch)
	var wg sync.WaitGroup
	for range im.workers {
		wg.Go(func() { im.work(ctx, rows) })
	}
	err = im.dispatch(ctx, cr, rows)
	close(rows)
	wg.Wait()
	if im.failErr != nil {
		// A row before where the reading stopped failed to be written:
		// the rerun starts there, and the reading's stop is said too.
		ferr := fmt.Errorf("line %d: %w; rerun with --from-line %d to go on from there", im.failLine, im.failErr, im.failLine)
		if rs := (*readStop)(nil); errors.As(err, &rs) {
			ferr = fmt.Errorf("%w (the reading also stopped after line %d: %v)", ferr, rs.after, rs.err)
		} else if err != nil {
			ferr = errors.Join(ferr, err)
		}
		return ferr
	}
	if err != nil {
		return err
	}
	if im.next > 0 {
		return fmt.Errorf("interrupted before line %d; rerun with --from-line %d to go on from there", im.next, im.next)
	}
	return nil
}

// readHeader maps the columns, refusing unknown, repeated and missing ones:
// a file refused before anything is written, exit status 2 (usagef).
func (im *importer) readHeader(header []string) error {
	im.col = map[string]int{}
	known := strings.Join(append(slices.Clone(requiredColumns), optionalColumns...), ", ")
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case strings.ContainsAny(h, "\r\n"):
			// The cell is not echoed: past the line break it holds the
			// next rows, tokens among them.
			return usagef("line 1: column %d holds a line break: %s", i+1, bareCRLines)
		case !slices.Contains(requiredColumns, name) && !slices.Contains(optionalColumns, name):
			if utf8.RuneCountInString(h) > maxColumnName || strings.ContainsAny(h, "0123456789") {
				// No column's name: a row of values (a file without a
				// header), perhaps a token, not echoed.
				return usagef("line 1: column %d is not one of %s (a value of %d characters, not shown: does the file lack its header row?)", i+1, known, utf8.RuneCountInString(h))
			}
			return usagef("line 1: column %q is not one of %s", oneLine(h), known)
		case im.hasColumn(name):
			return usagef("line 1: column %q is named twice", name)
		}
		im.col[name] = i
	}
	for _, c := range requiredColumns {
		if !im.hasColumn(c) {
			return usagef("line 1: the header has no %q column (required: %s)", c, strings.Join(requiredColumns, ", "))
		}
	}
	return nil
}

func (im *importer) hasColumn(name string) bool { _, ok := im.col[name]; return ok }

// dispatch reads the rows in order, rejects the invalid ones and hands
// the others to the workers once no row of the same device or token is in
// flight. It stops at the end of the file, when ctx ends, or after a
// worker failed.
func (im *importer) dispatch(ctx context.Context, cr *csv.Reader, rows chan<- row) error {
	n, last, reached := 0, 1, false
	for {
		rec, err := cr.Read()
		im.limit.mark(cr)
		line := 0
		var perr *csv.ParseError
		switch {
		case err == nil, errors.Is(err, csv.ErrFieldCount):
			line, _ = cr.FieldPos(0)
		case errors.As(err, &perr):
			// A row the reader could not parse has no field positions
			// (FieldPos panics): its first line is the error's.
			line = perr.StartLine
		case errors.Is(err, errRowTooLong):
			// A quote left open, or no CSV: the rows read are
			// imported, and the file must be mended before the rest.
			im.stop(last + 1)
			return &readStop{after: last, err: err,
				msg: fmt.Sprintf("after line %d: %v; nothing after it was imported: fix the file and rerun with --from-line %d", last, err, last+1)}
		case !errors.Is(err, io.EOF):
			// The file could not be read on (an I/O error): the rows
			// read are imported, and the next one is where to go on.
			im.stop(last + 1)
			return &readStop{after: last, err: err,
				msg: fmt.Sprintf("read the file after line %d: %v; rerun with --from-line %d once it reads", last, err, last+1)}
		}
		if errors.Is(err, io.EOF) {
			if im.from > 2 && !reached {
				// A --from-line no row of the file starts at or after:
				// a typo, or the resume line of another file.
				return usagef("--from-line %d: the file's last row starts on line %d; nothing was imported", im.from, last)
			}
			return nil
		}
		if n++; im.bar != nil && n%1000 == 0 {
			im.bar.Describe(fmt.Sprintf("importing: %d rows", n))
		}
		last = line
		if line < im.from {
			im.mu.Lock()
			im.skipped++
			im.mu.Unlock()
			continue
		}
		reached = true
		if n := im.spannedLines(rec); err == nil || errors.Is(err, csv.ErrFieldCount) {
			if n > 1 {
				// A quote left open took the rows after it into this
				// one.
				im.reject(line, rec, "", fmt.Sprintf("a quoted field runs over %d lines (to line %d): a closing quote is missing, and the rows it took in are not imported, or the field holds a line break, which no column but name may; fix the file and import them", n, line+n-1))
				continue
			}
		}
		if errors.Is(err, csv.ErrFieldCount) {
			im.reject(line, rec, "", fmt.Sprintf("has %d fields, the header %d", len(rec), len(im.col)))
			continue
		}
		if err != nil {
			im.stop(line)
			return &readStop{after: line - 1, err: err, msg: fmt.Sprintf("%v; fix the file and rerun with --from-line %d", err, line)}
		}
		rw, field, reason := im.check(line, rec)
		if field != "" {
			im.reject(line, rec, field, reason)
			continue
		}
		im.mu.Lock()
		for im.busy[rw.keys[0]] || im.busy[rw.keys[1]] {
			im.cond.Wait()
		}
		stop := im.failErr != nil || ctx.Err() != nil
		if !stop {
			im.busy[rw.keys[0]], im.busy[rw.keys[1]] = true, true
		}
		im.mu.Unlock()
		if stop {
			im.stop(line)
			return nil
		}
		rows <- rw
	}
}

// bareCRLines says what a header that takes in the next rows means.
const bareCRLines = "the file's lines end in a bare CR (classic Mac OS), which CSV does not end a row with; convert them to LF or CRLF"

// maxRowBytes bounds a row of an import file: a device's columns take a
// few hundred bytes, and a longer row is a quote left open (a quoted
// field runs on over the next rows until a quote closes it, or to the
// end of the file) or a file that is no CSV, which the CSV reader would
// otherwise hold whole in memory.
const maxRowBytes = 64 << 10

// errRowTooLong is the error of a row longer than maxRowBytes.
var errRowTooLong = fmt.Errorf("a row runs over more than %d KiB, which no device's row does: a quoted field whose closing quote is missing, or a file that is not CSV", maxRowBytes>>10)

// rowLimit hands a CSV reader the file r, failing with errRowTooLong
// once it has handed more than maxRowBytes past the end of the last row
// read (mark; the reader's own buffer reads a few KiB ahead).
type rowLimit struct {
	r      io.Reader
	read   int64 // bytes handed on
	start  int64 // where the row being read starts, as of mark
	cr, lf bool  // whether a CR, an LF was handed on
}

func (l *rowLimit) Read(p []byte) (int, error) {
	if l.read-l.start > maxRowBytes {
		return 0, errRowTooLong
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	l.cr = l.cr || bytes.IndexByte(p[:n], '\r') >= 0
	l.lf = l.lf || bytes.IndexByte(p[:n], '\n') >= 0
	return n, err
}

// bareCR reports whether what was handed on ends its lines in CR alone.
func (l *rowLimit) bareCR() bool { return l.cr && !l.lf }

// mark notes that cr, reading from l, ended a row.
func (l *rowLimit) mark(cr *csv.Reader) { l.start = cr.InputOffset() }

// spannedLines is how many lines the row rec runs over when a field of
// it holds rows of the file (a quote left open took them in): a line
// break in any column but name, or in name a line after the break with a
// comma between each of the file's columns. Otherwise 1: a device's name
// may hold a line break, and commas.
func (im *importer) spannedLines(rec []string) int {
	name, hasName := im.col["name"]
	n, took := 1, false
	for i, f := range rec {
		if !strings.Contains(f, "\n") {
			continue // nearly every field: no line break, nothing to split
		}
		lines := strings.Split(f, "\n")
		n += len(lines) - 1
		if !hasName || i != name {
			took = true
		}
		for _, l := range lines[1:] {
			took = took || strings.Count(l, ",") >= len(im.col)-1
		}
	}
	if !took {
		return 1
	}
	return n
}

// readStop is the error of an import whose reading of the file stopped
// after the line after, for the reason err; msg says what to do.
type readStop struct {
	after int
	err   error
	msg   string
}

func (e *readStop) Error() string { return e.msg }

func (e *readStop) Unwrap() error { return e.err }

// stop records line as the first row not registered.
func (im *importer) stop(line int) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.next == 0 || line < im.next {
		im.next = line
	}
}

// check validates a record with the rules of push.Service.RegisterDevice:
// fields trimmed, platform "ios" or "android", push_platform a provider
// this configuration accepts (empty: the default provider), then
// registry.ValidateRegistration, and the shape of the vendor's tokens
// (umeng.CheckToken, jpush.CheckToken, getui.CheckToken). It returns the row, or the field at fault and
// why (never a token's value).
func (im *importer) check(line int, rec []string) (row, string, string) {
	get := func(c string) string {
		if i, ok := im.col[c]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	d := registry.Device{UUID: get("uuid"), Platform: get("platform"), PushToken: get("push_token"),
		PushPlatform: get("push_platform"), Name: get("name"), OS: get("os"), OSVersion: get("os_version")}
	user := get("user_num")
	// In any case, as RegisterDevice matches them ("iOS", "Umeng").
	d.Platform = strings.ToLower(d.Platform)
	if _, err := provider.ParsePlatform(d.Platform); err != nil {
		return row{}, "platform", fmt.Sprintf("must be %q or %q, got %q", provider.IOS, provider.Android, registry.Clip(d.Platform, 32))
	}
	if d.PushPlatform == "" {
		d.PushPlatform = im.def
	}
	if field, reason := im.checkProvider(&d); field != "" {
		return row{}, field, reason
	}
	if err := registry.ValidateRegistration(&d, user); err != nil {
		var ve *registry.ValidationError
		if errors.As(err, &ve) {
			return row{}, ve.Field, ve.Reason
		}
		return row{}, "row", err.Error()
	}
	if im.hasColumn("push_platform") {
		if field, reason := im.checkToken(&d); field != "" {
			return row{}, field, reason
		}
	} else if canon, ok := tokenCanons[d.PushPlatform]; ok {
		// The token is checked when written, against the stored device's
		// provider (settlePushPlatform); spelled here for its key.
		d.PushToken = canon(provider.Platform(d.Platform), d.PushToken)
	}
	uuid := strings.TrimRight(d.UUID, " ")
	return row{line: line, rec: rec, dev: d, user: user, keys: [2]string{
		"device\x00" + d.Platform + "\x00" + uuid,
		"token\x00" + d.PushPlatform + "\x00" + d.Platform + "\x00" + d.PushToken,
	}}, "", ""
}

// checkProvider spells d's push_platform as the configured provider it
// names, in any case, and checks that the provider serves d's platform
// here. It returns the field at fault and why, or "".
func (im *importer) checkProvider(d *registry.Device) (string, string) {
	if i := slices.IndexFunc(im.allowed, func(p string) bool { return strings.EqualFold(p, d.PushPlatform) }); i >= 0 {
		d.PushPlatform = im.allowed[i]
	} else {
		return "push_platform", fmt.Sprintf("%q is not a configured provider (configured: %s)", registry.Clip(d.PushPlatform, 32), strings.Join(im.allowed, ", "))
	}
	if !im.serves(d.PushPlatform, d.Platform) {
		// Stored, the device would be skipped by every push.
		return "platform", fmt.Sprintf("provider %q does not serve %q devices here (only its %s app is configured)",
			d.PushPlatform, d.Platform, otherPlatform(d.Platform))
	}
	return "", ""
}

// checkToken spells d's token as its provider's client does for
// push.Service (provider.TokenCanonicalizer) and checks its shape as the
// client checks a registration. It returns the field at fault and why
// (never the token), or "".
func (im *importer) checkToken(d *registry.Device) (string, string) {
	if canon, ok := tokenCanons[d.PushPlatform]; ok {
		d.PushToken = canon(provider.Platform(d.Platform), d.PushToken)
	}
	if check, ok := tokenCheckers[d.PushPlatform]; ok {
		if err := check(provider.Platform(d.Platform), d.PushToken); err != nil {
			return "push_token", err.Error()
		}
	}
	return "", ""
}

// settlePushPlatform gives rw, from a file without a push_platform
// column, the provider of its stored device (nil: none stored), as the
// other columns the file lacks keep their stored values, or, for a new
// device or a stored provider this configuration does not serve, the
// default one; then checks its token for that provider (its shape and
// spelling).
func (im *importer) settlePushPlatform(stored *registry.Device, rw *row) error {
	if im.hasColumn("push_platform") {
		return nil
	}
	d := rw.dev
	d.PushPlatform = im.def
	if stored != nil {
		keep := *stored
		if keep.PushPlatform == "" {
			keep.PushPlatform = registry.DefaultPushPlatform
		}
		keep.Platform = d.Platform
		if field, _ := im.checkProvider(&keep); field == "" {
			d.PushPlatform = keep.PushPlatform
		}
	}
	d.PushToken = strings.TrimSpace(rw.rec[im.col["push_token"]])
	if field, reason := im.checkToken(&d); field != "" {
		if d.PushPlatform != im.def {
			reason += " (for the device's stored push_platform " + d.PushPlatform + ", which a file without that column keeps)"
		}
		return &registry.ValidationError{Field: field, Reason: reason}
	}
	rw.dev = d
	return nil
}

// reject counts a rejected row, keeps its reason for the summary and
// writes it to the rejects file.
func (im *importer) reject(line int, rec []string, field, reason string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.rejected++
	msg := "line " + strconv.Itoa(line) + ": "
	if field != "" {
		msg += field + ": "
	}
	if len(im.reasons) < maxReasons {
		im.reasons = append(im.reasons, msg+reason)
	}
	if im.rejects != nil && !im.written[line] {
		im.rejects.Write(append([]string{strconv.Itoa(line), field, reason}, rec...)) // errors surface at Flush
	}
}

// work takes rows and writes them in batches. A batch is written as soon
// as it is full or no row is waiting, so that the keys it holds are
// released for the dispatcher, which may be waiting for one of them.
func (im *importer) work(ctx context.Context, rows <-chan row) {
	var batch []row
	for {
		var rw row
		var ok bool
		if len(batch) == 0 {
			if rw, ok = <-rows; !ok {
				return
			}
		} else {
			select {
			case rw, ok = <-rows:
				if !ok {
					im.commit(ctx, batch)
					return
				}
			default:
				im.commit(ctx, batch)
				batch = batch[:0]
				continue
			}
		}
		if batch = append(batch, rw); len(batch) >= im.batch {
			im.commit(ctx, batch)
			batch = batch[:0]
		}
	}
}

// outcome is what became of one row.
type outcome struct {
	count *int // the counter to increment
	err   error
}

// commit writes batch in one transaction, detached from an interruption
// so that the rows in flight finish. When the transaction fails (a row
// the store refuses, a deadlock with another worker) it is rolled back
// and each row is written again on its own, so that one bad row costs
// only itself. Then it counts the outcomes and releases the rows' keys.
func (im *importer) commit(ctx context.Context, batch []row) {
	detached := context.WithoutCancel(ctx)
	bctx, cancel := context.WithTimeout(detached, writeTimeout+time.Duration(len(batch))*rowTimeout)
	outs, err := im.inTx(bctx, batch)
	cancel()
	if err != nil {
		outs = make([]outcome, len(batch))
		for i, rw := range batch {
			rctx, cancel := context.WithTimeout(detached, writeTimeout)
			if im.dryRun {
				// Each row alone, in a transaction rolled back too.
				var one []outcome
				if one, outs[i].err = im.inTx(rctx, batch[i:i+1]); outs[i].err == nil {
					outs[i] = one[0]
				}
			} else {
				outs[i].count, outs[i].err = im.write(rctx, im.store, rw)
			}
			cancel()
		}
	}
	for i, rw := range batch {
		if errors.Is(outs[i].err, registry.ErrInvalid) {
			field, reason := "row", oneLine(outs[i].err.Error())
			if ve := (*registry.ValidationError)(nil); errors.As(outs[i].err, &ve) {
				field, reason = ve.Field, oneLine(ve.Reason)
			}
			im.reject(rw.line, rw.rec, field, reason)
			outs[i] = outcome{}
		}
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	for i, rw := range batch {
		delete(im.busy, rw.keys[0])
		delete(im.busy, rw.keys[1])
		switch o := outs[i]; {
		case o.err != nil:
			if im.failErr == nil || rw.line < im.failLine {
				im.failErr, im.failLine = o.err, rw.line
			}
		case o.count != nil:
			*o.count++
		}
	}
	im.cond.Broadcast()
}

// inTx writes batch in one transaction and returns the outcomes once it
// committed, or, with --dry-run, once it is rolled back.
func (im *importer) inTx(ctx context.Context, batch []row) ([]outcome, error) {
	tx, err := im.db.BeginTx(ctx, im.txOpts)
	if err != nil {
		return nil, err
	}
	st := im.store.WithTx(tx)
	outs := make([]outcome, len(batch))
	for i, rw := range batch {
		if outs[i].count, err = im.write(ctx, st, rw); err != nil {
			_ = tx.Rollback() // the rows are written again one by one
			return nil, err
		}
	}
	if im.dryRun {
		return outs, tx.Rollback()
	}
	return outs, tx.Commit()
}

// write registers rw unless it is stored already, and returns the counter
// of its outcome. A device is counted imported only when this write
// inserted it: one that another import (or registration) running at the
// same time inserted after it was looked for is counted updated.
func (im *importer) write(ctx context.Context, st *sqlstore.Store, rw row) (*int, error) {
	stored, users, err := st.DeviceByUUID(ctx, rw.dev.Platform, rw.dev.UUID)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		if err := im.settlePushPlatform(nil, &rw); err != nil {
			return nil, err
		}
		_, _, inserted, err := st.RegisterDeviceInserted(ctx, &rw.dev, rw.user)
		if !inserted {
			return &im.updated, err
		}
		return &im.imported, err
	case err != nil:
		return nil, err
	}
	if err := im.settlePushPlatform(&stored, &rw); err != nil {
		return nil, err
	}
	if im.same(stored, users, rw) {
		return &im.unchanged, nil
	}
	// A column the file does not have keeps its stored value.
	for _, c := range []struct {
		name     string
		dst, src *string
	}{{"name", &rw.dev.Name, &stored.Name}, {"os", &rw.dev.OS, &stored.OS}, {"os_version", &rw.dev.OSVersion, &stored.OSVersion}} {
		if !im.hasColumn(c.name) {
			*c.dst = *c.src
		}
	}
	_, _, err = st.RegisterDevice(ctx, &rw.dev, rw.user)
	return &im.updated, err
}

// same reports whether registering rw would change nothing: the stored
// device has its token (enabled) and push_platform, the file's optional
// columns agree, and the row's user is the device's only active user.
func (im *importer) same(stored registry.Device, users []string, rw row) bool {
	pp := stored.PushPlatform
	if pp == "" {
		pp = registry.DefaultPushPlatform
	}
	if stored.PushToken != rw.dev.PushToken || pp != rw.dev.PushPlatform || stored.TokenDisabledAt != nil ||
		len(users) != 1 || users[0] != strings.TrimRight(rw.user, " ") {
		return false
	}
	for _, c := range []struct{ name, stored, file string }{
		{"name", stored.Name, rw.dev.Name}, {"os", stored.OS, rw.dev.OS}, {"os_version", stored.OSVersion, rw.dev.OSVersion},
	} {
		if im.hasColumn(c.name) && c.stored != c.file {
			return false
		}
	}
	return true
}

// summary prints the counts and the first rejections.
func (im *importer) summary(w io.Writer, rejectsPath string) {
	if im.dryRun {
		fmt.Fprint(w, "dry run, nothing written: ")
	}
	fmt.Fprintf(w, "imported=%d updated=%d unchanged=%d rejected=%d\n", im.imported, im.updated, im.unchanged, im.rejected)
	if im.skipped > 0 {
		fmt.Fprintf(w, "skipped %d rows before line %d (--from-line)\n", im.skipped, im.from)
	}
	for _, r := range im.reasons {
		fmt.Fprintln(w, r)
	}
	if more := im.rejected - len(im.reasons); more > 0 {
		if rejectsPath != "" {
			fmt.Fprintf(w, "… and %d more rejections in %s\n", more, rejectsPath)
		} else {
			fmt.Fprintf(w, "… and %d more rejections; --rejects FILE.csv writes them all\n", more)
		}
	}
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
