// Package providertest holds the conformance suite every push provider
// passes and Mock, an in-memory provider for host applications' unit tests.
//
// # Overview
//
// The provider contract (package provider) promises things a type checker
// cannot see: one vendor call per Send and no internal retry, errors that
// classify by Kind, validation before any network call, honouring ctx, not
// keeping the caller's slices, safe concurrent use; and, for a
// provider.Validator, that Validate refuses what Send refuses before the
// network, naming the same field, without calling the vendor. [Run] turns
// those promises into subtests, so every vendor package proves them the
// same way, against its own fake vendor server, under -race.
//
// [Mock] keeps the same contract, so code tested against a Mock behaves the
// same against Umeng, JPush or Getui. It passes Run itself.
//
// # Writing a provider
//
// A provider package tests itself with a [Harness] factory that builds the
// provider pointed at a fresh fake backend. The factory runs once per
// subtest; tie the backend's lifetime to t with t.Cleanup. The fake needs
// four hooks: a counter of delivering calls, a one-shot fault per Kind it
// can imitate, a way to hold calls, and valid tokens. With an HTTP fake in
// the style of net/http/httptest it looks like this (names illustrative):
//
//	func TestConformance(t *testing.T) {
//		providertest.Run(t, func(t *testing.T) *providertest.Harness {
//			srv := vendortest.NewServer(t) // closed by t.Cleanup
//			c, err := vendor.New(vendor.Config{BaseURL: srv.URL, …})
//			require.NoError(t, err)
//			return &providertest.Harness{
//				Provider:  c,
//				Platforms: provider.Platforms(),
//				Token:     srv.Token,     // the i-th token the fake accepts
//				Calls:     srv.SendCalls, // delivering calls received, failed ones too
//				Fault:     func(k provider.Kind) bool { return srv.FailNext(vendorCodeFor(k)) },
//				Stall:     srv.Hold,      // holds calls until released or the client leaves
//			}
//		})
//	}
//
// Fault and Stall are optional; leaving them nil, or declining a Kind in
// Fault, skips the subtests that need them with the reason. Indeterminate
// is imitated by a fake that reads the request and then drops the
// connection without answering.
//
// Run documents the full list of checks. What it cannot check is left to
// each provider's own tests: secrets never appearing in errors or logs, the
// vendor code-to-Kind table row by row, and payload encoding.
//
// # The Mock
//
// [NewMock] takes a [MockConfig] whose zero value is ready to use. A Send
// that passes validation is recorded ([Mock.Requests], [Mock.Calls]) and
// answered from a script: results queued with [Mock.Enqueue] or
// [Mock.FailNext], in order; then the [SendFunc] of [Mock.SetSendFunc], if
// any; then a generated success with ids "mock-1", "mock-2", …. Receipts
// for the audience kinds listed in MockConfig.Pollable are tasks that
// [Mock.Status] answers and [Mock.Cancel] cancels; [Mock.SetStatus] moves a
// task along. [Mock.Reset] forgets everything but the configuration.
//
// Name the Mock after the vendor it stands in for. The push Service sends a
// device's pushes through the provider whose Name is the device's
// push_platform. A device the Service registers without one gets its
// DefaultProvider (the only provider, when there is one: a Mock named
// "mock" works there), but a device row written to the store directly or
// by another program without one is read as "umeng", and a Service whose
// Mock keeps the default name skips it: Push answers ErrNoDevices, saying
// the device was skipped. Give it the vendor's name instead:
//
//	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
//
// # Errors
//
// The Mock refuses what a real provider refuses, before recording anything:
// a Request that fails Request.Validate, an audience kind its Capabilities
// lack, more tokens than MaxTokens (MaxFileTokens with a FileThreshold),
// content over a positive
// MaxPayloadBytes (counted by [ContentBytes]), and whatever the check in
// MockConfig.Validate refuses. Those are InvalidRequest *provider.Error
// values naming the field, with Provider set to the Mock's name.
// [Mock.Validate], the Mock's provider.Validator, returns the same errors
// without sending, recording or consuming anything. A ctx that is already done gives a Temporary error. [Mock.Err]
// builds scripted errors; a scripted error that is not a *provider.Error is
// wrapped in one (Indeterminate for ctx errors, Unknown otherwise), so
// host code only ever sees errors the contract allows.
//
// # Testing
//
// The Mock runs the suite in four configurations, and the suite is itself
// tested: TestRunFailsBrokenProviders runs it in a child process against
// providers and harnesses that each break one promise, and expects the
// matching subtest to fail with the matching message. Run everything with
//
//	go test -race ./provider/providertest/
package providertest
