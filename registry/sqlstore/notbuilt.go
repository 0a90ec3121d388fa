package sqlstore

import (
	"fmt"

	"github.com/tuisong/push/registry"
)

var _ registry.BuildChecker = (*Store)(nil)

// CheckBuilt implements registry.BuildChecker: it returns nil for a Store
// New made, and for a zero Store{} or a nil *Store an error matching
// registry.ErrNotBuilt that names sqlstore.New. push.New and
// messagecenter.New refuse a Store whose CheckBuilt fails.
func (s *Store) CheckBuilt() error {
	if s.unbuilt() {
		return fmt.Errorf("%w: the sqlstore.Store was not made by sqlstore.New (a zero Store{} or a nil *Store)", registry.ErrNotBuilt)
	}
	return nil
}

// unbuilt reports whether New (or WithTx) did not make s: every Store
// they make has a DBTX.
func (s *Store) unbuilt() bool { return s == nil || s.q == nil }

// notBuilt is the error of method (such as "Store.Migrate") called on a
// Store New did not make.
func notBuilt(method string) error {
	return fmt.Errorf("%w: %s needs a Store made by sqlstore.New, not a zero value or nil", registry.ErrNotBuilt, method)
}
