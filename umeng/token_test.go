package umeng_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// TestCheckTokenAgreesWithTheFake: every token umengtest makes is one
// CheckToken takes, and the shapes the fake refuses at send (a wrong
// length, a wrong alphabet) are refused here first; a platform Umeng has
// no tokens of is refused by name.
func TestCheckTokenAgreesWithTheFake(t *testing.T) {
	for i := range 50 {
		seed := strings.Repeat("s", i)
		assert.NoError(t, umeng.CheckToken(provider.IOS, umengtest.IOSToken(seed)))
		assert.NoError(t, umeng.CheckToken(provider.Android, umengtest.AndroidToken(seed)))
	}
	assert.ErrorContains(t, umeng.CheckToken(provider.Android, ""), "is 0 characters")
	assert.ErrorContains(t, umeng.CheckToken(provider.IOS, ""), "is 0 characters")
	assert.ErrorContains(t, umeng.CheckToken("web", umengtest.IOSToken("x")), `platform "web" is not ios or android`)
	c := &umeng.Client{}
	assert.Implements(t, (*provider.TokenChecker)(nil), c)
	assert.Error(t, c.CheckToken(provider.Android, umengtest.IOSToken("x")))
}

// TestCheckTokenShapeBounds checks the edges of the two shapes: an
// Android token is exactly 44 characters of base64 (either alphabet, with
// padding), an iOS token an even number of hex digits from 64 to 200.
func TestCheckTokenShapeBounds(t *testing.T) {
	android := umengtest.AndroidToken("bounds")
	require.Len(t, android, 44)
	hex := func(n int) string { return strings.Repeat("a1", n/2) + strings.Repeat("f", n%2) }
	tests := []struct {
		name  string
		p     provider.Platform
		token string
		err   string // "" when taken
	}{
		{"android 44", provider.Android, android, ""},
		{"android 43", provider.Android, android[:43], "is 43 characters"},
		{"android 45", provider.Android, android + "A", "is 45 characters"},
		{"android standard base64 with padding", provider.Android, strings.Repeat("Ab+/", 10) + "cd==", ""},
		{"android URL-safe base64", provider.Android, strings.Repeat("Ab-_", 11), ""},
		{"android with a dot", provider.Android, android[:43] + ".", "holds a character base64 does not use"},
		{"ios 64", provider.IOS, hex(64), ""},
		{"ios 64 upper case", provider.IOS, strings.ToUpper(hex(64)), ""},
		{"ios 62", provider.IOS, hex(62), "is 62 characters"},
		{"ios 63", provider.IOS, hex(63), "is 63 characters"},
		{"ios 65", provider.IOS, hex(65), "is 65 characters"},
		{"ios 66", provider.IOS, hex(66), ""},
		{"ios 200", provider.IOS, hex(200), ""},
		{"ios 202", provider.IOS, hex(202), "is 202 characters"},
		{"ios not hex", provider.IOS, hex(62) + "g0", "holds a character that is no hex digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := umeng.CheckToken(tt.p, tt.token)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.err)
			assert.NotContains(t, err.Error(), tt.token, "the error names the shape, never the token")
		})
	}
}

// TestCanonicalToken: an iOS token, the APNs token in hex, is one token in
// either case and is spelled in lower case; an Android token, base64, keeps
// its case; a token of no shape comes back as it is.
func TestCanonicalToken(t *testing.T) {
	low := umengtest.IOSToken("phone")
	up := strings.ToUpper(low)
	require.NotEqual(t, low, up)
	assert.Equal(t, low, umeng.CanonicalToken(provider.IOS, up))
	assert.Equal(t, low, umeng.CanonicalToken(provider.IOS, low))
	mixed := low[:10] + up[10:]
	assert.Equal(t, low, umeng.CanonicalToken(provider.IOS, mixed))
	android := umengtest.AndroidToken("phone")
	require.NotEqual(t, android, strings.ToLower(android), "the fake's Android token has upper-case letters")
	assert.Equal(t, android, umeng.CanonicalToken(provider.Android, android))
	assert.Equal(t, "not hex", umeng.CanonicalToken(provider.Android, "not hex"))
	var c provider.Provider = &umeng.Client{}
	tc, ok := c.(provider.TokenCanonicalizer)
	require.True(t, ok)
	assert.Equal(t, low, tc.CanonicalToken(provider.IOS, up))
}
