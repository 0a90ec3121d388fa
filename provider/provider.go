package provider

import "context"

// Provider sends push requests to one vendor. See the package documentation
// for the contract every implementation keeps.
type Provider interface {
	// Name is the stable, lower-case vendor name ("umeng", "jpush", "getui").
	// It is the value stored in sys_devices.push_platform.
	Name() string
	// Capabilities describes what the vendor accepts for platform p.
	Capabilities(p Platform) Capabilities
	// Send delivers r with one vendor call and returns the vendor's receipt.
	// It never retries. It returns an error wrapping *Error on failure.
	Send(ctx context.Context, r *Request) (*Receipt, error)
}

// StatusQuerier is implemented by providers that can report the progress of
// a pollable receipt (Receipt.Pollable).
type StatusQuerier interface {
	// Status returns the vendor's state of the task id on platform p. Polling
	// a non-pollable id is an InvalidRequest error.
	Status(ctx context.Context, p Platform, id string) (*Status, error)
}

// Canceler is implemented by providers that can cancel a queued task.
type Canceler interface {
	// Cancel stops the task id on platform p if the vendor still can.
	Cancel(ctx context.Context, p Platform, id string) error
}
