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
