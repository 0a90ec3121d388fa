package umengtest

import (
	"fmt"
	"strconv"
	"time"
)

// TaskStatus is the status /api/status reports for a task cast, with the
// real service's numbering.
type TaskStatus int

// Task statuses. A task starts Queued (or Scheduled when policy.start_time
// is set), moves to Sending after Config.TaskStep and to Done after another;
// the other final states come from cancel, expiry, an empty audience or
// AdvanceTask.
const (
	StatusQueued    TaskStatus = 0 // accepted, waiting
	StatusSending   TaskStatus = 1 // being delivered
	StatusDone      TaskStatus = 2 // delivered (final)
	StatusFailed    TaskStatus = 3 // the service gave up (final; only through AdvanceTask)
	StatusCanceled  TaskStatus = 4 // cancelled through /api/cancel (final)
	StatusExpired   TaskStatus = 5 // policy.expire_time came before done (final)
	StatusEmpty     TaskStatus = 6 // broadcast or groupcast matched no device (final)
	StatusScheduled TaskStatus = 7 // waiting for policy.start_time
)

var statusNames = [...]string{
	StatusQueued:    "queued",
	StatusSending:   "sending",
	StatusDone:      "done",
	StatusFailed:    "failed",
	StatusCanceled:  "canceled",
	StatusExpired:   "expired",
	StatusEmpty:     "empty",
	StatusScheduled: "scheduled",
}

// String returns the status's name, such as "sending".
func (st TaskStatus) String() string {
	if st.valid() {
		return statusNames[st]
	}
	return "status(" + strconv.Itoa(int(st)) + ")"
}

// Final reports whether st never changes again.
func (st TaskStatus) Final() bool {
	switch st {
	case StatusDone, StatusFailed, StatusCanceled, StatusExpired, StatusEmpty:
		return true
	}
	return false
}

func (st TaskStatus) valid() bool { return st >= 0 && int(st) < len(statusNames) }

// rank orders the non-final statuses along the lifecycle.
func (st TaskStatus) rank() int {
	switch st {
	case StatusScheduled:
		return 0
	case StatusQueued:
		return 1
	case StatusSending:
		return 2
	}
	return 3
}

// Task is a snapshot of a task cast, for assertions.
type Task struct {
	ID       string
	AppKey   string
	Type     string // broadcast, groupcast, filecast or customizedcast
	OutBizNo string
	Status   TaskStatus
	Total    int // devices targeted
	Sent     int // devices delivered to; set when the task is done
	Created  time.Time
	StartAt  time.Time // policy.start_time; zero when the task started at once
	ExpireAt time.Time // policy.expire_time, or 3 days after the start by default
}

type task struct {
	id, typ, outBizNo string
	app               App
	targets           []string
	audience          bool // broadcast or groupcast: an empty audience ends as StatusEmpty
	c                 content
	status            TaskStatus
	since             time.Time // when status began
	created           time.Time
	start             time.Time
	expire            time.Time
	sent              int
}

func (t *task) snapshot() Task {
	return Task{
		ID: t.id, AppKey: t.app.AppKey, Type: t.typ, OutBizNo: t.outBizNo,
		Status: t.status, Total: len(t.targets), Sent: t.sent,
		Created: t.created, StartAt: t.start, ExpireAt: t.expire,
	}
}

// advanceTasksLocked brings every task up to now. Tasks progress lazily, on
// every observation, so an injected clock needs no background goroutine.
// The caller holds s.mu.
func (s *Server) advanceTasksLocked(now time.Time) {
	for _, t := range s.taskList {
		s.advanceTaskLocked(t, now)
	}
}

func (s *Server) advanceTaskLocked(t *task, now time.Time) {
	for !t.status.Final() {
		next := t.since.Add(s.cfg.TaskStep)
		if t.status == StatusScheduled {
			next = t.start
		}
		if !t.expire.After(next) {
			if now.Before(t.expire) {
				return
			}
			t.status, t.since = StatusExpired, t.expire
			return
		}
		if now.Before(next) {
			return
		}
		s.stepTaskLocked(t, next)
	}
}

// stepTaskLocked moves t one step along its lifecycle at time at, delivering
// when it reaches done.
func (s *Server) stepTaskLocked(t *task, at time.Time) {
	switch t.status {
	case StatusScheduled:
		t.status = StatusQueued
	case StatusQueued:
		t.status = StatusSending
		if t.audience && len(t.targets) == 0 {
			t.status = StatusEmpty
		}
	case StatusSending:
		t.status = StatusDone
		t.sent = s.deliverLocked(t.app, t.id, t.typ, t.outBizNo, t.targets, t.c, at)
	}
	t.since = at
}

// AdvanceTask moves task id to status to at once, without waiting for the
// clock: forward along scheduled → queued → sending, or to any final status.
// Moving to StatusDone delivers the task. A task already final, a step
// backwards or an unknown status is refused with ErrBadTransition or
// ErrInvalidArgument; an unknown id with ErrUnknownTask.
func (s *Server) AdvanceTask(id string, to TaskStatus) error {
	if !to.valid() {
		return fmt.Errorf("%w: AdvanceTask status %d is not a task status", ErrInvalidArgument, int(to))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.advanceTasksLocked(now)
	t := s.tasks[id]
	if t == nil {
		return fmt.Errorf("%w: AdvanceTask id %q", ErrUnknownTask, id)
	}
	if t.status.Final() {
		return fmt.Errorf("%w: task %s is already %s", ErrBadTransition, id, t.status)
	}
	if !to.Final() && to.rank() <= t.status.rank() {
		return fmt.Errorf("%w: task %s cannot go from %s to %s", ErrBadTransition, id, t.status, to)
	}
	if to == StatusDone {
		t.sent = s.deliverLocked(t.app, t.id, t.typ, t.outBizNo, t.targets, t.c, now)
	}
	t.status, t.since = to, now
	return nil
}

// Task returns a snapshot of task id, brought up to Config.Now.
func (s *Server) Task(id string) (Task, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasksLocked(s.now())
	t := s.tasks[id]
	if t == nil {
		return Task{}, false
	}
	return t.snapshot(), true
}

// Tasks returns snapshots of every task, in creation order.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasksLocked(s.now())
	out := make([]Task, 0, len(s.taskList))
	for _, t := range s.taskList {
		out = append(out, t.snapshot())
	}
	return out
}

// androidStatus and iosStatus are the data of a successful /api/status
// answer for a task of each platform. As Umeng documents them, an Android
// answer counts the devices reached, opened and dismissed, with no count
// of the audience; an iOS answer counts the devices handed to APNs
// (total_count), those APNs accepted and those opened.
type androidStatus struct {
	TaskID       string     `json:"task_id"`
	Status       TaskStatus `json:"status"`
	SentCount    int        `json:"sent_count"`
	OpenCount    int        `json:"open_count"`
	DismissCount int        `json:"dismiss_count"`
}

type iosStatus struct {
	TaskID     string     `json:"task_id"`
	Status     TaskStatus `json:"status"`
	TotalCount int        `json:"total_count"`
	SentCount  int        `json:"sent_count"`
	OpenCount  int        `json:"open_count"`
}

// taskOfLocked finds the task named by the request's task_id. A msg_id, a
// task of another app and an unknown id are all "not found", as on the real
// service, whose status and cancel APIs know only task casts. The caller
// holds s.mu.
func (s *Server) taskOfLocked(app App, m message, rec *Request) (*task, *refusal) {
	id, ok := m.str("task_id")
	if !ok || id == "" {
		return nil, refuse(CodeMissingTaskID, "task_id: required, a non-empty string")
	}
	rec.TaskID = id
	t := s.tasks[id]
	if t == nil || t.app.AppKey != app.AppKey {
		return nil, refuse(CodeTaskNotFound, "task_id: no task %q for this appkey (msg_ids of unicast, listcast and customizedcast by alias cannot be queried)", id)
	}
	return t, nil
}

// status answers /api/status.
func (s *Server) status(app App, m message, now time.Time, rec *Request) (any, *refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasksLocked(now)
	t, aerr := s.taskOfLocked(app, m, rec)
	if aerr != nil {
		return nil, aerr
	}
	rec.ID, rec.Accepted = t.id, true
	if app.Platform == PlatformAndroid {
		return androidStatus{TaskID: t.id, Status: t.status, SentCount: t.sent}, nil
	}
	return iosStatus{TaskID: t.id, Status: t.status, TotalCount: len(t.targets), SentCount: t.sent}, nil
}

// cancel answers /api/cancel. Like the real service, an Android task can be
// cancelled while queued or sending, an iOS task only while queued; a
// scheduled task can always be.
func (s *Server) cancel(app App, m message, now time.Time, rec *Request) (any, *refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasksLocked(now)
	t, aerr := s.taskOfLocked(app, m, rec)
	if aerr != nil {
		return nil, aerr
	}
	switch {
	case t.status == StatusScheduled, t.status == StatusQueued:
	case t.status == StatusSending && app.Platform == PlatformAndroid:
	case t.status == StatusSending:
		return nil, refuse(CodeCannotCancel, "task_id: iOS task %s is already sending and can no longer be cancelled", t.id)
	default:
		return nil, refuse(CodeCannotCancel, "task_id: task %s is %s and can no longer be cancelled", t.id, t.status)
	}
	t.status, t.since = StatusCanceled, now
	rec.ID, rec.Accepted = t.id, true
	return map[string]string{"task_id": t.id}, nil
}
