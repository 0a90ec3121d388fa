package fakeserver_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/internal/fakeserver"
)

func TestCloneObject(t *testing.T) {
	assert.Nil(t, fakeserver.CloneObject(nil))

	orig := map[string]any{
		"title": "hi",
		"n":     json.Number("3"),
		"body":  map[string]any{"badge": json.Number("1")},
		"list":  []any{map[string]any{"k": "v"}, "s"},
	}
	c := fakeserver.CloneObject(orig)
	assert.Equal(t, orig, c)
	c["title"] = "changed"
	c["body"].(map[string]any)["badge"] = json.Number("2")
	c["list"].([]any)[0].(map[string]any)["k"] = "changed"
	c["list"].([]any)[1] = "changed"
	assert.Equal(t, map[string]any{
		"title": "hi",
		"n":     json.Number("3"),
		"body":  map[string]any{"badge": json.Number("1")},
		"list":  []any{map[string]any{"k": "v"}, "s"},
	}, orig, "nested objects and arrays are copies")
}
