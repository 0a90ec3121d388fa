package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tuisong/push/internal/syncbuf"
)

// result is what one in-process run of pushctl printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs pushctl in-process with args and the environment env.
func runCLI(tb testing.TB, ctx context.Context, env map[string]string, args ...string) result {
	tb.Helper()
	var out, errb syncBuffer
	code := run(ctx, args, &out, &errb, func(k string) string { return env[k] })
	return result{out.String(), errb.String(), code}
}

// sqliteEnv is the environment of a pushctl on a fresh SQLite file.
func sqliteEnv(tb testing.TB) map[string]string {
	return map[string]string{"PUSH_DB_DSN": filepath.Join(tb.TempDir(), "push.db")}
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer = syncbuf.Buffer

// writeCSV writes a file of n devices: uuid dev-i, alternating android and
// ios, tokens unique per row, n/2 users.
func writeCSV(tb testing.TB, n int, token func(i int, platform string) string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "devices.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintln(f, "uuid,platform,push_platform,push_token,user_num")
	for i := range n {
		p := "android"
		if i%2 == 1 {
			p = "ios"
		}
		fmt.Fprintf(f, "dev-%d,%s,umeng,%s,u%d\n", i, p, token(i, p), i/2)
	}
	return path
}
