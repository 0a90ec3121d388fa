package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// heapSampler samples the heap every few milliseconds while it runs and
// keeps the peaks.
type heapSampler struct {
	stop     chan struct{}
	done     sync.WaitGroup
	peakObj  uint64 // /memory/classes/heap/objects:bytes: live and not yet swept objects
	peakLive uint64 // /gc/heap/live:bytes: live bytes as of the last GC
}

const (
	metricHeapObjects = "/memory/classes/heap/objects:bytes"
	metricHeapLive    = "/gc/heap/live:bytes"
)

// startHeapSampler starts sampling every interval.
func startHeapSampler(interval time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	samples := []metrics.Sample{{Name: metricHeapObjects}, {Name: metricHeapLive}}
	read := func() {
		metrics.Read(samples)
		h.peakObj = max(h.peakObj, samples[0].Value.Uint64())
		h.peakLive = max(h.peakLive, samples[1].Value.Uint64())
	}
	read()
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return h
}

// Stop ends the sampling and returns the peaks in MiB.
func (h *heapSampler) Stop() (objectsMiB, liveMiB float64) {
	close(h.stop)
	h.done.Wait()
	return mib(h.peakObj), mib(h.peakLive)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// procStatusMiB reads a "kB" field of /proc/self/status (VmHWM, VmRSS) in
// MiB; -1 where there is no /proc.
func procStatusMiB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return -1
		}
		return kb / 1024
	}
	return -1
}

// profiler writes the CPU profile of the measured operation and a heap
// profile after it, where the flags ask for them.
type profiler struct {
	cpuFile *os.File
	memPath string
}

// startProfile starts the CPU profile when cpuPath is set.
func startProfile(cpuPath, memPath string) (*profiler, error) {
	p := &profiler{memPath: memPath}
	if cpuPath == "" {
		return p, nil
	}
	f, err := os.Create(cpuPath)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	p.cpuFile = f
	return p, nil
}

// Stop ends the CPU profile and writes the heap profile.
func (p *profiler) Stop() error {
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		if err := p.cpuFile.Close(); err != nil {
			return err
		}
		p.cpuFile = nil
	}
	if p.memPath == "" {
		return nil
	}
	f, err := os.Create(p.memPath)
	if err != nil {
		return err
	}
	runtime.GC() // the profile then shows live memory as of now
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("memprofile: %w", err)
	}
	p.memPath = ""
	return f.Close()
}

// loadAvg returns the 1-minute load average of the machine (-1 where there
// is no /proc): a RESULT measured while other work competes for the CPUs
// says so.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
