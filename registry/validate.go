package registry

import (
	"strings"
	"unicode/utf8"
)

// Column limits of the brief's schema. VARCHAR limits count characters,
// TEXT limits count bytes (MySQL/MariaDB's TEXT holds 65,535 bytes).
const (
	MaxVarchar = 255
	MaxText    = 65535
	// MaxTokensText is the limit of sys_push_messages.*_device_tokens, which
	// the migrations widen from TEXT to MEDIUMTEXT so that a push to many
	// devices is recorded whole.
	MaxTokensText = 16777215
)

// ValidateDevice checks d and userNum against the schema and the brief's
// rules. It does not modify d.
func ValidateDevice(d *Device, userNum string) error {
	if err := required("user_num", userNum); err != nil {
		return err
	}
	if err := varchar("user_num", userNum); err != nil {
		return err
	}
	if d == nil {
		return invalid("device", "is nil")
	}
	if err := required("uuid", d.UUID); err != nil {
		return err
	}
	if d.Platform != PlatformIOS && d.Platform != PlatformAndroid {
		return invalid("platform", "must be %q or %q, got %q", PlatformIOS, PlatformAndroid, d.Platform)
	}
	if err := required("push_token", d.PushToken); err != nil {
		return err
	}
	if strings.ContainsAny(d.PushToken, ", \t\r\n") {
		return invalid("push_token", "must not contain commas or white space")
	}
	for _, f := range []struct{ name, v string }{
		{"uuid", d.UUID}, {"push_token", d.PushToken}, {"push_platform", d.PushPlatform},
		{"name", d.Name}, {"os", d.OS}, {"os_version", d.OSVersion}, {"alias", d.Alias},
	} {
		if err := varchar(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// ValidatePushMessage checks m and its deliveries against the schema.
func ValidatePushMessage(m *PushMessage, ds []*Delivery) error {
	if m == nil {
		return invalid("push_message", "is nil")
	}
	for _, f := range []struct{ name, v string }{
		{"title", m.Title}, {"extra_params_string", m.Extra}, {"push_type", m.PushType}, {"dedupe_key", m.DedupeKey},
	} {
		if err := varchar(f.name, f.v); err != nil {
			return err
		}
	}
	if err := text("content", m.Content, MaxText); err != nil {
		return err
	}
	size := map[string]int{}
	for i, d := range ds {
		if d == nil {
			return invalid("deliveries", "delivery %d is nil", i)
		}
		if d.Platform != PlatformIOS && d.Platform != PlatformAndroid {
			return invalid("delivery.platform", "must be %q or %q, got %q", PlatformIOS, PlatformAndroid, d.Platform)
		}
		if err := required("delivery.provider", d.Provider); err != nil {
			return err
		}
		if err := required("delivery.idempotency_key", d.IdempotencyKey); err != nil {
			return err
		}
		if err := varchar("delivery.idempotency_key", d.IdempotencyKey); err != nil {
			return err
		}
		if d.Audience == AudienceTokens && len(d.Tokens) == 0 {
			return invalid("delivery.tokens", "is empty for a token delivery")
		}
		for _, t := range d.Tokens {
			size[d.Platform] += len(t) + 1
		}
	}
	for p, n := range size {
		if n-1 > MaxTokensText {
			return invalid(p+"_device_tokens", "the push's %d bytes of tokens exceed %d", n-1, MaxTokensText)
		}
	}
	return nil
}

// ValidateCenterMessage checks m against the schema of sys_message_center.
func ValidateCenterMessage(m *CenterMessage) error {
	if m == nil {
		return invalid("message_center", "is nil")
	}
	for _, f := range []struct{ name, v string }{
		{"title", m.Title}, {"extra_params_string", m.Extra}, {"notify_mode", m.NotifyMode},
	} {
		if err := varchar(f.name, f.v); err != nil {
			return err
		}
	}
	if err := required("receivers", m.Receivers); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"content", m.Content}, {"receivers", m.Receivers}, {"send_result", m.SendResult}, {"remark", m.Remark},
	} {
		if err := text(f.name, f.v, MaxText); err != nil {
			return err
		}
	}
	return nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return invalid(field, "is required")
	}
	return nil
}

func varchar(field, v string) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > MaxVarchar {
		return invalid(field, "is %d characters, longer than %d", n, MaxVarchar)
	}
	return nil
}

func text(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalid(field, "is not valid UTF-8")
	}
	if len(v) > max {
		return invalid(field, "is %d bytes, longer than %d", len(v), max)
	}
	return nil
}

// Clip shortens s to at most max characters, marking the cut with "…" so
// that a shortened value is never mistaken for a whole one. Stores use it
// only for summary columns whose whole value is kept elsewhere.
func Clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
