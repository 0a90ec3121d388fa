package umeng

import (
	"fmt"

	"github.com/tuisong/push/provider"
)

var _ provider.BuildChecker = (*Client)(nil)

// CheckBuilt implements provider.BuildChecker: it returns nil for a Client
// New made, and for a zero Client{} or a nil *Client an error matching
// provider.ErrNotBuilt that names umeng.New. push.New refuses a Client
// whose CheckBuilt fails.
func (c *Client) CheckBuilt() error {
	if c.unbuilt() {
		return errNotBuilt
	}
	return nil
}

// unbuilt reports whether New did not make c: every Client New makes has credentials.
func (c *Client) unbuilt() bool { return c == nil || c.creds == nil }

// errNotBuilt is what CheckBuilt returns for a Client New did not make.
var errNotBuilt = fmt.Errorf("%w: the umeng.Client was not made by umeng.New (a zero Client{} or a nil *Client)", provider.ErrNotBuilt)

// notBuilt is the error of the operation op on a Client New did not make:
// Kind Auth, since no retry succeeds until the host makes the Client with
// New.
func notBuilt(op string) error {
	return &provider.Error{Provider: Name, Op: op, Kind: provider.Auth, Err: errNotBuilt}
}

// unbuiltString is how fmt and slog show a zero Client{}.
const unbuiltString = "umeng.Client{not made by umeng.New}"
