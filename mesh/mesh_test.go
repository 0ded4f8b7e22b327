package mesh

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// want returns the messages ["b", tag, 0…n-1] as the peer received them.
func want(tag string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf(`["b",%q,%d]`, tag, i))
	}
	return out
}

// Messages committed before the link is up wait, and go out in order
// once it is; then the link carries the rest in order too.
func TestQueuedWhileConnecting(t *testing.T) {
	leakFree(t)
	net := newMemNet()
	a := start(t, net, "A", Config{})
	b := start(t, net, "B", Config{})
	a.AddNode("B", b.Binds()...)
	for i := range 100 {
		a.send(t, "B", "m", i)
	}
	waitFor(t, "100 messages", func() bool { return len(b.rec.peer("A").messages()) == 100 })
	for i := 100; i < 200; i++ {
		a.send(t, "B", "m", i)
	}
	waitFor(t, "200 messages", func() bool { return len(b.rec.peer("A").messages()) == 200 })
	if got := b.rec.peer("A").messages(); !slices.Equal(got, want("m", 200)) {
		t.Fatalf("B got %v", got)
	}
	if ev := a.rec.got(); !slices.Equal(ev, []string{"up B"}) {
		t.Fatalf("A's events %v", ev)
	}
}

// A blob envelope queued while connecting reaches a peer that does not
// take blobs (JSON framing) as the JSON string of the same bytes.
func TestQueuedBlobToJSONPeer(t *testing.T) {
	leakFree(t)
	net := newMemNet()
	a := start(t, net, "A", Config{})
	b := start(t, net, "B", Config{Framings: []string{"json"}})
	a.AddNode("B", b.Binds()...)
	a.sendBlob(t, "B", []byte{0, 'x', 0xff}) // queued: as a blob envelope
	waitFor(t, "the message", func() bool { return len(b.rec.peer("A").messages()) == 1 })
	a.sendBlob(t, "B", []byte("up")) // the link is up: JSON from the start
	waitFor(t, "the second message", func() bool { return len(b.rec.peer("A").messages()) == 2 })
	got := b.rec.peer("A").messages()
	if got[0] != `["b","blob","\u0000xÿ"]` || got[1] != `["b","blob","up"]` {
		t.Fatalf("B got %q", got)
	}
}

// When both nodes dial each other at once, they end up with one link
// between them (the node with the smaller ID keeps its own connection),
// and every message of both sides arrives in order.
func TestSimultaneousDialTieBreak(t *testing.T) {
	leakFree(t)
	for round := range 20 {
		net := newMemNet()
		a := start(t, net, "A", Config{})
		b := start(t, net, "B", Config{})
		a.AddNode("B", b.Binds()...)
		b.AddNode("A", a.Binds()...)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); a.send(t, "B", "ab", 0) }()
		go func() { defer wg.Done(); b.send(t, "A", "ba", 0) }()
		wg.Wait()
		waitFor(t, "both messages", func() bool {
			return len(b.rec.peer("A").messages()) == 1 && len(a.rec.peer("B").messages()) == 1
		})
		for i := 1; i < 50; i++ {
			a.send(t, "B", "ab", i)
			b.send(t, "A", "ba", i)
		}
		waitFor(t, "all messages", func() bool {
			return len(b.rec.peer("A").messages()) == 50 && len(a.rec.peer("B").messages()) == 50
		})
		if !slices.Equal(b.rec.peer("A").messages(), want("ab", 50)) || !slices.Equal(a.rec.peer("B").messages(), want("ba", 50)) {
			t.Fatalf("round %d: out of order", round)
		}
		if ua, ub := a.rec.count("up B"), b.rec.count("up A"); ua != 1 || ub != 1 {
			t.Fatalf("round %d: %d links up at A, %d at B (events %v, %v)", round, ua, ub, a.rec.got(), b.rec.got())
		}
		a.Close()
		b.Close()
	}
}

// A cut link is reported down on both sides (each with one LinkDown after
// its LinkUp) and the next message brings a new one up.
func TestReconnectAfterCut(t *testing.T) {
	leakFree(t)
	net := newMemNet()
	a := start(t, net, "A", Config{})
	b := start(t, net, "B", Config{})
	a.AddNode("B", b.Binds()...)
	for round := range 3 {
		a.send(t, "B", "r", round)
		waitFor(t, "the message", func() bool { return len(b.rec.peer("A").messages()) == round+1 })
		net.Cut()
		waitFor(t, "both downs", func() bool { return a.rec.count("down B") == round+1 && b.rec.count("down A") == round+1 })
	}
	for _, ev := range [][]string{a.rec.got(), b.rec.got()} {
		for i, e := range ev {
			if strings.HasPrefix(e, "up") != (i%2 == 0) {
				t.Fatalf("events do not alternate: %v", ev)
			}
		}
	}
	// (the peer handler's OnDown and the LinkDown event come one after
	// the other, not at once)
	waitFor(t, "A's peer handler to see the downs", func() bool { return len(a.rec.peer("B").failures()) >= 3 })
	if d := a.rec.peer("B").failures(); len(d) != 3 || !strings.HasPrefix(d[0], "true ") {
		t.Fatalf("A's peer handler saw downs %v", d)
	}
}

// A failed attempt drops what was queued and tells the handler; with
// Keep, the next attempt waits for the back-off, which doubles up to
// MonitorTimeout.
func TestKeepBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := newMemNet()
		a := start(t, net, "A", Config{ConnectTimeout: 100 * time.Millisecond, MonitorTimeout: 5 * time.Second})
		a.AddNode("ghost", "mem:nowhere")
		a.send(t, "ghost", "lost", 0)
		synctest.Wait()
		time.Sleep(200 * time.Millisecond) // the attempt's deadline
		synctest.Wait()
		if f := a.rec.peer("ghost").failures(); len(f) != 1 || f[0] != "false connection refused" {
			t.Fatalf("failures after the first attempt: %v", f)
		}
		// Keep retries only after the back-off: record when each
		// attempt fails.
		a.Keep([]string{"ghost"})
		var fails []time.Duration
		begin := time.Now()
		for time.Since(begin) < 40*time.Second {
			n := len(a.rec.peer("ghost").failures())
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
			if len(a.rec.peer("ghost").failures()) > n {
				fails = append(fails, time.Since(begin))
			}
		}
		if len(fails) < 5 {
			t.Fatalf("only %d attempts in 40s: %v", len(fails), fails)
		}
		// After the k-th failure the next attempt starts after
		// (1+rand)·0.6s·2^(k-1), capped at MonitorTimeout (5s); every
		// attempt lasts 100ms (its ConnectTimeout). fails[0] is the
		// second failure (the first was the send's).
		delay := 1200 * time.Millisecond
		for k := 1; k < len(fails); k++ {
			gap := fails[k] - fails[k-1]
			if lo, hi := min(delay, 5*time.Second)+100*time.Millisecond, min(2*delay, 5*time.Second)+150*time.Millisecond; gap < lo || gap > hi {
				t.Fatalf("attempt %d failed %v after the previous one, want %v…%v (fails at %v)", k+1, gap, lo, hi, fails)
			}
			delay *= 2
		}
		a.Close()
	})
}

// A node with two seeds links to both, takes the first that comes up as
// master, and the other when the master goes; a seed endpoint that is the
// node itself is reported (it becomes global).
func TestSeedsAndMaster(t *testing.T) {
	leakFree(t)
	net := newMemNet()
	s1 := start(t, net, "S1", Config{Binds: []string{"mem:s1"}})
	s2 := start(t, net, "S2", Config{Binds: []string{"mem:s2"}})
	n := start(t, net, "N", Config{Seeds: []string{"mem:s1", "mem:s2"}})
	waitFor(t, "both seeds", func() bool { return n.rec.count("seed ") == 2 })
	ev := n.rec.got()
	if ev[0] != "up S1" && ev[0] != "up S2" || n.rec.count("master ") != 1 {
		t.Fatalf("events %v", ev)
	}
	master := strings.TrimPrefix(ev[slices.IndexFunc(ev, func(e string) bool { return strings.HasPrefix(e, "master ") })], "master ")
	other := map[string]string{"S1": "S2", "S2": "S1"}[master]
	map[string]*node{"S1": s1, "S2": s2}[master].Close()
	waitFor(t, "the new master", func() bool { return slices.Contains(n.rec.got(), "master "+other) })
	if s1.rec.count("seed ") != 0 {
		t.Fatal("a seed saw seeds it does not have")
	}
	self := start(t, net, "X", Config{Binds: []string{"mem:x"}, Seeds: []string{"mem:x"}})
	waitFor(t, "the self seed", func() bool { return slices.Contains(self.rec.got(), "self mem:x") })
}

// With Compress, a large compressible message travels s2-compressed (to a
// Go peer: both announce s2) and arrives as it was sent.
func TestCompress(t *testing.T) {
	leakFree(t)
	text := strings.Repeat(`{"key":"value","n":12345},`, 4000) // ~100 KiB of JSON-like text
	for _, c := range []struct {
		threshold  int
		compressed bool
	}{{0, false}, {1024, true}} {
		net := newMemNet()
		a := start(t, net, "A", Config{Compress: c.threshold})
		b := start(t, net, "B", Config{})
		a.AddNode("B", b.Binds()...)
		a.send(t, "B", "up", 0) // the link first: then nothing waits in the queue
		waitFor(t, "the link", func() bool { return len(b.rec.peer("A").messages()) == 1 })
		before := net.written.Load()
		p := a.Peer("B")
		buf, _ := p.Begin(len(text))
		buf = append(append(append(buf, `["b","big","`...), text...), `"]`...)
		if err := p.Commit(buf, 0); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the big message", func() bool { return len(b.rec.peer("A").messages()) == 2 })
		if got := b.rec.peer("A").messages()[1]; got != `["b","big","`+text+`"]` {
			t.Fatalf("threshold %d: the message changed on the way (%d bytes)", c.threshold, len(got))
		}
		wire := net.written.Load() - before
		if c.compressed != (wire < int64(len(text))/4) {
			t.Fatalf("threshold %d: %d bytes on the wire for %d bytes of text", c.threshold, wire, len(text))
		}
		a.Close()
		b.Close()
	}
}

// A node whose old link died on its side only (the path vanished: the
// other node saw no EOF) dials again. Once the other node's link has been
// silent for staleAfter, the authenticated reconnect replaces it
// ("switched connections") instead of being refused as "already
// connected", and the message that caused the dial is delivered.
func TestReconnectReplacesStaleLink(t *testing.T) {
	leakFree(t)
	net := newMemNet()
	t.Cleanup(net.Cut)
	a := start(t, net, "A", Config{})
	b := start(t, net, "B", Config{})
	a.AddNode("B", b.Binds()...)
	a.send(t, "B", "r", 0)
	waitFor(t, "the first message", func() bool { return len(b.rec.peer("A").messages()) == 1 })
	net.Blackhole()
	waitFor(t, "A's link down", func() bool { return a.rec.count("down B") == 1 })
	if b.rec.count("down A") != 0 || !b.Up("A") {
		t.Fatalf("B noticed the blackholed link: %v", b.rec.got())
	}
	waitFor(t, "B's link to go stale", func() bool {
		b.Peer("A").mu.Lock()
		defer b.Peer("A").mu.Unlock()
		return b.Peer("A").link != nil && stale(b.Peer("A").link)
	})
	a.send(t, "B", "r", 1)
	waitFor(t, "the message after the reconnect", func() bool { return len(b.rec.peer("A").messages()) == 2 })
	if d := b.rec.peer("A").failures(); len(d) != 1 || d[0] != "true switched connections" {
		t.Fatalf("B's peer handler saw downs %v, want the switch", d)
	}
	if got := b.rec.got(); !slices.Equal(got, []string{"up A", "down A", "up A"}) {
		t.Fatalf("B's events %v", got)
	}
}
