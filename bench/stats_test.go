package main

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	s := []int64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	for _, tc := range []struct {
		p    float64
		want int64
	}{{50, 50}, {90, 90}, {99, 100}, {99.9, 100}, {10, 10}, {1, 10}, {100, 100}} {
		if got := percentile(s, tc.p); got != tc.want {
			t.Errorf("percentile(%v) = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %d, want 0", got)
	}
}

func TestLatencyOfSortsAndSummarises(t *testing.T) {
	samples := make([]int64, 1000)
	for i := range samples {
		samples[i] = int64(1000 - i) // descending: 1000 … 1
	}
	l := latencyOf(samples)
	if l.N != 1000 || l.P50 != 500 || l.P90 != 900 || l.P99 != 990 || l.P999 != 999 {
		t.Fatalf("latencyOf = %+v", *l)
	}
	if latencyOf(nil) != nil {
		t.Fatal("latencyOf(nil) should be nil")
	}
}

func TestSummarize(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	s := summarize(xs)
	if s != (Summary{Median: 3, Min: 1, Max: 5, N: 5}) {
		t.Fatalf("summarize odd = %+v", s)
	}
	if xs[0] != 5 {
		t.Fatal("summarize modified its input")
	}
	if s := summarize([]float64{4, 1, 3, 2}); s.Median != 2.5 || s.Min != 1 || s.Max != 4 {
		t.Fatalf("summarize even = %+v", s)
	}
	if summarize(nil).Valid() {
		t.Fatal("empty summary is valid")
	}
}

func TestRatio(t *testing.T) {
	a, b := Summary{Median: 3, N: 1}, Summary{Median: 2, N: 1}
	if got := ratio(a, b); got != 1.5 {
		t.Fatalf("ratio = %v", got)
	}
	if !math.IsNaN(ratio(a, Summary{})) || !math.IsNaN(ratio(a, Summary{N: 1})) {
		t.Fatal("ratio against a missing or zero reference should be NaN")
	}
}

func TestResultDerived(t *testing.T) {
	r := Result{Msgs: 2000, Bytes: 2e6, ElapsedNs: 2e9, CPUNs: 4e6, Mallocs: 6000}
	if r.Rate() != 1000 || r.MBps() != 1 || r.CPUPerMsgUs() != 2 || r.AllocsPerMsg() != 3 {
		t.Fatalf("derived: rate %v MB/s %v cpu %v allocs %v", r.Rate(), r.MBps(), r.CPUPerMsgUs(), r.AllocsPerMsg())
	}
	if (Result{}).Rate() != 0 || (Result{}).CPUPerMsgUs() != 0 {
		t.Fatal("zero result should give zero rates")
	}
}

func TestVerifierDetectsLossReorderAndCorruption(t *testing.T) {
	body := newBody(16)
	v := newVerifier(2, body)
	for _, m := range []Msg{{Sender: 0, Seq: 0}, {Sender: 1, Seq: 0}, {Sender: 0, Seq: 1}} {
		m.Body = body
		if !v.check(m) {
			t.Fatalf("in-order message rejected: %v", v.Err())
		}
	}
	if v.got.Load() != 3 || v.Err() != nil {
		t.Fatalf("got %d, err %v", v.got.Load(), v.Err())
	}
	if v.check(Msg{Sender: 0, Seq: 3, Body: body}) {
		t.Fatal("gap accepted")
	}
	for name, m := range map[string]Msg{
		"unknown sender": {Sender: 7, Seq: 0, Body: body},
		"short body":     {Sender: 0, Seq: 0, Body: body[:4]},
		"corrupt body":   {Sender: 0, Seq: 0, Body: append([]byte("X"), body[1:]...)},
	} {
		v := newVerifier(1, body)
		if v.check(m) || v.Err() == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// A large body is checked by its edges, a window that moves with the
// sequence number, and whole every 64th message: over a stream, corruption
// anywhere is found; a different payload of the right size at once.
func TestVerifierLargeBodies(t *testing.T) {
	want := jsonBody(bigBody)
	other := newBody(bigBody)
	if v := newVerifier(1, want); v.check(Msg{Seq: 0, Body: other}) {
		t.Fatal("a different 1 MiB body accepted")
	}
	bad := append([]byte(nil), want...)
	bad[len(bad)/2] ^= 1
	v := newVerifier(1, want)
	caught := false
	for seq := range uint64(64) {
		if !v.check(Msg{Seq: seq, Body: bad}) {
			caught = true
			break
		}
	}
	if !caught {
		t.Fatal("a corrupt byte in the middle survived 64 messages")
	}
	v = newVerifier(1, want)
	for seq := range uint64(200) {
		if !v.check(Msg{Seq: seq, Body: want}) {
			t.Fatalf("seq %d: %v", seq, v.Err())
		}
	}
}

func TestJSONBody(t *testing.T) {
	for _, n := range []int{300, 4096, bigBody} {
		b := jsonBody(n)
		if len(b) != n || !json.Valid(b) {
			t.Fatalf("jsonBody(%d): %d bytes, valid %v", n, len(b), json.Valid(b))
		}
		var recs []map[string]any
		if err := json.Unmarshal(b, &recs); err != nil || len(recs) == 0 {
			t.Fatalf("jsonBody(%d): %v, %d records", n, err, len(recs))
		}
		for _, c := range b {
			if c < ' ' || c > '~' {
				t.Fatalf("jsonBody(%d): byte %q is not printable ASCII", n, c)
			}
		}
	}
	if !bytes.Equal(jsonBody(bigBody), jsonBigBody()) {
		t.Fatal("jsonBody is not deterministic")
	}
}

func TestWindowBlocksUntilHalfDrained(t *testing.T) {
	w := newWindow(4, time.Minute, nil)
	for i := range int64(4) {
		if err := w.acquire(i); err != nil { // the first four never block
			t.Fatal(err)
		}
	}
	released := make(chan error)
	go func() { released <- w.acquire(4) }()
	w.ack(1) // 3 in flight: still above half of the window
	select {
	case <-released:
		t.Fatal("sender resumed before half the window drained")
	default:
	}
	w.ack(2)
	if err := <-released; err != nil {
		t.Fatal(err)
	}
}

func TestWindowTimesOutAndAborts(t *testing.T) {
	w := newWindow(1, 10*time.Millisecond, nil)
	w.acquire(0)
	if err := w.acquire(1); err == nil {
		t.Fatal("no error without progress")
	}
	abort := make(chan struct{})
	close(abort)
	w = newWindow(1, time.Minute, abort)
	w.acquire(0)
	if err := w.acquire(1); err != errAborted {
		t.Fatalf("got %v, want errAborted", err)
	}
}
