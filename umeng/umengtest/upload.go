package umengtest

import (
	"strings"
	"time"
)

// Upload limits of the real service.
const (
	maxUploadContent = 10 << 20
	fileLifetime     = 60 * 24 * time.Hour // "kept two months"
)

// file is an uploaded list of device tokens or aliases, one per line.
type file struct {
	appKey  string
	lines   []string
	created time.Time
}

// upload answers /upload: content holds one device token (for filecast) or
// alias (for customizedcast) per line, "\n" or "\r\n" separated.
func (s *Server) upload(app App, m message, now time.Time, rec *Request) (any, *refusal) {
	if !m.has("content") {
		return nil, refuse(CodeMissingContent, "content: required, device tokens or aliases one per line")
	}
	text, ok := m.str("content")
	if !ok {
		return nil, refuse(CodeMissingContent, "content: must be a string, device tokens or aliases one per line")
	}
	if len(text) > maxUploadContent {
		return nil, refuse(CodeUploadTooLarge, "content: %d bytes is over the 10 MB limit", len(text))
	}
	var lines []string
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil, refuse(CodeMissingContent, "content: holds no line")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.newIDLocked("PF", 18, now)
	s.files[id] = &file{appKey: app.AppKey, lines: lines, created: now}
	rec.FileID, rec.ID, rec.Accepted = id, id, true
	return map[string]string{"file_id": id}, nil
}

// fileLocked returns the lines of file id if it belongs to appKey and has
// not expired. The caller holds s.mu.
func (s *Server) fileLocked(appKey, id string, now time.Time) ([]string, *refusal) {
	f := s.files[id]
	if f == nil || f.appKey != appKey || now.Sub(f.created) > fileLifetime {
		return nil, refuse(CodeFileNotFound, "file_id: no file %q for this appkey (files are kept two months)", id)
	}
	return f.lines, nil
}
