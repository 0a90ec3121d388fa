package fakeserver

// Identity names a fake for the errors the shared machinery returns, so
// they read and match exactly as the fake's own.
type Identity struct {
	// Name is the fake's package name, such as "umengtest". It prefixes
	// messages that wrap no sentinel of the fake.
	Name string
	// Invalid is the fake's ErrInvalidArgument: a bad argument to one of
	// its methods wraps it.
	Invalid error
	// Closed is the fake's ErrClosed, returned by Start after Close.
	Closed error
}
