// Package vendorhttp is what the vendor clients (umeng, jpush, getui)
// share about HTTP: the client they use when the host gives them none,
// the check of a configured base URL, and the scrubbing that keeps
// secrets, signs and tokens out of the errors and answers they return.
package vendorhttp

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// IdleConnsPerHost is how many idle connections to one vendor host a
// default client keeps. A Service sends up to SendConcurrency calls of a
// push at once, and a Scanner handles Concurrency rows at once, each with
// its own calls; with fewer idle connections kept than calls in flight,
// every call beyond them opens a new connection (a TCP and TLS handshake)
// and closes it again. net/http keeps 2 by default, resty 1 more than
// GOMAXPROCS.
const IdleConnsPerHost = 64

// Client returns hc, copied, with a default transport when hc is nil or
// has none: a clone of http.DefaultTransport (proxy from the environment,
// HTTP/2, its timeouts) keeping IdleConnsPerHost idle connections per
// host for 90 seconds. A host's own Transport is kept as it is.
//
// Redirects are not followed unless hc has a CheckRedirect of its own: a
// 3xx is the answer. No vendor API redirects; following one would send
// the request's credentials (Getui's token header, which net/http does
// not strip across hosts) to a host the client was not configured for,
// take its answer for the vendor's, and turn a POST into a body-less GET.
func Client(hc *http.Client) *http.Client {
	c := &http.Client{}
	if hc != nil {
		cp := *hc
		c = &cp
	}
	if c.CheckRedirect == nil {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	if c.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 4 * IdleConnsPerHost
		t.MaxIdleConnsPerHost = IdleConnsPerHost
		t.IdleConnTimeout = 90 * time.Second
		c.Transport = t
	}
	return c
}

// CloseUnread makes the answer to r, written before r's body was read,
// the connection's last, and ends the reading of that body. Otherwise
// net/http reads up to 256 KB of the unread body once the handler
// returns (even when the answer closes the connection), and a client
// that trickles its body, with no credentials even, holds the connection
// (and the server's shutdown) until the server's ReadTimeout. Call it
// before writing the header, and read nothing of r's body after it.
func CloseUnread(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	w.Header().Set("Connection", "close")
	// A writer that cannot (a test's recorder) has no connection to hold.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// ReadTimeoutReason is what an answer of ReadStatus's 408 says.
const ReadTimeoutReason = "the body did not arrive in time"

// ReadStatus is the status of the answer to a request whose body could
// not be read for err: 413 past an http.MaxBytesReader's limit, 408 when
// the server's read deadline (its ReadTimeout) passed, 400 otherwise (the
// client went away, or sent less than it announced). err's text is for
// the log, never the answer: a failed read of a connection names the
// server's and the client's socket addresses.
func ReadStatus(err error) int {
	var mb *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &ne) && ne.Timeout():
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

// MinTimeout is the shortest Timeout a vendor client takes: no vendor
// call finishes sooner, and a shorter one is most often a count of
// seconds written as a time.Duration (Timeout: 30 is 30 ns), which would
// fail every call as "not sent" and spend every delivery's attempts.
const MinTimeout = time.Millisecond

// TimeoutProblem says what is wrong with a client's configured Timeout
// d (0 takes the client's default), or "" when nothing is.
func TimeoutProblem(d time.Duration) string {
	switch {
	case d < 0:
		return "must not be negative"
	case d > 0 && d < MinTimeout:
		return d.String() + ", shorter than " + MinTimeout.String() +
			", lets no vendor call finish (a time.Duration counts nanoseconds: 30 seconds is 30 * time.Second)"
	}
	return ""
}

// Printable reports whether s, a credential or key of a vendor client's
// Config, is valid UTF-8 without control characters: a tab or a newline
// pasted into one would fail every call as a wrong secret.
func Printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}
