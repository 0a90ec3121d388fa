package umengtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/testclock"
)

func TestSignVectors(t *testing.T) {
	tests := []struct {
		name, url, body, secret, want string
	}{
		{
			name: "minimal", url: "https://msgapi.umeng.com/api/send", body: `{"a":1}`, secret: "sec",
			want: "6fa5dbccea0287bdd8627437ce27ccfa",
		},
		{
			name:   "legacy host broadcast",
			url:    "http://msg.umeng.com/api/send",
			secret: "bedyc7rzfqdy2wcvycrkabprdil2bpmc",
			body:   `{"policy":{"expire_time":"2018-03-27 09:06:02"},"description":"qweqwe","production_mode":true,"appkey":"5a77fca0b27b0a5f3f0000cb","payload":{"body":{"title":"fdasfa","ticker":"fdasfa","text":"qweqwewqewq","after_open":"go_app","play_vibrate":"false","play_lights":"false","play_sound":"true"},"display_type":"notification"},"type":"broadcast","timestamp":"1521856908422"}`,
			want:   "914c16508236ab0908e0728301d27d04",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sign(http.MethodPost, tt.url, []byte(tt.body), tt.secret))
		})
	}
}

// TestSignRejectsOneAlteredByte is the package's acceptance test: a body
// changed by a single byte after signing is refused with 2027 and changes
// nothing.
func TestSignRejectsOneAlteredByte(t *testing.T) {
	f := newFixture(t)
	token := AndroidToken("one-byte")
	raw, err := json.Marshal(f.fields(f.android, unicast(f.android, token)))
	require.NoError(t, err)
	sig := clientSign(f.url+pathSend, raw, f.android.AppMasterSecret)

	altered := []byte(strings.Replace(string(raw), `"World"`, `"Worle"`, 1))
	require.Len(t, altered, len(raw))
	require.NotEqual(t, raw, altered)

	r := f.postRaw(pathSend, altered, sig)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "FAIL", r.Ret)
	assert.Equal(t, CodeBadSign, r.code())
	assert.Zero(t, f.srv.DeliveryCount(token))
	assert.Empty(t, f.srv.Sends())

	// The unaltered body with the same sign goes through.
	r = f.postRaw(pathSend, raw, sig)
	assert.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
	assert.Equal(t, 1, f.srv.DeliveryCount(token))
}

func TestSignFailures(t *testing.T) {
	f := newFixture(t)
	raw, err := json.Marshal(f.fields(f.android, unicast(f.android, AndroidToken("s"))))
	require.NoError(t, err)
	good := clientSign(f.url+pathSend, raw, f.android.AppMasterSecret)

	tests := []struct {
		name string
		sign string
		want string
	}{
		{"unsigned", "", CodeUnsigned},
		{"uppercase hex", strings.ToUpper(good), CodeBadSign},
		{"other app's secret", clientSign(f.url+pathSend, raw, f.ios.AppMasterSecret), CodeBadSign},
		{"other path signed", clientSign(f.url+pathStatus, raw, f.android.AppMasterSecret), CodeBadSign},
		{"other host signed", clientSign("http://msgapi.umeng.com"+pathSend, raw, f.android.AppMasterSecret), CodeBadSign},
		{"https scheme signed over http", clientSign(strings.Replace(f.url, "http:", "https:", 1)+pathSend, raw, f.android.AppMasterSecret), CodeBadSign},
		{"query included in the signed url", clientSign(f.url+pathSend+"?x=1", raw, f.android.AppMasterSecret), CodeBadSign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.postRaw(pathSend, raw, tt.sign)
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, tt.want, r.code())
			assert.NotContains(t, string(r.raw), good, "the expected sign must not leak")
			assert.NotContains(t, string(r.raw), f.android.AppMasterSecret)
		})
	}
	assert.Empty(t, f.srv.Sends())
}

// TestSignUnderStripPrefix mounts the Handler under a prefix, as the demo
// server does: the client signs the full path it calls, and that is what the
// fake checks.
func TestSignUnderStripPrefix(t *testing.T) {
	srv, err := New(Config{})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	mux := http.NewServeMux()
	mux.Handle("/umeng/", http.StripPrefix("/umeng", srv.Handler()))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)

	app := DefaultApps()[1]
	f := &fixture{t: t, srv: srv, url: hs.URL + "/umeng", clock: testclock.New(time.Now()), client: hs.Client()}
	body := f.fields(app, unicast(app, AndroidToken("prefixed")))

	r := f.post(app, pathSend, body)
	assert.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
	assert.Equal(t, 1, srv.DeliveryCount(AndroidToken("prefixed")))

	// Signing only the stripped path is wrong: the client called /umeng/api/send.
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	r = f.postRaw(pathSend, raw, clientSign(hs.URL+pathSend, raw, app.AppMasterSecret))
	assert.Equal(t, CodeBadSign, r.code())
}
