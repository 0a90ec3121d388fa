package umeng

import (
	"crypto/md5"
	"encoding/hex"
	"io"
)

// Sign returns Umeng's request signature: the lower-case hex MD5 of method,
// url, body and secret written one after the other.
//
// url is scheme, host (with port, if any) and path, without the query; body
// must be exactly the bytes that go on the wire, because Umeng hashes what it
// receives. The client computes it over the bytes it sends and puts it in the
// "sign" query parameter; it is exported so that fakes and tests can check a
// request the same way Umeng does.
func Sign(method, url string, body []byte, secret string) string {
	h := md5.New()
	// Writes to a hash.Hash never fail.
	_, _ = io.WriteString(h, method)
	_, _ = io.WriteString(h, url)
	_, _ = h.Write(body)
	_, _ = io.WriteString(h, secret)
	return hex.EncodeToString(h.Sum(nil))
}
