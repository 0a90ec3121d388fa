package push

import (
	"errors"
	"strings"

	"github.com/tuisong/push/provider"
)

// scrubText removes from vendor text what must never be stored, logged or
// returned: every credential a configured provider can redact
// (provider.Redactor), so that a vendor that echoes the secret of another
// app or provider leaks nothing, and each of tokens in full (masked with
// provider.MaskToken).
func (s *Service) scrubText(text string, tokens []string) string {
	for _, name := range s.names {
		if r, ok := s.providers[name].(provider.Redactor); ok {
			text = r.Redact(text)
		}
	}
	for _, t := range tokens {
		if t != "" && strings.Contains(text, t) {
			text = strings.ReplaceAll(text, t, provider.MaskToken(t))
		}
	}
	return text
}

// scrubErr returns err with its text scrubbed (see scrubText). An error
// whose text needs nothing is returned as it is. Otherwise its
// *provider.Error is copied with the message and the cause scrubbed, so
// that Kind, Code, HTTPStatus and RetryAfter still drive the delivery and
// errors.Is still finds the cause's sentinels; the unscrubbed cause is
// not reachable through it. Code is scrubbed too: it is the vendor's, and
// is stored and put on spans.
func (s *Service) scrubErr(err error, tokens []string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	if s.scrubText(text, tokens) == text {
		return err
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		return &scrubbedError{msg: s.scrubText(text, tokens), orig: err}
	}
	cp := *pe
	cp.Message = s.scrubText(pe.Message, tokens)
	cp.Code = s.scrubText(pe.Code, tokens)
	if pe.Err != nil {
		cp.Err = &scrubbedError{msg: s.scrubText(pe.Err.Error(), tokens), orig: pe.Err}
	}
	return &cp
}

// scrubReceipt returns rc with its Raw answer scrubbed; Failures keep
// their tokens, which the Service needs to disable them.
func (s *Service) scrubReceipt(rc *provider.Receipt, tokens []string) *provider.Receipt {
	if rc == nil || len(rc.Raw) == 0 {
		return rc
	}
	if raw := s.scrubText(string(rc.Raw), tokens); raw != string(rc.Raw) {
		cp := *rc
		cp.Raw = []byte(raw)
		return &cp
	}
	return rc
}

// scrubbedError stands in for an error whose text held a secret or a
// token. errors.Is sees through it; errors.As and Unwrap do not, since
// they would hand out the original text.
type scrubbedError struct {
	msg  string
	orig error
}

func (e *scrubbedError) Error() string { return e.msg }

func (e *scrubbedError) Is(target error) bool { return errors.Is(e.orig, target) }
