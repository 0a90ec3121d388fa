package rawhttp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSendPartAndReadAnswer: the server sees the request line, the
// header and the announced length, and the answer it writes without
// waiting for the body is read back whole.
func TestSendPartAndReadAnswer(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout")
	}))
	srv.Config.ReadTimeout = 5 * time.Second
	srv.Start()
	defer srv.Close()
	c := SendPart(t, srv.Listener.Addr().String(), http.MethodPut, "/pot", "X-Kind: tea\r\n", "ab")
	resp, body := ReadAnswer(t, c)
	_ = c.Close() // the server would wait for the rest of the body
	if resp.StatusCode != http.StatusTeapot || body != "short and stout" {
		t.Fatalf("answer %d %q", resp.StatusCode, body)
	}
	r := <-got
	if r.Method != http.MethodPut || r.URL.Path != "/pot" || r.Header.Get("X-Kind") != "tea" || r.ContentLength != AnnouncedLength {
		t.Fatalf("request %s %s %v %d", r.Method, r.URL.Path, r.Header, r.ContentLength)
	}
}
