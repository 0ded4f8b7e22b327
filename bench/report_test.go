package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// testCells builds a small report: baseline, a peer, a FAILED and a not-available cell.
func testCells() []*Cell {
	w := workloadByID("W1.s1")
	b0, nats := systemByKey("b0"), systemByKey("nats")
	run := func(msgs int64) Result {
		return Result{Msgs: msgs, Bytes: msgs * smallBody, ElapsedNs: 1e9, CPUNs: msgs * 100, Mallocs: uint64(msgs)}
	}
	return []*Cell{
		{W: w, S: b0, Runs: []Result{run(4e6), run(3e6), run(5e6)}},
		{W: w, S: nats, Runs: []Result{run(1e6), run(1e6), run(2e6)}},
		{W: w, S: systemByKey("protoactor"), Failed: "run 1: sender 0: got seq 5, want 4"},
		{W: w, S: systemByKey("aemp-std"), NA: "networking | not yet"},
	}
}

func TestThroughputTable(t *testing.T) {
	rep := &Report{Cells: testCells()}
	out := rep.Tables()
	for _, want := range []string{
		"### W1 one-way, 64 B, 1 sender",
		"| B0 raw TCP | 4.00M [3.00M–5.00M] | 256 | 1.00× | 4.00× | 0.100 | 1.00 |",
		"| NATS | 1.00M [1.00M–2.00M] | 64.0 | 0.25× | 1.00× |",
		"× best peer (NATS)",
		"| protoactor-go | **FAILED**: run 1: sender 0: got seq 5, want 4 |",
		`not available: networking \| not yet`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestLatencyTableRatiosAreToB0AndBestPeer(t *testing.T) {
	w := workloadByID("W2.c1")
	lat := func(p50 int64) Result {
		return Result{Msgs: 100, ElapsedNs: 1e9, Lat: &Latency{N: 100, P50: p50, P90: p50 * 2, P99: p50 * 3, P999: p50 * 4}}
	}
	rep := &Report{Cells: []*Cell{
		{W: w, S: systemByKey("b0"), Runs: []Result{lat(20e3)}},
		{W: w, S: systemByKey("nats"), Runs: []Result{lat(40e3)}},
		{W: w, S: systemByKey("protoactor"), Runs: []Result{lat(80e3)}},
	}}
	out := rep.Tables()
	for _, want := range []string{
		"| B0 raw TCP | 20.0µs | 40.0µs | 60.0µs | 80.0µs | 100 | 1.00× | 0.50× |",
		"| protoactor-go | 80.0µs | 160.0µs | 240.0µs | 320.0µs | 100 | 4.00× | 2.00× |",
		"best peer (NATS)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestMarkdownHeader(t *testing.T) {
	rep := &Report{Cells: testCells(), Runs: 3, Command: "make -C bench compare", Machine: "test CPU",
		Date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Params: params{Duration: time.Second, Warmup: 10}}
	md := rep.Markdown()
	for _, want := range []string{"`make -C bench compare`", "test CPU", "2026-01-02 03:04 UTC", "![results](results.png)", "brokered, two hops"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{siCount(1234), "1.2k"}, {siCount(2.5e6), "2.50M"}, {siCount(12), "12"},
		{fmtDur(950), "950ns"}, {fmtDur(12345), "12.3µs"}, {fmtDur(2.5e6), "2.50ms"}, {fmtDur(3e9), "3.00s"},
		{fmtNum(0.1234), "0.123"}, {fmtNum(12.34), "12.3"}, {fmtNum(1234), "1234"},
		{fmtRatio(1.234), "1.23×"}, {fmtRatio(0.0026), "0.0026×"}, {fmtRatio(math.NaN()), "–"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestPlanCoversEveryFamily(t *testing.T) {
	cells := plan(nil)
	seen := map[Family]bool{}
	for _, c := range cells {
		seen[c.W.Family] = true
		if !c.W.supports(c.S) {
			t.Errorf("%s planned but not supported", c.Name())
		}
	}
	if !seen[FamRemote] || !seen[FamLocal] || !seen[FamMesh] {
		t.Fatalf("families planned: %v", seen)
	}
}

func TestSendWaitsAreNoted(t *testing.T) {
	cells := testCells()
	cells[1].Runs[2].SendWaits = 7
	out := (&Report{Cells: cells}).Tables()
	if !strings.Contains(out, "NATS: in 1 of 3 runs, 7 sends in all found the queue full") {
		t.Fatalf("no note of the waits:\n%s", out)
	}
	if strings.Contains(out, "B0 raw TCP: in") {
		t.Fatal("a cell without waits is noted")
	}
}
