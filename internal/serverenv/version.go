package serverenv

import (
	"runtime/debug"
	"strings"
)

// Version is the build's version, for the server's start-up line and
// pushctl version: the main module's version ("v1.2.3" when installed by
// go install, "(devel)" when built from a checkout), then the VCS revision
// (the first 12 hex digits, "+dirty" when the tree was modified) and the
// Go version. It is "unknown" when the binary carries no build
// information.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	parts := []string{bi.Main.Version}
	if parts[0] == "" {
		parts[0] = "(devel)"
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" {
		if dirty {
			rev += "+dirty"
		}
		parts = append(parts, rev)
	}
	if bi.GoVersion != "" {
		parts = append(parts, bi.GoVersion)
	}
	return strings.Join(parts, " ")
}
