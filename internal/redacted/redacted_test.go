package redacted

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

type secretHolder struct{ Key, Secret string }

func (s secretHolder) String() string   { return "{Key:" + s.Key + " Secret:REDACTED}" }
func (s secretHolder) GoString() string { return "pkg.Holder" + s.String() }
func (s secretHolder) Format(f fmt.State, verb rune) {
	Format(f, verb, s)
}

func TestFormatPrintsOnlyStringAndGoString(t *testing.T) {
	h := secretHolder{Key: "k1", Secret: "s3cr3t"}
	type outer struct{ H secretHolder }
	// The verbs are variables so that vet lets the test use them.
	want := map[string]string{
		"%v": h.String(), "%+v": h.String(), "%s": h.String(), "%d": h.String(),
		"%x": h.String(), "%t": h.String(), "%#v": h.GoString(), "%q": `"{Key:k1 Secret:REDACTED}"`,
	}
	for verb, w := range want {
		assert.Equal(t, w, fmt.Sprintf(verb, h), verb)
		assert.NotContains(t, fmt.Sprintf(verb, outer{h}), "s3cr3t", "nested, "+verb)
		assert.NotContains(t, fmt.Sprintf(verb, &outer{h}), "s3cr3t", "nested pointer, "+verb)
	}
}

func TestJSONWritesAGroupInOrder(t *testing.T) {
	b, err := JSON(slog.GroupValue(slog.String("key", "k1"), slog.Bool("secret_set", true), slog.Any("list", []string{"a"})))
	assert.NoError(t, err)
	assert.Equal(t, `{"key":"k1","secret_set":true,"list":["a"]}`, string(b))
	b, err = JSON(slog.StringValue("not a group"))
	assert.NoError(t, err)
	assert.Equal(t, `"not a group"`, string(b))
}
