package jpush

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// Operations named in provider.Error.Op.
const (
	opValidate       = "validate"
	opValidateRemote = "validate_remote"
	opSend           = "send"
	opStatus         = "status"
	opMessageStatus  = "message_status"
	opCancel         = "cancel"
)

// JPush error codes the client classifies, as JPush documents them.
const (
	CodeInternal         = 1000 // internal error; retry
	CodeMethodNotAllowed = 1001 // only POST (HTTP 405)
	CodeMissingParam     = 1002 // a required parameter is missing
	CodeInvalidParam     = 1003 // a parameter has a bad value (a bad registration_id too)
	CodeAuthFailed       = 1004 // Basic auth failed (HTTP 401)
	CodeTooLarge         = 1005 // the message is too long
	CodeBadAppKey        = 1008 // the app_key is not valid
	CodeNoTarget         = 1011 // "cannot find user by this audience"
	CodeMakerQuota       = 1012 // a phone maker's quota is spent (distribution ospush: the maker's channel only)
	CodeHTTPSOnly        = 1020 // only HTTPS is accepted
	CodeInternalTimeout  = 1030 // JPush's own backend timed out (HTTP 503)
	CodeRateLimited      = 2002 // the app's API rate limit is spent (HTTP 429)
	CodeAppRestricted    = 2003 // the app is barred from the API (HTTP 403)
	CodeNoPermission     = 2004 // no permission for the operation (HTTP 403)
	CodeVolumeExceeded   = 2005 // the send volume is over the allowed range (HTTP 403)
	CodeNotVIP           = 2006 // the feature needs a paid plan (HTTP 403)
	CodeForbiddenAPI     = 2007 // no permission to call this API (HTTP 403)
)

// kindOfCode is the one table from JPush's error codes to what the caller
// should do. message is JPush's error message and byToken reports whether
// the request targeted registration ids; both refine two codes:
//
//   - 1003 is InvalidToken when the message says the registration_id is
//     invalid (decodeAnswer names the id in Failures when the message
//     does), InvalidRequest otherwise;
//   - 1011 ("cannot find user by this audience") is InvalidToken when the
//     audience was registration ids: JPush pushes to the ids it knows and
//     answers 1011 only when it knows none of them, so every one is unknown
//     or dead (decodeAnswer names them all in Failures). For any other
//     audience (aliases, tags, segments) no token is at fault and it is
//     InvalidRequest, which the caller does not retry: the audience is
//     empty.
//
// ok is false for a code the table does not list; the HTTP status decides.
func kindOfCode(code int, message string, byToken bool) (kind provider.Kind, ok bool) {
	switch code {
	case CodeInternal, CodeInternalTimeout:
		return provider.Temporary, true
	case CodeMissingParam, CodeTooLarge, CodeMethodNotAllowed, CodeHTTPSOnly:
		return provider.InvalidRequest, true
	case CodeInvalidParam:
		if mentionsBadRegistrationID(message) {
			return provider.InvalidToken, true
		}
		return provider.InvalidRequest, true
	case CodeAuthFailed, CodeBadAppKey:
		return provider.Auth, true
	case CodeNoTarget:
		if byToken {
			return provider.InvalidToken, true
		}
		return provider.InvalidRequest, true
	case CodeRateLimited:
		return provider.RateLimited, true
	case CodeVolumeExceeded, CodeMakerQuota:
		return provider.QuotaExceeded, true
	case CodeAppRestricted, CodeNoPermission, CodeNotVIP, CodeForbiddenAPI:
		return provider.Auth, true
	}
	return provider.Unknown, false
}

// mentionsBadRegistrationID reports whether a 1003 message blames the
// registration id rather than another parameter.
func mentionsBadRegistrationID(message string) bool {
	m := strings.ToLower(message)
	if !strings.Contains(m, "registration_id") && !strings.Contains(m, "registrationid") && !strings.Contains(m, "registration id") {
		return false
	}
	for _, w := range []string{"invalid", "illegal", "not exist", "unknown", "wrong"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// kindOfHTTPStatus classifies an answer without a code the table knows.
func kindOfHTTPStatus(status int) provider.Kind {
	switch {
	case status == http.StatusTooManyRequests:
		return provider.RateLimited
	case status >= 500:
		return provider.Temporary
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return provider.Auth
	case status == http.StatusBadRequest || status == http.StatusNotFound ||
		status == http.StatusMethodNotAllowed || status == http.StatusRequestEntityTooLarge:
		return provider.InvalidRequest
	case status >= 200 && status < 300:
		// JPush answered but the answer could not be read: it may have
		// accepted the push.
		return provider.Indeterminate
	}
	return provider.Unknown
}

// invalid returns the InvalidRequest error for a request field, before any
// network call.
func invalid(field, reason string) error {
	return &provider.Error{
		Provider: Name,
		Op:       opValidate,
		Kind:     provider.InvalidRequest,
		Err:      &provider.FieldError{Field: field, Reason: reason},
	}
}

// entry is the field path of the key of the map at field:
// notification.extras["k"].
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

// transportError classifies a failed HTTP exchange (see
// vendorhttp.TransportError).
func transportError(op string, err error, written bool, secrets ...string) error {
	return vendorhttp.TransportError(Name, op, err, written, secrets...)
}

// unexpected is the error for a 2xx answer that lacks what it must carry.
func unexpected(op string, status int, format string, args ...any) error {
	return &provider.Error{Provider: Name, Op: op, Kind: provider.Indeterminate, HTTPStatus: status, Message: fmt.Sprintf(format, args...)}
}
