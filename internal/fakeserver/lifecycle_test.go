package fakeserver_test

import (
	"fmt"
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
	var url string
	err := l.Start(hello, &url)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasPrefix(url, "http://[::1]:"), url)

	resp, err := http.Get(url)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "hello", string(body))

	err = l.Start(hello, new(string))
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
	err = l.Start(hello, new(string))
	require.ErrorIs(t, err, errClosed)
}

func TestLifecycleCloseWithoutStart(t *testing.T) {
	l := fakeserver.NewLifecycle(testID, true)
	l.Close()
	_, open := <-l.Closing()
	assert.False(t, open)
	err := l.Start(hello, new(string))
	require.ErrorIs(t, err, errClosed)
}

func TestLifecycleCloseFreshClosesSpareConnections(t *testing.T) {
	l := fakeserver.NewLifecycle(testID, true)
	var url string
	err := l.Start(hello, &url)
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

func TestLifecycleURL(t *testing.T) {
	l := fakeserver.NewLifecycle(testID, false)
	assert.Empty(t, l.URL())
	var url string
	require.NoError(t, l.Start(hello, &url))
	defer l.Close()
	assert.Equal(t, url, l.URL())
	require.Error(t, l.Start(hello, &url))
	assert.Equal(t, l.URL(), url, "a refused Start leaves the URL alone")
}

// lifecycleServer is a fake's Server as Started sees it.
type lifecycleServer struct {
	life *fakeserver.Lifecycle
	URL  string
}

func (s *lifecycleServer) Start() error { return s.life.Start(hello, &s.URL) }
func (s *lifecycleServer) Close()       { s.life.Close() }

// fatalTB records Fatalf and Cleanup instead of acting on them.
type fatalTB struct {
	testing.TB
	fatal    string
	cleanups []func()
}

func (tb *fatalTB) Helper()                           {}
func (tb *fatalTB) Fatalf(format string, args ...any) { tb.fatal = fmt.Sprintf(format, args...) }
func (tb *fatalTB) Cleanup(f func())                  { tb.cleanups = append(tb.cleanups, f) }

func TestStarted(t *testing.T) {
	t.Run("starts and closes at cleanup", func(t *testing.T) {
		tb := &fatalTB{TB: t}
		s := fakeserver.Started(tb, "fake.NewServer", func() (*lifecycleServer, error) {
			return &lifecycleServer{life: fakeserver.NewLifecycle(testID, false)}, nil
		})
		require.NotNil(t, s)
		assert.Empty(t, tb.fatal)
		assert.NotEmpty(t, s.URL)
		require.Len(t, tb.cleanups, 1)
		tb.cleanups[0]()
		_, open := <-s.life.Closing()
		assert.False(t, open, "the cleanup closes the server")
	})
	t.Run("a bad config fails the test", func(t *testing.T) {
		tb := &fatalTB{TB: t}
		s := fakeserver.Started(tb, "fake.NewServer", func() (*lifecycleServer, error) {
			return nil, fmt.Errorf("%w: Config.Apps is empty", errInvalid)
		})
		assert.Nil(t, s)
		assert.Equal(t, "fake.NewServer: fake: invalid argument: Config.Apps is empty", tb.fatal)
		assert.Empty(t, tb.cleanups)
	})
	t.Run("a failed start fails the test", func(t *testing.T) {
		tb := &fatalTB{TB: t}
		life := fakeserver.NewLifecycle(testID, false)
		life.Close()
		s := fakeserver.Started(tb, "fake.NewServer", func() (*lifecycleServer, error) {
			return &lifecycleServer{life: life}, nil
		})
		assert.Nil(t, s)
		assert.Equal(t, "fake.NewServer: fake: server closed", tb.fatal)
	})
}
