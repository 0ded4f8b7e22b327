// Command bench runs aemp and its peers on the same workloads, one cell
// (system × workload) per fresh child process, and writes RESULTS.md and
// results.png. See README.md.
//
// Parent:  bench [-short] [-runs 5] [-only REGEXP] [-out RESULTS.md] [-png results.png]
// Child:   bench -cell W1.s1/nats -duration 2s -warmup 1000 -timeout 30s
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime/pprof"
	"time"
)

func main() {
	var (
		cell     = flag.String("cell", "", "child mode: run one `workload/system` cell once and print its result")
		short    = flag.Bool("short", false, "CI-sized run: short measured sections, 3 runs per cell")
		runs     = flag.Int("runs", 0, "runs per cell (default 5, or 3 with -short)")
		only     = flag.String("only", "", "run only cells whose `workload/system` name matches this regexp")
		out      = flag.String("out", "RESULTS.md", "report to write (empty: none)")
		png      = flag.String("png", "results.png", "chart to write (empty: none)")
		list     = flag.Bool("list", false, "list the cells and exit")
		duration = flag.Duration("duration", 0, "measured section of each run (default 2s, or 150ms with -short)")
		warmup   = flag.Int64("warmup", 0, "warm-up messages per sender (default 1000, or 200 with -short)")
		timeout  = flag.Duration("timeout", 30*time.Second, "how long delivery may lag behind the senders before a run fails")
		helper   = flag.String("helper", "", "helper mode (W6 peers or probe, started by a child): the job as JSON")
	)
	flag.Parse()
	if *helper != "" {
		os.Exit(helperMain(*helper))
	}

	p := params{Duration: 2 * time.Second, Warmup: 1000, Timeout: *timeout}
	n := 5
	if *short {
		p.Duration, p.Warmup, n = 150*time.Millisecond, 200, 3
	}
	if *duration > 0 {
		p.Duration = *duration
	}
	if *warmup > 0 {
		p.Warmup = *warmup
	}
	if *runs > 0 {
		n = *runs
	}

	if *cell != "" {
		if path := os.Getenv("BENCH_CPUPROFILE"); path != "" { // profile one cell: see README
			f, err := os.Create(path)
			if err == nil {
				pprof.StartCPUProfile(f)
				code := childMain(*cell, p)
				pprof.StopCPUProfile()
				f.Close()
				os.Exit(code)
			}
		}
		os.Exit(childMain(*cell, p))
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintln(os.Stderr, "bench: -only:", err)
			os.Exit(2)
		}
	}
	cells := plan(filter)
	if *list {
		for _, c := range cells {
			fmt.Println(c.Name())
		}
		return
	}
	if len(cells) == 0 {
		fmt.Fprintln(os.Stderr, "bench: no cell matches")
		os.Exit(2)
	}
	if err := compare(cells, p, n, *short, *out, *png); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
