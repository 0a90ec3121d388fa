package getui_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

// TestCheckTokenAgreesWithTheFake: every cid getuitest makes is one
// CheckToken takes on both platforms; the shapes the fake refuses (a
// length other than 32, upper case, a letter past f) are refused here
// first, without the token in the error.
func TestCheckTokenAgreesWithTheFake(t *testing.T) {
	for i := range 50 {
		cid := getuitest.CID(strings.Repeat("s", i))
		assert.NoError(t, getui.CheckToken(provider.Android, cid))
		assert.NoError(t, getui.CheckToken(provider.IOS, cid))
	}
	cid := getuitest.CID("x")
	for _, bad := range []string{"", cid[:31], cid + "0"} {
		assert.ErrorContains(t, getui.CheckToken(provider.Android, bad), "not a Getui cid", bad)
	}
	for _, bad := range []string{strings.ToUpper(cid), "g" + cid[1:]} {
		err := getui.CheckToken(provider.Android, bad)
		assert.ErrorContains(t, err, "holds a character that is no lowercase hex digit")
		assert.NotContains(t, err.Error(), bad)
	}
	assert.ErrorContains(t, getui.CheckToken("web", cid), `platform "web"`)
	assert.Implements(t, (*provider.TokenChecker)(nil), &getui.Client{})
}
