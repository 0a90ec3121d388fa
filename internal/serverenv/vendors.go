package serverenv

import (
	"log/slog"
	"net/url"
)

// VendorAttrs describes each vendor configured with credentials, for a
// start-up log line: the base URL it calls (any user info dropped) and,
// where the vendor has one, the mode it pushes in. Umeng's test mode, or
// JPush's APNs sandbox, sends iOS pushes to development builds only.
func (c Config) VendorAttrs() []slog.Attr {
	var out []slog.Attr
	if c.Umeng() {
		mode := "production"
		if !c.ProductionMode {
			mode = "test (production_mode false: iOS pushes go to the APNs sandbox)"
		}
		out = append(out, slog.Group("umeng", slog.String("base_url", baseURL(c.UmengBaseURL)), slog.String("mode", mode)))
	}
	if c.JPush() {
		apns := "production"
		if !c.JPushAPNsProduction {
			apns = "sandbox"
		}
		out = append(out, slog.Group("jpush", slog.String("base_url", baseURL(c.JPushBaseURL)), slog.String("apns", apns)))
	}
	if c.Getui() {
		out = append(out, slog.Group("getui", slog.String("base_url", baseURL(c.GetuiBaseURL))))
	}
	return out
}

// baseURL is u without its user info, if it has any.
func baseURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	p.User = nil
	return p.String()
}
