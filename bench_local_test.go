package aemp

import (
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aemp-go/aemp/internal/race"
)

// Local delivery benchmarks. Each reports msgs/s for end-to-end delivery
// (send → handler ran) of a small tagged message ("test", int). The
// buffered-channel baselines move a comparable struct through a Go channel
// with the same producer/consumer shape, so the ratio of the two is the
// cost of ports over raw channels (see docs/performance.md).
//
// Snd never blocks, so a sender that is faster than the handler would just
// grow the mailbox; a channel blocks its sender at capacity. To measure the
// same thing — sustainable throughput — the senders here keep at most
// window messages in flight, the capacity of the baseline channels.

const window = 1024

// flow lets a sender wait until fewer than window messages are in flight.
type flow struct {
	handled atomic.Int64
}

func (f *flow) wait(sent int64) {
	if sent%64 != 0 { // check (and share the counter's cache line) rarely
		return
	}
	for sent-f.handled.Load() >= window-64 {
		runtime.Gosched()
	}
}

func benchNode(b *testing.B) *Node {
	n, err := NewNode(Config{MailboxRing: 2048, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	return n
}

// countingPort returns a port that counts "test" messages and closes done
// after want of them.
func countingPort(n *Node, want int) (*Port, *flow, <-chan struct{}) {
	done := make(chan struct{})
	f := &flow{}
	var got int
	p := n.NewPort().Rcv("test", func(m *Msg) error {
		if _, err := m.Int(1); err != nil {
			return err
		}
		got++
		if got%64 == 0 {
			f.handled.Store(int64(got))
		}
		if got == want {
			close(done)
		}
		return nil
	})
	return p, f, done
}

func reportRate(b *testing.B, msgs int) {
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkLocal1to1 is one goroutine sending to one port (SndMsg, no boxing).
func BenchmarkLocal1to1(b *testing.B) {
	n := benchNode(b)
	p, f, done := countingPort(n, b.N)
	id := p.ID()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.wait(int64(i))
		n.SndMsg(id, NewMsg("test").AppendInt(int64(i)))
	}
	<-done
	reportRate(b, b.N)
}

// BenchmarkLocal1to1Snd is the same with the variadic Snd(id, "test", i).
func BenchmarkLocal1to1Snd(b *testing.B) {
	n := benchNode(b)
	p, f, done := countingPort(n, b.N)
	id := p.ID()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.wait(int64(i))
		n.Snd(id, "test", i)
	}
	<-done
	reportRate(b, b.N)
}

// BenchmarkLocal2to2 is two goroutines, each sending to its own port.
func BenchmarkLocal2to2(b *testing.B) {
	n := benchNode(b)
	per := b.N/2 + 1
	var wg sync.WaitGroup
	ports := make([]PortID, 2)
	flows := make([]*flow, 2)
	dones := make([]<-chan struct{}, 2)
	for k := range 2 {
		p, f, d := countingPort(n, per)
		ports[k], flows[k], dones[k] = p.ID(), f, d
	}
	b.ReportAllocs()
	b.ResetTimer()
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				flows[k].wait(int64(i))
				n.SndMsg(ports[k], NewMsg("test").AppendInt(int64(i)))
			}
		}()
	}
	wg.Wait()
	<-dones[0]
	<-dones[1]
	reportRate(b, 2*per)
}

type chanMsg struct {
	tag string
	n   int64
}

// BenchmarkChannel1to1 is the baseline: a buffered channel, one sender, one
// receiver goroutine.
func BenchmarkChannel1to1(b *testing.B) {
	ch := make(chan chanMsg, 1024)
	done := make(chan struct{})
	var sink atomic.Int64
	go func() {
		var sum int64
		for i := 0; i < b.N; i++ {
			m := <-ch
			if m.tag == "test" {
				sum += m.n
			}
		}
		sink.Store(sum)
		close(done)
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch <- chanMsg{"test", int64(i)}
	}
	<-done
	reportRate(b, b.N)
}

// BenchmarkChannel2to2 is the baseline for Local2to2: two channels, two
// senders, two receivers.
func BenchmarkChannel2to2(b *testing.B) {
	per := b.N/2 + 1
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for range 2 {
		ch := make(chan chanMsg, 1024)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ch <- chanMsg{"test", int64(i)}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				<-ch
			}
		}()
	}
	wg.Wait()
	reportRate(b, 2*per)
}

// TestLocalSendAllocs guards the local hot path: sending a tag and an int
// and handling it allocates nothing.
func TestLocalSendAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are checked by the non-race pass of make test")
	}
	n := newTestNode(t, Config{})
	var got atomic.Int64
	p := n.NewPort().Rcv("test", func(m *Msg) error {
		v, err := m.Int(1)
		got.Add(v)
		return err
	})
	id := p.ID()
	i := int64(1000)
	allocs := testing.AllocsPerRun(10000, func() {
		i++
		n.SndMsg(id, NewMsg("test").AppendInt(i))
	})
	if allocs != 0 {
		t.Errorf("SndMsg(tag, int) allocates %.2f times per message, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(10000, func() { n.Snd(id, "test", 7) })
	if allocs != 0 {
		t.Errorf("Snd(id, tag, const int) allocates %.2f times per message, want 0", allocs)
	}
}
