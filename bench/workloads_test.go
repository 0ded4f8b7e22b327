package main

import (
	"testing"
	"time"
	"unsafe"
)

// quick are params small enough for unit tests.
var quick = params{Duration: 30 * time.Millisecond, Warmup: 50, Timeout: 10 * time.Second}

// TestBaselinesRunEveryWorkload drives the harness end to end, in process,
// over the baselines: every workload family must deliver verified numbers.
func TestBaselinesRunEveryWorkload(t *testing.T) {
	for _, name := range []string{"W1.s1/b0", "W1.s2/b1", "W2.c1/b0", "W2.c64/b1", "W3.f1/b2", "W3.f2/b2", "W4.bulk/b0", "W4.hol/b0"} {
		t.Run(name, func(t *testing.T) {
			r := runCell(name, quick)
			if r.Failed != "" || r.NA != "" {
				t.Fatalf("failed %q, not available %q", r.Failed, r.NA)
			}
			if r.Msgs <= 0 || r.ElapsedNs <= 0 || r.CPUNs <= 0 {
				t.Fatalf("no measurement: %+v", r)
			}
			if w := workloadByID(name[:len(name)-3]); w.Metric == MetLatency && (r.Lat == nil || r.Lat.N == 0 || r.Lat.P50 <= 0) {
				t.Fatalf("no latency: %+v", r)
			}
		})
	}
}

// lossy drops one message in a thousand from sender 0; the harness must
// report the cell as failed, never as a number.
type lossy struct{ inner Endpoint }

func (l lossy) Send(m Msg) error {
	if m.Sender == 0 && m.Seq%1000 == 999 {
		return nil
	}
	return l.inner.Send(m)
}

type lossySystem struct{}

func (lossySystem) OpenLocal(cfg PairConfig, recv []Handler) ([]Endpoint, func() error, error) {
	send, closeFn, err := chanSystem{}.OpenLocal(cfg, recv)
	for i := range send {
		send[i] = lossy{send[i]}
	}
	return send, closeFn, err
}

func TestLossIsReportedAsFailure(t *testing.T) {
	p := quick
	p.Timeout = 200 * time.Millisecond
	r, err := runLocal(lossySystem{}, 1, p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed == "" {
		t.Fatalf("lost messages not detected: %+v", r)
	}
}

func TestUnknownCell(t *testing.T) {
	if r := runCell("W9.x/b0", quick); r.Failed == "" {
		t.Fatal("unknown cell accepted")
	}
	if r := runCell("W3.f1/b0", quick); r.Failed == "" {
		t.Fatal("cell of an unsupported family accepted")
	}
}

// The window keeps its sender and receiver fields on separate cache lines
// only if it is a 256-byte object (that size class is 64-byte aligned).
func TestWindowLayout(t *testing.T) {
	if n := unsafe.Sizeof(window{}); n != 256 {
		t.Fatalf("window is %d bytes, want 256", n)
	}
	if off := unsafe.Offsetof(window{}.acked); off < 128 || off%64 != 0 {
		t.Fatalf("acked at offset %d, want a line of its own after the sender's", off)
	}
}
