package isnil

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
)

type fn func()

func (fn) Close() error { return nil }

type ptr struct{}

func (*ptr) Close() error { return nil }

type val struct{}

func (val) Close() error { return nil }

func TestValue(t *testing.T) {
	var none io.Closer
	assert.True(t, Value(nil))
	assert.True(t, Value(none))
	assert.True(t, Value(io.Closer(fn(nil))), "a nil func in an interface")
	assert.True(t, Value(io.Closer((*ptr)(nil))), "a nil pointer in an interface")
	assert.True(t, Value(map[string]int(nil)))
	assert.True(t, Value([]int(nil)))
	assert.False(t, Value(io.Closer(fn(func() {}))))
	assert.False(t, Value(io.Closer(&ptr{})))
	assert.False(t, Value(io.Closer(val{})), "a struct value is never nil")
	assert.False(t, Value(0))
}
