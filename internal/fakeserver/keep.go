package fakeserver

// KeepNewest returns s with only its newest keep elements (its last ones)
// when keep is positive and s holds more; otherwise s as it is. The
// elements dropped are zeroed in place, so whatever they referenced can be
// collected at once rather than when append next moves the slice.
func KeepNewest[T any](s []T, keep int) []T { return KeepNewestFunc(s, keep, nil) }

// KeepNewestFunc is KeepNewest, calling forget (unless nil) with each
// element it drops, oldest first, before it is zeroed: for what is kept
// beside the slice, such as a map keyed by its elements.
func KeepNewestFunc[T any](s []T, keep int, forget func(T)) []T {
	if keep <= 0 || len(s) <= keep {
		return s
	}
	drop := len(s) - keep
	if forget != nil {
		for _, v := range s[:drop] {
			forget(v)
		}
	}
	clear(s[:drop])
	return s[drop:]
}
