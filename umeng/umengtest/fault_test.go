package umengtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaultValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		fault Fault
		field string
	}{
		{"does nothing", Fault{Path: pathSend}, "sets none"},
		{"unknown path", Fault{Path: "/api/push", HTTPStatus: 500}, "Fault.Path"},
		{"status too low", Fault{HTTPStatus: 99}, "Fault.HTTPStatus"},
		{"status too high", Fault{HTTPStatus: 600}, "Fault.HTTPStatus"},
		{"code not digits", Fault{Code: "E2027"}, "Fault.Code"},
		{"negative delay", Fault{Delay: -time.Second}, "Fault.Delay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.srv.FailNext(1, tt.fault)
			require.ErrorIs(t, err, ErrInvalidArgument)
			assert.Contains(t, err.Error(), tt.field)
			err = f.srv.FailRate(0.5, tt.fault, 1)
			require.ErrorIs(t, err, ErrInvalidArgument)
		})
	}
	for _, n := range []int{0, -1} {
		assert.ErrorIs(t, f.srv.FailNext(n, Fault{HTTPStatus: 500}), ErrInvalidArgument)
	}
	for _, p := range []float64{-0.1, 1.1} {
		assert.ErrorIs(t, f.srv.FailRate(p, Fault{HTTPStatus: 500}, 1), ErrInvalidArgument)
	}
	assert.ErrorIs(t, f.srv.SetLatency(-time.Millisecond), ErrInvalidArgument)

	// None of the refused calls installed a fault.
	f.mustSend(f.android, unicast(f.android, AndroidToken("after")))
}

func TestFailNext(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		wantStatus int
		wantCode   string
		wantText   string
	}{
		{"HTTP status only", Fault{HTTPStatus: http.StatusServiceUnavailable}, http.StatusServiceUnavailable, "", "Service Unavailable"},
		{"vendor code", Fault{Code: "2020", Message: "service upgrading"}, http.StatusBadRequest, "2020", "service upgrading"},
		{"vendor code with status", Fault{Code: "4001", HTTPStatus: http.StatusInternalServerError}, http.StatusInternalServerError, "4001", "injected fault"},
		{"rate limit code", Fault{Code: CodeRateLimited}, http.StatusBadRequest, CodeRateLimited, "injected fault"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := AndroidToken("fail-next")
			require.NoError(t, f.srv.FailNext(2, tt.fault))
			for range 2 {
				r := f.send(f.android, unicast(f.android, tok))
				assert.Equal(t, tt.wantStatus, r.status)
				assert.Equal(t, tt.wantCode, r.code())
				assert.Contains(t, string(r.raw), tt.wantText)
			}
			assert.Zero(t, f.srv.DeliveryCount(tok), "a fault before acceptance changes nothing")
			f.mustSend(f.android, unicast(f.android, tok))
			assert.Equal(t, 1, f.srv.DeliveryCount(tok))

			recs := f.srv.Requests()
			require.Len(t, recs, 3)
			assert.True(t, recs[0].Fault)
			assert.False(t, recs[0].Accepted)
			assert.Equal(t, tt.wantStatus, recs[0].StatusCode)
			assert.Equal(t, tt.wantCode, recs[0].Code)
			assert.False(t, recs[2].Fault)
		})
	}
}

func TestFailNextPath(t *testing.T) {
	f := newFixture(t)
	taskID := f.mustSend(f.android, broadcastTo(f.android))
	require.NoError(t, f.srv.FailNext(1, Fault{Path: pathStatus, Code: "2013"}))
	require.NoError(t, f.srv.FailNext(1, Fault{Path: pathSend, HTTPStatus: http.StatusBadGateway}))

	assert.Equal(t, http.StatusBadGateway, f.send(f.android, unicast(f.android, AndroidToken("p"))).status,
		"a send skips the status fault queued first and takes the send fault")
	f.mustSend(f.android, unicast(f.android, AndroidToken("p")))
	assert.Equal(t, "2013", f.status(f.android, taskID).code())
	assert.Equal(t, http.StatusOK, f.status(f.android, taskID).status)
}

func TestFaultAfterAccept(t *testing.T) {
	f := newFixture(t)
	tok := AndroidToken("lost")
	require.NoError(t, f.srv.FailNext(1, Fault{HTTPStatus: http.StatusGatewayTimeout, AfterAccept: true}))

	r := f.send(f.android, unicast(f.android, tok))
	assert.Equal(t, http.StatusGatewayTimeout, r.status)
	assert.Equal(t, 1, f.srv.DeliveryCount(tok), "processed although the answer was an error")
	sends := f.srv.Sends()
	require.Len(t, sends, 1)
	assert.True(t, sends[0].Fault)
	assert.True(t, sends[0].Accepted)
	assert.NotEmpty(t, sends[0].ID)
}

func TestFaultTimeout(t *testing.T) {
	tests := []struct {
		name      string
		fault     Fault
		delivered int
	}{
		{"before processing", Fault{Timeout: true}, 0},
		{"after processing", Fault{Timeout: true, AfterAccept: true}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := AndroidToken(tt.name)
			require.NoError(t, f.srv.FailNext(1, tt.fault))
			raw, err := json.Marshal(f.fields(f.android, unicast(f.android, tok)))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			_, err = f.do(ctx, pathSend, raw, clientSign(f.url+pathSend, raw, f.android.AppMasterSecret))
			require.ErrorIs(t, err, context.DeadlineExceeded)

			// Close waits for the held request, so its record is final.
			f.srv.Close()
			assert.Equal(t, tt.delivered, f.srv.DeliveryCount(tok))
			recs := f.srv.Requests()
			require.Len(t, recs, 1)
			assert.Zero(t, recs[0].StatusCode)
			assert.True(t, recs[0].Fault)
			assert.Equal(t, tt.delivered == 1, recs[0].Accepted)
		})
	}
}

func TestFaultTimeoutAfterDelayDropsTheConnection(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.srv.FailNext(1, Fault{Timeout: true, Delay: 10 * time.Millisecond}))
	raw, err := json.Marshal(f.fields(f.android, unicast(f.android, AndroidToken("drop"))))
	require.NoError(t, err)
	_, err = f.do(t.Context(), pathSend, raw, clientSign(f.url+pathSend, raw, f.android.AppMasterSecret))
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "the server, not the client, ended it: %v", err)
}

func TestFaultDelay(t *testing.T) {
	f := newFixture(t)
	const delay = 30 * time.Millisecond
	require.NoError(t, f.srv.FailNext(1, Fault{Delay: delay}))
	began := time.Now()
	f.mustSend(f.android, unicast(f.android, AndroidToken("slow")))
	assert.GreaterOrEqual(t, time.Since(began), delay)

	// A delayed error fault answers its error after the delay.
	require.NoError(t, f.srv.FailNext(1, Fault{Delay: delay, Code: "4000"}))
	began = time.Now()
	assert.Equal(t, "4000", f.send(f.android, unicast(f.android, AndroidToken("slow"))).code())
	assert.GreaterOrEqual(t, time.Since(began), delay)

	// A client that gives up during the delay leaves the request unprocessed.
	require.NoError(t, f.srv.FailNext(1, Fault{Delay: time.Hour}))
	tok := AndroidToken("abandoned")
	raw, err := json.Marshal(f.fields(f.android, unicast(f.android, tok)))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = f.do(ctx, pathSend, raw, clientSign(f.url+pathSend, raw, f.android.AppMasterSecret))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	f.srv.Close()
	assert.Zero(t, f.srv.DeliveryCount(tok))
}

func TestSetLatency(t *testing.T) {
	f := newFixture(t)
	const latency = 25 * time.Millisecond
	require.NoError(t, f.srv.SetLatency(latency))
	for range 2 {
		began := time.Now()
		f.mustSend(f.android, unicast(f.android, AndroidToken("lat")))
		assert.GreaterOrEqual(t, time.Since(began), latency)
	}

	tok := AndroidToken("lat-gone")
	require.NoError(t, f.srv.SetLatency(time.Hour))
	raw, err := json.Marshal(f.fields(f.android, unicast(f.android, tok)))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err = f.do(ctx, pathSend, raw, clientSign(f.url+pathSend, raw, f.android.AppMasterSecret))
	require.ErrorIs(t, err, context.DeadlineExceeded)

	f.srv.ClearFaults()
	f.mustSend(f.android, unicast(f.android, tok))
	assert.Equal(t, 1, f.srv.DeliveryCount(tok), "the abandoned request was not processed")
}

func TestClearFaults(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.srv.FailNext(5, Fault{HTTPStatus: 500}))
	require.NoError(t, f.srv.FailRate(1, Fault{HTTPStatus: 500}, 1))
	f.srv.ClearFaults()
	f.mustSend(f.android, unicast(f.android, AndroidToken("clear")))
}

func TestFailRate(t *testing.T) {
	pattern := func(seed uint64) []bool {
		f := newFixture(t)
		require.NoError(t, f.srv.FailRate(0.5, Fault{Path: pathSend, Code: "2020"}, seed))
		out := make([]bool, 40)
		for i := range out {
			out[i] = f.send(f.android, unicast(f.android, AndroidToken("rate"))).code() == "2020"
		}
		failed := 0
		for _, b := range out {
			if b {
				failed++
			}
		}
		assert.Equal(t, failed, 40-f.srv.DeliveryCount(AndroidToken("rate")), "failed sends deliver nothing")
		return out
	}
	first := pattern(42)
	assert.Equal(t, first, pattern(42), "the same seed gives the same faults")
	assert.Contains(t, first, true)
	assert.Contains(t, first, false)

	f := newFixture(t)
	require.NoError(t, f.srv.FailRate(1, Fault{HTTPStatus: 500}, 7))
	assert.Equal(t, 500, f.send(f.android, unicast(f.android, AndroidToken("r"))).status)
	require.NoError(t, f.srv.FailNext(1, Fault{HTTPStatus: 502}))
	assert.Equal(t, 502, f.send(f.android, unicast(f.android, AndroidToken("r"))).status, "FailNext comes first")
	require.NoError(t, f.srv.FailRate(0, Fault{}, 0))
	f.mustSend(f.android, unicast(f.android, AndroidToken("r")))
}

func TestStall(t *testing.T) {
	f := newFixture(t)
	tok := AndroidToken("stall")
	release := f.srv.Stall()

	var wg sync.WaitGroup
	var r reply
	var err error
	body := f.fields(f.android, unicast(f.android, tok))
	wg.Go(func() { r, err = f.tryPost(f.android, pathSend, body) })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, f.srv.WaitStalled(ctx, 1))
	assert.Equal(t, 1, f.srv.Stalled())
	assert.Zero(t, f.srv.DeliveryCount(tok), "a stalled request has changed nothing")
	assert.Empty(t, f.srv.Requests())

	release()
	release() // harmless
	wg.Wait()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, 1, f.srv.DeliveryCount(tok))
	assert.Zero(t, f.srv.Stalled())
}

func TestStallNests(t *testing.T) {
	f := newFixture(t)
	release1, release2 := f.srv.Stall(), f.srv.Stall()
	var wg sync.WaitGroup
	var r reply
	var err error
	body := f.fields(f.android, unicast(f.android, AndroidToken("n")))
	wg.Go(func() { r, err = f.tryPost(f.android, pathSend, body) })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, f.srv.WaitStalled(ctx, 1))
	release1()
	assert.Equal(t, 1, f.srv.Stalled(), "still held by the second stall")
	release2()
	wg.Wait()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.status)
}

func TestStallAbandonedByClient(t *testing.T) {
	f := newFixture(t)
	tok := AndroidToken("crash")
	release := f.srv.Stall()
	defer release()

	raw, err := json.Marshal(f.fields(f.android, unicast(f.android, tok)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, 1)
	go func() {
		_, err := f.do(ctx, pathSend, raw, clientSign(f.url+pathSend, raw, f.android.AppMasterSecret))
		errs <- err
	}()
	waitCtx, waitCancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer waitCancel()
	require.NoError(t, f.srv.WaitStalled(waitCtx, 1))
	cancel() // the client "crashes"
	require.ErrorIs(t, <-errs, context.Canceled)

	f.srv.Close()
	assert.Zero(t, f.srv.DeliveryCount(tok))
	recs := f.srv.Requests()
	require.Len(t, recs, 1)
	assert.Zero(t, recs[0].StatusCode)
	assert.Contains(t, recs[0].Message, "stalled")
}

func TestCloseReleasesStalledRequests(t *testing.T) {
	f := newFixture(t)
	f.srv.Stall()
	errs := make(chan error, 1)
	go func() {
		raw, _ := json.Marshal(f.fields(f.android, unicast(f.android, AndroidToken("c"))))
		_, err := f.do(context.Background(), pathSend, raw, "x")
		errs <- err
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, f.srv.WaitStalled(ctx, 1))
	f.srv.Close()
	require.Error(t, <-errs)
	assert.Empty(t, f.srv.Deliveries())
}

func TestWaitStalledHonoursContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := f.srv.WaitStalled(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, strings.Contains(err.Error(), "have 0"))
}
