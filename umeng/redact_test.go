package umeng_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
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

// TestReceiptSecretIsScrubbed: the receipt secret an app's Defaults carry
// in their receipt_url never comes back from the client: not in the error
// of a send whose answer echoes the URL, nor in what Redact returns. A
// short secret is caught after "secret=", a long one wherever it appears,
// decoded or as written.
func TestReceiptSecretIsScrubbed(t *testing.T) {
	for _, tc := range []struct{ name, secret string }{
		{"long", "rcpt-s3cret/with+marks"},
		{"short", "k9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := umeng.ReceiptURLWithSecret("https://push.example.com/api/v1.1/umeng/receipt", tc.secret)
			require.NoError(t, err)
			c, fake := newAgainstFake(t, umengtest.Config{}, func(cfg *umeng.Config) {
				cfg.Android.Defaults = umeng.Options{ReceiptURL: u, ReceiptType: umeng.ReceiptArrivalAndClick}
			})
			written := u[strings.Index(u, "secret=")+len("secret="):]
			echo := "bad receipt_url " + u
			if len(tc.secret) >= 8 {
				echo += " (" + url.QueryEscape(tc.secret) + ", " + tc.secret + ")"
			}
			require.NoError(t, fake.FailNext(1, umengtest.Fault{Path: "/api/send", HTTPStatus: 400, Code: "2000", Message: echo}))
			_, err = c.Send(context.Background(), quotaRequest(provider.Android, provider.Audience{Kind: provider.AudienceTokens,
				Tokens: []string{umengtest.AndroidToken("1")}}, 1))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "receipt?secret=REDACTED")
			for _, text := range []string{err.Error(), c.Redact(echo), c.Redact("x&secret=" + written + "&y=1")} {
				assert.NotContains(t, text, written)
				if len(tc.secret) >= 8 {
					assert.NotContains(t, text, tc.secret)
				}
			}
			assert.Equal(t, "x&secret=REDACTED&y=1", c.Redact("x&secret="+written+"&y=1"))
		})
	}
}

// TestOptionsPrintsNoReceiptSecret: an Options printed with any verb, or
// logged, shows its receipt URL without the secret; its JSON keeps it.
func TestOptionsPrintsNoReceiptSecret(t *testing.T) {
	u, err := umeng.ReceiptURLWithSecret("https://hooks.example.com/umeng/receipt", "s3cret-0123456789")
	require.NoError(t, err)
	o := umeng.Options{ReceiptURL: u, ReceiptType: umeng.ReceiptArrivalAndClick}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		got := fmt.Sprintf(verb, o)
		assert.NotContains(t, got, "s3cret-0123456789", verb)
		assert.Contains(t, got, "hooks.example.com/umeng/receipt?secret=REDACTED", verb)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("options", "o", o, "p", &o)
	assert.NotContains(t, logs.String(), "s3cret-0123456789")
	b, err := json.Marshal(o)
	require.NoError(t, err)
	assert.Contains(t, string(b), "s3cret-0123456789", "the wire form keeps it: Umeng posts there")
}

// TestClassReceiptSecretIsScrubbed: a receipt secret only a class's
// defaults carry is scrubbed as the Defaults' is, wherever it appears.
func TestClassReceiptSecretIsScrubbed(t *testing.T) {
	const secret = "class-rcpt-s3cret"
	u, err := umeng.ReceiptURLWithSecret("https://push.example.com/api/v1.1/umeng/receipt", secret)
	require.NoError(t, err)
	c, err := umeng.New(umeng.Config{Android: umeng.App{AppKey: "ak", AppMasterSecret: "am-secret",
		ClassDefaults: map[provider.Class]umeng.Options{provider.ClassMarketing: {ReceiptURL: u}}}})
	require.NoError(t, err)
	assert.Equal(t, "echo REDACTED", c.Redact("echo "+secret))
}
