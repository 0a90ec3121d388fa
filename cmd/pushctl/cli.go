package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/registry"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand of pushctl.
type command struct {
	name    string // "devices import"
	args    string // the synopsis after the name
	summary string // one line for "pushctl help"
	// flags declares the command's flags on fs and returns the function
	// that runs it with its positional arguments.
	flags func(fs *flag.FlagSet, e *env) func(ctx context.Context, args []string) error
}

// commands lists pushctl's commands in the order "pushctl help" shows them.
func commands() []command {
	return []command{
		{"migrate", "", "apply the migrations (the push tables and sys_users)", migrateCmd},
		{"migrate status", "[--check]", "print the applied and the latest migration versions", migrateStatusCmd},
		{"devices list", "USER", "list a user's devices: every login, active or not, with its token state", devicesListCmd},
		{"devices import", "FILE.csv", "register the devices of a CSV file (uuid, platform, push_platform, push_token, user_num)", importCmd},
		{"push", "USER... --title T --content C", "push a notification to the users' devices", pushCmd},
		{"status", "ID", "print a push's status and receipts", statusCmd},
		{"center enqueue", "--user U --mode push|sms|email [--title T] --content C", "insert a sys_message_center row", enqueueCmd},
		{"center tail", "", "print the state changes of sys_message_center rows until interrupted", tailCmd},
		{"version", "", "print pushctl's version: its module version, VCS revision and Go version", versionCmd},
	}
}

// versionCmd prints the build's version (serverenv.Version), which the
// example server's start-up line carries too.
func versionCmd(_ *flag.FlagSet, e *env) func(context.Context, []string) error {
	return func(_ context.Context, args []string) error {
		if err := wantArgs(args, 0, ""); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "pushctl %s\n", serverenv.Version())
		return nil
	}
}

// env is what a command runs with: its output streams and environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
}

// usageError is a command line pushctl cannot run: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run runs pushctl with args (without the program name) and returns its
// exit status. Errors are one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if len(args) == 0 {
		help(stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		if len(args) > 1 {
			if c, _ := find(args[1:]); c != nil {
				fs := newFlagSet(c, e)
				c.flags(fs, e)
				fs.SetOutput(stdout)
				fs.Usage()
				return exitOK
			}
			if len(args) == 2 && group(args[1]) != nil {
				groupHelp(stdout, args[1])
				return exitOK
			}
			fmt.Fprintf(stderr, "pushctl: help: %s\n", unknown(args[1:]))
			return exitUsage
		}
		help(stdout)
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" {
		args = append([]string{"version"}, args[1:]...)
	}
	c, rest := find(args)
	if c == nil && len(args) == 2 && isHelp(args[1]) && group(args[0]) != nil {
		groupHelp(stdout, args[0]) // "devices -h"
		return exitOK
	}
	if c == nil && len(args) == 1 && group(args[0]) != nil {
		// "devices" alone names a group, not a mistyped command.
		fmt.Fprintf(stderr, "pushctl: %s: a subcommand is required: %s (run pushctl help %s)\n", args[0],
			strings.Join(group(args[0]), ", "), args[0])
		return exitUsage
	}
	if c == nil {
		fmt.Fprintf(stderr, "pushctl: %s\n", unknown(args))
		return exitUsage
	}
	fs := newFlagSet(c, e)
	runCmd := c.flags(fs, e)
	pos, err := parse(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	if err == nil {
		err = runCmd(ctx, pos)
	}
	if err == nil {
		return exitOK
	}
	// The library's errors start with its package name: "push: push:
	// title: …" said it twice.
	fmt.Fprintf(stderr, "pushctl: %s: %s\n", c.name, strings.TrimPrefix(oneLine(err.Error()), c.name+": "))
	var ue *usageError
	if errors.As(err, &ue) || isFlagError(err) || errors.Is(err, push.ErrInvalid) || errors.Is(err, registry.ErrInvalid) {
		// A value the library refused before it wrote anything (a
		// user_num, a title too long) is the command line's, as a flag's.
		return exitUsage
	}
	return exitFailure
}

// find returns the command args start with, longest name first, and the
// arguments after its name.
func find(args []string) (*command, []string) {
	cs := commands()
	var best *command
	n := 0
	for i := range cs {
		words := strings.Fields(cs[i].name)
		if len(words) <= len(args) && len(words) > n && strings.Join(args[:len(words)], " ") == cs[i].name {
			best, n = &cs[i], len(words)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, args[n:]
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// group lists the commands whose first word is word ("center": center
// enqueue, center tail).
func group(word string) []string {
	var near []string
	for _, c := range commands() {
		if strings.Fields(c.name)[0] == word {
			near = append(near, c.name)
		}
	}
	return near
}

// groupHelp lists the commands of the group word ("devices -h", "pushctl
// help devices").
func groupHelp(w io.Writer, word string) {
	fmt.Fprintf(w, "%s commands: %s (pushctl help COMMAND for one)\n", word, strings.Join(group(word), ", "))
}

// unknown says that args name no command, and lists the commands that
// begin with its first word ("center": center enqueue, center tail).
func unknown(args []string) string {
	if near := group(args[0]); len(near) > 0 {
		return fmt.Sprintf("unknown command %q: %s (run pushctl help)", strings.Join(args, " "), strings.Join(near, ", "))
	}
	return fmt.Sprintf("unknown command %q (run pushctl help)", strings.Join(args, " "))
}

// flagError marks an error of flag parsing: exit status 2.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }

func isFlagError(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

// newFlagSet returns the command's flag set, which reports errors to run
// (not on its own output) and prints the command's usage on -h.
func newFlagSet(c *command, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("pushctl "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: pushctl %s %s\n\n%s.\n", c.name, c.args, upperFirst(c.summary))
		if d, ok := details[c.name]; ok {
			fmt.Fprintf(w, "\n%s\n", d)
		}
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args with fs, flags and positional arguments in any order
// ("push u1 --title t u2"); after "--" everything is positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &flagError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" && !endsWithValue(fs, args[:used]) {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// endsWithValue reports whether the last of the arguments one fs.Parse
// took (flags and their values, from the first) is a flag's value
// ("--content --"), not the end of the flags. The flags are walked from
// the first, so that a value that looks like a flag ("--content --title
// --") is taken as the value it was.
func endsWithValue(fs *flag.FlagSet, took []string) bool {
	for i := 0; i < len(took); i++ {
		a := took[i]
		if a == "--" || !strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
			continue
		}
		f := fs.Lookup(strings.TrimLeft(a, "-"))
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i++; i == len(took)-1 {
			return true // the value of the flag before
		}
	}
	return false
}

// details are the longer descriptions "pushctl help COMMAND" prints.
var details = map[string]string{
	"migrate": "Applies the migrations examples/server applies at start-up, names those it\n" +
		"applied, then prints what \"migrate status\" prints. Running it again changes nothing.\n" +
		"A table of an applied migration that the database lacks (dropped by hand) is created\n" +
		"again, empty.",
	"version": "Prints the module version (\"(devel)\" when built from a checkout), the VCS\n" +
		"revision it was built from (\"+dirty\" when the tree was modified) and the Go version:\n" +
		"the same as the example server's \"push server listening\" line. Also --version.",
	"migrate status": "Prints, for the push tables and sys_users, the highest applied version,\n" +
		"the latest version of this build and the migrations pending, or the tables of\n" +
		"applied migrations that are missing. Changes nothing. With --check it exits 1\n" +
		"when a migration is pending or a table is missing, for a deploy to wait on.",
	"devices list": "Prints every link of the user to a device (Service.ListDevices), active or\n" +
		"not, with the device's platform, push_platform, name, masked token and token\n" +
		"state (and why it is disabled). Reads only: needs no vendor credentials.",
	"devices import": "The first row names the columns, in any order: uuid, platform, push_token\n" +
		"and user_num are required; push_platform (empty: the default provider), name,\n" +
		"os and os_version are optional, and any other column is refused. Each row is\n" +
		"checked as POST /api/v1.1/app/device checks a registration, and registered the\n" +
		"same way (the device updated in place, its token taken from any other device,\n" +
		"the user made its only active user). A row the database holds already is\n" +
		"counted unchanged and not written, so running a file again is cheap and\n" +
		"imports nothing new; a column the file lacks keeps its stored value.\n" +
		"Prints imported=N updated=N unchanged=N rejected=N (imported: the devices this\n" +
		"run inserted) and the first rejections; exits 1 when a row was rejected.\n" +
		"Interrupted (Ctrl-C), it finishes the rows in flight and prints the\n" +
		"--from-line to go on from. With --dry-run every transaction is rolled back:\n" +
		"the counts and rejections say what the import would do, and nothing is written\n" +
		"(a row is counted against the database as it is, not as earlier batches of the\n" +
		"file would have left it).",
	"push": "Pushes to the active devices of the users through the configured providers\n" +
		"and prints the push message id and, per provider and platform, the tokens and\n" +
		"the deliveries' outcome. Needs a provider's credentials (UMENG_*, JPUSH_*, GETUI_*).",
	"status": "Prints the per-platform status, vendor task ids, receipt counts and latest\n" +
		"vendor response of a push message; the device tokens are counted, never shown.\n" +
		"Reads only: needs no vendor credentials.",
	"center enqueue": "Inserts an unsent sys_message_center row, which the message center Scanner\n" +
		"of a running server handles; prints its id.",
	"center tail": "Polls sys_message_center and prints a line (id, mode, state, result, remark)\n" +
		"each time a row appears or changes, until interrupted. Without --since-id it\n" +
		"starts with the rows not yet handled and follows the new ones; a row\n" +
		"deleted while followed is printed as \"id=N deleted\".",
}

// help prints the list of commands.
func help(w io.Writer) {
	fmt.Fprintln(w, "usage: pushctl COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w, "\nConfigured by the environment variables of examples/server (PUSH_DB_DRIVER, PUSH_DB_DSN, UMENG_*, JPUSH_*, GETUI_*).")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'pushctl help COMMAND' or 'pushctl COMMAND -h' for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 ok, 1 failure, 2 usage error (a flag or argument, or a value refused before anything was written).")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// zwj is the zero-width joiner, a format character that joins emoji.
const zwj = '\u200d'

// oneLine keeps an error on one line: errors.Join and multi-line driver
// messages are joined with "; ".
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		// A tab would shift a table's columns, an escape sequence could
		// rewrite the operator's terminal, a bidirectional override
		// reorder what follows it and a zero-width character hide in a
		// value: every control and format character is a space, but the
		// zero-width joiner of emoji sequences.
		l = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != zwj) {
				return ' '
			}
			return r
		}, l)
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, n int, what string) error {
	switch {
	case len(args) < n:
		return usagef("%s is required", what)
	case len(args) > n:
		return usagef("unexpected argument %q", args[n])
	}
	return nil
}
