package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aemp-go/aemp"
)

// benchCmd is `aemp bench [-n N] [-inflight K] [-size B] <port|node>`:
// round trips, K at a time, to an echo port (["ping", <reply port>, seq,
// payload] answered with ["pong", seq, payload], as examples/ping's echo
// port does) or, given a node ID, to that node's time request (any AEMP
// node, Perl ones too). It prints the rate and the round-trip times. A
// first round trip, which sets up the links, is not counted.
func benchCmd(s *session, args []arg) error {
	o := benchOptions{}
	args, err := parseFlags("bench", args, func(fs *flag.FlagSet) {
		fs.IntVar(&o.n, "n", 10000, "round trips")
		fs.IntVar(&o.inflight, "inflight", 1, "round trips in flight at once (1: one after the other)")
		fs.IntVar(&o.size, "size", 16, "payload bytes of each ping (echo ports only)")
		fs.DurationVar(&o.timeout, "timeout", time.Minute, "give up after this long")
	})
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("one port or node expected")
	}
	if o.n < 1 || o.inflight < 1 || o.size < 0 {
		return usagef("-n and -inflight must be at least 1, -size not negative")
	}
	o.target, err = portArg(args[0])
	if err != nil {
		return err
	}
	n, ctx, stop, err := s.startTimed(o.timeout)
	if err != nil {
		return err
	}
	defer stop()
	r, err := runBench(ctx, n, o)
	if err != nil {
		return err
	}
	what := "echo port " + string(o.target)
	if o.target.IsNodePort() {
		what = "the time request of node " + string(o.target)
	}
	fmt.Fprintf(s.stdout, "%d round trips to %s, %d in flight: %.3fs, %.0f msgs/s\n",
		o.n, what, o.inflight, r.elapsed.Seconds(), float64(o.n)/r.elapsed.Seconds())
	q := func(p float64) time.Duration { return r.rtts[min(len(r.rtts)-1, int(p*float64(len(r.rtts))))] }
	fmt.Fprintf(s.stdout, "rtt min %v  p50 %v  p90 %v  p99 %v  max %v\n",
		r.rtts[0], q(0.50), q(0.90), q(0.99), r.rtts[len(r.rtts)-1])
	return nil
}

type benchOptions struct {
	target            aemp.PortID
	n, inflight, size int
	timeout           time.Duration
}

type benchResult struct {
	elapsed time.Duration
	rtts    []time.Duration // sorted
}

// runBench runs the round trips from the reply port's handler: each
// answer sends the next request, keeping inflight of them under way.
func runBench(ctx context.Context, n *aemp.Node, o benchOptions) (*benchResult, error) {
	payload := strings.Repeat("x", o.size)
	send := func(reply aemp.PortID, seq int) error {
		if o.target.IsNodePort() {
			return n.Snd(o.target, "time", string(reply), "time", seq) // → ["time", seq, time]
		}
		return n.Snd(o.target, "ping", string(reply), seq, payload)
	}
	var (
		mu      sync.Mutex
		sent    = make([]time.Time, o.n+1) // seq 0 is the warm-up
		rtts    = make([]time.Duration, 0, o.n)
		next    = 1
		failure error
		over    bool // done is closed
		warm    = make(chan struct{})
		done    = make(chan struct{})
	)
	finish := func(err error) { // with mu held
		if !over {
			failure, over = err, true
			close(done)
		}
	}
	var reply *aemp.Port
	reply = n.NewPortFunc(func(m *aemp.Msg) error {
		// ["pong", seq, payload] or ["time", seq, time]
		seq64, err := intAt(m, 1)
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		switch {
		case over:
			return nil
		case m.Tag() != "pong" && m.Tag() != "time":
			finish(fmt.Errorf("the answer %q is not pong", m.Tag()))
			return nil
		case err != nil || seq64 < 0 || seq64 > int64(o.n) || sent[seq64].IsZero():
			finish(fmt.Errorf("an answer with an unknown sequence number (%v)", err))
			return nil
		}
		seq := int(seq64)
		if seq == 0 {
			sent[0] = time.Time{}
			close(warm)
			return nil
		}
		rtts = append(rtts, now.Sub(sent[seq]))
		sent[seq] = time.Time{}
		if len(rtts) == o.n {
			finish(nil)
			return nil
		}
		if next <= o.n {
			sent[next] = time.Now()
			if err := send(reply.ID(), next); err != nil {
				finish(err)
			}
			next++
		}
		return nil
	})
	defer reply.Kill()
	died := make(chan aemp.Reason, 1)
	mon := n.Mon(o.target, aemp.MonFunc(func(r aemp.Reason) { died <- r }))
	defer mon.Cancel()

	mu.Lock()
	sent[0] = time.Now()
	mu.Unlock()
	if err := send(reply.ID(), 0); err != nil {
		return nil, err
	}
	if err := benchWait(ctx, warm, died, o.target); err != nil {
		return nil, fmt.Errorf("the first round trip: %w", err)
	}
	start := time.Now()
	mu.Lock()
	for ; next <= min(o.inflight, o.n); next++ {
		sent[next] = time.Now()
		if err := send(reply.ID(), next); err != nil {
			mu.Unlock()
			return nil, err
		}
	}
	mu.Unlock()
	if err := benchWait(ctx, done, died, o.target); err != nil {
		mu.Lock()
		defer mu.Unlock()
		return nil, fmt.Errorf("after %d of %d round trips: %w", len(rtts), o.n, err)
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if failure != nil {
		return nil, failure
	}
	slices.Sort(rtts)
	return &benchResult{elapsed: elapsed, rtts: rtts}, nil
}

func benchWait(ctx context.Context, done <-chan struct{}, died <-chan aemp.Reason, target aemp.PortID) error {
	select {
	case <-done:
		return nil
	case r := <-died:
		return errDied{death{target, r}}
	case <-ctx.Done():
		return waitErr(ctx)
	}
}

// intAt reads element i of m as an integer (a Perl node may send it as a
// float or a numeric string).
func intAt(m *aemp.Msg, i int) (int64, error) {
	if v, err := m.Int(i); err == nil {
		return v, nil
	}
	f, err := m.Float(i)
	if err != nil {
		return 0, errors.New("not a number")
	}
	return int64(f), nil
}
