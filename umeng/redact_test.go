package umeng_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng/umengtest"
)

// TestOtherAppSecretIsScrubbed: an Android send whose answer echoes the
// iOS app's secret (and its own) returns an error holding neither; Redact
// removes both apps' secrets from any text.
func TestOtherAppSecretIsScrubbed(t *testing.T) {
	c, fake := newAgainstFake(t, umengtest.Config{}, nil)
	var secrets []string
	for _, a := range umengtest.DefaultApps() {
		secrets = append(secrets, a.AppMasterSecret)
	}
	echo := "echo " + strings.Join(secrets, " ")
	require.NoError(t, fake.FailNext(1, umengtest.Fault{Path: "/api/send", HTTPStatus: 500, Code: "2020", Message: echo}))
	_, err := c.Send(context.Background(), quotaRequest(provider.Android, provider.Audience{Kind: provider.AudienceTokens,
		Tokens: []string{umengtest.AndroidToken("1")}}, 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "echo REDACTED REDACTED")
	assert.Equal(t, "echo REDACTED REDACTED", c.Redact(echo))
}
