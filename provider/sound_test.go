package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/provider"
)

// TestSounds: an iOS alert with no sound named plays the default one (APNs
// plays none for an alert without a sound key); NoSound names none on
// either platform; a named sound is sent as named.
func TestSounds(t *testing.T) {
	for _, tt := range []struct{ sound, ios, android string }{
		{"", provider.DefaultSound, ""},
		{provider.NoSound, "", ""},
		{"chime.caf", "chime.caf", "chime.caf"},
	} {
		n := &provider.Notification{Sound: tt.sound}
		assert.Equal(t, tt.ios, provider.IOSSound(n), "iOS, %q", tt.sound)
		assert.Equal(t, tt.android, provider.AndroidSound(n), "Android, %q", tt.sound)
	}
}
