package testlog

import (
	"bytes"
	"log"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSetDefaultRestoresTheLogPackage(t *testing.T) {
	var before, during bytes.Buffer
	w, flags := log.Writer(), log.Flags()
	log.SetOutput(&before)
	defer func() { log.SetOutput(w); log.SetFlags(flags) }()
	t.Run("set", func(t *testing.T) {
		SetDefault(t, slog.New(slog.NewTextHandler(&during, nil)))
		log.Print("while set")
	})
	log.Print("after")
	assert.Contains(t, during.String(), "while set")
	assert.NotContains(t, during.String(), "after")
	assert.Contains(t, before.String(), "after")
}
