package push_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/internal/testlog"
	"github.com/tuisong/push/provider"
)

// TestServiceNotBuiltByNew: every exported method of a Service New did
// not make, a zero Service{} or a nil *Service, returns an error matching
// ErrNotBuilt (and naming the method) instead of panicking; the three
// without an error have a documented answer.
func TestServiceNotBuiltByNew(t *testing.T) {
	ctx := context.Background()
	for name, svc := range map[string]*push.Service{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			errs := map[string]error{}
			note := func(method string, err error) { errs[method] = err }
			_, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			note("Push", err)
			_, err = svc.Broadcast(ctx, push.Broadcast{Platform: "ios", Title: "t", Content: "c"})
			note("Broadcast", err)
			_, err = svc.RetryPending(ctx, 10)
			note("RetryPending", err)
			_, err = svc.PollReceipts(ctx, 10)
			note("PollReceipts", err)
			_, err = svc.PushStatus(ctx, 1)
			note("PushStatus", err)
			_, err = svc.PushStatusFor(ctx, "u1", 1)
			note("PushStatusFor", err)
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "d1", PushToken: "tok", Platform: "ios"})
			note("RegisterDevice", err)
			note("Logout", svc.Logout(ctx, "u1", 1))
			_, err = svc.ListDevices(ctx, "u1")
			note("ListDevices", err)
			_, err = svc.ListPushMessages(ctx, push.PushMessageFilter{})
			note("ListPushMessages", err)
			note("RecordReport", svc.RecordReport(ctx, provider.Report{Provider: "umeng", MsgID: "m1", Event: provider.EventArrived}))
			_, err = svc.Provider("umeng")
			note("Provider", err)
			outs := svc.PushMany(ctx, []push.PushRequest{{Message: push.Message{UserNums: []string{"u1"}}}, {}}, nil)
			require.Len(t, outs, 2)
			for i, o := range outs {
				assert.Nil(t, o.Result, "message %d", i)
				note("PushMany", o.Err)
			}
			for method, err := range errs {
				require.ErrorIs(t, err, push.ErrNotBuilt, method)
				assert.Contains(t, err.Error(), "Service."+method+" needs a value made by push.New", method)
			}

			assert.Nil(t, svc.Store())
			assert.Zero(t, svc.DrainTimeout())
			assert.WithinDuration(t, time.Now(), svc.Now(), time.Minute)
		})
	}
}

// TestEveryServiceMethodKnowsItIsNotBuilt calls every exported method of
// *Service, those added later too, on a zero Service with zero arguments:
// none may panic, and every error it returns matches ErrNotBuilt.
func TestEveryServiceMethodKnowsItIsNotBuilt(t *testing.T) {
	errType := reflect.TypeFor[error]()
	ctxType := reflect.TypeFor[context.Context]()
	for _, svc := range []*push.Service{{}, nil} {
		v := reflect.ValueOf(svc)
		for i := range v.NumMethod() {
			m := v.Type().Method(i)
			args := make([]reflect.Value, m.Type.NumIn()-1)
			for j := range args {
				in := m.Type.In(j + 1)
				args[j] = reflect.Zero(in)
				if in == ctxType {
					args[j] = reflect.ValueOf(context.Background())
				}
			}
			var outs []reflect.Value
			require.NotPanics(t, func() { outs = v.Method(i).Call(args) }, "%s on %v", m.Name, svc)
			for _, o := range outs {
				if o.Type() == errType {
					err, _ := o.Interface().(error)
					assert.ErrorIs(t, err, push.ErrNotBuilt, m.Name)
				}
			}
		}
	}
}

// TestHandlerNotBuiltByNewHandler: a Handler NewHandler did not make
// answers every request, on every endpoint and through ServeHTTP, 500
// "internal" without the cause, and logs the cause to slog.Default().
func TestHandlerNotBuiltByNewHandler(t *testing.T) {
	var global syncbuf.Buffer
	testlog.SetDefault(t, slog.New(slog.NewTextHandler(&global, nil)))

	for name, h := range map[string]*push.Handler{"zero": {}, "nil": nil} {
		endpoints := map[string]http.HandlerFunc{
			"ServeHTTP": h.ServeHTTP, "RegisterDevice": h.RegisterDevice, "PushMessage": h.PushMessage,
			"QueryPushMessage": h.QueryPushMessage, "Logout": h.Logout, "ListDevices": h.ListDevices, "ListPushes": h.ListPushes,
		}
		for method, serve := range endpoints {
			for _, req := range []*http.Request{
				httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`)),
				httptest.NewRequest(http.MethodGet, push.PathQueryPush+"?push_message_id=1", nil),
			} {
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				require.NotPanics(t, func() { serve(rec, req) }, "%s %s", name, method)
				require.Equal(t, http.StatusInternalServerError, rec.Code, "%s %s: %s", name, method, rec.Body)
				assert.JSONEq(t, `{"error":{"code":"internal","message":"internal error"}}`, rec.Body.String())
			}
		}
	}
	assert.Contains(t, global.String(), push.ErrNotBuilt.Error())
	assert.Contains(t, global.String(), "Handler needs a value made by push.NewHandler")
}

// TestErrNotBuiltIsNotAnotherError: the sentinel is its own error, not
// one of the others a caller already tells apart.
func TestErrNotBuiltIsNotAnotherError(t *testing.T) {
	_, err := (&push.Service{}).Push(context.Background(), push.Message{})
	for _, other := range []error{push.ErrInvalid, push.ErrNoDevices, push.ErrUnknownProvider} {
		assert.False(t, errors.Is(err, other), "%v", other)
	}
}

// TestNilResultCountsNothing: Push returns a nil *Result with its error;
// the counts of one read as none instead of panicking.
func TestNilResultCountsNothing(t *testing.T) {
	var r *push.Result
	assert.Zero(t, r.Accepted())
	assert.Zero(t, r.Pending())
	assert.Zero(t, r.Failed())
	assert.NoError(t, r.FirstError())
}
