package umengtest

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
)

// sign is the real service's request signature: lowercase hex
// md5("POST" + url + body + secret), where url is scheme://host[:port]/path
// without the query and body is exactly the bytes sent.
func sign(method, rawURL string, body []byte, secret string) string {
	h := md5.New()
	h.Write([]byte(method))
	h.Write([]byte(rawURL))
	h.Write(body)
	h.Write([]byte(secret))
	return hex.EncodeToString(h.Sum(nil))
}

// signedURL rebuilds the URL the client must have signed from what arrived:
// the scheme of the connection, the Host header and the path of the request
// line. The request line is used rather than r.URL.Path so a server mounted
// under http.StripPrefix still checks the path the client actually called.
func signedURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && r.RequestURI != "" {
		path = u.EscapedPath()
	}
	return scheme + "://" + r.Host + path
}

// verifySign checks the ?sign= of r against body and secret. The expected
// sign never leaves this function: the refusal does not echo it.
func verifySign(r *http.Request, got string, body []byte, secret string) *refusal {
	if got == "" {
		return refuse(CodeUnsigned, "sign: the request is not signed; add ?sign=md5(POST+url+body+app master secret)")
	}
	want := sign(http.MethodPost, signedURL(r), body, secret)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return refuse(CodeBadSign, "sign: does not match md5(POST + %s + body + app master secret)", signedURL(r))
	}
	return nil
}
