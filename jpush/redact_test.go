package jpush_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/jpush/jpushtest"
)

// TestRedact removes the master secret and the Basic credentials.
func TestRedact(t *testing.T) {
	c, _ := newAgainstFake(t, jpushtest.Config{}, nil)
	app := jpushtest.DefaultApps()[0]
	basic := base64.StdEncoding.EncodeToString([]byte(app.AppKey + ":" + app.MasterSecret))
	assert.Equal(t, "a REDACTED b Basic REDACTED", c.Redact("a "+app.MasterSecret+" b Basic "+basic))
}
