package provider

import "fmt"

// Platform is the operating system of a device. Vendors such as Umeng run a
// separate app (credentials, limits) per platform, so every Request targets
// exactly one.
type Platform string

// The platforms the product brief's API accepts.
const (
	IOS     Platform = "ios"
	Android Platform = "android"
)

// Platforms lists every supported platform in a stable order.
func Platforms() []Platform { return []Platform{IOS, Android} }

// Valid reports whether p is one of the supported platforms.
func (p Platform) Valid() bool { return p == IOS || p == Android }

// ParsePlatform returns the Platform named s ("ios" or "android", exactly) or
// an InvalidRequest error naming the field "platform".
func ParsePlatform(s string) (Platform, error) {
	p := Platform(s)
	if !p.Valid() {
		return "", Invalid("platform", fmt.Sprintf("must be %q or %q, got %q", IOS, Android, s))
	}
	return p, nil
}
