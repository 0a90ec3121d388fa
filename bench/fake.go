package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/tuisong/push/umeng/umengtest"
)

// fakeCommand is the hidden first argument that makes this binary serve
// the fake Umeng instead of running a scenario.
const fakeCommand = "__fake_umeng"

// statsPath answers the fake's counters as JSON (fakeStats).
const statsPath = "/bench/stats"

// fakeStats is what the fake saw: requests per path, counted on arrival,
// and the deliveries to devices it made.
type fakeStats struct {
	Send       int `json:"send"`
	Upload     int `json:"upload"`
	Accepted   int `json:"accepted"`
	Deliveries int `json:"deliveries"`
}

// serveFake runs umengtest with NoRateLimits on a loopback port, prints
// "URL <base url>" on stdout and serves until stdin closes (the parent
// exited or closed it).
func serveFake([]string) error {
	fake, err := umengtest.New(umengtest.Config{NoRateLimits: true})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc(statsPath, func(w http.ResponseWriter, _ *http.Request) {
		st := fakeStats{Send: fake.Arrived("/api/send"), Upload: fake.Arrived("/upload"),
			Accepted: len(fake.Sends()), Deliveries: len(fake.Deliveries())}
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.Handle("/", fake.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("URL http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fake.Close()
	return srv.Shutdown(ctx)
}

// fakeProc is a fake Umeng running in a child process.
type fakeProc struct {
	URL   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startFake starts the fake Umeng in a child process of this binary.
func startFake() (*fakeProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, fakeCommand)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &fakeProc{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "URL ") {
		f.Close()
		return nil, fmt.Errorf("fake umeng did not start: %q %v", line, err)
	}
	f.URL = strings.TrimSpace(strings.TrimPrefix(line, "URL "))
	return f, nil
}

// Stats asks the fake what it saw.
func (f *fakeProc) Stats() (fakeStats, error) {
	var st fakeStats
	resp, err := http.Get(f.URL + statsPath)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, errors.New("fake stats: " + resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// Close stops the child and waits for it.
func (f *fakeProc) Close() {
	_ = f.stdin.Close()
	done := make(chan struct{})
	go func() { _ = f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-done
	}
}
