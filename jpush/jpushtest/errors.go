package jpushtest

import (
	"errors"
	"fmt"
)

// JPush error codes the fake answers with, in error.code. The numbers are
// JPush's; the rules the fake applies them to are documented in the package
// documentation, which marks the ones it invents.
const (
	CodeInternal        = 1000 // internal error (faults only)
	CodeMethod          = 1001 // wrong HTTP method (HTTP 405)
	CodeMissing         = 1002 // a required field is missing
	CodeInvalid         = 1003 // a field has a bad value, a bad registration_id included
	CodeAuth            = 1004 // Basic authentication failed (HTTP 401)
	CodeTooLarge        = 1005 // an iOS notification over 2000 bytes, or notification and message over 4000
	CodeBadAppKey       = 1008 // the app key is not 24 lowercase hex digits
	CodeNoTarget        = 1011 // "cannot find user by this audience"
	CodeInternalTimeout = 1030 // internal timeout (faults only, HTTP 503)
	CodeRateLimited     = 2002 // rate limit (HTTP 429)
	CodeVolumeExceeded  = 2005 // send volume over the allowed range (faults only, HTTP 403)
	CodeNotFound        = 1404 // no API at this path (invented; HTTP 404)
)

// Errors returned by the Server's Go methods, wrapped with the offending
// argument named; match with errors.Is.
var (
	// ErrInvalidArgument means a bad argument to a Server method.
	ErrInvalidArgument = errors.New("jpushtest: invalid argument")
	// ErrClosed means Start was called on a closed server.
	ErrClosed = errors.New("jpushtest: server closed")
)

// refusal is a JPush error answer: HTTP status, code and message.
type refusal struct {
	status int
	code   int
	msg    string
}

func refuse(status, code int, format string, args ...any) *refusal {
	return &refusal{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// bad is the usual 400 refusal.
func bad(code int, format string, args ...any) *refusal {
	return refuse(400, code, format, args...)
}
