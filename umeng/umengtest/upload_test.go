package umengtest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUploadThenFilecast(t *testing.T) {
	f := newFixture(t)
	a, b, dead := IOSToken("a"), IOSToken("b"), IOSToken("dead")
	f.srv.MarkInvalid(dead)

	up := f.upload(f.ios, a+"\r\n"+b+"\n\n  "+dead+"  \nnot-a-token\n"+a+"\n")
	require.Equal(t, http.StatusOK, up.status, "body: %s", up.raw)
	fileID := up.str("file_id")
	assert.Len(t, fileID, 20)
	assert.True(t, strings.HasPrefix(fileID, prefixFile))

	id := f.mustSend(f.ios, map[string]any{"type": "filecast", "file_id": fileID, "payload": alert("t", "x")})
	assert.True(t, strings.HasPrefix(id, prefixFilecast))
	assert.Empty(t, f.srv.Deliveries(), "a task delivers when done, not when accepted")

	f.clock.Advance(2 * time.Second)
	r := f.status(f.ios, id)
	assert.Equal(t, int(StatusDone), r.num("status"))
	assert.Equal(t, 4, r.num("total_count"), "distinct lines")
	assert.Equal(t, 2, r.num("sent_count"), "the dead and the malformed token receive nothing")
	assert.Equal(t, 1, f.srv.DeliveryCount(a))
	assert.Equal(t, 1, f.srv.DeliveryCount(b))
	assert.Zero(t, f.srv.DeliveryCount(dead))

	recs := f.srv.Requests()
	require.Len(t, recs, 3)
	assert.Equal(t, fileID, recs[0].FileID)
	assert.Equal(t, fileID, recs[1].FileID)
	assert.Equal(t, id, recs[2].TaskID)
}

func TestUploadThenCustomizedcast(t *testing.T) {
	f := newFixture(t)
	a, b := AndroidToken("a"), AndroidToken("b")
	f.addDevice(f.android, Device{Token: a, Aliases: map[string]string{"uid": "u1"}})
	f.addDevice(f.android, Device{Token: b, Aliases: map[string]string{"uid": "u2"}})
	fileID := f.upload(f.android, "u2\nu3\n").str("file_id")

	id := f.mustSend(f.android, map[string]any{"type": "customizedcast", "alias_type": "uid", "file_id": fileID, "payload": note("t", "x")})
	assert.True(t, strings.HasPrefix(id, prefixFileCustomized))
	require.NoError(t, f.srv.AdvanceTask(id, StatusDone))
	assert.Zero(t, f.srv.DeliveryCount(a))
	assert.Equal(t, 1, f.srv.DeliveryCount(b))
}

func TestUploadErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"content missing", map[string]any{}, CodeMissingContent},
		{"content empty", map[string]any{"content": ""}, CodeMissingContent},
		{"content only blank lines", map[string]any{"content": "\n \r\n"}, CodeMissingContent},
		{"content an array", map[string]any{"content": []string{"a"}}, CodeMissingContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.post(f.android, pathUpload, f.fields(f.android, tt.body))
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, tt.want, r.code())
		})
	}
}

func TestUploadOverTenMegabytes(t *testing.T) {
	f := newFixture(t)
	// Built by hand: marshalling 10 MB under -race costs seconds.
	raw := []byte(`{"appkey":"` + f.android.AppKey + `","timestamp":"` + strconv.FormatInt(start.UnixMilli(), 10) +
		`","content":"` + strings.Repeat("a", maxUploadContent+1) + `"}`)
	r := f.postRaw(pathUpload, raw, clientSign(f.url+pathUpload, raw, f.android.AppMasterSecret))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, CodeUploadTooLarge, r.code(), "not 2023, which means \"upload failed, retry\"")
	assert.Empty(t, f.srv.Requests()[0].FileID, "nothing is stored")
}

func TestUploadFileScope(t *testing.T) {
	f := newFixture(t)
	fileID := f.upload(f.android, AndroidToken("x")).str("file_id")
	require.NotEmpty(t, fileID)

	r := f.send(f.ios, map[string]any{"type": "filecast", "file_id": fileID, "payload": alert("t", "x")})
	assert.Equal(t, CodeFileNotFound, r.code(), "a file belongs to the app that uploaded it")

	filecast := map[string]any{"type": "filecast", "file_id": fileID, "payload": note("t", "x")}
	f.clock.Advance(fileLifetime)
	f.mustSend(f.android, filecast)
	f.clock.Advance(time.Second)
	assert.Equal(t, CodeFileNotFound, f.send(f.android, filecast).code(), "files are kept two months")
}

func TestBodyTooLarge(t *testing.T) {
	f := newFixture(t)
	r := f.postRaw(pathUpload, make([]byte, maxBody+1), "00")
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
}
