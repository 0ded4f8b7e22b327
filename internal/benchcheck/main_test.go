package main

import (
	"io"
	"strings"
	"testing"
)

const baseRun = `
goos: linux
BenchmarkLocal1to1-2      	 3000000	       100.0 ns/op	   0 B/op	       0 allocs/op
BenchmarkLocal1to1-2      	 3000000	       110.0 ns/op	   0 B/op	       0 allocs/op
BenchmarkLocal1to1-2      	 3000000	        90.0 ns/op	   0 B/op	       0 allocs/op
BenchmarkChannel1to1-2    	 3000000	        50.0 ns/op
BenchmarkChannel1to1-2    	 3000000	        50.0 ns/op
BenchmarkChannel1to1-2    	 3000000	        50.0 ns/op
BenchmarkLocal2to2-2      	 3000000	       100.0 ns/op
BenchmarkChannel2to2-2    	 3000000	        50.0 ns/op
BenchmarkRemoteOneWay/goframe-std-2   100 300 ns/op 3e6 msgs/s
BenchmarkRemoteOneWay/json-std-2      100 300 ns/op 3e6 msgs/s
BenchmarkRawTCPOneWay-2               100  30 ns/op
BenchmarkRemotePingPong/goframe-std-2 100 90000 ns/op 20000 p50-ns 90000 p99-ns
BenchmarkRawTCPPingPong-2             100 15000 ns/op 14000 p50-ns
`

func TestParseAndMedian(t *testing.T) {
	m, err := parse(strings.NewReader(baseRun))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := median(m, "BenchmarkLocal1to1", "ns/op"); v != 100 {
		t.Fatalf("median %v", v)
	}
	if v, _ := median(m, "BenchmarkRemotePingPong/goframe-std", "p50-ns"); v != 20000 {
		t.Fatalf("p50 %v", v)
	}
}

func TestCompare(t *testing.T) {
	base, _ := parse(strings.NewReader(baseRun))
	// A machine twice as slow: every ratio unchanged, no regression.
	slow := strings.NewReplacer(" 100.0 ", " 200.0 ", " 110.0 ", " 220.0 ", " 90.0 ", " 180.0 ", " 50.0 ", " 100.0 ").Replace(baseRun)
	cur, _ := parse(strings.NewReader(slow))
	if bad := compare(io.Discard, base, cur, 0.3); bad != 0 {
		t.Fatalf("uniformly slower machine reported %d regressions", bad)
	}
	// The kernel alone 50% slower relative to the channel: a regression.
	worse := strings.NewReplacer(" 100.0 ns/op\t   0 B", " 160.0 ns/op\t   0 B", " 110.0 ", " 170.0 ", " 90.0 ", " 150.0 ").Replace(baseRun)
	cur, _ = parse(strings.NewReader(worse))
	if bad := compare(io.Discard, base, cur, 0.3); bad != 1 {
		t.Fatalf("got %d regressions, want 1", bad)
	}
	// A benchmark missing from the current run is a failure, not a pass.
	cur, _ = parse(strings.NewReader("BenchmarkLocal1to1-2 1 1 ns/op\n"))
	if bad := compare(io.Discard, base, cur, 0.3); bad != len(checks) {
		t.Fatalf("missing benchmarks gave %d failures", bad)
	}
}
