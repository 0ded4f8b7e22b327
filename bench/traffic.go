package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// flood is open-loop one-way traffic of KindData messages from several
// senders to one receiving handler, each sender capped by a window.
type flood struct {
	body      []byte
	v         *verifier
	wins      []*window
	counts    []int64 // per-sender received count; only the receiving handler touches it
	seqs      []uint64
	abort     chan struct{} // closed on the first verification failure
	abortOnce sync.Once
}

// newFlood prepares senders senders that all send body.
func newFlood(senders int, body []byte, win int, timeout time.Duration) *flood {
	f := &flood{
		body:   body,
		v:      newVerifier(senders, body),
		wins:   make([]*window, senders),
		counts: make([]int64, senders),
		seqs:   make([]uint64, senders),
		abort:  make(chan struct{}),
	}
	for i := range f.wins {
		f.wins[i] = newWindow(win, timeout, f.abort)
	}
	return f
}

// fail records a failure and releases blocked senders.
func (f *flood) fail(err error) {
	f.v.fail(err)
	f.abortOnce.Do(func() { close(f.abort) })
}

// receive is the Handler for KindData at the receiving side.
func (f *flood) receive(m Msg) {
	if m.Kind != KindData {
		f.fail(fmt.Errorf("flood receiver got a %q message", m.Kind.Tag()))
		return
	}
	if !f.v.check(m) {
		f.fail(f.v.Err())
		return
	}
	f.counts[m.Sender]++
	f.wins[m.Sender].ack(f.counts[m.Sender])
}

// pump sends from sender s until n messages are sent (n > 0) or the deadline
// passes (n == 0). Each sender must be pumped by one goroutine at a time.
func (f *flood) pump(ep Endpoint, s int, n int64, deadline time.Time) error {
	w, seq := f.wins[s], f.seqs[s]
	defer func() { f.seqs[s] = seq }()
	checkEvery := uint64(63)
	if len(f.body) >= 64<<10 {
		checkEvery = 0
	}
	for i := int64(0); ; i++ {
		if n > 0 {
			if i == n {
				return nil
			}
		} else if uint64(i)&checkEvery == 0 && !time.Now().Before(deadline) {
			return nil
		}
		if err := w.acquire(int64(seq)); err != nil {
			if err == errAborted {
				err = f.v.Err()
			}
			return err
		}
		if err := ep.Send(Msg{Kind: KindData, Sender: uint32(s), Seq: seq, Body: f.body}); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		seq++
	}
}

// sent is the number of messages pumped so far, over all senders. Call it
// only while no pump runs.
func (f *flood) sent() int64 {
	var t int64
	for _, s := range f.seqs {
		t += int64(s)
	}
	return t
}

// pumpAll runs one pump per sender concurrently and waits for them.
// eps[i] is the endpoint sender i uses.
func (f *flood) pumpAll(eps []Endpoint, n int64, deadline time.Time) error {
	errs := make(chan error, len(eps))
	for s, ep := range eps {
		go func() { errs <- f.pump(ep, s, n, deadline) }()
	}
	var first error
	for range eps {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// waitDelivered polls until v has accepted total messages, v has failed, or
// the timeout passes.
func waitDelivered(v *verifier, total int64, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for {
		if err := v.Err(); err != nil {
			return err
		}
		got := v.got.Load()
		if got >= total {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("delivered %d of %d messages within %v", got, total, timeout)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// pinger runs flows closed-loop round trips: A sends ping(flow, seq), B
// answers pong(flow, seq), A records the round trip and sends the next ping
// of that flow. It measures the round-trip time of each. Fields shared
// between the starting goroutine and the handlers are atomics: the only
// other ordering between them is the system's own network path, which the
// race detector cannot see.
type pinger struct {
	flows     int
	body      []byte
	ends      atomic.Pointer[[2]Endpoint] // A and B, set by start; read by the handlers
	vA, vB    *verifier
	base      time.Time
	sentAt    []atomic.Int64 // per flow, ns since base; stored before each ping is sent
	rtts      []int64        // recorded round trips; only atA touches it until stop returns
	recording atomic.Bool
	stopping  atomic.Bool
	live      atomic.Int64 // flows still running
}

func newPinger(flows int, body []byte) *pinger {
	return &pinger{
		flows:  flows,
		body:   body,
		vA:     newVerifier(flows, body),
		vB:     newVerifier(flows, body),
		base:   time.Now(),
		sentAt: make([]atomic.Int64, flows),
		rtts:   make([]int64, 0, 1<<20),
	}
}

// atB is the KindPing handler of the answering side.
func (p *pinger) atB(m Msg) {
	if m.Kind != KindPing || !p.vB.check(m) {
		p.vB.fail(fmt.Errorf("answering side: unexpected %q message", m.Kind.Tag()))
		return
	}
	if err := p.ends.Load()[1].Send(Msg{Kind: KindPong, Sender: m.Sender, Seq: m.Seq, Body: p.body}); err != nil {
		p.vB.fail(fmt.Errorf("send pong: %w", err))
	}
}

// atA is the KindPong handler of the asking side.
func (p *pinger) atA(m Msg) {
	now := time.Since(p.base).Nanoseconds()
	if m.Kind != KindPong || !p.vA.check(m) {
		p.vA.fail(fmt.Errorf("asking side: unexpected %q message", m.Kind.Tag()))
		return
	}
	if p.recording.Load() {
		p.rtts = append(p.rtts, now-p.sentAt[m.Sender].Load())
	}
	if p.stopping.Load() {
		p.live.Add(-1)
		return
	}
	p.ping(m.Sender, m.Seq+1)
}

func (p *pinger) ping(flow uint32, seq uint64) {
	p.sentAt[flow].Store(time.Since(p.base).Nanoseconds())
	if err := p.ends.Load()[0].Send(Msg{Kind: KindPing, Sender: flow, Seq: seq, Body: p.body}); err != nil {
		p.vA.fail(fmt.Errorf("send ping: %w", err))
	}
}

// start sends the first ping of every flow.
func (p *pinger) start(a, b Endpoint) {
	p.ends.Store(&[2]Endpoint{a, b})
	p.live.Store(int64(p.flows))
	for f := range p.flows {
		p.ping(uint32(f), 0)
	}
}

// stop lets every flow finish its round trip in progress and waits for that.
func (p *pinger) stop(timeout time.Duration) error {
	p.stopping.Store(true)
	end := time.Now().Add(timeout)
	for p.live.Load() > 0 {
		if err := p.err(); err != nil {
			return err
		}
		if time.Now().After(end) {
			return fmt.Errorf("%d of %d round-trip flows did not finish within %v", p.live.Load(), p.flows, timeout)
		}
		time.Sleep(50 * time.Microsecond)
	}
	return p.err()
}

func (p *pinger) err() error {
	if err := p.vA.Err(); err != nil {
		return err
	}
	return p.vB.Err()
}

// latency summarises the recorded round trips.
func (p *pinger) latency() *Latency {
	return latencyOf(p.rtts)
}
