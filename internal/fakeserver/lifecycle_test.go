package fakeserver_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/fakeserver"
)

var hello = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") })

func TestLifecycleServesAndCloses(t *testing.T) {
	l := fakeserver.NewLifecycle(testID, false)
	url, err := l.Start(hello)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasPrefix(url, "http://[::1]:"), url)

	resp, err := http.Get(url)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "hello", string(body))

	_, err = l.Start(hello)
	require.ErrorIs(t, err, errInvalid)
	assert.EqualError(t, err, "fake: invalid argument: Start: server already started at "+url)

	select {
	case <-l.Closing():
		t.Fatal("Closing is closed before Close")
	default:
	}
	l.Close()
	l.Close() // harmless
	_, open := <-l.Closing()
	assert.False(t, open, "Close closes Closing")
	_, err = http.Get(url)
	require.Error(t, err, "nothing listens after Close")
	_, err = l.Start(hello)
	require.ErrorIs(t, err, errClosed)
}

func TestLifecycleCloseWithoutStart(t *testing.T) {
	l := fakeserver.NewLifecycle(testID, true)
	l.Close()
	_, open := <-l.Closing()
	assert.False(t, open)
	_, err := l.Start(hello)
	require.ErrorIs(t, err, errClosed)
}

func TestLifecycleCloseFreshClosesSpareConnections(t *testing.T) {
	l := fakeserver.NewLifecycle(testID, true)
	url, err := l.Start(hello)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	// The server must have accepted the connection before Close for it to
	// count as a spare; a request on a second connection makes sure of
	// the listener's progress.
	resp, err := http.Get(url)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		l.Close()
	}()
	// http.Server.Shutdown alone would leave the connection open for five
	// seconds; Close must not.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(4*time.Second)))
	_, err = conn.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "the spare connection is closed by Close at once")
	<-closed
}
