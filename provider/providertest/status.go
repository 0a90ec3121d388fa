package providertest

import (
	"context"
	"fmt"

	"github.com/tuisong/push/provider"
)

// Status answers for a pollable receipt this Mock issued (StateQueued until
// SetStatus or Cancel changes it) and for any id given to SetStatus. Any
// other id, or an issued id asked on another platform, is an InvalidRequest
// error naming "id", as the contract requires for ids that cannot be polled.
// A ctx that is already done gives a Temporary error.
func (m *Mock) Status(ctx context.Context, p provider.Platform, id string) (*provider.Status, error) {
	if err := m.checkTaskArgs("status", p, id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, m.wrap("status", provider.Temporary, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.lookup("status", p, id)
	if err != nil {
		return nil, err
	}
	return cloneStatus(t.status), nil
}

// SetStatus makes Status answer s for id on every platform, with s.ID set
// to id. It is how a test moves a task along: queued, sending, done ….
func (m *Mock) SetStatus(id string, s provider.Status) {
	s = *cloneStatus(s)
	s.ID = id
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tasks[id] = task{status: s}
}

// Cancel records the call (see Cancels) and moves a task Status knows to
// StateCanceled. An unknown id is an InvalidRequest error naming "id"; a task
// already in a final state cannot be cancelled, also InvalidRequest. A ctx
// that is already done gives a Temporary error and records nothing.
func (m *Mock) Cancel(ctx context.Context, p provider.Platform, id string) error {
	if err := m.checkTaskArgs("cancel", p, id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return m.wrap("cancel", provider.Temporary, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cancels = append(m.cancels, Cancellation{Platform: p, ID: id})
	t, err := m.lookup("cancel", p, id)
	if err != nil {
		return err
	}
	if t.status.State.Final() {
		return m.invalid("cancel", "id", fmt.Sprintf("task %q is already %s", id, t.status.State))
	}
	t.status.State = provider.StateCanceled
	m.tasks[id] = t
	return nil
}

// Cancels returns the Cancel calls that passed validation, in arrival
// order, whether or not they cancelled anything.
func (m *Mock) Cancels() []Cancellation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Cancellation(nil), m.cancels...)
}

// checkTaskArgs validates the arguments of Status and Cancel.
func (m *Mock) checkTaskArgs(op string, p provider.Platform, id string) error {
	if !p.Valid() {
		return m.invalid(op, "platform", fmt.Sprintf("must be %q or %q, got %q", provider.IOS, provider.Android, p))
	}
	if id == "" {
		return m.invalid(op, "id", "is required")
	}
	return nil
}

// lookup returns the task id on platform p. m.mu must be held.
func (m *Mock) lookup(op string, p provider.Platform, id string) (task, error) {
	t, ok := m.tasks[id]
	if !ok || (t.platform != "" && t.platform != p) {
		return task{}, m.invalid(op, "id", fmt.Sprintf("%q is not a pollable task of %s on %s", id, m.name, p))
	}
	return t, nil
}

// invalid returns an InvalidRequest error of this Mock for op naming field.
func (m *Mock) invalid(op, field, reason string) error {
	return &provider.Error{Provider: m.name, Op: op, Kind: provider.InvalidRequest, Err: &provider.FieldError{Field: field, Reason: reason}}
}
