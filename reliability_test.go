package aemp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/faultproxy"
	"github.com/aemp-go/aemp/internal/race"
	"github.com/aemp-go/aemp/pool"
)

// The reliability suite (docs/reliability.md): bounded memory and no
// silent loss under floods, slow consumers, dead, hung and refusing peers,
// cut links; exact mailbox limits; graceful shutdown. The soak variants
// run with -soak (counts and durations of the issue: a 60 s flood, 1 M
// messages over cut links); without it each runs for a few seconds.
var soak = flag.Bool("soak", false, "run the reliability tests at full length (minutes)")

// soakOr returns long with -soak, else short.
func soakOr[T any](long, short T) T {
	if *soak {
		return long
	}
	return short
}

// heapInuse returns HeapInuse after two collections (what sync.Pools set
// aside survives one).
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// productionPool turns the pool's test quarantine (256 released buffers
// held back) off for a test that measures the heap, until the test's
// nodes are closed (register it before them).
func productionPool(t *testing.T) {
	old := pool.SetDebug(false)
	t.Cleanup(func() { pool.SetDebug(old) })
}

// heapWatch samples the live heap (HeapInuse right after a collection)
// every 50 ms until stopped and keeps the largest value. Between
// collections the heap also holds garbage: with GOGC=100 up to about twice
// the live heap.
type heapWatch struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func watchHeap(t *testing.T) *heapWatch {
	w := &heapWatch{stop: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { w.end() })
	go func() {
		defer close(w.done)
		for {
			if h := heapInuse(); h > w.peak.Load() {
				w.peak.Store(h)
			}
			select {
			case <-w.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return w
}

// end stops the sampling (it may be called again) and returns the peak.
func (w *heapWatch) end() uint64 {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	return w.peak.Load()
}

// TestMailboxLimitExact: MailboxLimit counts every message a port holds
// (the one being handled, the ring, the overflow list and the list the
// consumer took over): the limit-th is accepted, the one after kills the
// port; SndCtx waits for room instead.
func TestMailboxLimitExact(t *testing.T) {
	for _, lim := range []int{1, 7, 64, 1000} {
		t.Run(fmt.Sprint(lim), func(t *testing.T) {
			n := newTestNode(t, Config{MailboxLimit: lim})
			entered, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			p := n.NewPortFunc(func(*Msg) error {
				once.Do(func() { close(entered); <-release })
				return nil
			})
			died, _ := reasonMonitor(n, p.ID())
			n.Snd(p.ID(), "first") // held by the handler
			<-entered
			for i := 1; i < lim; i++ {
				if err := n.Snd(p.ID(), "m", i); err != nil {
					t.Fatalf("message %d of %d: %v", i+1, lim, err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			if err := n.SndCtx(ctx, p.ID(), "waits"); !errors.Is(err, ErrTimeout) {
				t.Fatalf("SndCtx at the limit: %v, want ErrTimeout", err)
			}
			if !p.Alive() {
				t.Fatal("the port died at the limit")
			}
			if err := n.Snd(p.ID(), "one too many"); !errors.Is(err, ErrOverflow) {
				t.Fatalf("message %d: %v, want ErrOverflow", lim+1, err)
			}
			close(release)
			if r := recv(t, died); r.Kind() != "overflow" {
				t.Fatalf("died with %v", r)
			}
		})
	}
}

// TestSndCtxWaitsForMailboxRoom: a producer using SndCtx is held back by a
// slow local port instead of killing it, and everything arrives in order.
func TestSndCtxWaitsForMailboxRoom(t *testing.T) {
	n := newTestNode(t, Config{MailboxLimit: 100})
	const total = 5000
	got := make(chan int64, total)
	p := n.NewPortFunc(func(m *Msg) error {
		for start := time.Now(); time.Since(start) < 5*time.Microsecond; { // slower than the producer
		}
		v, err := m.Int(1)
		got <- v
		return err
	})
	for i := range total {
		if err := n.SndCtx(context.Background(), p.ID(), "m", i); err != nil {
			t.Fatalf("SndCtx %d: %v", i, err)
		}
	}
	for i := range total {
		if v := recv(t, got); v != int64(i) {
			t.Fatalf("message %d arrived as %d", i, v)
		}
	}
	if !p.Alive() {
		t.Fatal("the port died")
	}
}

// TestBurstMemoryReturns: after a burst of 1 M messages into one port
// (most of them in its overflow list while the handler is held), the heap
// returns to within 10% of what it was before, also once the port is dead.
func TestBurstMemoryReturns(t *testing.T) {
	if race.Enabled {
		t.Skip("heap sizes are checked by the non-race pass (the race detector adds its own)")
	}
	n := newTestNode(t, Config{MailboxLimit: -1})
	const burst = 1_000_000
	var handled atomic.Int64
	gate := make(chan struct{})
	p := n.NewPortFunc(func(*Msg) error {
		if handled.Add(1) == 1 {
			<-gate
		}
		return nil
	})
	n.Snd(p.ID(), "warm-up")
	waitFor(t, "the warm-up", func() bool { return handled.Load() == 1 })
	before := heapInuse()
	payload := strings.Repeat("x", 32)
	for i := range burst {
		n.SndMsg(p.ID(), NewMsg("m").AppendInt(int64(i)).AppendString(payload))
	}
	peak := heapInuse()
	close(gate)
	waitFor(t, "the burst", func() bool { return handled.Load() == burst+1 })
	after := heapInuse()
	t.Logf("HeapInuse before %d KiB, with the burst queued %d KiB, after %d KiB", before>>10, peak>>10, after>>10)
	if after > before+before/10 {
		t.Fatalf("HeapInuse %d KiB after the burst, %d KiB before: the port keeps the burst's memory", after>>10, before>>10)
	}
	p.Kill()
	waitFor(t, "the death", func() bool { return !p.Alive() })
	if dead := heapInuse(); dead > before+before/10 {
		t.Fatalf("HeapInuse %d KiB once the port is dead, %d KiB before", dead>>10, before>>10)
	}
}

// TestQueueFullAndSndCtx: toward a node whose link does not drain (a
// stalled path), Snd refuses with ErrQueueFull once MaxQueue bytes wait,
// SndCtx waits (and gives up with ErrTimeout when its context ends), the
// link stays up, and every accepted message arrives in order once the path
// moves again.
func TestQueueFullAndSndCtx(t *testing.T) {
	p := newNetPair(t, Config{}, Config{MaxQueue: 1 << 20, SendBuffer: 64 << 10})
	px := proxy(t, p.b, p.a)
	got := make(chan int64, 1<<16)
	port := p.a.NewPortFunc(func(m *Msg) error {
		v, err := m.Int(1)
		if m.Tag() == "m" {
			got <- v
		}
		return err
	})
	p.b.Snd(port.ID(), "up", -1)
	waitFor(t, "the link", func() bool { return p.b.mesh.Up("nodeA") })
	px.Stall(faultproxy.Up, true)
	body := strings.Repeat("y", 1000)
	sent := 0
	for full := 0; full < 2; { // until the queue stays full (the kernel takes some at first)
		if sent == 1<<16 {
			t.Fatal("the queue never filled")
		}
		err := p.b.Snd(port.ID(), "m", sent, body)
		switch {
		case errors.Is(err, ErrQueueFull):
			full++
			time.Sleep(50 * time.Millisecond)
		case err != nil:
			t.Fatal(err)
		default:
			sent++
			full = 0
		}
	}
	// The kernel may still take a few KiB now and then (the writer then
	// frees room for a few small messages), so the probe needs room that a
	// stalled peer cannot make: a quarter of the queue.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.b.SndCtx(ctx, port.ID(), "m", sent, strings.Repeat("z", 256<<10)); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SndCtx on a full queue: %v, want ErrTimeout wrapping the deadline", err)
	}
	done := make(chan error, 1)
	go func() { // waits for room, then goes on
		var err error
		for i := sent; i < sent+2000 && err == nil; i++ {
			err = p.b.SndCtx(context.Background(), port.ID(), "m", i, body)
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	px.Stall(faultproxy.Up, false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range sent + 2000 {
		if v := recv(t, got); v != int64(i) {
			t.Fatalf("message %d arrived as %d", i, v)
		}
	}
	if !p.b.mesh.Up("nodeA") {
		t.Fatal("the full queue took the link down")
	}
}

// TestShutdownDeliversQueued: messages queued before Shutdown reach a live
// peer, also those still waiting for the link to come up; Close alone may
// drop them.
func TestShutdownDeliversQueued(t *testing.T) {
	for _, k := range linkKinds() {
		t.Run(k.name, func(t *testing.T) {
			p := newNetPair(t, k.ca, k.cb)
			const total = 20000
			var got atomic.Int64
			port := p.a.NewPortFunc(func(*Msg) error { got.Add(1); return nil })
			for i := range total {
				if err := p.b.Snd(port.ID(), "m", i, "some payload to queue up"); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.b.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "every message", func() bool { return got.Load() == total })
		})
	}
}

// TestReasonsCarryTheCause: a refused connection, a wrong secret and a
// clean close by the peer say so in the monitor reason.
func TestReasonsCarryTheCause(t *testing.T) {
	k := newMeshKit(t)
	a := k.node("ra", Config{ConnectTimeout: 300 * time.Millisecond})
	target := PortID("rb#x")
	a.AddNode("rb", freeAddr(t))
	r, _ := reasonMonitor(a, target)
	a.Snd(target, "x")
	if got := recv(t, r); got.Text() != "connection refused" {
		t.Fatalf("refused: %v", got)
	}
	b := k.node("rb", Config{Secret: "other"})
	a.AddNode("rb", b.Binds()...)
	r, _ = reasonMonitor(a, target)
	a.Snd(target, "x")
	if got := recv(t, r); !strings.HasPrefix(got.Text(), "authentication failed") {
		t.Fatalf("wrong secret: %v", got)
	}
	c := k.node("rc", Config{})
	var handled atomic.Bool
	port := c.NewPortFunc(func(*Msg) error { handled.Store(true); return nil })
	a.AddNode("rc", c.Binds()...) // before the monitor: its request dials rc
	r, _ = reasonMonitor(a, port.ID())
	a.Snd(port.ID(), "x")
	// Once the message is handled, c has read everything a sent (the
	// monitor request came first): closing a socket with unread data would
	// send a reset, not a clean close.
	waitFor(t, "the message at rc", handled.Load)
	c.Close()
	if got := recv(t, r); got.Text() != "peer closed the connection" {
		t.Fatalf("clean close: %v", got)
	}
}

// TestSlowConsumerBounded: a flood to a remote port that takes 1 ms per
// message. The sender is held back (ErrQueueFull or SndCtx waiting), heap
// stays under 256 MiB for both nodes together, the link stays up, every
// accepted message arrives in order, and meanwhile another node talks to
// the slow node within 1 s, as does the flooder after its own link was cut.
func TestSlowConsumerBounded(t *testing.T) {
	productionPool(t)
	k := newMeshKit(t)
	// The slow node keeps probing while its reader is paused. The short
	// run fills a smaller queue (-race is slow); -soak uses the defaults.
	keep := Config{KeepAlive: 500 * time.Millisecond}
	b := k.node("slow", keep)
	keep.MaxQueue = soakOr(0, 4<<20)
	a := k.node("flood", keep)
	c := k.node("other", Config{})
	px, err := faultproxy.New(b.Binds()[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	a.AddNode("slow", px.Addr())
	c.AddNode("slow", b.Binds()...)

	var next atomic.Int64 // the next sequence number the slow port expects
	var bad atomic.Value
	slow := b.NewPortFunc(func(m *Msg) error {
		time.Sleep(time.Millisecond)
		v, err := m.Int(1)
		if err != nil || v != next.Load() {
			bad.CompareAndSwap(nil, fmt.Sprintf("got %d (%v), want %d", v, err, next.Load()))
		}
		next.Add(1)
		return nil
	})
	echo := echoPort(b)
	died, _ := reasonMonitor(a, slow.ID())

	w := watchHeap(t)
	base := heapInuse()
	flood := soakOr(60*time.Second, 3*time.Second)
	stop := time.Now().Add(flood)
	var accepted, refused int64
	body := strings.Repeat("z", 1000)
	probe := func(from *Node, what string) {
		t.Helper()
		re := make(chan struct{}, 1)
		me := from.NewPort().Rcv("re", func(*Msg) error { re <- struct{}{}; return nil })
		defer me.Kill()
		start := time.Now()
		from.Snd(echo.ID(), "echo", me.ID())
		select {
		case <-re:
		case <-time.After(time.Second):
			t.Fatalf("%s: no answer from the slow node within 1 s", what)
		}
		t.Logf("%s: answered in %v", what, time.Since(start).Round(time.Millisecond))
	}
	// On a loaded machine (-race, a busy core) the flooder may take longer
	// than the flood to fill the queue: it goes on until refused, up to 4×.
	hardStop := time.Now().Add(4 * flood)
	probed := false
	for i := int64(0); time.Now().Before(stop) || refused == 0 && time.Now().Before(hardStop); {
		var err error
		if i%2 == 0 {
			err = a.Snd(slow.ID(), "m", i, body)
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			err = a.SndCtx(ctx, slow.ID(), "m", i, body)
			cancel()
		}
		switch {
		case err == nil:
			accepted++
			i++
		case errors.Is(err, ErrQueueFull), errors.Is(err, ErrTimeout):
			refused++
		default:
			t.Fatalf("send %d: %v", i, err)
		}
		if !probed && time.Until(stop) < flood/2 {
			probed = true
			probe(c, "another node")
		}
		select {
		case r := <-died:
			t.Fatalf("the slow port's monitor fired: %v", r)
		default:
		}
	}
	peak := w.end()
	t.Logf("flood of %v: %d accepted, %d refused (full queue); %d handled; HeapInuse %d MiB at the start, peak %d MiB",
		flood, accepted, refused, next.Load(), base>>20, peak>>20)
	if peak > 256<<20 {
		t.Fatalf("HeapInuse peaked at %d MiB, bound 256 MiB", peak>>20)
	}
	if refused == 0 {
		t.Fatal("the flood was never held back")
	}
	if v := bad.Load(); v != nil {
		t.Fatalf("out of order: %v", v)
	}
	// The flooder's link goes (the slow node does not see it: its reader
	// is paused); the flooder is back within 1 s all the same.
	px.Cut()
	if r := recv(t, died); r.Kind() != "transport_error" {
		t.Fatalf("after the cut: %v", r)
	}
	probe(a, "the flooder after its link was cut")
}

// TestSlowConsumerPeerDownHungRefusing: a flood toward a node that is
// down, hangs in the handshake, or refuses the secret: Snd is held back
// by MaxQueue, the heap stays bounded, and every attempt's queued messages
// fire the port's monitors (never a silent drop).
func TestSlowConsumerPeerDownHungRefusing(t *testing.T) {
	productionPool(t)
	hung := hangingListener(t)
	k := newMeshKit(t)
	wrong := k.node("wrongsecret", Config{Secret: "not the mesh secret"})
	for _, c := range []struct{ name, addr string }{
		{"down", freeAddr(t)}, {"hung", hung}, {"refusing", wrong.Binds()[0]},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := k.node("flood-"+c.name, Config{ConnectTimeout: 200 * time.Millisecond, MaxQueue: 4 << 20})
			a.AddNode("peer", c.addr)
			target := PortID("peer#b")
			var fired atomic.Int64
			var mon func(Reason)
			mon = func(Reason) { fired.Add(1); a.Mon(target, MonFunc(mon)) }
			a.Mon(target, MonFunc(mon))
			w := watchHeap(t)
			body := strings.Repeat("q", 1000)
			var accepted, refused int64
			for stop := time.Now().Add(soakOr(60*time.Second, time.Second)); time.Now().Before(stop); {
				switch err := a.Snd(target, "m", body); {
				case err == nil:
					accepted++
				case errors.Is(err, ErrQueueFull):
					refused++
					time.Sleep(time.Millisecond)
				default:
					t.Fatal(err)
				}
			}
			peak := w.end()
			waitFor(t, "a monitor", func() bool { return fired.Load() > 0 })
			t.Logf("%d accepted, %d refused, monitor fired %d times, HeapInuse peak %d MiB", accepted, refused, fired.Load(), peak>>20)
			if peak > 256<<20 {
				t.Fatalf("HeapInuse peaked at %d MiB", peak>>20)
			}
		})
	}
}

// TestCutLinksNoSilentLoss: messages over a link cut at random every
// 50–500 ms. Every message arrives at most once and in order; every gap
// (a message lost) comes after a monitor fired for the port after the
// lost message was sent and before the next message that arrived was
// delivered.
func TestCutLinksNoSilentLoss(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	px := proxy(t, p.b, p.a)
	total := soakOr(1_000_000, 50_000)
	type arrival struct {
		seq int64
		at  time.Time
	}
	arrivals := make(chan arrival, 20*total)
	port := p.a.NewPortFunc(func(m *Msg) error {
		v, err := m.Int(1)
		arrivals <- arrival{v, time.Now()}
		return err
	})
	var mu sync.Mutex
	var fires []time.Time
	var mon func(Reason)
	mon = func(Reason) {
		mu.Lock()
		fires = append(fires, time.Now())
		mu.Unlock()
		p.b.Mon(port.ID(), MonFunc(mon)) // watch the next link too
	}
	p.b.Mon(port.ID(), MonFunc(mon))
	stopCuts := make(chan struct{})
	cutsDone := make(chan int)
	go func() {
		cuts := 0
		for {
			select {
			case <-stopCuts:
				cutsDone <- cuts
				return
			case <-time.After(time.Duration(50+rand.IntN(450)) * time.Millisecond):
				px.Cut()
				cuts++
			}
		}
	}()
	// Send total messages, and go on until a few cuts have happened.
	var sentAt []time.Time
	nFires := func() int { mu.Lock(); defer mu.Unlock(); return len(fires) }
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < total || nFires() < 5; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d monitor firings after %d messages in 30 s", nFires(), i)
		}
		sentAt = append(sentAt, time.Now())
		for {
			err := p.b.SndCtx(context.Background(), port.ID(), "m", i)
			if err == nil || errors.Is(err, ErrLinkClosed) {
				break // a link closing under the send: monitors fire
			}
			t.Fatalf("send %d: %v", i, err)
		}
	}
	close(stopCuts)
	cuts := <-cutsDone
	total = len(sentAt)
	last := int64(total)
	for p.b.SndCtx(context.Background(), port.ID(), "m", last) != nil { // a last one, so that the last gap is closed
	}
	var got []arrival
	for a := range arrivals {
		got = append(got, a)
		if a.seq == last {
			break
		}
		if len(got) > total {
			t.Fatal("more messages than were sent")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	prev := int64(-1)
	lost := 0
	for _, a := range got {
		if a.seq <= prev {
			t.Fatalf("message %d arrived after %d: duplicate or out of order", a.seq, prev)
		}
		if a.seq > prev+1 { // lost prev+1 … a.seq-1
			firstLost := sentAt[prev+1]
			ok := false
			for _, f := range fires {
				if f.After(firstLost) && f.Before(a.at) {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("messages %d…%d lost without a monitor firing between their send and the arrival of %d", prev+1, a.seq-1, a.seq)
			}
			lost += int(a.seq - prev - 1)
		}
		prev = a.seq
	}
	t.Logf("%d messages, %d cuts, %d monitor firings, %d lost (each gap announced)", total, cuts, len(fires), lost)
	if cuts == 0 {
		t.Fatal("no cut happened")
	}
}

// TestKeepAliveIdleLinkStaysUp: keep-alive between two Go nodes keeps an
// idle link up (each probes, the other answers). A hung peer is taken down
// (TestKeepAliveHungPeer).
func TestKeepAliveIdleLinkStaysUp(t *testing.T) {
	p := newNetPair(t, Config{KeepAlive: 30 * time.Millisecond}, Config{KeepAlive: 30 * time.Millisecond})
	port := p.a.NewPortFunc(func(*Msg) error { return nil })
	r, _ := reasonMonitor(p.b, port.ID())
	p.b.Snd(port.ID(), "x")
	waitFor(t, "the link", func() bool { return p.b.mesh.Up("nodeA") })
	select {
	case got := <-r:
		t.Fatalf("an idle link with keep-alive went down: %v", got)
	case <-time.After(500 * time.Millisecond): // 5 timeouts' worth
	}
}

// hangingListener accepts connections and never says anything; it and its
// connections are closed when the test ends.
func hangingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// TestKeepAliveEveryFraming: the probe goes out in the link's own
// encoding (a JSON probe on a cbor link would break it), and is answered:
// an idle link with keep-alive stays up over every link kind.
func TestKeepAliveEveryFraming(t *testing.T) {
	for _, k := range linkKinds() {
		t.Run(k.name, func(t *testing.T) {
			for _, c := range []*Config{&k.ca, &k.cb} { // probes every 20 ms, a generous timeout (-race)
				c.KeepAlive, c.KeepAliveTimeout = 20*time.Millisecond, time.Second
			}
			p := newNetPair(t, k.ca, k.cb)
			port := p.a.NewPortFunc(func(*Msg) error { return nil })
			r, _ := reasonMonitor(p.b, port.ID())
			p.b.Snd(port.ID(), "x")
			waitFor(t, "the link", func() bool { return p.b.mesh.Up("nodeA") })
			select {
			case got := <-r:
				t.Fatalf("an idle link with keep-alive went down: %v", got)
			case <-time.After(200 * time.Millisecond): // ten probes each way
			}
			if st := p.b.Stats().link("nodeA"); st.MsgsOut < 5 || st.MsgsIn < 5 {
				t.Fatalf("probes and answers: %d out, %d in", st.MsgsOut, st.MsgsIn)
			}
		})
	}
}
