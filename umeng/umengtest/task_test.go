package umengtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func broadcastTo(app App) map[string]any {
	return map[string]any{"type": "broadcast", "payload": payloadFor(app)}
}

func TestTaskLifecycle(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TaskStep = 30 * time.Second })
	d1, d2 := AndroidToken("d1"), AndroidToken("d2")
	f.addDevice(f.android, Device{Token: d1})
	f.addDevice(f.android, Device{Token: d2})
	id := f.mustSend(f.android, broadcastTo(f.android))

	steps := []struct {
		advance time.Duration
		want    TaskStatus
		sent    int
	}{
		{0, StatusQueued, 0},
		{29 * time.Second, StatusQueued, 0},
		{time.Second, StatusSending, 0},
		{29 * time.Second, StatusSending, 0},
		{time.Second, StatusDone, 2},
		{time.Hour, StatusDone, 2},
	}
	for _, st := range steps {
		f.clock.Advance(st.advance)
		r := f.status(f.android, id)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
		assert.Equal(t, "SUCCESS", r.Ret)
		assert.Equal(t, id, r.str("task_id"))
		assert.Equal(t, int(st.want), r.num("status"), "at %v", f.clock.Now().Sub(start))
		assert.NotContains(t, r.Data, "total_count", "Umeng counts no audience for Android")
		assert.Equal(t, st.sent, r.num("sent_count"))
		for _, k := range []string{"open_count", "dismiss_count"} {
			assert.Contains(t, r.Data, k)
		}
	}
	deliveries := f.srv.Deliveries()
	require.Len(t, deliveries, 2)
	assert.Equal(t, start.Add(time.Minute), deliveries[0].At, "delivered when done")
	assert.Equal(t, []string{d1, d2}, []string{deliveries[0].Token, deliveries[1].Token})
}

func TestTaskScheduled(t *testing.T) {
	f := newFixture(t)
	f.addDevice(f.ios, Device{Token: IOSToken("s")})
	body := broadcastTo(f.ios)
	body["policy"] = map[string]any{"start_time": policyTime(start.Add(time.Hour))}
	id := f.mustSend(f.ios, body)

	assert.Equal(t, int(StatusScheduled), f.status(f.ios, id).num("status"))
	f.clock.Advance(time.Hour - time.Second)
	assert.Equal(t, int(StatusScheduled), f.status(f.ios, id).num("status"))
	f.clock.Advance(time.Second)
	assert.Equal(t, int(StatusQueued), f.status(f.ios, id).num("status"))
	f.clock.Advance(2 * time.Second)
	r := f.status(f.ios, id)
	assert.Equal(t, int(StatusDone), r.num("status"))
	assert.Equal(t, 1, r.num("total_count"), "iOS counts the devices handed to APNs")
	assert.Equal(t, 1, r.num("sent_count"))
	assert.Contains(t, r.Data, "open_count")
	assert.NotContains(t, r.Data, "dismiss_count", "Umeng counts no dismissals for iOS")
	task, ok := f.srv.Task(id)
	require.True(t, ok)
	assert.Equal(t, start.Add(time.Hour), task.StartAt)
	assert.Equal(t, start.Add(time.Hour+72*time.Hour), task.ExpireAt, "default expiry is 3 days after the start")
}

func TestTaskExpires(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TaskStep = time.Minute })
	tok := AndroidToken("e")
	f.addDevice(f.android, Device{Token: tok})
	body := broadcastTo(f.android)
	body["policy"] = map[string]any{"expire_time": policyTime(start.Add(90 * time.Second))}
	id := f.mustSend(f.android, body)

	f.clock.Advance(time.Minute)
	assert.Equal(t, int(StatusSending), f.status(f.android, id).num("status"))
	f.clock.Advance(30 * time.Second)
	assert.Equal(t, int(StatusExpired), f.status(f.android, id).num("status"))
	f.clock.Advance(time.Hour)
	assert.Equal(t, int(StatusExpired), f.status(f.android, id).num("status"))
	assert.Zero(t, f.srv.DeliveryCount(tok))
}

func TestTaskEmptyAudience(t *testing.T) {
	f := newFixture(t)
	id := f.mustSend(f.android, map[string]any{"type": "groupcast", "payload": note("t", "x"),
		"filter": map[string]any{"where": map[string]any{"and": []any{map[string]any{"tag": "nobody"}}}}})
	f.clock.Advance(time.Second)
	r := f.status(f.android, id)
	assert.Equal(t, int(StatusEmpty), r.num("status"))
	assert.Zero(t, r.num("sent_count"))
}

func TestAdvanceTask(t *testing.T) {
	f := newFixture(t)
	tok := AndroidToken("adv")
	f.addDevice(f.android, Device{Token: tok})
	id := f.mustSend(f.android, broadcastTo(f.android))

	require.NoError(t, f.srv.AdvanceTask(id, StatusSending))
	assert.Equal(t, int(StatusSending), f.status(f.android, id).num("status"))
	require.NoError(t, f.srv.AdvanceTask(id, StatusDone))
	r := f.status(f.android, id)
	assert.Equal(t, int(StatusDone), r.num("status"))
	assert.Equal(t, 1, r.num("sent_count"))
	assert.Equal(t, 1, f.srv.DeliveryCount(tok))

	failed := f.mustSend(f.android, broadcastTo(f.android))
	require.NoError(t, f.srv.AdvanceTask(failed, StatusFailed))
	assert.Equal(t, int(StatusFailed), f.status(f.android, failed).num("status"))
	assert.Equal(t, 1, f.srv.DeliveryCount(tok), "a failed task delivers nothing")

	fresh := f.mustSend(f.android, broadcastTo(f.android))
	require.NoError(t, f.srv.AdvanceTask(fresh, StatusSending))

	tests := []struct {
		name string
		id   string
		to   TaskStatus
		want error
	}{
		{"unknown id", "um0000000000000000000000", StatusDone, ErrUnknownTask},
		{"unknown status", fresh, TaskStatus(9), ErrInvalidArgument},
		{"negative status", fresh, TaskStatus(-1), ErrInvalidArgument},
		{"from a final status", id, StatusSending, ErrBadTransition},
		{"final to final", id, StatusFailed, ErrBadTransition},
		{"backwards", fresh, StatusQueued, ErrBadTransition},
		{"to the same status", fresh, StatusSending, ErrBadTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, f.srv.AdvanceTask(tt.id, tt.to), tt.want)
		})
	}
	got, _ := f.srv.Task(fresh)
	assert.Equal(t, StatusSending, got.Status, "a refused transition changes nothing")

	// A scheduled task moves forward step by step, ignoring its start time.
	body := broadcastTo(f.android)
	body["policy"] = map[string]any{"start_time": policyTime(start.Add(time.Hour))}
	scheduled := f.mustSend(f.android, body)
	for _, to := range []TaskStatus{StatusQueued, StatusSending} {
		require.NoError(t, f.srv.AdvanceTask(scheduled, to))
		got, _ = f.srv.Task(scheduled)
		assert.Equal(t, to, got.Status)
	}
	f.clock.Advance(DefaultTaskStep)
	got, _ = f.srv.Task(scheduled)
	assert.Equal(t, StatusDone, got.Status, "the clock carries on from the forced status")
}

func TestTaskStatusErrors(t *testing.T) {
	f := newFixture(t)
	msgID := f.mustSend(f.android, unicast(f.android, AndroidToken("m")))
	taskID := f.mustSend(f.android, broadcastTo(f.android))

	tests := []struct {
		name string
		app  App
		body map[string]any
		want string
	}{
		{"task_id missing", f.android, map[string]any{}, CodeMissingTaskID},
		{"task_id empty", f.android, map[string]any{"task_id": ""}, CodeMissingTaskID},
		{"task_id a number", f.android, map[string]any{"task_id": 7}, CodeMissingTaskID},
		{"unknown task", f.android, map[string]any{"task_id": "um0000000000000000000000"}, CodeTaskNotFound},
		{"a msg_id", f.android, map[string]any{"task_id": msgID}, CodeTaskNotFound},
		{"another app's task", f.ios, map[string]any{"task_id": taskID}, CodeTaskNotFound},
	}
	for _, path := range []string{pathStatus, pathCancel} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				r := f.post(tt.app, path, f.fields(tt.app, tt.body))
				assert.Equal(t, http.StatusBadRequest, r.status)
				assert.Equal(t, tt.want, r.code())
			})
		}
	}
	got, _ := f.srv.Task(taskID)
	assert.Equal(t, StatusQueued, got.Status)
}

func TestTaskCancel(t *testing.T) {
	f := newFixture(t)
	for _, app := range []App{f.android, f.ios} {
		f.addDevice(app, Device{Token: tokenFor(app, "c")})
	}
	queued := f.mustSend(f.android, broadcastTo(f.android))
	androidSending := f.mustSend(f.android, broadcastTo(f.android))
	require.NoError(t, f.srv.AdvanceTask(androidSending, StatusSending))
	iosQueued := f.mustSend(f.ios, broadcastTo(f.ios))
	iosSending := f.mustSend(f.ios, broadcastTo(f.ios))
	require.NoError(t, f.srv.AdvanceTask(iosSending, StatusSending))
	done := f.mustSend(f.android, broadcastTo(f.android))
	require.NoError(t, f.srv.AdvanceTask(done, StatusDone))
	scheduledBody := broadcastTo(f.android)
	scheduledBody["policy"] = map[string]any{"start_time": policyTime(start.Add(time.Hour))}
	scheduled := f.mustSend(f.android, scheduledBody)

	tests := []struct {
		name string
		app  App
		id   string
		want string // "" for success
	}{
		{"queued", f.android, queued, ""},
		{"Android sending", f.android, androidSending, ""},
		{"iOS queued", f.ios, iosQueued, ""},
		{"iOS sending", f.ios, iosSending, CodeCannotCancel},
		{"done", f.android, done, CodeCannotCancel},
		{"scheduled", f.android, scheduled, ""},
		{"already cancelled", f.android, queued, CodeCannotCancel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.cancel(tt.app, tt.id)
			if tt.want != "" {
				assert.Equal(t, http.StatusBadRequest, r.status)
				assert.Equal(t, tt.want, r.code())
				return
			}
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
			assert.Equal(t, tt.id, r.str("task_id"))
			assert.Equal(t, int(StatusCanceled), f.status(tt.app, tt.id).num("status"))
		})
	}

	// Time passing does not revive a cancelled task, and it delivers nothing.
	f.clock.Advance(2 * time.Hour)
	for _, id := range []string{queued, androidSending, scheduled} {
		got, ok := f.srv.Task(id)
		require.True(t, ok)
		assert.Equal(t, StatusCanceled, got.Status)
	}
	assert.Equal(t, 1, f.srv.DeliveryCount(tokenFor(f.android, "c")), "only the done task delivered")
	assert.Equal(t, 1, f.srv.DeliveryCount(tokenFor(f.ios, "c")), "only the iOS task that could not be cancelled")
}

func TestOutBizNoDedupe(t *testing.T) {
	f := newFixture(t)
	tok := AndroidToken("dup")
	fileID := f.upload(f.android, tok).str("file_id")
	require.NotEmpty(t, fileID)
	filecast := func(outBizNo string) map[string]any {
		return map[string]any{"type": "filecast", "file_id": fileID, "payload": note("t", "x"),
			"policy": map[string]any{"out_biz_no": outBizNo}}
	}

	first := f.mustSend(f.android, filecast("order-1"))
	second := f.mustSend(f.android, filecast("order-1"))
	assert.Equal(t, first, second, "a repeated out_biz_no returns the original task_id")
	other := f.mustSend(f.android, filecast("order-2"))
	assert.NotEqual(t, first, other)

	// The same out_biz_no on another app is another message.
	iosFile := f.upload(f.ios, IOSToken("dup")).str("file_id")
	iosTask := f.mustSend(f.ios, map[string]any{"type": "filecast", "file_id": iosFile, "payload": alert("t", "x"),
		"policy": map[string]any{"out_biz_no": "order-1"}})
	assert.NotEqual(t, first, iosTask)

	f.clock.Advance(time.Minute)
	assert.Equal(t, 2, f.srv.DeliveryCount(tok), "order-1 and order-2 once each")
	assert.Equal(t, 2, f.srv.DeliveryCountByOutBizNo("order-1"), "once on each app")
	assert.Len(t, f.srv.Tasks(), 3)

	sends := f.srv.SendsFor(f.android.AppKey)
	require.Len(t, sends, 3)
	assert.Equal(t, []bool{false, true, false}, []bool{sends[0].Deduplicated, sends[1].Deduplicated, sends[2].Deduplicated})

	// A repeat after the task finished is still the same message.
	assert.Equal(t, first, f.mustSend(f.android, filecast("order-1")))
	f.clock.Advance(time.Minute)
	assert.Equal(t, 2, f.srv.DeliveryCount(tok))

	// out_biz_no dedupes task casts only: a repeated unicast is delivered again.
	single := AndroidToken("single")
	uni := unicast(f.android, single)
	uni["policy"] = map[string]any{"out_biz_no": "order-3"}
	f.mustSend(f.android, uni)
	f.mustSend(f.android, uni)
	assert.Equal(t, 2, f.srv.DeliveryCount(single))
}

func TestTaskStatusString(t *testing.T) {
	tests := []struct {
		status TaskStatus
		name   string
		final  bool
	}{
		{StatusQueued, "queued", false},
		{StatusSending, "sending", false},
		{StatusDone, "done", true},
		{StatusFailed, "failed", true},
		{StatusCanceled, "canceled", true},
		{StatusExpired, "expired", true},
		{StatusEmpty, "empty", true},
		{StatusScheduled, "scheduled", false},
		{TaskStatus(42), "status(42)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.status.String())
			assert.Equal(t, tt.final, tt.status.Final())
		})
	}
}
