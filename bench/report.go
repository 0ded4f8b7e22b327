package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

// Report is everything RESULTS.md and results.png are made from.
type Report struct {
	Cells   []*Cell
	Runs    int
	Short   bool
	Params  params
	Command string
	Machine string
	Date    time.Time
	Took    time.Duration
}

// baseKey is the baseline each family's ratios are taken against.
func baseKey(f Family) string {
	if f == FamLocal {
		return "b2"
	}
	return "b0"
}

// Markdown renders the whole report.
func (r *Report) Markdown() string {
	var b strings.Builder
	b.WriteString("# aemp benchmark results\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", r.Date.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Command: `%s`\n", r.Command)
	fmt.Fprintf(&b, "- Machine: %s\n", r.Machine)
	mode := "full"
	if r.Short {
		mode = "short (CI-sized; numbers are indicative only; W6 cells run once)"
	}
	fmt.Fprintf(&b, "- Mode: %s; %d runs per cell, each in a fresh child process; measured section %v after %d warm-up messages per sender; took %v\n",
		mode, r.Runs, r.Params.Duration, r.Params.Warmup, r.Took.Round(time.Second))
	b.WriteString("- Cells show the median of the runs with [min–max]. Ratios compare medians: ")
	b.WriteString("throughput × B0 (remote) or × B2 (local) and × the best peer (higher is better); ")
	b.WriteString("latency × B0 and × the best peer (lower is better).\n")
	b.WriteString("- CPU is user+sys of the child process (getrusage) over the measured section; allocations are runtime.MemStats.Mallocs over the same section. Both are per delivered message (per round trip for latency workloads; per 1 MiB message in W4).\n")
	b.WriteString("- MB/s is application bytes: message bodies delivered per second (10^6 bytes), not bytes on the wire; in W4c a compressing system moves fewer wire bytes for the same MB/s.\n")
	b.WriteString("- Every run verifies delivery: message counts, per-sender order and body size/content. A cell with any failing run is FAILED.\n\n")
	b.WriteString("![results](results.png)\n\n")
	b.WriteString(r.Tables())
	b.WriteString("\n## Systems\n\n")
	for _, s := range systems {
		fmt.Fprintf(&b, "- **%s** (%s): %s\n", s.Name, s.Group, s.Note)
	}
	b.WriteString("\nSettings of every system are documented in README.md.\n")
	return b.String()
}

// Tables renders one table per workload that has cells.
func (r *Report) Tables() string {
	var b strings.Builder
	for _, w := range workloads {
		var cells []*Cell
		for _, c := range r.Cells {
			if c.W == w {
				cells = append(cells, c)
			}
		}
		if len(cells) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s\n\n", w.Title)
		switch w.Metric {
		case MetThroughput:
			throughputTable(&b, w, cells)
		case MetLatency:
			latencyTable(&b, w, cells)
		case MetMesh:
			meshTable(&b, cells)
		case MetLinks:
			linksTable(&b, w, cells)
		}
		waitsNote(&b, cells)
	}
	return b.String()
}

// waitsNote lists the cells whose sends found a full queue and waited
// (Result.SendWaits), so that such waits are visible next to the numbers.
func waitsNote(b *strings.Builder, cells []*Cell) {
	for _, c := range cells {
		var runs, total int64
		for _, r := range c.Runs {
			if r.SendWaits > 0 {
				runs++
				total += r.SendWaits
			}
		}
		if runs > 0 {
			fmt.Fprintf(b, "\n%s: in %d of %d runs, %d sends in all found the queue full (ErrQueueFull) and waited for room (SndMsgCtx).\n",
				c.S.Name, runs, len(c.Runs), total)
		}
	}
}

// primary is the number a cell is ranked by: throughput, or median round trip.
func primary(c *Cell) Summary {
	if !c.OK() {
		return Summary{}
	}
	switch c.W.Metric {
	case MetLatency:
		return summarizeBy(c.Runs, func(r Result) float64 { return latP(r, 50) })
	case MetLinks:
		return summarizeBy(c.Runs, func(r Result) float64 { return r.Links.RSSPerLinkIdle() })
	}
	return summarizeBy(c.Runs, Result.Rate)
}

// latP reads a percentile of a run, in nanoseconds.
func latP(r Result, p float64) float64 {
	if r.Lat == nil {
		return math.NaN()
	}
	switch p {
	case 50:
		return float64(r.Lat.P50)
	case 90:
		return float64(r.Lat.P90)
	case 99:
		return float64(r.Lat.P99)
	}
	return float64(r.Lat.P999)
}

// references finds the baseline and best-peer summaries among cells.
func references(w *Workload, cells []*Cell) (base, best Summary, bestName string) {
	for _, c := range cells {
		s := primary(c)
		if !s.Valid() {
			continue
		}
		if c.S.Key == baseKey(w.Family) {
			base = s
		}
		if c.S.Group != "peer" {
			continue
		}
		better := !best.Valid() ||
			(w.Metric == MetLatency && s.Median < best.Median) ||
			(w.Metric != MetLatency && s.Median > best.Median)
		if better {
			best, bestName = s, c.S.Name
		}
	}
	return base, best, bestName
}

func throughputTable(b *strings.Builder, w *Workload, cells []*Cell) {
	base, best, bestName := references(w, cells)
	baseName := strings.ToUpper(baseKey(w.Family))
	bytesLabel := w.BytesLabel
	if bytesLabel == "" {
		bytesLabel = "MB/s"
	}
	fmt.Fprintf(b, "| system | msgs/s | %s | × %s | × best peer (%s) | CPU µs/msg | allocs/msg |\n", bytesLabel, baseName, orDash(bestName))
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cells {
		if !c.OK() {
			fmt.Fprintf(b, "| %s | %s | | | | | |\n", c.S.Name, status(c))
			continue
		}
		rate := primary(c)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", c.S.Name,
			withRange(rate, siCount), fmtNum(summarizeBy(c.Runs, Result.MBps).Median),
			fmtRatio(ratio(rate, base)), fmtRatio(ratio(rate, best)),
			fmtNum(summarizeBy(c.Runs, Result.CPUPerMsgUs).Median), fmtNum(summarizeBy(c.Runs, Result.AllocsPerMsg).Median))
	}
}

func latencyTable(b *strings.Builder, w *Workload, cells []*Cell) {
	base, best, bestName := references(w, cells)
	extraHead, per := "round trips/s", "round trip"
	extra := func(c *Cell) string { return siCount(primaryRate(c)) }
	if w.ID == "W4.hol" {
		extraHead, per = "bulk MB/s", "1 MiB msg"
		extra = func(c *Cell) string { return fmtNum(summarizeBy(c.Runs, Result.MBps).Median) }
	}
	fmt.Fprintf(b, "| system | p50 | p90 | p99 | p99.9 | samples/run | p50 × B0 | p50 × best peer (%s) | %s | CPU µs/%s | allocs/%s |\n",
		orDash(bestName), extraHead, per, per)
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cells {
		if !c.OK() {
			fmt.Fprintf(b, "| %s | %s | | | | | | | | | |\n", c.S.Name, status(c))
			continue
		}
		p := func(q float64) string {
			return fmtDur(summarizeBy(c.Runs, func(r Result) float64 { return latP(r, q) }).Median)
		}
		n := summarizeBy(c.Runs, func(r Result) float64 { return float64(r.Lat.N) }).Median
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c.S.Name,
			withRange(primary(c), fmtDur), p(90), p(99), p(99.9), siCount(n),
			fmtRatio(ratio(primary(c), base)), fmtRatio(ratio(primary(c), best)), extra(c),
			fmtNum(summarizeBy(c.Runs, Result.CPUPerMsgUs).Median), fmtNum(summarizeBy(c.Runs, Result.AllocsPerMsg).Median))
	}
}

// primaryRate is the median rate of a cell's runs.
func primaryRate(c *Cell) float64 { return summarizeBy(c.Runs, Result.Rate).Median }

func meshTable(b *strings.Builder, cells []*Cell) {
	b.WriteString("| system | time to full mesh | registry change reaches all (median of 9) | RSS per node |\n|---|---:|---:|---:|\n")
	for _, c := range cells {
		if !c.OK() {
			fmt.Fprintf(b, "| %s | %s | | |\n", c.S.Name, status(c))
			continue
		}
		form := summarizeBy(c.Runs, func(r Result) float64 { return float64(r.Mesh.FormNs) })
		prop := summarizeBy(c.Runs, func(r Result) float64 { return float64(r.Mesh.PropagateNs) })
		rss := summarizeBy(c.Runs, func(r Result) float64 { return float64(r.Mesh.RSSPerNode) })
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", c.S.Name, withRange(form, fmtDur), withRange(prop, fmtDur), withRange(rss, fmtKiB))
	}
}

// The targets the project set for many links (W6).
const (
	targetGorPerLink = 1        // goroutines per idle link, netpoll backend
	targetRSSPerLink = 16 << 10 // bytes of RSS per idle link
	targetProbeP99   = 2e6      // ns, probe round trip p99 at 10,000 links
	targetLinksN     = 10000    // the N the p99 target is set for
)

// linksMedian is the median over a W6 cell's runs of a LinkStats measure.
func linksMedian(c *Cell, f func(*LinkStats) float64) float64 {
	return summarizeBy(c.Runs, func(r Result) float64 { return f(r.Links) }).Median
}

// fmtKiB formats bytes in KiB.
func fmtKiB(b float64) string {
	if math.IsNaN(b) {
		return "–"
	}
	return fmtNum(b/1024) + " KiB"
}

// vsTarget is a measured value and its ratio to the target (≤ 1.00× meets it).
func vsTarget(s string, x, target float64) string {
	return fmt.Sprintf("%s (%s)", s, fmtRatio(x/target))
}

func linksTable(b *strings.Builder, w *Workload, cells []*Cell) {
	n := 0
	for _, c := range cells {
		if c.OK() {
			n = c.Runs[0].Links.N
		}
	}
	fmt.Fprintf(b, "Targets (× target: measured ÷ target, ≤ 1.00× meets it): ≤ %d goroutine per idle link (netpoll), ≤ %s RSS per idle link, probe p99 ≤ %s under traffic at 10,000 links.",
		targetGorPerLink, fmtKiB(targetRSSPerLink), fmtDur(targetProbeP99))
	if n != targetLinksN {
		b.WriteString(" The p99 target is set for 10,000 links; here it is a reference.")
	}
	fmt.Fprintf(b, " Per-link values are the server process's (VmRSS, goroutines) difference to the server up without links, divided by the links (peers + the probe's). The peers offer %s msgs/s (%d msg/s each; the probe adds ≤ %d pings/s); msgs/s in is what the server received in the measured section (a backlog included), peers sent what they managed to send. Helpers' CPU is what the peer and probe processes used on the same machine: when server + helpers approach the machine's cores, the probe measures a saturated machine.\n\n", siCount(float64(n*linksRate)), linksRate, int(time.Second/probeInterval))
	b.WriteString("| system | links | set-up | goroutines/link | RSS/link idle | RSS/link loaded | idle CPU | msgs/s in (peers sent) | CPU µs/msg | probe p50 idle | probe p99 idle | probe p50 | probe p99 | helpers' CPU |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range cells {
		if !c.OK() {
			fmt.Fprintf(b, "| %s | %s | | | | | | | | | | | | |\n", c.S.Name, status(c))
			continue
		}
		st := c.Runs[0].Links
		med := func(f func(*LinkStats) float64) float64 { return linksMedian(c, f) }
		lat := func(idle bool, q float64) float64 {
			return summarizeBy(c.Runs, func(r Result) float64 {
				if idle {
					return latP(Result{Lat: r.Links.IdleLat}, q)
				}
				return latP(r, q)
			}).Median
		}
		gor := med((*LinkStats).GorPerLink)
		rss := primary(c)
		p99 := summarizeBy(c.Runs, func(r Result) float64 { return latP(r, 99) })
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s%% | %s (%s) | %s | %s | %s | %s | %s | %s cores |\n", c.S.Name,
			st.Links,
			fmtDur(med(func(s *LinkStats) float64 { return float64(s.SetupNs) })),
			vsTarget(fmtNum(gor), gor, targetGorPerLink),
			vsTarget(withRange(rss, fmtKiB), rss.Median, targetRSSPerLink),
			fmtKiB(med((*LinkStats).RSSPerLinkLoad)),
			fmtNum(med((*LinkStats).IdleCPUPercent)),
			siCount(primaryRate(c)), siCount(med(func(s *LinkStats) float64 { return s.SentRate })),
			fmtNum(summarizeBy(c.Runs, Result.CPUPerMsgUs).Median),
			fmtDur(lat(true, 50)), fmtDur(lat(true, 99)),
			fmtDur(lat(false, 50)),
			vsTarget(withRange(p99, fmtDur), p99.Median, targetProbeP99),
			fmtNum(med(func(s *LinkStats) float64 { return s.HelperCores })))
	}
}

// status is the table text of a cell without numbers.
func status(c *Cell) string {
	switch {
	case c.NA != "":
		return "not available: " + mdEscape(c.NA)
	case c.Failed != "":
		return "**FAILED**: " + mdEscape(c.Failed)
	}
	return "no runs"
}

// headline is the one-line progress summary of a finished cell.
func headline(c *Cell) string {
	s := primary(c)
	if c.W.Metric == MetLatency {
		return "p50 " + withRange(s, fmtDur)
	}
	if c.W.Metric == MetMesh {
		return "ok"
	}
	if c.W.Metric == MetLinks {
		return fmt.Sprintf("%s goroutines/link, %s/link idle, probe p99 %s",
			fmtNum(linksMedian(c, (*LinkStats).GorPerLink)), fmtKiB(s.Median),
			fmtDur(summarizeBy(c.Runs, func(r Result) float64 { return latP(r, 99) }).Median))
	}
	return withRange(s, siCount) + " msgs/s"
}

func withRange(s Summary, f func(float64) string) string {
	if !s.Valid() {
		return "–"
	}
	if s.N == 1 {
		return f(s.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", f(s.Median), f(s.Min), f(s.Max))
}

// siCount formats a count with k/M/G suffixes.
func siCount(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case x >= 1e9:
		return fmt.Sprintf("%.2fG", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

// fmtDur formats nanoseconds as a short duration.
func fmtDur(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "–"
	case ns >= 1e9:
		return fmt.Sprintf("%.2fs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1fµs", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}

// fmtNum formats a plain number with about three significant digits.
func fmtNum(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case x == 0:
		return "0"
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.0f", x)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f", x)
	case math.Abs(x) >= 1:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%.3f", x)
}

// fmtRatio formats a ratio with two decimals, or two significant digits
// below 0.1 so that small ratios do not print as 0.00×.
func fmtRatio(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "–"
	case x < 0.1:
		return fmt.Sprintf("%.2g×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// mdEscape keeps a message inside one table cell.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// describeMachine summarises /proc/cpuinfo, the kernel and the Go toolchain.
func describeMachine() string {
	model, cpus := "unknown CPU", 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				model = strings.TrimSpace(v)
			case "processor":
				cpus++
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d logical CPUs (GOMAXPROCS %d)%s, %s %s/%s",
		model, cpus, runtime.GOMAXPROCS(0), kernel, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
