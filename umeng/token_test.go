package umeng_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

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
