package fakeserver

// KeepNewest returns s with only its newest keep elements (its last ones)
// when keep is positive and s holds more; otherwise s as it is. The
// elements dropped are zeroed in place, so whatever they referenced can be
// collected at once rather than when append next moves the slice.
func KeepNewest[T any](s []T, keep int) []T {
	if keep <= 0 || len(s) <= keep {
		return s
	}
	drop := len(s) - keep
	clear(s[:drop])
	return s[drop:]
}
