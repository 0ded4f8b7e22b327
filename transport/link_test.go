package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/pool"
)

// backends are the backends this platform has.
var backends = slices.DeleteFunc([]Backend{BackendStd, BackendNetpoll}, func(b Backend) bool { return !b.Available() })

func appendMsg(b []byte, i int) []byte {
	b = append(b, `["port","tag",`...)
	b = strconv.AppendInt(b, int64(i), 10)
	return append(b, ']')
}

func sendN(t testing.TB, l *Link, n int) {
	for i := 0; i < n; i++ {
		if err := l.Commit(appendMsg(l.Begin(), i)); err != nil {
			t.Errorf("commit %d: %v", i, err)
			return
		}
	}
}

func checkSeq(t *testing.T, r *recorder, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d messages", n), func() bool { return r.n.Load() >= int64(n) })
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) != n {
		t.Fatalf("got %d messages, want %d", len(r.msgs), n)
	}
	for i, m := range r.msgs {
		if want := appendMsg(nil, i); !bytes.Equal(m, want) {
			t.Fatalf("message %d = %q, want %q", i, m, want)
		}
	}
}

func TestLinkFramings(t *testing.T) {
	for _, be := range backends {
		for _, fr := range [][2]string{{"goframe1", "goframe1"}, {"json", "json"}, {"goframe1", "json"}} {
			t.Run(fmt.Sprintf("%v/%s-%s", be, fr[0], fr[1]), func(t *testing.T) {
				defer leakcheck.Check(t)()
				n := 100_000
				if testing.Short() || fr[0] != fr[1] {
					n = 10_000
				}
				p := linkPair(t, fr[0], fr[1], Config{Backend: be})
				defer p.close()
				if p.a.Backend() != be {
					t.Fatalf("backend %v, want %v", p.a.Backend(), be)
				}
				go sendN(t, p.a, n)
				go sendN(t, p.b, n)
				checkSeq(t, p.rb, n)
				checkSeq(t, p.ra, n)
				p.close()
				if err := p.ra.waitClosed(t); err != nil {
					t.Fatalf("OnClose after local Close: %v", err)
				}
				if c := p.ra.closes.Load(); c != 1 {
					t.Fatalf("OnClose called %d times", c)
				}
			})
		}
	}
}

func TestLinkTLS(t *testing.T) {
	if !BackendNetpoll.Available() {
		t.Skip("no netpoll on this platform")
	}
	defer leakcheck.Check(t)()
	ca, cb := tlsPair(t, true)
	p := newPair(t, ca, cb, "goframe1", "json", Config{Backend: BackendNetpoll}, Config{}, newRecorder(), newRecorder())
	defer p.close()
	if p.a.Backend() != BackendStd {
		t.Fatal("TLS link not on std backend")
	}
	go sendN(t, p.a, 20000)
	go sendN(t, p.b, 20000)
	checkSeq(t, p.rb, 20000)
	checkSeq(t, p.ra, 20000)
}

func bigMsg(i, size int) []byte {
	b := fmt.Appendf(nil, `["port","big%d","`, i)
	for len(b) < size-2 {
		b = append(b, byte('a'+(len(b)*7+i)%26))
	}
	return append(b, `"]`...)
}

func TestLinkLargeMessages(t *testing.T) {
	for _, be := range backends {
		for _, fr := range []string{"goframe1", "json"} {
			for _, compress := range []bool{false, true} {
				if compress && fr == "json" {
					continue
				}
				t.Run(fmt.Sprintf("%v/%s/compress=%v", be, fr, compress), func(t *testing.T) {
					defer leakcheck.Check(t)()
					cfg := Config{Backend: be, Compress: compress, ReadBuffer: 16 << 10}
					p := linkPair(t, fr, fr, cfg)
					defer p.close()
					sizes := []int{frame.DefaultMaxFrame, 100, 70000, frame.DefaultMaxFrame - 1, 5000}
					for i, s := range sizes {
						if err := p.a.Send(bigMsg(i, s)); err != nil {
							t.Fatal(err)
						}
					}
					if err := p.a.Send(bigMsg(9, frame.DefaultMaxFrame+1)); !errors.Is(err, ErrMessageTooLarge) {
						t.Fatalf("oversized send: %v", err)
					}
					waitFor(t, "large messages", func() bool { return p.rb.n.Load() == int64(len(sizes)) })
					for i, s := range sizes {
						if !bytes.Equal(p.rb.msgs[i], bigMsg(i, s)) {
							t.Fatalf("message %d (%d bytes) differs", i, s)
						}
					}
				})
			}
		}
	}
}

func TestLinkCloseWhileBusy(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			p := linkPair(t, "goframe1", "goframe1", Config{Backend: be})
			stop := make(chan struct{})
			done := make(chan struct{})
			for _, l := range []*Link{p.a, p.b} {
				go func() {
					defer func() { done <- struct{}{} }()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						if err := l.Commit(appendMsg(l.Begin(), i)); err != nil {
							if !errors.Is(err, ErrClosed) {
								t.Errorf("commit: %v", err)
							}
							<-stop
							return
						}
					}
				}()
			}
			waitFor(t, "traffic", func() bool { return p.rb.n.Load() > 1000 && p.ra.n.Load() > 1000 })
			go p.a.Close()
			p.a.Close()
			close(stop)
			<-done
			<-done
			if err := p.ra.waitClosed(t); err != nil {
				t.Fatalf("local close reason %v", err)
			}
			if err := p.rb.waitClosed(t); err == nil {
				t.Fatal("peer's OnClose got nil")
			}
			p.b.Close()
			p.a.Close()
			if p.ra.closes.Load() != 1 || p.rb.closes.Load() != 1 {
				t.Fatalf("OnClose counts %d %d", p.ra.closes.Load(), p.rb.closes.Load())
			}
			if err := p.a.Commit(p.a.Begin()); !errors.Is(err, ErrClosed) {
				t.Fatalf("commit after close: %v", err)
			}
		})
	}
}

func TestLinkPeerVanishes(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			ca, cb := tcpPair(t, Config{})
			r := newRecorder()
			l, err := NewLink(ca, nil, "json", "json", r, Config{Backend: be})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			cb.Write([]byte(`["a"]`))
			waitFor(t, "message", func() bool { return r.n.Load() == 1 })
			cb.Close()
			err = r.waitClosed(t)
			if !errors.Is(err, ErrPeerClosed) {
				t.Fatalf("reason %v, want ErrPeerClosed", err)
			}
		})
	}
}

func TestLinkBadInput(t *testing.T) {
	huge := binary.BigEndian.AppendUint32(nil, 2<<20)
	huge = append(huge, 0)
	for _, c := range []struct {
		name, framing string
		data          []byte
		want          error
		delivered     int64 // messages before the bad input
	}{
		{"garbage-json", "json", []byte("hello"), frame.ErrSyntax, 0},
		{"object-json", "json", []byte(`["ok"]{"a":1}`), frame.ErrNotArray, 1},
		{"comma-json", "json", []byte(`["ok"],["x"]`), frame.ErrSyntax, 1},
		{"invalid-utf8-json", "json", []byte("[\"ok\"][\"b\",\"t\",\"\xff\"]"), frame.ErrSyntax, 1},
		{"deep-json", "json", []byte(strings.Repeat("[", 1000)), frame.ErrTooDeep, 0},
		{"oversized-json", "json", append([]byte(`["`), bytes.Repeat([]byte("x"), 2<<20)...), frame.ErrFrameTooLarge, 0},
		{"reserved-flags", "goframe1", frame.AppendFrame(nil, 0x80, []byte("[1]")), frame.ErrReservedFlags, 0},
		{"oversized-frame", "goframe1", huge, frame.ErrFrameTooLarge, 0},
		{"bad-batch", "goframe1", frame.AppendFrame(nil, frame.FlagBatch, []byte{0, 0, 0, 9, 1}), frame.ErrCorrupt, 0},
		// a corrupt batch is refused whole, its good first item too
		{"bad-batch-tail", "goframe1", frame.AppendFrame(frame.AppendFrame(nil, 0, []byte(`["ok"]`)), frame.FlagBatch,
			append(frame.AppendBatchItem(nil, []byte(`["x"]`)), 0, 0, 0, 9, 1)), frame.ErrCorrupt, 1},
		{"bad-s2", "goframe1", frame.AppendFrame(nil, frame.FlagS2, []byte{0xff, 0xff, 0xff, 0x7f, 1}), frame.ErrFrameTooLarge, 0},
		{"bad-s2-body", "goframe1", frame.AppendFrame(nil, frame.FlagS2, []byte{10, 1, 2, 3}), frame.ErrCorrupt, 0},
	} {
		for _, be := range backends {
			t.Run(c.name+"/"+be.String(), func(t *testing.T) {
				defer leakcheck.Check(t)()
				ca, cb := tcpPair(t, Config{})
				defer cb.Close()
				r := newRecorder()
				l, err := NewLink(ca, nil, c.framing, c.framing, r, Config{Backend: be})
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				go cb.Write(c.data)
				err = r.waitClosed(t)
				if !errors.Is(err, ErrFraming) || !errors.Is(err, c.want) {
					t.Fatalf("reason %v, want ErrFraming and %v", err, c.want)
				}
				if n := r.n.Load(); n != c.delivered {
					t.Fatalf("%d messages delivered, want %d", n, c.delivered)
				}
			})
		}
	}
}

func TestLinkBufferedAndRecordedPerl(t *testing.T) {
	defer leakcheck.Check(t)()
	all, chunks, err := vectors.Stream("session-ping-json.raw.jsonl", 1, "s2c")
	if err != nil {
		t.Fatal(err)
	}
	conns, err := vectors.LoadSession(vectors.Path("session-ping-json.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := conns[0].Messages("S>C")
	skip := 0
	for i := 0; i < 3; i++ {
		skip += bytes.IndexByte(all[skip:], '\n') + 1
	}
	data := all[skip:]
	ca, cb := tcpPair(t, Config{})
	defer cb.Close()
	r := newRecorder()
	// the first 20 data bytes came with the handshake; the rest arrives in
	// the recorded chunks
	l, err := NewLink(ca, data[:20], "json", "json", r, Config{ReadBuffer: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rest := data[20:]
	for _, c := range chunks {
		n := min(len(c), len(rest))
		if n == 0 {
			break
		}
		cb.Write(rest[:n])
		rest = rest[n:]
		time.Sleep(time.Millisecond)
	}
	waitFor(t, "recorded messages", func() bool { return r.n.Load() == int64(len(want)) })
	for i, w := range want {
		if string(r.msgs[i]) != string(w.Wire) {
			t.Fatalf("message %d = %q, want %q", i, r.msgs[i], w.Wire)
		}
	}
}

// A full outbound queue refuses the message (ErrOutboundFull) and keeps
// the link up; WaitRoom reports the link's end.
func TestLinkOutboundFull(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			ca, cb := tcpPair(t, Config{})
			defer cb.Close() // never read: the peer is stuck
			// Small socket buffers: what the kernel can take stays small
			// and fixed (loopback autotuning would keep taking bytes).
			cb.(*net.TCPConn).SetReadBuffer(16 << 10)
			r := newRecorder()
			l, err := NewLink(ca, nil, "goframe1", "goframe1", r, Config{Backend: be, MaxOutbound: 1 << 20, SendBuffer: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			msg := bigMsg(0, 32<<10)
			var werr error
			for i := 0; i < 100000 && werr == nil; i++ {
				werr = l.Send(msg)
			}
			if !errors.Is(werr, ErrOutboundFull) {
				t.Fatalf("send error %v, want ErrOutboundFull", werr)
			}
			if q := l.Queued(); q > 1<<20 {
				t.Fatalf("%d bytes queued, limit %d", q, 1<<20)
			}
			select {
			case <-l.Done():
				t.Fatal("a full queue closed the link")
			case <-time.After(50 * time.Millisecond):
			}
			// Fill up what the kernel takes meanwhile (loopback buffers
			// grow), until the queue stays full across two looks.
			for deadline, full := time.Now().Add(5*time.Second), 0; full < 2; {
				for l.Send(msg) == nil {
				}
				time.Sleep(20 * time.Millisecond)
				if l.Queued()+len(msg)+5 > 1<<20 {
					full++
				} else {
					full = 0
				}
				if time.Now().After(deadline) {
					t.Fatal("the stuck peer's kernel keeps taking bytes")
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if err := l.WaitRoom(ctx, len(msg)); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WaitRoom on a stuck peer: %v", err)
			}
			go func() { time.Sleep(20 * time.Millisecond); l.Shutdown(nil) }()
			if err := l.WaitRoom(context.Background(), len(msg)); !errors.Is(err, ErrClosed) {
				t.Fatalf("WaitRoom on a closing link: %v", err)
			}
		})
	}
}

func TestLinkInboundBound(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			cfg := Config{Backend: be, MaxInbound: 256 << 10, ReadBuffer: 16 << 10}
			ca, cb := tcpPair(t, cfg)
			ra, rb := newRecorder(), newRecorder()
			rb.hold = true
			p := newPair(t, ca, cb, "goframe1", "goframe1", cfg, Config{Backend: be, MaxInbound: 256 << 10, ReadBuffer: 16 << 10}, ra, rb)
			defer p.close()
			if st := p.b.Stats(); st.Paused || st.SincePaused != -1 {
				t.Fatalf("a new link: Paused %v, SincePaused %v", st.Paused, st.SincePaused)
			}
			// the reader must stop: the count stays put and inflight bounded
			const n = 20000 // ~ 20000 * 1 KiB = 20 MiB, far above the bound
			floodUntilPaused(t, p, rb, n)
			if in := p.b.Inflight(); in > 256<<10+64<<10 {
				t.Fatalf("inflight %d beyond bound", in)
			}
			if be == BackendNetpoll {
				// netpoll buffered the rest; beyond the bound this fails
				// the link with ErrInboundOverflow instead of stalling TCP.
				err := rb.waitClosed(t)
				if !errors.Is(err, ErrInboundOverflow) {
					t.Fatalf("netpoll: reason %v, want ErrInboundOverflow", err)
				}
				rb.releaseHeld()
				return
			}
			if st := p.b.Stats(); !st.Paused || st.SincePaused != 0 {
				t.Fatalf("a paused reader: Paused %v, SincePaused %v", st.Paused, st.SincePaused)
			}
			rb.releaseHeld() // resumes; from now on messages are copied
			waitFor(t, "all messages", func() bool { return rb.n.Load() == n })
			if st := p.b.Stats(); st.Paused || st.SincePaused < 0 {
				t.Fatalf("a reader that waited: Paused %v, SincePaused %v", st.Paused, st.SincePaused)
			}
		})
	}
}

func TestLinkDrain(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			p := linkPair(t, "json", "goframe1", Config{Backend: be})
			defer p.close()
			sendN(t, p.a, 50000)
			if err := p.a.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkSeq(t, p.rb, 50000)
			if err := p.a.Send([]byte("[1]")); !errors.Is(err, ErrClosed) {
				t.Fatalf("send after drain: %v", err)
			}
			if err := p.ra.waitClosed(t); err != nil {
				t.Fatalf("drain close reason %v", err)
			}
		})
	}
}

func TestLinkDrainTimeout(t *testing.T) {
	defer leakcheck.Check(t)()
	ca, cb := tcpPair(t, Config{})
	defer cb.Close() // never reads
	r := newRecorder()
	l, err := NewLink(ca, nil, "goframe1", "goframe1", r, Config{})
	if err != nil {
		t.Fatal(err)
	}
	msg := bigMsg(0, 64<<10)
	for i := 0; i < 200; i++ {
		if err := l.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = l.Drain(ctx)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("drain: %v, want a net.Error timeout", err)
	}
	r.waitClosed(t)
}

func TestNewLinkErrors(t *testing.T) {
	defer leakcheck.Check(t)()
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	if _, err := NewLink(ca, nil, "storable", "json", newRecorder(), Config{}); !errors.Is(err, ErrUnknownFraming) {
		t.Fatal(err)
	}
	if _, err := NewLink(ca, nil, "json", "json", newRecorder(), Config{MaxInbound: -1}); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
	// package wire scans at most frame.DefaultMaxDepth levels
	if _, err := NewLink(ca, nil, "json", "json", newRecorder(), Config{MaxDepth: frame.DefaultMaxDepth + 1}); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
	if !BackendNetpoll.Available() {
		if _, err := NewLink(ca, nil, "json", "json", newRecorder(), Config{Backend: BackendNetpoll}); !errors.Is(err, ErrBackend) {
			t.Fatalf("netpoll on a platform without it: %v, want ErrBackend", err)
		}
		return
	}
	// net.Pipe is no TCP conn: runs on std even when netpoll is asked for
	r := newRecorder()
	l, err := NewLink(ca, nil, "json", "json", r, Config{Backend: BackendNetpoll})
	if err != nil || l.Backend() != BackendStd {
		t.Fatalf("%v %v", err, l)
	}
	go cb.Write([]byte(` ["x"] `))
	waitFor(t, "pipe message", func() bool { return r.n.Load() == 1 })
	l.Close()
}

func TestCommitAllocs(t *testing.T) {
	defer leakcheck.Check(t)()
	old := pool.SetDebug(false)
	defer pool.SetDebug(old)
	for _, fr := range []string{"goframe1", "json"} {
		// The receivers only count: AllocsPerRun counts the whole
		// process's allocations, and a recorder's copy of each message
		// made while the loop runs would be counted as the Commit's.
		ra, rb := newRecorder(), newRecorder()
		ra.discard, rb.discard = true, true
		ca, cb := tcpPair(t, Config{})
		p := newPair(t, ca, cb, fr, fr, Config{}, Config{}, ra, rb)
		for i := 0; i < 1000; i++ { // warm the pools
			p.a.Commit(append(p.a.Begin(), `["x","y",1]`...))
		}
		allocs := testing.AllocsPerRun(10000, func() {
			if err := p.a.Commit(append(p.a.Begin(), `["port","tag",12345]`...)); err != nil {
				t.Fatal(err)
			}
		})
		p.close()
		if allocs > 0.01 {
			t.Errorf("%s: %v allocs per Commit", fr, allocs)
		}
	}
}

// TestLinkDrainSparse: Drain right after a sparse (directly written)
// message must not wait for a writer wake-up that never comes.
func TestLinkDrainSparse(t *testing.T) {
	defer leakcheck.Check(t)()
	for i := 0; i < 50; i++ {
		p := linkPair(t, "goframe1", "goframe1", Config{})
		time.Sleep(30 * time.Microsecond)
		if err := p.a.Send([]byte(`["x"]`)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := p.a.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		waitFor(t, "message", func() bool { return p.rb.n.Load() == 1 })
		p.close()
	}
}

// BeginN returns a batch with room for the announced message, so that
// appending it does not grow (and copy) the batch; the message arrives whole.
func TestBeginNReservesRoom(t *testing.T) {
	defer leakcheck.Check(t)()
	p := linkPair(t, "goframe1", "goframe1", Config{MaxFrame: 2 << 20})
	defer p.close()
	for _, n := range []int{0, 100, 200 << 10, 1 << 20} {
		b := p.a.BeginN(n)
		if room := cap(b) - len(b); room < n {
			p.a.Abort(b)
			t.Fatalf("BeginN(%d): room for %d bytes", n, room)
		}
		msg := bytes.Repeat([]byte{'m'}, max(n, 1))
		if err := p.a.Commit(append(b, msg...)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "4 messages", func() bool { return p.rb.n.Load() == 4 })
	p.rb.mu.Lock()
	defer p.rb.mu.Unlock()
	for i, n := range []int{0, 100, 200 << 10, 1 << 20} {
		if len(p.rb.msgs[i]) != max(n, 1) {
			t.Errorf("message %d: %d bytes, want %d", i, len(p.rb.msgs[i]), max(n, 1))
		}
	}
}

// With Express on, a small message overtakes large ones queued before it
// when its key differs, and only then: same key, a barrier (key 0), and
// anything behind a queued barrier keep their place. Without Express the
// same sequence arrives in commit order.
func TestExpressOvertakes(t *testing.T) {
	defer leakcheck.Check(t)()
	for _, express := range []bool{true, false} {
		cfg := Config{MaxFrame: 1 << 20, SendBuffer: 64 << 10}
		if express {
			cfg.Express = 4096
		}
		ca, cb := tcpPair(t, cfg)
		rb := newRecorder()
		gate := make(chan struct{})
		var once sync.Once
		rb.onMsg = func([]byte) { once.Do(func() { <-gate }) } // the receiver stalls on the first message
		p := newPair(t, ca, cb, "goframe1", "goframe1", cfg, Config{MaxFrame: 1 << 20}, newRecorder(), rb)

		big := bytes.Repeat([]byte{'.'}, 512<<10)
		send := func(name string, key uint64, body []byte) {
			t.Helper()
			if err := p.a.CommitKey(append(append(p.a.BeginN(len(name)+len(body)), name...), body...), key); err != nil {
				t.Fatal(err)
			}
		}
		const nBig = 32 // 16 MiB: more than the kernel buffers hold, so most wait in the link's queue
		for i := range nBig {
			send(fmt.Sprintf("L%02d", i), 1, big)
		}
		send("S2", 2, nil) // other key: may overtake
		send("S1", 1, nil) // same key as the large ones: behind them
		send("B0", 0, nil) // barrier: behind everything
		send("S3", 3, nil) // behind the barrier
		close(gate)
		waitFor(t, "every message", func() bool { return rb.n.Load() == nBig+4 })
		p.close()

		pos := map[string]int{}
		rb.mu.Lock()
		for i, m := range rb.msgs {
			if m[0] == 'L' {
				pos[string(m[:3])] = i
			} else {
				pos[string(m)] = i
			}
		}
		rb.mu.Unlock()
		last := pos[fmt.Sprintf("L%02d", nBig-1)]
		if express {
			if pos["S2"] > last {
				t.Errorf("express: S2 at %d did not overtake the queued large messages (last at %d)", pos["S2"], last)
			}
		} else if pos["S2"] < last {
			t.Errorf("FIFO: S2 at %d overtook a large message (last at %d)", pos["S2"], last)
		}
		if !(last < pos["S1"] && pos["S1"] < pos["B0"] && pos["B0"] < pos["S3"]) {
			t.Errorf("express %v: order broken: last large %d, S1 %d, B0 %d, S3 %d", express, last, pos["S1"], pos["B0"], pos["S3"])
		}
		for i := 1; i < nBig; i++ {
			if pos[fmt.Sprintf("L%02d", i-1)] > pos[fmt.Sprintf("L%02d", i)] {
				t.Fatalf("express %v: large messages out of order", express)
			}
		}
	}
}

// TestLinkFailsAtOnce: a link whose reader fails before the writer has
// started (malformed bytes left by the handshake) still ends once:
// OnClose exactly once, Done closed once.
func TestLinkFailsAtOnce(t *testing.T) {
	defer leakcheck.Check(t)()
	for i := 0; i < 200; i++ {
		ca, cb := net.Pipe()
		r := newRecorder()
		l, err := NewLink(ca, []byte("garbage"), "json", "json", r, Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.waitClosed(t); !errors.Is(err, ErrFraming) {
			t.Fatalf("reason %v, want ErrFraming", err)
		}
		<-l.Done()
		l.Close()
		cb.Close()
		if n := r.closes.Load(); n != 1 {
			t.Fatalf("OnClose called %d times", n)
		}
	}
}
