package umeng

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tuisong/push/provider"
)

// maxUploadBytes is Umeng's limit on one uploaded file.
const maxUploadBytes = 10 << 20

// uploadBody is the JSON body of /upload.
type uploadBody struct {
	AppKey    string `json:"appkey"`
	Timestamp string `json:"timestamp"`
	Content   string `json:"content"`
}

// Upload stores lines (device tokens for a filecast, or aliases for a
// customizedcast by file) at Umeng, one per line, and returns the file_id to
// put in Audience.FileID. Umeng keeps a file for two months and accepts up
// to 10 MB. Entries must be non-empty and free of white space and commas.
//
// Errors are *provider.Error with Op "upload" (or "validate").
func (c *Client) Upload(ctx context.Context, p provider.Platform, lines []string) (string, error) {
	if c.unbuilt() {
		return "", notBuilt(opUpload)
	}
	app, err := c.appFor(opUpload, p)
	if err != nil {
		return "", err
	}
	if len(lines) == 0 {
		return "", invalid("tokens", "is empty")
	}
	plain := true
	for i, l := range lines {
		if plainListItem(l) {
			continue
		}
		plain = false
		switch {
		case l == "":
			return "", invalid(fmt.Sprintf("tokens[%d]", i), "is empty")
		case strings.ContainsFunc(l, isSpaceOrControl) || strings.Contains(l, ","):
			return "", invalid(fmt.Sprintf("tokens[%d]", i), "must not contain white space or commas")
		}
	}
	if size := provider.FileBytes(lines); size > maxUploadBytes {
		return "", invalid("tokens", fmt.Sprintf("make a file of %d bytes; Umeng accepts at most %d", size, maxUploadBytes))
	}
	return c.upload(ctx, p, app, lines, plain)
}

// encodeUpload returns the JSON of the uploadBody of lines, one per line.
// A file of plain lines (plain: every line is plainListItem, what JSON
// writes as it is, as the caller's checks found) is written straight into
// one buffer of its final size, rather than joined, then encoded and
// copied: a 40,000-token file by file (a batch of Config.FilecastThreshold)
// is about 2 MB, and four are uploaded at once. The bytes are
// encoding/json's either way.
func encodeUpload(appKey, timestamp string, lines []string, plain bool) ([]byte, error) {
	if !plain {
		var content strings.Builder
		for _, l := range lines {
			content.WriteString(l)
			content.WriteByte('\n')
		}
		return marshal(uploadBody{AppKey: appKey, Timestamp: timestamp, Content: content.String()})
	}
	size := 0
	for _, l := range lines {
		size += len(l) + len(`\n`)
	}
	head, err := marshal(uploadBody{AppKey: appKey, Timestamp: timestamp})
	if err != nil {
		return nil, err
	}
	head = head[:len(head)-len(`""}`)] // up to the empty content's opening quote
	out := make([]byte, 0, len(head)+len(`""}`)+size)
	out = append(out, head...)
	out = append(out, '"')
	for _, l := range lines {
		out = append(out, l...)
		out = append(out, `\n`...)
	}
	return append(out, `"}`...), nil
}

// upload posts lines that have already been checked, their file's size
// included; plain says whether every line is plainListItem.
func (c *Client) upload(ctx context.Context, p provider.Platform, app App, lines []string, plain bool) (string, error) {
	b, err := encodeUpload(app.AppKey, c.timestamp(), lines, plain)
	if err != nil {
		return "", err
	}
	a, err := c.post(ctx, opUpload, p, app, "/upload", b)
	if err != nil {
		return "", err
	}
	var d struct {
		FileID string `json:"file_id"`
	}
	if err := json.Unmarshal(a.data, &d); err != nil || d.FileID == "" {
		return "", &provider.Error{
			Provider:   Name,
			Op:         opUpload,
			Kind:       provider.Unknown,
			HTTPStatus: 200,
			Message:    "success answer without file_id",
		}
	}
	return d.FileID, nil
}
