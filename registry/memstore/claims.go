package memstore

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/tuisong/push/registry"
)

// checkClaim validates the parts of p every claim needs. The errors name
// the ClaimParams field, lowercased, like the registry's column names.
func checkClaim(p registry.ClaimParams) error {
	if p.Limit <= 0 {
		return &registry.ValidationError{Field: "limit", Reason: fmt.Sprintf("must be > 0, got %d", p.Limit)}
	}
	if p.Lease <= 0 {
		return &registry.ValidationError{Field: "lease", Reason: fmt.Sprintf("must be > 0, got %s", p.Lease)}
	}
	if p.Now.IsZero() {
		return &registry.ValidationError{Field: "now", Reason: "is required"}
	}
	return registry.ValidateSkipModes(p.SkipModes)
}

// free reports whether nobody holds a claim on a row leased until
// leaseUntil: a lease ends at its LeaseUntil.
func free(leaseUntil *time.Time, now time.Time) bool {
	return leaseUntil == nil || !leaseUntil.After(now)
}

// due reports whether a row scheduled at at is due at now.
func due(at *time.Time, now time.Time) bool { return at == nil || !at.After(now) }

// newClaimToken returns a fresh, unguessable claim token. Tokens are random
// rather than counted so that a token is never handed out twice, even by
// two Stores a test happens to mix up.
func newClaimToken() string { return rand.Text() }
