package serverenv

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionOf(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	assert.Equal(t, "v1.4.0 0123456789ab+dirty go1.26.0", versionOf(bi))
	assert.Equal(t, "(devel) go1.26.0", versionOf(&debug.BuildInfo{GoVersion: "go1.26.0"}))
	assert.NotEmpty(t, Version())
}
