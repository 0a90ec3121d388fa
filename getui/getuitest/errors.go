package getuitest

import (
	"errors"
	"fmt"
	"net/http"
)

// Getui codes the fake answers with, in the envelope's code. The numbers
// are Getui's except those marked invented; the rules the fake applies
// them to are in the package documentation.
const (
	CodeOK            = 0
	CodeFailed        = 1     // generic failure (faults only)
	CodeStarting      = 2     // service starting (faults only)
	CodeWrongHost     = 301   // the app lives on another host (MoveHost)
	CodeTokenExpired  = 10001 // token missing, unknown, expired or another app's
	CodeBlacklisted   = 10002 // blacklisted (faults only)
	CodeAuthRate      = 10003 // auth over AuthRateLimit a minute
	CodeCallRate      = 10005 // calls over CallRateLimit a minute
	CodeInvalidParams = 20001 // a parameter is wrong, a dead cid included
	CodeAllDailyQuota = 30007 // /push/all over TaskDailyLimit a day
	CodeTagDailyQuota = 30010 // /push/tag over TaskDailyLimit a day, shared with /push/all
	CodeTaskMinute    = 30014 // /push/all and /push/tag over TaskMinuteLimit a minute
	CodeNotFound      = 404   // no API at this path (invented)
	CodeMethod        = 405   // wrong HTTP method for the path (invented)
)

// Errors returned by the Server's Go methods, wrapped with the offending
// argument named; match with errors.Is.
var (
	// ErrInvalidArgument means a bad argument to a Server method.
	ErrInvalidArgument = errors.New("getuitest: invalid argument")
	// ErrClosed means Start was called on a closed server.
	ErrClosed = errors.New("getuitest: server closed")
)

// refusal is a Getui error answer: HTTP status, code and msg.
type refusal struct {
	status int
	code   int
	msg    string
}

func refuse(status, code int, format string, args ...any) *refusal {
	return &refusal{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// bad is the 20001 parameter refusal, HTTP 400.
func bad(format string, args ...any) *refusal {
	return refuse(http.StatusBadRequest, CodeInvalidParams, format, args...)
}

// statusForCode is the HTTP status the fake pairs a code with.
func statusForCode(code int) int {
	switch code {
	case CodeTokenExpired, CodeBlacklisted, CodeAuthRate, CodeCallRate:
		// Getui's error-code page: the codes 10001–10005 come with 401.
		return http.StatusUnauthorized
	case CodeInvalidParams:
		return http.StatusBadRequest
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethod:
		return http.StatusMethodNotAllowed
	case 10004:
		return http.StatusUnauthorized
	case 22001, 22002, 23001:
		return http.StatusBadRequest
	}
	if code >= 30000 && code <= 30019 {
		// Getui's plan codes ("套餐相关") come with 403.
		return http.StatusForbidden
	}
	return http.StatusOK
}
