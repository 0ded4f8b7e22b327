package main

import (
	"fmt"
	"slices"
	"time"
)

// Message sizes and flow-control windows, the same for every system.
const (
	smallBody = 64      // body bytes of a small tagged message
	bigBody   = 1 << 20 // body bytes of a "1 MiB" message
	smallWin  = 4096    // small messages in flight per sender
	bigWin    = 8       // 1 MiB messages in flight per sender
)

// Family is the interface a workload needs from a system.
type Family int

const (
	FamRemote Family = iota // RemoteSystem: two nodes
	FamLocal                // LocalSystem: one node
	FamMesh                 // MeshSystem: N nodes
	FamLinks                // LinksSystem: one server, N links
)

// Metric is what a workload's table leads with.
type Metric int

const (
	MetThroughput Metric = iota // messages/s (and MB/s)
	MetLatency                  // round-trip percentiles
	MetMesh                     // mesh formation and registry propagation times
	MetLinks                    // per-link footprint, CPU per message, probe round trips
)

// params are the run-wide settings passed from parent to child.
type params struct {
	Duration time.Duration // measured section of a throughput or latency run
	Warmup   int64         // messages per sender (or round trips) before measuring
	Timeout  time.Duration // how long delivery may lag behind the senders
}

// Workload is one column family of the report: a named, parameterised run.
type Workload struct {
	ID     string // "W1.s1": family and variant; used in the -cell flag
	Family Family
	Metric Metric
	Title  string
	// BytesLabel heads the bytes/s column of a throughput table
	// (default "MB/s": body bytes delivered per second).
	BytesLabel string
	// only, if set, limits the workload to the systems it accepts.
	only func(s *System) bool
	run  func(s *System, p params) (Result, error)
}

// workloads lists every workload in report order.
var workloads = []*Workload{
	{ID: "W1.s1", Family: FamRemote, Metric: MetThroughput, Title: "W1 one-way, 64 B, 1 sender",
		run: func(s *System, p params) (Result, error) {
			return runOneWay(s.Remote, 1, newBody(smallBody), smallWin, p)
		}},
	{ID: "W1.s2", Family: FamRemote, Metric: MetThroughput, Title: "W1 one-way, 64 B, 2 senders",
		run: func(s *System, p params) (Result, error) {
			return runOneWay(s.Remote, 2, newBody(smallBody), smallWin, p)
		}},
	{ID: "W2.c1", Family: FamRemote, Metric: MetLatency, Title: "W2 ping-pong RTT, 64 B, 1 in flight",
		run: func(s *System, p params) (Result, error) { return runPingPong(s.Remote, 1, p) }},
	{ID: "W2.c64", Family: FamRemote, Metric: MetLatency, Title: "W2 ping-pong RTT, 64 B, 64 in flight",
		run: func(s *System, p params) (Result, error) { return runPingPong(s.Remote, 64, p) }},
	{ID: "W3.f1", Family: FamLocal, Metric: MetThroughput, Title: "W3 local port→port, 64 B, 1→1",
		run: func(s *System, p params) (Result, error) { return runLocal(s.Local, 1, p) }},
	{ID: "W3.f2", Family: FamLocal, Metric: MetThroughput, Title: "W3 local port→port, 64 B, 2→2",
		run: func(s *System, p params) (Result, error) { return runLocal(s.Local, 2, p) }},
	{ID: "W4.bulk", Family: FamRemote, Metric: MetThroughput, Title: "W4 one-way, 1 MiB",
		run: func(s *System, p params) (Result, error) { return runOneWay(s.Remote, 1, newBody(bigBody), bigWin, p) }},
	{ID: "W4c", Family: FamRemote, Metric: MetThroughput, Title: "W4c one-way, 1 MiB compressible JSON (application bytes/s)",
		BytesLabel: "app MB/s", only: w4cSystems,
		run: func(s *System, p params) (Result, error) { return runOneWay(s.Remote, 1, jsonBigBody(), bigWin, p) }},
	{ID: "W4.hol", Family: FamRemote, Metric: MetLatency, Title: "W4 64 B RTT while 1 MiB one-way saturates the pair",
		run: func(s *System, p params) (Result, error) { return runHOL(s.Remote, p) }},
	{ID: "W5.n8", Family: FamMesh, Metric: MetMesh, Title: "W5 mesh of 8 nodes",
		run: func(s *System, p params) (Result, error) { return runMesh(s.Mesh, 8) }},
	{ID: "W5.n32", Family: FamMesh, Metric: MetMesh, Title: "W5 mesh of 32 nodes",
		run: func(s *System, p params) (Result, error) { return runMesh(s.Mesh, 32) }},
	{ID: "W5.n128", Family: FamMesh, Metric: MetMesh, Title: "W5 mesh of 128 nodes",
		run: func(s *System, p params) (Result, error) { return runMesh(s.Mesh, 128) }},
	{ID: "W5.n1024", Family: FamMesh, Metric: MetMesh, Title: "W5 mesh of 1,024 nodes",
		run: func(s *System, p params) (Result, error) { return runMesh(s.Mesh, 1024) }},
	{ID: "W6.n1k", Family: FamLinks, Metric: MetLinks, Title: "W6 many links: 1,000 peers × 10 msg/s into one server",
		run: func(s *System, p params) (Result, error) { return runLinks(s, 1000, p) }},
	{ID: "W6.n5k", Family: FamLinks, Metric: MetLinks, Title: "W6 many links: 5,000 peers × 10 msg/s into one server",
		run: func(s *System, p params) (Result, error) { return runLinks(s, 5000, p) }},
	{ID: "W6.n10k", Family: FamLinks, Metric: MetLinks, Title: "W6 many links: 10,000 peers × 10 msg/s into one server",
		run: func(s *System, p params) (Result, error) { return runLinks(s, 10000, p) }},
}

// workloadByID finds a workload.
func workloadByID(id string) *Workload {
	for _, w := range workloads {
		if w.ID == id {
			return w
		}
	}
	return nil
}

// w4cSystems are W4c's contestants: the raw TCP limit, NATS and the aemp
// configurations (compression is what W4c is about; B1 and protoactor
// would carry the same bytes as W4.bulk).
func w4cSystems(s *System) bool { return s.Key == "b0" || s.Key == "nats" || s.Group == "aemp" }

// supports reports whether s takes part in w: s implements w's family, and
// neither w nor s restricts the pairing.
func (w *Workload) supports(s *System) bool {
	if len(s.Only) > 0 && !slices.Contains(s.Only, w.ID) {
		return false
	}
	if w.only != nil && !w.only(s) {
		return false
	}
	switch w.Family {
	case FamRemote:
		return s.Remote != nil
	case FamLocal:
		return s.Local != nil
	case FamMesh:
		return s.Mesh != nil
	case FamLinks:
		return s.Links != nil
	}
	return false
}

// byKind routes messages to per-kind handlers, so a system can give each
// kind its own receiver. A message of a kind without handler is reported to fail.
func byKind(data, ping, pong Handler, fail func(error)) Handler {
	return func(m Msg) {
		var h Handler
		switch m.Kind {
		case KindData:
			h = data
		case KindPing:
			h = ping
		case KindPong:
			h = pong
		}
		if h == nil {
			fail(fmt.Errorf("unexpected %q message", m.Kind.Tag()))
			return
		}
		h(m)
	}
}

// runOneWay floods node B from senders goroutines on node A.
func runOneWay(sys RemoteSystem, senders int, body []byte, win int, p params) (Result, error) {
	f := newFlood(senders, body, win, p.Timeout)
	pair, err := sys.OpenRemote(PairConfig{MaxBody: len(body)}, byKind(nil, nil, nil, f.fail), byKind(f.receive, nil, nil, f.fail))
	if err != nil {
		return Result{}, err
	}
	defer pair.Close()
	eps := make([]Endpoint, senders)
	for i := range eps {
		eps[i] = pair.A
	}
	return measureFlood(f, eps, p)
}

// runLocal runs flows independent one-way flows inside one node.
func runLocal(sys LocalSystem, flows int, p params) (Result, error) {
	// One flood per flow, each with a single sender (index 0).
	fl := make([]*flood, flows)
	recv := make([]Handler, flows)
	for i := range fl {
		fl[i] = newFlood(1, newBody(smallBody), smallWin, p.Timeout)
		recv[i] = fl[i].receive
	}
	send, closeFn, err := sys.OpenLocal(PairConfig{MaxBody: smallBody}, recv)
	if err != nil {
		return Result{}, err
	}
	defer closeFn()
	run := func(n int64, deadline time.Time) error {
		errs := make(chan error, flows)
		for i, f := range fl {
			go func() { errs <- f.pump(send[i], 0, n, deadline) }()
		}
		var first error
		for range fl {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		for _, f := range fl {
			if err := waitDelivered(f.v, f.sent(), p.Timeout); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	if err := run(p.Warmup, time.Time{}); err != nil {
		return Result{Failed: err.Error()}, nil
	}
	var before int64
	for _, f := range fl {
		before += f.sent()
	}
	m := startMeter()
	err = run(0, time.Now().Add(p.Duration))
	var r Result
	m.stop(&r)
	if err != nil {
		return Result{Failed: err.Error()}, nil
	}
	for _, f := range fl {
		r.Msgs += f.sent()
	}
	r.Msgs -= before
	r.Bytes = r.Msgs * smallBody
	return r, nil
}

// measureFlood warms f up, then measures one timed flood through eps.
func measureFlood(f *flood, eps []Endpoint, p params) (Result, error) {
	bodySize := len(f.body)
	warm := p.Warmup
	if bodySize >= 64<<10 {
		warm = bigWin
	}
	if err := f.pumpAll(eps, warm, time.Time{}); err != nil {
		return Result{Failed: err.Error()}, nil
	}
	if err := waitDelivered(f.v, f.sent(), p.Timeout); err != nil {
		return Result{Failed: "warm-up: " + err.Error()}, nil
	}
	before := f.sent()
	m := startMeter()
	err := f.pumpAll(eps, 0, time.Now().Add(p.Duration))
	if err == nil {
		err = waitDelivered(f.v, f.sent(), p.Timeout)
	}
	var r Result
	m.stop(&r)
	if err != nil {
		return Result{Failed: err.Error()}, nil
	}
	r.Msgs = f.sent() - before
	r.Bytes = r.Msgs * int64(bodySize)
	return r, nil
}

// runPingPong runs flows closed-loop round trips from A to B and back.
func runPingPong(sys RemoteSystem, flows int, p params) (Result, error) {
	pg := newPinger(flows, newBody(smallBody))
	pair, err := sys.OpenRemote(PairConfig{MaxBody: smallBody}, byKind(nil, nil, pg.atA, pg.vA.fail), byKind(nil, pg.atB, nil, pg.vB.fail))
	if err != nil {
		return Result{}, err
	}
	defer pair.Close()
	pg.start(pair.A, pair.B)
	if err := pg.warm(p); err != nil {
		pg.stop(p.Timeout)
		return Result{Failed: "warm-up: " + err.Error()}, nil
	}
	pg.recording.Store(true)
	m := startMeter()
	time.Sleep(p.Duration)
	err = pg.stop(p.Timeout)
	var r Result
	m.stop(&r)
	if err != nil {
		return Result{Failed: err.Error()}, nil
	}
	r.Msgs = int64(len(pg.rtts))
	r.Bytes = r.Msgs * 2 * smallBody
	r.Lat = pg.latency()
	return r, nil
}

// warm waits until p.Warmup round trips have completed (per flow, on average).
func (p *pinger) warm(pp params) error {
	want := pp.Warmup * int64(p.flows)
	end := time.Now().Add(pp.Timeout)
	for p.vA.got.Load() < want {
		if err := p.err(); err != nil {
			return err
		}
		if time.Now().After(end) {
			return fmt.Errorf("%d of %d round trips within %v", p.vA.got.Load(), want, pp.Timeout)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return nil
}

// runHOL measures small-message round trips between A and B while A floods
// B with 1 MiB messages over the same pair of nodes.
func runHOL(sys RemoteSystem, p params) (Result, error) {
	f := newFlood(1, newBody(bigBody), bigWin, p.Timeout)
	pg := newPinger(1, newBody(smallBody))
	pair, err := sys.OpenRemote(PairConfig{MaxBody: bigBody}, byKind(nil, nil, pg.atA, pg.vA.fail), byKind(f.receive, pg.atB, nil, pg.vB.fail))
	if err != nil {
		return Result{}, err
	}
	defer pair.Close()
	eps := []Endpoint{pair.A}
	if err := f.pumpAll(eps, bigWin, time.Time{}); err != nil {
		return Result{Failed: err.Error()}, nil
	}
	if err := waitDelivered(f.v, f.sent(), p.Timeout); err != nil {
		return Result{Failed: "warm-up: " + err.Error()}, nil
	}
	before := f.sent()
	m := startMeter()
	deadline := time.Now().Add(p.Duration)
	bulk := make(chan error, 1)
	go func() { bulk <- f.pumpAll(eps, 0, deadline) }()
	pg.recording.Store(true)
	pg.start(pair.A, pair.B)
	time.Sleep(time.Until(deadline))
	err = pg.stop(p.Timeout)
	if berr := <-bulk; berr != nil && err == nil {
		err = berr
	}
	if err == nil {
		err = waitDelivered(f.v, f.sent(), p.Timeout)
	}
	var r Result
	m.stop(&r)
	if err != nil {
		return Result{Failed: err.Error()}, nil
	}
	r.Msgs = f.sent() - before
	r.Bytes = r.Msgs * bigBody
	r.Lat = pg.latency()
	return r, nil
}

// runMesh forms a mesh of n nodes.
func runMesh(sys MeshSystem, n int) (Result, error) {
	m := startMeter()
	t, err := sys.FormMesh(n)
	var r Result
	m.stop(&r)
	if err != nil {
		return Result{}, err
	}
	r.Mesh = &t
	return r, nil
}
