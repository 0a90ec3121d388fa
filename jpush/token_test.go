package jpush_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
)

// TestCheckTokenAgreesWithTheFake: every registration id jpushtest makes
// is one CheckToken takes on both platforms; the lengths and characters
// the fake refuses are refused here first, without the token in the
// error.
func TestCheckTokenAgreesWithTheFake(t *testing.T) {
	for i := range 50 {
		rid := jpushtest.RegistrationID(strings.Repeat("s", i))
		assert.NoError(t, jpush.CheckToken(provider.Android, rid))
		assert.NoError(t, jpush.CheckToken(provider.IOS, rid))
	}
	assert.NoError(t, jpush.CheckToken(provider.Android, strings.Repeat("A", 11)))
	assert.NoError(t, jpush.CheckToken(provider.Android, strings.Repeat("9", 64)))
	for _, bad := range []string{"", "short5", strings.Repeat("a", 10), strings.Repeat("a", 65)} {
		assert.ErrorContains(t, jpush.CheckToken(provider.Android, bad), "not a JPush registration id", bad)
	}
	err := jpush.CheckToken(provider.Android, "1a2b3c4d5e6-7f8a9b0c")
	assert.ErrorContains(t, err, "holds a character other than a letter or digit")
	assert.NotContains(t, err.Error(), "1a2b3c4d5e6-7f8a9b0c")
	assert.ErrorContains(t, jpush.CheckToken("web", jpushtest.RegistrationID("x")), `platform "web"`)
	assert.Implements(t, (*provider.TokenChecker)(nil), &jpush.Client{})
}
