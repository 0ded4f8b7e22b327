package main

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// sendWaits counts sends that a system refused for a full queue and then
// retried waiting for room (aemp: ErrQueueFull, then SndMsgCtx). The
// harness's windows should keep every system below such limits; the count
// is reported so that a wait cannot hide in a number.
var sendWaits atomic.Int64

// Result is what one child run reports to the parent, as one JSON line.
type Result struct {
	Cell      string     `json:"cell"`
	Msgs      int64      `json:"msgs"`                 // messages delivered and verified in the measured section
	Bytes     int64      `json:"bytes"`                // body bytes delivered in the measured section
	ElapsedNs int64      `json:"elapsed_ns"`           // wall time of the measured section
	CPUNs     int64      `json:"cpu_ns"`               // user+sys CPU of the child process in the measured section
	Mallocs   uint64     `json:"mallocs"`              // heap allocations in the measured section
	SendWaits int64      `json:"send_waits,omitempty"` // sends in the whole run (warm-up included) that found the system's queue full and waited for room
	Lat       *Latency   `json:"lat,omitempty"`
	Mesh      *MeshTimes `json:"mesh,omitempty"`
	Links     *LinkStats `json:"links,omitempty"`
	Failed    string     `json:"failed,omitempty"` // verification or run failure
	NA        string     `json:"na,omitempty"`     // reason the cell is not available
}

// Rate is delivered messages per second.
func (r Result) Rate() float64 { return perSecond(r.Msgs, r.ElapsedNs) }

// MBps is delivered body megabytes (10^6) per second.
func (r Result) MBps() float64 { return perSecond(r.Bytes, r.ElapsedNs) / 1e6 }

// CPUPerMsgUs is child CPU microseconds per delivered message.
func (r Result) CPUPerMsgUs() float64 {
	if r.Msgs == 0 {
		return 0
	}
	return float64(r.CPUNs) / 1e3 / float64(r.Msgs)
}

// AllocsPerMsg is heap allocations per delivered message.
func (r Result) AllocsPerMsg() float64 {
	if r.Msgs == 0 {
		return 0
	}
	return float64(r.Mallocs) / float64(r.Msgs)
}

func perSecond(n, ns int64) float64 {
	if ns <= 0 {
		return 0
	}
	return float64(n) / (float64(ns) / 1e9)
}

// Latency holds round-trip percentiles of one run, in nanoseconds.
type Latency struct {
	N    int   `json:"n"`
	P50  int64 `json:"p50"`
	P90  int64 `json:"p90"`
	P99  int64 `json:"p99"`
	P999 int64 `json:"p999"`
}

// meter brackets the measured section of a run: wall time, process CPU
// (getrusage RUSAGE_SELF of the child) and heap allocations (runtime.MemStats).
type meter struct {
	start   time.Time
	cpu     int64
	mallocs uint64
}

// startMeter snapshots the counters; call it right before the measured section.
func startMeter() *meter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := &meter{mallocs: ms.Mallocs, cpu: processCPU()}
	m.start = time.Now()
	return m
}

// stop fills the measured fields of r.
func (m *meter) stop(r *Result) {
	r.ElapsedNs = time.Since(m.start).Nanoseconds()
	r.CPUNs = processCPU() - m.cpu
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.Mallocs = ms.Mallocs - m.mallocs
}

// processCPU is user+sys CPU time of this process so far, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
