// Package fakeserver is the machinery the vendor fakes umengtest, jpushtest
// and getuitest share, so that each of them holds only what is its vendor's
// own: the APIs, their checks and their answers.
//
// # Overview
//
// A fake is an http.Handler on a loopback listener (Lifecycle) that runs
// every request through a Gate (Stall, latency), then through its Faults
// (FailNext, FailRate) and its own processing, and records it in a
// Recorder. Each part has its own lock and is safe for concurrent use.
//
// The types here carry no vendor knowledge. Each is parameterised by what a
// fake supplies: its Fault type and how one is checked and matched, its
// Request type and how one is copied, and its Identity (the package name
// and the sentinel errors its callers match with errors.Is). The fakes keep
// their exported methods and doc comments and delegate to these types, so
// host apps see no difference.
//
// # Keys
//
// Faults, stalls and arrival counts are keyed by a string the fake chooses:
// umengtest uses the request path, jpushtest and getuitest the API name
// their Request.API records.
package fakeserver
