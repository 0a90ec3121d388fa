package main

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
)

// TestUnknownMembersAreLogged: the server accepts a push_message whose
// body holds a member the API does not take (a misspelled "extras"), as
// apps in the field send members of their own, and its log says so once,
// naming the member, not its value.
func TestUnknownMembersAreLogged(t *testing.T) {
	a, logs := newLoggedDemoApp(t)
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	c := client{t, srv.URL}

	tok := iosToken("iphone")
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1001","uuid":"iphone-6f1c","platform":"ios","push_token":%q}`, tok))
	m := c.ok("POST", push.PathPushMessage, `{"user_num":"u1001","title":"到货提醒","content":"c","extras":{"goods_id":"secret-42"}}`)
	assert.Equal(t, float64(1), m["accepted"], m)
	d := a.fake.Deliveries()
	require.Len(t, d, 1)
	assert.Empty(t, d[0].Extras, "extras is not extra: nothing reaches the phone")

	out := logs.String()
	var warned []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "unknown parameters") {
			warned = append(warned, line)
		}
	}
	require.Len(t, warned, 1, out)
	assert.Contains(t, warned[0], "level=WARN")
	assert.Contains(t, warned[0], `unknown="\"extras\""`)
	assert.Contains(t, warned[0], "path="+push.PathPushMessage)
	assert.NotContains(t, out, "secret-42")
}
