package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be a W6 helper process too: runLinks
// starts helpers by re-executing its own binary with -helper.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "-helper" {
		os.Exit(helperMain(os.Args[2]))
	}
	os.Exit(m.Run())
}

// TestLinksEndToEnd runs W6 with a few links over NATS and aemp std, with
// helper processes, and checks that every measure is there.
func TestLinksEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	defer func(a, b, c, d time.Duration) { linksSettle, linksIdle, linksWarm, linksMinDuration = a, b, c, d }(
		linksSettle, linksIdle, linksWarm, linksMinDuration)
	linksSettle, linksIdle, linksWarm, linksMinDuration = 100*time.Millisecond, 300*time.Millisecond, 200*time.Millisecond, 300*time.Millisecond
	for _, key := range []string{"nats", "aemp-std"} {
		t.Run(key, func(t *testing.T) {
			r, err := runLinks(systemByKey(key), 20, quick)
			if err != nil || r.Failed != "" {
				t.Fatalf("err %v, failed %q", err, r.Failed)
			}
			st := r.Links
			if st == nil || st.Links != 21 || st.Helpers != 2 || st.Sent < 20 || r.Msgs <= 0 || r.CPUNs <= 0 {
				t.Fatalf("missing measures: %+v, %+v", r, st)
			}
			if st.GorIdle <= st.GorBase || st.RSSIdle <= 0 || st.RSSLoad <= 0 || st.SetupNs <= 0 {
				t.Fatalf("no footprint: %+v", st)
			}
			if r.Lat == nil || r.Lat.N == 0 || st.IdleLat == nil || st.IdleLat.N == 0 {
				t.Fatalf("no probe round trips: %+v, idle %+v", r.Lat, st.IdleLat)
			}
			if st.SentRate <= 0 || st.HelperCores <= 0 {
				t.Fatalf("no helper measures: %+v", st)
			}
		})
	}
}

func TestLinksTable(t *testing.T) {
	w := workloadByID("W6.n10k")
	run := Result{Msgs: 100000, ElapsedNs: 1e9, CPUNs: 5e8, Lat: &Latency{N: 200, P50: 1e6, P99: 4e6},
		Links: &LinkStats{N: 10000, Links: 10001, GorBase: 5, GorIdle: 20007, RSSBase: 30 << 20, RSSIdle: 30<<20 + 10001*20<<10,
			RSSLoad: 30<<20 + 10001*24<<10, IdleCPUNs: 1e6, IdleNs: 1e9, SetupNs: 5e9, HelperCores: 1.2, SentRate: 99000,
			IdleLat: &Latency{N: 200, P50: 3e5, P99: 1e6}}}
	rep := &Report{Cells: []*Cell{
		{W: w, S: systemByKey("aemp-netpoll"), Runs: []Result{run}},
		{W: w, S: systemByKey("nats"), Failed: "run 1: boom"},
	}}
	out := rep.Tables()
	for _, want := range []string{
		"### W6 many links: 10,000 peers",
		"| aemp netpoll | 10001 | 5.00s | 2.00 (2.00×) | 20.0 KiB (1.25×) | 24.0 KiB | 0.100% | 100.0k (99.0k) | 5.00 | 300.0µs | 1.00ms | 1.00ms | 4.00ms (2.00×) | 1.20 cores |",
		"| NATS | **FAILED**: run 1: boom |",
		"probe p99 ≤ 2.00ms under traffic at 10,000 links",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
