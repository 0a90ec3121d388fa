package umeng

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// Operations named in provider.Error.Op.
const (
	opValidate = "validate"
	opSend     = "send"
	opStatus   = "status"
	opCancel   = "cancel"
	opUpload   = "upload"
	opPost     = "post"
)

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

// entry is the field path of the entry key of the map at field, in the
// scheme of package provider: notification.extras["aps"].
func entry(field, key string) string { return field + "[" + strconv.Quote(key) + "]" }

// withProvider stamps errors from provider.Request.Validate, which do not
// know the vendor, with this provider's name.
func withProvider(err error) error {
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Provider == "" {
		cp := *pe
		cp.Provider = Name
		return &cp
	}
	return err
}

// notConfigured is the error for a platform whose App is empty. It is Auth,
// not InvalidRequest: the request is fine, the deployment lacks credentials,
// and only an operator can fix that.
func notConfigured(op string, p provider.Platform) error {
	return &provider.Error{
		Provider: Name,
		Op:       op,
		Kind:     provider.Auth,
		Err: &provider.FieldError{
			Field:  "platform",
			Reason: fmt.Sprintf("no Umeng %s app is configured (appkey and app master secret)", p),
		},
	}
}

// kindOfCode is the one table from Umeng's error_code values to what the
// caller should do. The meanings follow Umeng's published error-code table
// as its server SDKs carry it (Java, PHP and Python), and the current API
// documentation for 2052 (no timestamp) and 5010 (token authentication
// without a p8 certificate). Codes not listed fall back by range: the rest
// of 1xxx and 2xxx are request errors; anything else is not classified (ok
// false), and the HTTP status decides.
//
// The codes the fake server in umengtest invents where Umeng documents
// none (its documentation marks them) are not listed: they all lie in the
// 1xxx and 2xxx ranges and come out InvalidRequest, as the fake means them.
func kindOfCode(code string) (kind provider.Kind, ok bool) {
	switch code {
	case
		"1000", // the request has no appkey
		"1018", // the appkey has not enabled push
		"2000", // the app is disabled
		"2004", // the server IP is not on the app's whitelist
		"2007", // the request is not signed
		"2021", // the appkey does not exist
		"2027", // the sign is wrong
		"2028", // the timestamp expired: every call gets a fresh one, so the host clock is off
		"2032", // no production APNs certificate uploaded
		"2033", // no development APNs certificate uploaded
		"2034", // the APNs certificate expired
		"2035", // the APNs certificate of a scheduled task expired
		"2054", // the server IP is not on the app's whitelist
		"4003", // the appkey is malformed
		"4012", // no permission for this call
		"4015", // Umeng has no information on the app
		"4024", // illegal access
		"5001", // the APNs certificate does not exist
		"5007", // the APNs certificate or its password is wrong
		"5008", // the APNs certificate is unknown to Apple
		"5009", // the TLS handshake with APNs failed (certificate)
		"5010": // APNs token authentication, but no p8 certificate uploaded
		return provider.Auth, true
	case
		"2026", // too many task sends per minute
		"2050": // send rate limit exceeded
		return provider.RateLimited, true
	case
		"2012": // today's broadcast allowance is spent (the daily cap)
		return provider.QuotaExceeded, true
	case
		"4010", // the device token is malformed
		"4014", // the device token does not belong to this appkey
		"4020", // the device token is unknown
		"4025", // every device token of the send failed
		// Some device tokens failed, the others were sent. Send takes
		// this answer as accepted (codePartialSend); elsewhere it is a
		// token error.
		"4026",
		"5000", // the device token is wrong
		"5005": // the device token is malformed
		return provider.InvalidToken, true
	case
		// Umeng's own asynchronous service timed out: it may or may not
		// have taken the push, so retrying may show it twice.
		"4021":
		return provider.Indeterminate, true
	case
		"2013", // the task is still queued; ask again later
		"2014", // the cancel did not go through; try again later
		"2020", // the service is being upgraded
		"2023", // the file upload failed; try again
		"3000", // Umeng database error
		"3001", // Umeng database error
		"3002", // Umeng database error
		"3003", // Umeng database error
		"3004", // Umeng database error
		"4000", // Umeng system error
		"4001", // Umeng is busy
		"4002", // the operation failed on Umeng's side
		"4009", // an Umeng server queue is full
		"4013", // Umeng's asynchronous send failed before it took the push
		"4023", // Umeng internal error, retryable
		"4027", // Umeng could not fetch the uploaded file
		"5006", // Umeng could not open a connection to APNs
		"6002", // Umeng internal error, retryable
		"6003", // Umeng internal error, retryable
		"6004": // Umeng internal error, retryable
		return provider.Temporary, true
	case
		"1001", // no payload
		"1002", // no body in the payload
		"1003", // display_type message without custom
		"1004", // no display_type
		"1005", // img is not an http(s) URL
		"1006", // sound is not a valid URL
		"1007", // url is not valid
		"1008", // a notification without ticker
		"1009", // a notification without title
		"1010", // a notification without text
		"1011", // play_vibrate is not "true" or "false"
		"1012", // play_lights is not "true" or "false"
		"1013", // play_sound is not "true" or "false"
		"1014", // the task id does not exist
		"1015", // no device_tokens
		"1016", // no type
		"1017", // production_mode is not "true" or "false"
		"1019", // unknown display_type
		"1028", // the task can no longer be cancelled
		"2001", // expire_time is not in the future
		"2002", // start_time is not in the future
		"2003", // expire_time is not after start_time
		"2009", // customizedcast without alias or file_id
		"2010", // no device is bound to the aliases: nothing to send, no token at fault
		"2016", // groupcast without filter or group_id
		"2018", // filecast without file_id
		"2019", // the file_id does not exist
		"2022", // the payload is too long
		"2024", // max_send_num is not a positive integer
		"2025", // iOS payload without aps
		"2029", // upload without content
		"2031", // the filter is malformed
		"2036", // the timestamp is malformed
		"4004", // the message type is malformed
		"4005", // the msg is malformed
		"4006", // the body is malformed
		"4007", // the delivery policy is malformed
		"4008", // the expiry time is malformed
		"4011", // a message extension field is invalid
		"4016", // the file's encoding is wrong
		"4017", // the file's type is wrong
		"4018", // the file's remote address is wrong
		"4019", // the file's description is wrong
		"4022", // the appkey is already registered
		"2052", // the request has no timestamp
		"5002", // "d" and "p" are reserved payload keys
		"5003", // the alert is empty
		"5004": // the alert has the wrong type
		return provider.InvalidRequest, true
	}
	if n, err := strconv.Atoi(code); err == nil && n >= 1000 && n < 3000 {
		return provider.InvalidRequest, true
	}
	return provider.Unknown, false
}

// kindOfHTTPStatus classifies an answer that carried no usable error_code.
func kindOfHTTPStatus(status int) provider.Kind {
	switch {
	case status == 429:
		return provider.RateLimited
	case status >= 500:
		return provider.Temporary
	case status == 401 || status == 403:
		return provider.Auth
	case status == 413:
		return provider.InvalidRequest
	case status >= 200 && status < 300:
		// Umeng answered but the answer could not be read: it may have
		// accepted the push.
		return provider.Indeterminate
	}
	return provider.Unknown
}

// transportError classifies a failed HTTP exchange (see
// vendorhttp.TransportError): the URL in err loses its query, and so the
// sign.
func transportError(op string, err error, written bool, secrets ...string) error {
	return vendorhttp.TransportError(Name, op, err, written, secrets...)
}
