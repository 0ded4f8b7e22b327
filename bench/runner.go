package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"time"
)

// resultPrefix marks the child's result line on stdout, so that anything a
// library prints cannot be mistaken for it.
const resultPrefix = "BENCH-RESULT "

// Cell is one (workload, system) pair and, after compare, its runs.
type Cell struct {
	W      *Workload
	S      *System
	Runs   []Result
	Failed string // non-empty: the cell is FAILED with this reason
	NA     string // non-empty: the cell is not available for this reason
}

// Name is the cell's flag form, "workload/system".
func (c *Cell) Name() string { return c.W.ID + "/" + c.S.Key }

// OK reports whether the cell has numbers to show.
func (c *Cell) OK() bool { return c.Failed == "" && c.NA == "" && len(c.Runs) > 0 }

// plan lists the cells to run, in report order, keeping those matching filter.
func plan(filter *regexp.Regexp) []*Cell {
	var cells []*Cell
	for _, w := range workloads {
		for _, s := range systems {
			c := &Cell{W: w, S: s}
			if w.supports(s) && (filter == nil || filter.MatchString(c.Name())) {
				cells = append(cells, c)
			}
		}
	}
	return cells
}

// childMain runs one cell once in this process and prints its result.
func childMain(name string, p params) int {
	debug.SetTraceback("all")
	res := runCell(name, p)
	res.Cell = name
	b, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: encode result:", err)
		return 1
	}
	fmt.Printf("%s%s\n", resultPrefix, b)
	return 0
}

// runCell resolves and runs the cell, turning errors into Failed or NA.
func runCell(name string, p params) Result {
	wid, key, ok := strings.Cut(name, "/")
	w, s := workloadByID(wid), systemByKey(key)
	if !ok || w == nil || s == nil || !w.supports(s) {
		return Result{Failed: "unknown cell " + name}
	}
	res, err := w.run(s, p)
	res.SendWaits = sendWaits.Load()
	switch {
	case errors.Is(err, ErrNotAvailable):
		return Result{NA: strings.TrimPrefix(err.Error(), ErrNotAvailable.Error()+": ")}
	case err != nil:
		return Result{Failed: err.Error()}
	}
	return res
}

// compare runs every cell n times, each run in a fresh child process,
// prints the tables and writes the report and chart.
func compare(cells []*Cell, p params, n int, short bool, out, png string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	start := time.Now()
	for i, c := range cells {
		fmt.Fprintf(os.Stderr, "[%d/%d] %-24s", i+1, len(cells), c.Name())
		runs := n
		if short && c.W.Family == FamLinks {
			runs = 1 // W6 sets up to 10,000 links per run: once per cell is CI-sized
		}
		for r := range runs {
			res, err := runChild(exe, c, p)
			switch {
			case err != nil:
				c.Failed = err.Error()
			case res.NA != "":
				c.NA = res.NA
			case res.Failed != "":
				c.Failed = fmt.Sprintf("run %d: %s", r+1, res.Failed)
			default:
				c.Runs = append(c.Runs, res)
				fmt.Fprint(os.Stderr, ".")
				continue
			}
			break
		}
		switch {
		case c.NA != "":
			fmt.Fprintf(os.Stderr, " not available: %s\n", c.NA)
		case c.Failed != "":
			fmt.Fprintf(os.Stderr, " FAILED: %s\n", c.Failed)
		default:
			fmt.Fprintf(os.Stderr, " %s\n", headline(c))
		}
	}
	rep := &Report{
		Cells:   cells,
		Runs:    n,
		Short:   short,
		Params:  p,
		Command: commandLine(),
		Machine: describeMachine(),
		Date:    start.UTC(),
		Took:    time.Since(start),
	}
	md := rep.Markdown()
	fmt.Print(rep.Tables())
	if out != "" {
		if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if png != "" {
		if err := writeChart(rep, png); err != nil {
			return fmt.Errorf("chart: %w", err)
		}
	}
	return nil
}

// runChild runs one cell once in a fresh child process.
func runChild(exe string, c *Cell, p params) (Result, error) {
	name := c.Name()
	limit := 3*p.Duration + 2*p.Timeout + 30*time.Second
	if c.W.Family == FamLinks { // set-up of up to 10,000 links, idle and measured sections
		limit += linksSetup + linksSettle + 2*linksIdle + linksWarm + linksDuration(p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-cell", name,
		"-duration", p.Duration.String(), "-warmup", fmt.Sprint(p.Warmup), "-timeout", p.Timeout.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok {
			var res Result
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				return Result{}, fmt.Errorf("child result: %w", err)
			}
			return res, nil
		}
	}
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("child killed after %v", limit)
	}
	return Result{}, fmt.Errorf("child exited without a result (%v): %s", runErr, tail(stderr.String(), 400))
}

// tail returns the last n bytes of s on one line.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// commandLine is how this run was started, for the report.
func commandLine() string {
	args := append([]string{"bench"}, os.Args[1:]...)
	if v := os.Getenv("BENCH_COMMAND"); v != "" {
		return v
	}
	return strings.Join(args, " ")
}
