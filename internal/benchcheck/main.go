// Command benchcheck fails when the core benchmarks regress against a
// committed baseline (make bench-check).
//
// Machines differ and these 2-core machines are noisy, so a benchmark is not
// compared by its raw time but by its ratio to a reference benchmark
// measured in the same run (the local kernel against a Go channel, a remote
// link against raw TCP with pre-encoded frames). For each pair it takes the
// median over the -count runs of both files and reports a regression when
// the current ratio exceeds the baseline ratio by more than -tol.
//
//	go run ./internal/benchcheck -baseline bench/baseline.txt -current current.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A check compares Bench (metric Unit) against Ref; lower is better.
type check struct {
	Bench, Ref, Unit string
}

var checks = []check{
	{"BenchmarkLocal1to1", "BenchmarkChannel1to1", "ns/op"},
	{"BenchmarkLocal2to2", "BenchmarkChannel2to2", "ns/op"},
	{"BenchmarkRemoteOneWay/goframe-std", "BenchmarkRawTCPOneWay", "ns/op"},
	{"BenchmarkRemoteOneWay/json-std", "BenchmarkRawTCPOneWay", "ns/op"},
	{"BenchmarkRemotePingPong/goframe-std", "BenchmarkRawTCPPingPong", "p50-ns"},
}

func main() {
	base := flag.String("baseline", "bench/baseline.txt", "committed baseline (go test -bench output)")
	cur := flag.String("current", "", "current run (go test -bench output)")
	tol := flag.Float64("tol", 0.30, "allowed relative increase of a ratio")
	flag.Parse()
	b, err := load(*base)
	if err == nil && *cur == "" {
		err = fmt.Errorf("-current is required")
	}
	var c map[string]map[string][]float64
	if err == nil {
		c, err = load(*cur)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcheck:", err)
		os.Exit(2)
	}
	if bad := compare(os.Stdout, b, c, *tol); bad > 0 {
		fmt.Fprintf(os.Stderr, "benchcheck: %d regression(s) beyond %.0f%%\n", bad, *tol*100)
		os.Exit(1)
	}
}

// compare prints the table and returns the number of regressions (a
// benchmark missing from either file counts as one).
func compare(w io.Writer, base, cur map[string]map[string][]float64, tol float64) int {
	bad := 0
	fmt.Fprintf(w, "%-40s %-26s %12s %12s %8s\n", "benchmark", "relative to", "baseline", "current", "change")
	for _, ch := range checks {
		br, e1 := ratio(base, ch)
		cr, e2 := ratio(cur, ch)
		if e1 != nil || e2 != nil {
			fmt.Fprintf(w, "%-40s missing: %v %v\n", ch.Bench, e1, e2)
			bad++
			continue
		}
		change := cr/br - 1
		verdict := ""
		if change > tol {
			verdict = "  REGRESSION"
			bad++
		}
		fmt.Fprintf(w, "%-40s %-26s %11.2fx %11.2fx %+7.1f%%%s\n", ch.Bench, ch.Ref+" "+ch.Unit, br, cr, change*100, verdict)
	}
	return bad
}

func ratio(m map[string]map[string][]float64, ch check) (float64, error) {
	a, err := median(m, ch.Bench, ch.Unit)
	if err != nil {
		return 0, err
	}
	r, err := median(m, ch.Ref, ch.Unit)
	if err != nil {
		return 0, err
	}
	if ch.Unit == "p50-ns" && r == 0 {
		return 0, fmt.Errorf("%s: zero reference", ch.Ref)
	}
	// The raw-TCP ping-pong reports p50-ns; its ns/op would also do, but the
	// same unit on both sides keeps the ratio meaningful.
	return a / r, nil
}

func median(m map[string]map[string][]float64, bench, unit string) (float64, error) {
	vals := m[bench][unit]
	if len(vals) == 0 {
		return 0, fmt.Errorf("%s has no %s values", bench, unit)
	}
	v := slices.Clone(vals)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], nil
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, nil
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// load parses go test -bench output: benchmark name (GOMAXPROCS suffix
// removed) → unit → values.
func load(path string) (map[string]map[string][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(f)
}

func parse(r io.Reader) (map[string]map[string][]float64, error) {
	out := map[string]map[string][]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		if out[name] == nil {
			out[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			out[name][f[i+1]] = append(out[name][f[i+1]], v)
		}
	}
	return out, sc.Err()
}
