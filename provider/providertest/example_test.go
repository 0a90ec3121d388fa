package providertest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
)

// A host application scripts a dead token, then checks what its code sent.
func ExampleMock() {
	ctx := context.Background()
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	if err != nil {
		fmt.Println(err)
		return
	}
	m.FailNext(1, m.Err(provider.InvalidToken, "5000"))

	req := &provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"device-token-1"}},
		Notification: provider.Notification{Title: "Order shipped", Body: "Your order is on its way"},
	}
	_, err = m.Send(ctx, req)
	fmt.Println(errors.Is(err, provider.InvalidToken), provider.CodeOf(err))

	rc, err := m.Send(ctx, req)
	fmt.Println(rc.Provider, rc.Platform, rc.ID, err)
	fmt.Println(m.Calls(), m.Requests()[1].Notification.Title)
	// Output:
	// true 5000
	// umeng android mock-1 <nil>
	// 2 Order shipped
}

// A rate-limit answer carries how long the vendor asked the caller to wait.
func ExampleMock_Err() {
	m, err := providertest.NewMock(providertest.MockConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	limited := m.Err(provider.RateLimited, "2050")
	limited.RetryAfter = time.Minute
	m.Enqueue(providertest.Result{Err: limited})

	_, err = m.Send(context.Background(), &provider.Request{
		Platform:     provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceBroadcast},
		Notification: provider.Notification{Body: "Maintenance tonight"},
	})
	fmt.Println(err)
	fmt.Println(provider.KindOf(err).SpendsAttempt(), provider.RetryAfterOf(err))
	// Output:
	// mock send: rate_limited (code 2050): scripted failure
	// false 1m0s
}

// A status poller is tested by moving a task along with SetStatus.
func ExampleMock_SetStatus() {
	ctx := context.Background()
	m, err := providertest.NewMock(providertest.MockConfig{
		Pollable: []provider.AudienceKind{provider.AudienceBroadcast},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rc, err := m.Send(ctx, &provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceBroadcast},
		Notification: provider.Notification{Title: "Sale", Body: "Everything half price"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := m.Status(ctx, provider.Android, rc.ID)
	fmt.Println(rc.ID, rc.Pollable, st.State, st.State.Final())

	m.SetStatus(rc.ID, provider.Status{State: provider.StateDone, Total: 120, Sent: 118})
	st, _ = m.Status(ctx, provider.Android, rc.ID)
	fmt.Println(st.State, st.State.Final(), st.Sent, "of", st.Total)
	// Output:
	// mock-1 true queued false
	// done true 118 of 120
}

// An accepted send can still report tokens the vendor refused.
func ExampleMock_Enqueue() {
	m, err := providertest.NewMock(providertest.MockConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m.Enqueue(providertest.Result{Receipt: &provider.Receipt{
		ID:       "uu-listcast-1",
		Failures: []provider.TokenFailure{{Token: "dead-token", Kind: provider.InvalidToken, Code: "5000"}},
	}})

	rc, err := m.Send(context.Background(), &provider.Request{
		Platform:     provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"live-token", "dead-token"}},
		Notification: provider.Notification{Body: "Hello"},
	})
	fmt.Println(rc.ID, rc.Provider, rc.Platform, err)
	for _, f := range rc.Failures {
		fmt.Println(f.Token, f.Kind.String())
	}
	// Output:
	// uu-listcast-1 mock ios <nil>
	// dead-token invalid_token
}

// A host test stands the Mock in for Umeng by naming it "umeng". The push
// Service sends a device's pushes through the provider whose Name is the
// device's push_platform, and device rows written without one (by other
// programs, or to the store directly) are read as "umeng"; a Service whose
// Mock keeps the default name, "mock", skips them (ErrNoDevices).
func ExampleMock_umeng() {
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Hand m to the Service as its provider, then register devices and push
	// as the host does. Receipts and errors carry the name too:
	rc, err := m.Send(context.Background(), &provider.Request{
		Platform:     provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"device-token-1"}},
		Notification: provider.Notification{Body: "Hello"},
	})
	fmt.Println(m.Name(), rc.Provider, err)

	def, _ := providertest.NewMock(providertest.MockConfig{})
	fmt.Println(def.Name())
	// Output:
	// umeng umeng <nil>
	// mock
}

// Validate refuses, without recording a call, what Send would refuse: here
// content over the configured payload limit, and an extras key the test's
// own check reserves.
func ExampleMock_Validate() {
	m, err := providertest.NewMock(providertest.MockConfig{
		Name: "umeng",
		Capabilities: map[provider.Platform]provider.Capabilities{
			provider.IOS: {MaxTokens: 500, MaxPayloadBytes: 2012, Audiences: []provider.AudienceKind{provider.AudienceTokens}},
		},
		Validate: func(r *provider.Request) error {
			if _, ok := r.Notification.Extras["aps"]; ok && r.Platform == provider.IOS {
				return provider.Invalid(`notification.extras["aps"]`, "is reserved on iOS")
			}
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := &provider.Request{
		Platform:     provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"device-token-1"}},
		Notification: provider.Notification{Title: "Order shipped", Body: strings.Repeat("x", 2100)},
	}
	err = m.Validate(req)
	fmt.Println(provider.KindOf(err), provider.FieldOf(err))

	req.Notification.Body = "Your order is on its way"
	req.Notification.Extras = map[string]string{"aps": "{}"}
	err = m.Validate(req)
	fmt.Println(provider.KindOf(err), provider.FieldOf(err))

	req.Notification.Extras = map[string]string{"order": "42"}
	fmt.Println(m.Validate(req), m.Calls())
	// Output:
	// invalid_request notification.body
	// invalid_request notification.extras["aps"]
	// <nil> 0
}
