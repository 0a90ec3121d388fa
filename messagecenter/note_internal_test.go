package messagecenter

import (
	"testing"

	"github.com/stretchr/testify/assert"

	push "github.com/tuisong/push"
)

// TestUnreachedNote: the remark names the users a push reached no device
// of when its Result names them, counts them when it only counts them,
// says when the count is of the receivers listed so far (the push stopped
// listing, or expired first), and is empty when
// the push reached everyone.
func TestUnreachedNote(t *testing.T) {
	assert.Empty(t, unreachedNote(nil))
	assert.Empty(t, unreachedNote(&push.Result{}))
	assert.Equal(t, "2 receiver(s) without a device the push could reach: a、b",
		unreachedNote(&push.Result{Unreached: []string{"a", "b"}, UnreachedCount: 2}))
	assert.Equal(t, "2 receiver(s) without a device the push could reach: a、b",
		unreachedNote(&push.Result{Unreached: []string{"a", "b"}}), "as noneReachedNote builds it")
	assert.Equal(t, "150 receiver(s) without a device the push could reach",
		unreachedNote(&push.Result{UnreachedCount: 150}))
	assert.Equal(t, "150 receiver(s) without a device the push could reach among those listed so far",
		unreachedNote(&push.Result{UnreachedCount: 150, Unlisted: true}))
	assert.Equal(t, "150 receiver(s) without a device the push could reach among those listed so far",
		unreachedNote(&push.Result{UnreachedCount: 150, Expired: true}), "the users after the expiry were not listed")
}
