package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tuisong/push/umeng/umengtest"
)

// runAPI builds examples/server, runs it in demo mode (SQLite in a temp
// dir, the built-in fake Umeng) on a free loopback port, registers users
// and then drives push_message, then query/push_message, with -clients
// concurrent clients for -duration each.
func runAPI(ctx context.Context, o options) (err error) {
	if o.clients < 1 || o.apiUsers < 1 || o.duration <= 0 || o.maxRequests < 1 {
		return errors.New("-clients, -api-users, -duration and -max-requests must be positive")
	}
	dir, err := os.MkdirTemp("", "push-bench-api-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(ctx, o, dir)
	if err != nil {
		return err
	}
	defer func() {
		if serr := srv.Stop(); serr != nil && err == nil {
			err = serr
		}
		if err != nil {
			srv.dumpLog()
		}
	}()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: o.clients}}
	defer client.CloseIdleConnections()

	// Setup, not measured: every user gets an iOS and an Android device.
	t0 := time.Now()
	var next atomic.Int64
	var setupErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > 2*o.apiUsers || ctx.Err() != nil {
					return
				}
				user, j := userNum((i+1)/2), i%2
				dev := map[string]string{"user_num": user, "uuid": fmt.Sprintf("%s-dev-%d", user, j), "push_platform": "umeng",
					"platform": "ios", "push_token": umengtest.IOSToken(fmt.Sprintf("%s-%d", user, j)), "name": "bench", "os": "iOS", "os_version": "17.5"}
				if j == 1 {
					dev["platform"], dev["push_token"], dev["os"] = "android", umengtest.AndroidToken(fmt.Sprintf("%s-%d", user, j)), "Android"
				}
				if _, err := postJSON(ctx, client, srv.url+"/api/v1.1/app/device", dev); err != nil {
					once.Do(func() { setupErr = fmt.Errorf("register device: %w", err) })
					return
				}
			}
		}()
	}
	wg.Wait()
	if setupErr != nil {
		return setupErr
	}
	o.logf("registered %d users with 2 devices each in %v", o.apiUsers, time.Since(t0))

	loadAtStart := loadAvg()
	var idMu sync.Mutex
	var ids []int64
	push := load(ctx, o, func(ctx context.Context, rng *rand.Rand) error {
		body := map[string]string{"user_num": userNum(1 + rng.IntN(o.apiUsers)), "title": "bench", "content": "api benchmark"}
		answer, err := postJSON(ctx, client, srv.url+"/api/v1.1/user/push_message", body)
		if err != nil {
			return err
		}
		var res struct {
			ID       int64 `json:"push_message_id"`
			Accepted int   `json:"accepted"`
			Pending  int   `json:"pending"`
			Failed   int   `json:"failed"`
		}
		if err := json.Unmarshal(answer, &res); err != nil || res.ID == 0 {
			return fmt.Errorf("push_message answered %s", answer)
		}
		if res.Pending+res.Failed > 0 {
			return fmt.Errorf("push_message left deliveries pending or failed: %s", answer)
		}
		idMu.Lock()
		ids = append(ids, res.ID)
		idMu.Unlock()
		return nil
	})
	o.logf("push_message: %d requests, %d errors", push.n, push.errors)
	if len(ids) == 0 {
		return fmt.Errorf("no push_message succeeded: %v", push.firstErr)
	}
	query := load(ctx, o, func(ctx context.Context, rng *rand.Rand) error {
		id := ids[rng.IntN(len(ids))]
		answer, err := get(ctx, client, srv.url+"/api/v1.1/query/push_message?push_message_id="+strconv.FormatInt(id, 10))
		if err != nil {
			return err
		}
		if !bytes.Contains(answer, []byte(`"push_message_id":`+strconv.FormatInt(id, 10))) {
			return fmt.Errorf("query answered %s", answer)
		}
		return nil
	})
	o.logf("query: %d requests, %d errors", query.n, query.errors)
	o.printResult("api",
		kv{"clients", o.clients}, kv{"users", o.apiUsers}, kv{"duration_s", o.duration.Seconds()},
		kv{"push_requests", push.n}, kv{"push_errors", push.errors},
		kv{"push_req_per_s", push.perSecond()}, kv{"push_p50_ms", push.percentile(50)}, kv{"push_p99_ms", push.percentile(99)},
		kv{"query_requests", query.n}, kv{"query_errors", query.errors},
		kv{"query_req_per_s", query.perSecond()}, kv{"query_p50_ms", query.percentile(50)}, kv{"query_p99_ms", query.percentile(99)},
		kv{"ratio_vs_query", push.perSecond() / query.perSecond()}, kv{"loadavg_1m", loadAtStart})
	if push.errors+query.errors > 0 {
		return fmt.Errorf("%d push_message and %d query requests failed; first: %v", push.errors, query.errors,
			errors.Join(push.firstErr, query.firstErr))
	}
	return nil
}

// loadResult is what one phase measured.
type loadResult struct {
	n, errors int
	firstErr  error
	elapsed   time.Duration
	latencies []time.Duration // of successful requests
}

func (r loadResult) perSecond() float64 { return float64(r.n-r.errors) / r.elapsed.Seconds() }

// percentile returns the p-th percentile latency in milliseconds
// (nearest rank).
func (r loadResult) percentile(p float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p/100*float64(len(r.latencies)) + 0.5)
	i = min(max(i-1, 0), len(r.latencies)-1)
	return float64(r.latencies[i]) / float64(time.Millisecond)
}

// load runs do from o.clients goroutines until o.duration has passed or
// o.maxRequests were made.
func load(ctx context.Context, o options, do func(context.Context, *rand.Rand) error) loadResult {
	ctx, cancel := context.WithTimeout(ctx, o.duration+time.Minute) // a request in flight at the end may finish
	defer cancel()
	var issued atomic.Int64
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(o.duration)
	for c := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano())))
			var lat []time.Duration
			var n, nerr int
			var first error
			for time.Now().Before(deadline) && issued.Add(1) <= int64(o.maxRequests) && ctx.Err() == nil {
				t := time.Now()
				err := do(ctx, rng)
				n++
				if err != nil {
					nerr++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			res.n += n
			res.errors += nerr
			if res.firstErr == nil {
				res.firstErr = first
			}
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

func postJSON(ctx context.Context, c *http.Client, url string, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return do(c, req)
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return do(c, req)
}

func do(c *http.Client, req *http.Request) ([]byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %d %s", req.Method, req.URL.Path, resp.StatusCode, answer)
	}
	return answer, nil
}

// server is examples/server running as a child process.
type server struct {
	url     string
	cmd     *exec.Cmd
	logPath string
	done    chan error
}

// startServer builds examples/server of the module this bench replaces
// and starts it in demo mode with its database in dir.
func startServer(ctx context.Context, o options, dir string) (*server, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/tuisong/push").Output()
	if err != nil {
		return nil, fmt.Errorf("locate the push module: %w", err)
	}
	root := strings.TrimSpace(string(out))
	bin := filepath.Join(dir, "server")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/server")
	build.Dir = root
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build examples/server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{url: "http://" + addr, logPath: filepath.Join(dir, "server.log"), done: make(chan error, 1)}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "PUSH_ADDR="+addr, "PUSH_DB_DRIVER=sqlite", "PUSH_DB_DSN="+filepath.Join(dir, "push.db"),
		"PUSH_API_TOKEN=", "UMENG_IOS_APPKEY=", "UMENG_IOS_APP_MASTER_SECRET=",
		"UMENG_ANDROID_APPKEY=", "UMENG_ANDROID_APP_MASTER_SECRET=")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait(); logf.Close() }()
	o.logf("examples/server started on %s (pid %d), log %s", addr, s.cmd.Process.Pid, s.logPath)
	// Ready once it answers anything.
	for wait := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(s.url + "/api/v1.1/query/push_message?push_message_id=1")
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			s.dumpLog()
			return nil, fmt.Errorf("examples/server exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(wait) {
			s.Stop()
			return nil, errors.New("examples/server did not answer within 30s")
		}
	}
}

// Stop interrupts the server and waits for its clean shutdown.
func (s *server) Stop() error {
	if s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			return fmt.Errorf("examples/server: %w", err)
		}
		return nil
	case <-time.After(45 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("examples/server did not shut down within 45s")
	}
}

// dumpLog copies the tail of the server's log to stderr.
func (s *server) dumpLog() {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	fmt.Fprintf(os.Stderr, "--- examples/server log (tail) ---\n%s\n", b)
}
