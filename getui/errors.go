package getui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// Operations named in provider.Error.Op.
const (
	opValidate = "validate"
	opAuth     = "auth"
	opSend     = "send"
	opStatus   = "status"
	opCancel   = "cancel"
)

// Getui codes the client classifies, as Getui documents them. The
// envelope's code is 0 on success.
const (
	CodeOK            = 0     // success
	CodeFailed        = 1     // a generic failure Getui does not explain
	CodeStarting      = 2     // the service is starting; try again
	CodeWrongHost     = 301   // the app lives on another host: data.host_list
	CodeTokenExpired  = 10001 // the auth token expired or is invalid
	CodeBlacklisted   = 10002 // the app or caller is blacklisted
	CodeAuthRate      = 10003 // auth called too often (100 a minute)
	CodeCallRate      = 10005 // the API called too often
	CodeInvalidParams = 20001 // a parameter is wrong (a dead cid too)
)

// Getui's plan codes (30000–30019, all answered with HTTP 403) the
// client names; kindOfPlanCode classifies the whole range.
const (
	CodeAllDailyQuota  = 30007 // /push/all over 100 a day
	CodeListDailyQuota = 30008 // list pushes over 2,000,000 a day
	CodeTagDailyQuota  = 30010 // /push/tag over 100 a day, shared with /push/all
	CodeAppMinuteRate  = 30014 // /push/all and /push/tag over 5 a minute
	CodeListMinuteRate = 30015 // list pushes over the minute's rate
	CodeBusy           = 30019 // the system is busy: try again later
)

// kindOfCode is the one table from Getui's codes to what the caller should
// do. message is Getui's msg and byCID whether the request named its
// targets by cid: 20001 "target user is invalid" then blames a cid and is
// InvalidToken (the Service finds which one of several by halving the
// batch); any other 20001 is InvalidRequest. ok is
// false for a code the table does not list; the HTTP status decides.
//
// 10001 reaches this table only after the client has fetched a new token
// and repeated the call once (see Client.do); the table says Auth.
func kindOfCode(code int, message string, byCID bool) (kind provider.Kind, ok bool) {
	switch code {
	case CodeFailed:
		return provider.Unknown, true
	case CodeStarting, CodeWrongHost:
		return provider.Temporary, true
	case CodeTokenExpired, CodeBlacklisted:
		return provider.Auth, true
	case CodeAuthRate, CodeCallRate:
		return provider.RateLimited, true
	case CodeInvalidParams:
		if byCID && blamesTarget(message) {
			return provider.InvalidToken, true
		}
		return provider.InvalidRequest, true
	case 10004:
		// No permission to query message details.
		return provider.Auth, true
	case 22001, 22002, 23001:
		// A scheduled task already run or invalid, a tag operation
		// refused.
		return provider.InvalidRequest, true
	}
	if code >= 30000 && code <= 30019 {
		return kindOfPlanCode(code), true
	}
	return provider.Unknown, false
}

// kindOfPlanCode classifies Getui's plan codes, 30000–30019. Answered
// with HTTP 403, they would otherwise all read as Auth, and a push refused
// for today's or this minute's allowance would fail for good:
//
//	30004 30006 30007 30008 30009 30010 30011  a day's total spent: QuotaExceeded
//	30012 30013 30014 30015 30018              a minute's rate: RateLimited
//	30019                                      busy: Temporary
//	30005 30016                                a tag too long, too many tags: InvalidRequest
//	30000–30003 30017                          an API the plan lacks: Auth
func kindOfPlanCode(code int) provider.Kind {
	switch code {
	case 30004, 30006, CodeAllDailyQuota, CodeListDailyQuota, 30009, CodeTagDailyQuota, 30011:
		return provider.QuotaExceeded
	case 30012, 30013, CodeAppMinuteRate, CodeListMinuteRate, 30018:
		return provider.RateLimited
	case CodeBusy:
		return provider.Temporary
	case 30005, 30016:
		return provider.InvalidRequest
	}
	return provider.Auth
}

// blamesTarget reports whether a message says the target cid is dead or
// unknown ("target user is invalid", "cid is invalid", …).
func blamesTarget(message string) bool {
	m := strings.ToLower(message)
	if !strings.Contains(m, "target") && !strings.Contains(m, "cid") && !strings.Contains(m, "user") {
		return false
	}
	for _, w := range []string{"invalid", "illegal", "not exist", "unknown", "not found"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// repeatsRequestID reports whether err is Getui's refusal of a request_id
// it has seen before (20001 with a message naming the request_id as used,
// repeated or existing), as opposed to one it finds malformed ("request_id
// is too long").
func repeatsRequestID(err error) bool {
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Code != strconv.Itoa(CodeInvalidParams) {
		return false
	}
	m := strings.ToLower(pe.Message)
	if !strings.Contains(m, "request_id") && !strings.Contains(m, "requestid") {
		return false
	}
	for _, w := range []string{"used", "repeat", "重复", "duplicat", "exist", "already"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// kindOfHTTPStatus classifies an answer without a code the table knows.
func kindOfHTTPStatus(status int) provider.Kind {
	switch {
	case status == 429:
		return provider.RateLimited
	case status >= 500:
		return provider.Temporary
	case status == 401 || status == 403:
		return provider.Auth
	case status == 400 || status == 404 || status == 405 || status == 413:
		return provider.InvalidRequest
	case status >= 200 && status < 300:
		// Getui answered but the answer could not be read: it may have
		// acted on the request.
		return provider.Indeterminate
	}
	return provider.Unknown
}

// invalid returns the InvalidRequest error for a request field, before any
// network call.
func invalid(field, reason string) error {
	return &provider.Error{Provider: Name, Op: opValidate, Kind: provider.InvalidRequest,
		Err: &provider.FieldError{Field: field, Reason: reason}}
}

// entry is the field path of key in the map at field: notification.extras["k"].
func entry(field, key string) string { return field + "[" + strconv.Quote(key) + "]" }

// withProvider stamps errors from provider.Request.Validate with this
// provider's name.
func withProvider(err error) error {
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Provider == "" {
		cp := *pe
		cp.Provider = Name
		return &cp
	}
	return err
}

// withKind returns a copy of the *provider.Error in err with kind, and
// message appended when not empty.
func withKind(err error, kind provider.Kind, message string) error {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		return err
	}
	cp := *pe
	cp.Kind = kind
	if message != "" {
		if cp.Message != "" {
			cp.Message += ": "
		}
		cp.Message += message
	}
	return &cp
}

// transportError classifies a failed HTTP exchange (see
// vendorhttp.TransportError).
func transportError(op string, err error, written bool, secrets ...string) error {
	return vendorhttp.TransportError(Name, op, err, written, longSecrets(secrets)...)
}

// minSecretLen is the shortest secret scrubbed from answers and errors:
// Getui's tokens, signs and secrets are far longer, and replacing a short
// string would mangle the JSON around it.
const minSecretLen = 8

// longSecrets returns the secrets of at least minSecretLen bytes.
func longSecrets(secrets []string) []string {
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	return out
}

// scrubString replaces every secret of at least minSecretLen bytes in s.
func scrubString(s string, secrets ...string) string {
	return provider.RedactAll(s, longSecrets(secrets)...)
}

// unexpected is the error for a success answer that lacks what it must
// carry: Getui accepted the call, so the push may be under way.
func unexpected(op string, status int, format string, args ...any) error {
	return &provider.Error{Provider: Name, Op: op, Kind: provider.Indeterminate, HTTPStatus: status, Message: fmt.Sprintf(format, args...)}
}
