package main

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry/sqlstore"
)

// answerHolder is a TCP proxy to a PostgreSQL server that holds back the
// server's answer to the first INSERT … sys_message_center it sees (the
// chunk carrying its "INSERT 0 1" tag) until release is closed: the
// insert has committed, its answer has not reached the client yet, as
// on a slow network.
type answerHolder struct {
	ln      net.Listener
	target  string
	held    chan struct{} // closed when the answer is held
	release chan struct{}
	once    sync.Once
}

func newAnswerHolder(t *testing.T, target string) *answerHolder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := &answerHolder{ln: ln, target: target, held: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go h.serve(c)
		}
	}()
	return h
}

func (h *answerHolder) serve(c net.Conn) {
	s, err := net.Dial("tcp", h.target)
	if err != nil {
		_ = c.Close()
		return
	}
	defer c.Close()
	defer s.Close()
	var mu sync.Mutex
	sawInsert := false
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if bytes.Contains(buf[:n], []byte("INSERT INTO sys_message_center")) {
					mu.Lock()
					sawInsert = true
					mu.Unlock()
				}
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				_ = s.Close()
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			mu.Lock()
			hold := sawInsert && bytes.Contains(buf[:n], []byte("INSERT 0 1"))
			mu.Unlock()
			if hold {
				h.once.Do(func() { close(h.held) })
				<-h.release
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// center enqueue interrupted after its row committed but before the answer
// arrived reports the row queued. (Its INSERT ran on the interrupt's ctx:
// it reported failure, exit 1, and the operator who ran it again queued
// the notification twice; the Scanner sent both, center rows carrying no
// dedupe key.) Real pgx driver, real PostgreSQL; the answer is only
// delayed by a proxy.
func TestCenterEnqueueInterruptedAfterCommitReportsTheRow(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	db, dsn := dbtest.Open(t, sqlstore.DialectPostgres)
	env := map[string]string{"PUSH_DB_DRIVER": "postgres", "PUSH_DB_DSN": dsn}
	require.Equal(t, exitOK, runCLI(t, t.Context(), env, "migrate").code)

	u, err := url.Parse(dsn)
	require.NoError(t, err)
	h := newAnswerHolder(t, u.Host)
	u.Host = h.ln.Addr().String()
	proxied := map[string]string{"PUSH_DB_DRIVER": "postgres", "PUSH_DB_DSN": u.String()}

	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	done := make(chan result, 1)
	go func() {
		done <- runCLI(t, ctx, proxied, "center", "enqueue", "--user", "u1", "--mode", "sms", "--title", "t", "--content", "c")
	}()
	select {
	case <-h.held:
	case <-time.After(20 * time.Second):
		t.Fatal("the insert never reached the server")
	}
	count := func() int {
		var n int
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM sys_message_center").Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return count() == 1 }, 10*time.Second, 10*time.Millisecond, "the row committed")
	interrupt()                        // Ctrl-C
	time.Sleep(100 * time.Millisecond) // the answer comes after the interrupt
	close(h.release)
	var first result
	select {
	case first = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("pushctl did not return after the interrupt")
	}
	t.Logf("first run: exit %d, stderr %q", first.code, first.stderr)
	assert.Equal(t, exitOK, first.code, "the row is queued, yet pushctl reports failure: %s", first.stderr)

	if first.code != exitOK {
		// The operator runs the command again, as the failure suggests.
		r := runCLI(t, t.Context(), env, "center", "enqueue", "--user", "u1", "--mode", "sms", "--title", "t", "--content", "c")
		require.Equal(t, exitOK, r.code, r.stderr)
	}
	assert.Equal(t, 1, count(), "one notification asked for, rows queued")
}
