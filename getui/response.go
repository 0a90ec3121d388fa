package getui

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// maxMessageBytes caps the vendor message kept on an error.
const maxMessageBytes = 512

// envelope is every Getui answer: {"code":0,"msg":"","data":…}. code
// arrives as a number (a string is accepted too).
type envelope struct {
	Code json.RawMessage `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// answer is a successful answer, with every secret removed.
type answer struct {
	status int
	raw    json.RawMessage // the whole envelope
	data   json.RawMessage
}

// decode turns an HTTP answer into an answer or a *provider.Error. Getui
// puts business errors in the envelope's code, with HTTP 200, 400, 401 or
// 403, so the code decides first and the HTTP status only when there is
// no code the table knows. Code 301 also moves the Client to the host the
// answer names.
func (c *Client) decode(x call, status int, body []byte, secrets ...string) (*answer, error) {
	body = vendorhttp.ScrubBytes(body, longSecrets(secrets)...)
	trimmed := bytes.TrimSpace(body)
	var env envelope
	code, parsed := 0, false
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &env) == nil && len(env.Code) > 0 {
		n, err := strconv.Atoi(flexString(env.Code))
		code, parsed = n, err == nil
	}
	ok2xx := status >= 200 && status < 300
	if parsed && code == CodeOK && ok2xx {
		return &answer{status: status, raw: json.RawMessage(trimmed), data: env.Data}, nil
	}
	pe := &provider.Error{Provider: Name, Op: x.op, HTTPStatus: status}
	if !parsed {
		pe.Kind = kindOfHTTPStatus(status)
		pe.Message = "unreadable answer"
		return nil, pe
	}
	pe.Code = strconv.Itoa(code)
	pe.Message = vendorhttp.Truncate(scrubString(env.Msg, secrets...), maxMessageBytes)
	if code == CodeWrongHost {
		if host, ok := c.switchHost(env.Data); ok {
			pe.Message = strings.TrimPrefix(pe.Message+"; now calling "+host, "; ")
		}
	}
	kind, known := kindOfCode(code, pe.Message, x.byCID)
	switch {
	case known:
		pe.Kind = kind
	case code == CodeOK:
		pe.Kind = kindOfHTTPStatus(status)
	case ok2xx:
		// An explicit refusal with a code we do not know.
		pe.Kind = provider.Unknown
	default:
		pe.Kind = kindOfHTTPStatus(status)
	}
	return nil, pe
}

// hostList is the data of a 301 answer.
type hostList struct {
	HostList []struct {
		DomainList []string `json:"domain_list"`
	} `json:"host_list"`
}

// switchHost makes data.host_list[0].domain_list[0] the Client's API root
// and returns it. A domain without a scheme gets https://; one without a
// path keeps the current root's path (/v2). An unusable answer changes
// nothing, nor does one that would move an https root to http: the calls
// carry the auth token, which one forged answer must not expose.
func (c *Client) switchHost(data json.RawMessage) (string, bool) {
	var hl hostList
	if json.Unmarshal(data, &hl) != nil || len(hl.HostList) == 0 || len(hl.HostList[0].DomainList) == 0 {
		return "", false
	}
	domain := strings.TrimRight(strings.TrimSpace(hl.HostList[0].DomainList[0]), "/")
	if domain == "" {
		return "", false
	}
	if !strings.Contains(domain, "://") {
		domain = "https://" + domain
	}
	u, err := url.Parse(domain)
	if err != nil || vendorhttp.BaseURLProblem(domain) != "" {
		return "", false
	}
	cur, err := url.Parse(c.BaseURL())
	if err != nil || (strings.EqualFold(cur.Scheme, "https") && !strings.EqualFold(u.Scheme, "https")) {
		return "", false
	}
	if u.Path == "" {
		domain += strings.TrimRight(cur.Path, "/")
	}
	c.base.Store(&domain)
	return domain, true
}

// flexString renders a JSON string or number as text; "" for anything else.
func flexString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
