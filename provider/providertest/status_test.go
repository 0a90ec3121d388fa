package providertest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
)

// taskMock returns a Mock whose broadcasts are pollable, and the id of one
// broadcast it accepted on Android.
func taskMock(t *testing.T) (*providertest.Mock, string) {
	t.Helper()
	m := newMock(t, providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceBroadcast}})
	rc, err := m.Send(t.Context(), audienceRequest(provider.Audience{Kind: provider.AudienceBroadcast}))
	require.NoError(t, err)
	require.True(t, rc.Pollable)
	return m, rc.ID
}

func TestMockStatus(t *testing.T) {
	tests := []struct {
		name      string
		ctx       func(t *testing.T) context.Context
		platform  provider.Platform
		id        string // "task" stands for the broadcast's id
		want      *provider.Status
		wantKind  provider.Kind
		wantField string
	}{
		{name: "issued task", platform: provider.Android, id: "task",
			want: &provider.Status{ID: "task", State: provider.StateQueued}},
		{name: "set status on any platform", platform: provider.IOS, id: "set",
			want: &provider.Status{ID: "set", State: provider.StateSending, Code: "1", Total: 10, Sent: 4, Raw: json.RawMessage(`{"status":1}`)}},
		{name: "issued task on another platform", platform: provider.IOS, id: "task", wantKind: provider.InvalidRequest, wantField: "id"},
		{name: "message id", platform: provider.Android, id: "message", wantKind: provider.InvalidRequest, wantField: "id"},
		{name: "unknown id", platform: provider.Android, id: "nope", wantKind: provider.InvalidRequest, wantField: "id"},
		{name: "empty id", platform: provider.Android, id: "", wantKind: provider.InvalidRequest, wantField: "id"},
		{name: "bad platform", platform: "windows", id: "task", wantKind: provider.InvalidRequest, wantField: "platform"},
		{name: "ctx done", ctx: canceled, platform: provider.Android, id: "task", wantKind: provider.Temporary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, task := taskMock(t)
			rc, err := m.Send(t.Context(), tokenRequest("a"))
			require.NoError(t, err)
			ids := map[string]string{"task": task, "message": rc.ID, "set": "set", "nope": "nope", "": ""}
			m.SetStatus("set", provider.Status{ID: "ignored", State: provider.StateSending, Code: "1", Total: 10, Sent: 4, Raw: json.RawMessage(`{"status":1}`)})

			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			st, err := m.Status(ctx, tt.platform, ids[tt.id])
			if tt.want != nil {
				require.NoError(t, err)
				want := *tt.want
				want.ID = ids[tt.id]
				assert.Equal(t, &want, st)
				return
			}
			assert.Nil(t, st)
			require.ErrorIs(t, err, tt.wantKind)
			assert.Equal(t, tt.wantField, provider.FieldOf(err))
			var pe *provider.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "status", pe.Op)
			assert.Equal(t, m.Name(), pe.Provider)
		})
	}
}

func TestMockSetStatusCopies(t *testing.T) {
	m := newMock(t, providertest.MockConfig{})
	raw := json.RawMessage(`{"status":2}`)
	m.SetStatus("t", provider.Status{State: provider.StateDone, Raw: raw})
	raw[1] = 'X'

	st, err := m.Status(t.Context(), provider.Android, "t")
	require.NoError(t, err)
	st.Raw[2] = 'Y'

	again, err := m.Status(t.Context(), provider.Android, "t")
	require.NoError(t, err)
	assert.Equal(t, json.RawMessage(`{"status":2}`), again.Raw, "neither the caller's nor a returned slice reaches the Mock")
}

func TestMockCancel(t *testing.T) {
	tests := []struct {
		name       string
		ctx        func(t *testing.T) context.Context
		platform   provider.Platform
		id         string // "task" stands for the broadcast's id
		wantKind   provider.Kind
		wantOK     bool
		wantField  string
		wantRecord bool
	}{
		{name: "queued task", platform: provider.Android, id: "task", wantOK: true, wantRecord: true},
		{name: "sending task set by SetStatus", platform: provider.IOS, id: "sending", wantOK: true, wantRecord: true},
		{name: "final task", platform: provider.Android, id: "done", wantKind: provider.InvalidRequest, wantField: "id", wantRecord: true},
		{name: "unknown id", platform: provider.Android, id: "nope", wantKind: provider.InvalidRequest, wantField: "id", wantRecord: true},
		{name: "empty id", platform: provider.Android, id: "", wantKind: provider.InvalidRequest, wantField: "id"},
		{name: "bad platform", platform: "", id: "task", wantKind: provider.InvalidRequest, wantField: "platform"},
		{name: "ctx done", ctx: canceled, platform: provider.Android, id: "task", wantKind: provider.Temporary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, task := taskMock(t)
			m.SetStatus("sending", provider.Status{State: provider.StateSending})
			m.SetStatus("done", provider.Status{State: provider.StateDone})
			ids := map[string]string{"task": task, "sending": "sending", "done": "done", "nope": "nope", "": ""}
			id := ids[tt.id]

			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			err := m.Cancel(ctx, tt.platform, id)
			if tt.wantRecord {
				assert.Equal(t, []providertest.Cancellation{{Platform: tt.platform, ID: id}}, m.Cancels())
			} else {
				assert.Empty(t, m.Cancels())
			}
			if tt.wantOK {
				require.NoError(t, err)
				st, err := m.Status(t.Context(), tt.platform, id)
				require.NoError(t, err)
				assert.Equal(t, provider.StateCanceled, st.State)
				require.ErrorIs(t, m.Cancel(t.Context(), tt.platform, id), provider.InvalidRequest, "a cancelled task is final")
				return
			}
			require.ErrorIs(t, err, tt.wantKind)
			assert.Equal(t, tt.wantField, provider.FieldOf(err))
			var pe *provider.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "cancel", pe.Op)
		})
	}
}
