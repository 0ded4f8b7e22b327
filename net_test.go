package aemp

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/internal/race"
	"github.com/aemp-go/aemp/mesh"
	"github.com/aemp-go/aemp/wire"
)

// echoPort answers ["echo", reply, args…] with ["re", args…].
func echoPort(n *Node) *Port {
	return n.NewPort().Rcv("echo", func(m *Msg) error {
		reply, err := m.String(1)
		if err != nil {
			return err
		}
		out := NewMsg("re")
		for i := 2; i < m.Len(); i++ {
			raw, err := m.Raw(i)
			if err != nil {
				return err
			}
			out = out.Append(wire.Raw(raw)) // encoded before SndMsg returns

		}
		return n.SndMsg(PortID(reply), out)
	})
}

func TestRemoteRoundTrip(t *testing.T) {
	forEachLink(t, func(t *testing.T, p *netPair) {
		echo := echoPort(p.a)
		got := make(chan []any, 100)
		me := p.b.NewPort().Rcv("re", func(m *Msg) error {
			v, err := m.Values()
			got <- textOf(v).([]any)
			return err
		})
		values := [][]any{
			{int64(42)},
			{int64(math.MaxInt64), int64(math.MinInt64), uint64(math.MaxUint64)},
			{3.25, 0.1, "héllo wörld ✓ 日本語 😀"},
			{nil, true, false, ""},
			{[]any{int64(1), []any{int64(2), []any{}}}, map[string]any{"a": int64(1), "b": []any{true, nil}}},
		}
		for _, v := range values {
			args := append([]any{me.ID()}, v...)
			if err := p.b.Snd(echo.ID(), "echo", args...); err != nil {
				t.Fatal(err)
			}
		}
		for i, want := range values {
			v := recv(t, got)
			if !reflect.DeepEqual(v[1:], want) {
				t.Fatalf("message %d: got %#v, want %#v", i, v[1:], want)
			}
		}
		// Many messages, in order.
		const N = 5000
		seq := make(chan int64, N)
		counter := p.b.NewPort().Rcv("re", func(m *Msg) error {
			v, err := m.Int(1)
			seq <- v
			return err
		})
		for i := range N {
			p.b.Snd(echo.ID(), "echo", counter.ID(), i)
		}
		for i := range N {
			if v := recv(t, seq); v != int64(i) {
				t.Fatalf("message %d arrived as %d", i, v)
			}
		}
	})
}

func TestRemoteMonitorAndKill(t *testing.T) {
	forEachLink(t, func(t *testing.T, p *netPair) {
		target := p.a.NewPortFunc(func(*Msg) error { return nil })

		// Kill with a reason: the remote monitor gets it (kil0).
		reasons, _ := reasonMonitor(p.b, target.ID())
		waitFor(t, "mon1 to arrive", func() bool {
			target.mu.Lock()
			defer target.mu.Unlock()
			return len(target.remotes) == 1
		})
		target.Kill("my_error", "custom reason text", 42)
		if r := recv(t, reasons); !reflect.DeepEqual(r, Reason{"my_error", "custom reason text", int64(42)}) {
			t.Fatalf("remote monitor got %v", r)
		}

		// Monitoring a port that does not exist.
		ghost := PortID("nodeA#doesnotexist")
		reasons, _ = reasonMonitor(p.b, ghost)
		if r := recv(t, reasons); !reflect.DeepEqual(r, Reason{"no_such_port", "cannot monitor nonexistent port", "nodeA#doesnotexist"}) {
			t.Fatalf("got %v", r)
		}

		// Remote kill (kil1), ordered after the messages sent before it.
		got := make(chan int64, 10)
		victim := p.a.NewPortFunc(func(m *Msg) error { v, _ := m.Int(1); got <- v; return nil })
		local, _ := reasonMonitor(p.a, victim.ID())
		p.b.Snd(victim.ID(), "n", 1)
		p.b.Snd(victim.ID(), "n", 2)
		p.b.Kill(victim.ID(), "remote", "kill")
		p.b.Snd(victim.ID(), "n", 3)
		if r := recv(t, local); !reflect.DeepEqual(r, Reason{"remote", "kill"}) {
			t.Fatalf("victim died with %v", r)
		}
		if a, b := recv(t, got), recv(t, got); a != 1 || b != 2 {
			t.Fatalf("delivered %d %d before the kill", a, b)
		}
		select {
		case v := <-got:
			t.Fatalf("message %d delivered after the kill", v)
		case <-time.After(50 * time.Millisecond):
		}

		// Cancel sends mon0: the port forgets the remote monitor.
		watched := p.a.NewPortFunc(func(*Msg) error { return nil })
		m := p.b.Mon(watched.ID(), MonFunc(func(Reason) {}))
		waitFor(t, "mon1", func() bool { watched.mu.Lock(); defer watched.mu.Unlock(); return len(watched.remotes) == 1 })
		m.Cancel()
		waitFor(t, "mon0", func() bool { watched.mu.Lock(); defer watched.mu.Unlock(); return len(watched.remotes) == 0 })
	})
}

func TestLinkLossFiresMonitors(t *testing.T) {
	forEachLink(t, func(t *testing.T, p *netPair) {
		target := p.a.NewPortFunc(func(*Msg) error { return nil })
		portReasons, _ := reasonMonitor(p.b, target.ID())
		nodeReasons, _ := reasonMonitor(p.b, p.a.NodePort())
		waitFor(t, "link up", func() bool { return len(p.b.UpNodes()) == 1 })
		p.a.Close()
		for _, ch := range []<-chan Reason{portReasons, nodeReasons} {
			r := recv(t, ch)
			if r.Kind() != "transport_error" || r[1] != "nodeA" || r.Text() == "" {
				t.Fatalf("got %v, want (transport_error, nodeA, text)", r)
			}
		}
		waitFor(t, "link down", func() bool { return len(p.b.UpNodes()) == 0 })
	})
}

func TestAuthFailuresAreRefused(t *testing.T) {
	otherCert, err := auth.GenerateSelfSigned("AnyEvent::MP", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		ca, cb Config
		logged string
	}{
		{"wrong secret", Config{Secret: "right"}, Config{Secret: "wrong"}, "authentication failed"},
		{"wrong certificate", Config{Cert: testCert()}, Config{Cert: string(otherCert)}, "tls handshake failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cb.ConnectTimeout = 500 * time.Millisecond
			p := newNetPair(t, c.ca, c.cb)
			target := p.a.NewPortFunc(func(*Msg) error { t.Error("message delivered despite failed auth"); return nil })
			reasons, _ := reasonMonitor(p.b, target.ID())
			p.b.Snd(target.ID(), "hello")
			// The reason says why (not "connect timeout").
			r := recv(t, reasons)
			if r.Kind() != "transport_error" || r[1] != "nodeA" || !strings.HasPrefix(strings.ToLower(r.Text()), c.logged) {
				t.Fatalf("got %v, want (transport_error, nodeA, %q…)", r, c.logged)
			}
			waitFor(t, "the refusal in the log", func() bool {
				return strings.Contains(strings.ToLower(p.logA.String()), c.logged)
			})
		})
	}
}

func TestNodeProtocolRequests(t *testing.T) {
	forEachLink(t, func(t *testing.T, p *netPair) {
		got := make(chan []any, 4)
		me := p.b.NewPortFunc(func(m *Msg) error { v, err := m.Values(); got <- textOf(v).([]any); return err })
		p.b.Snd(p.a.NodePort(), "time", me.ID(), "t")
		v := recv(t, got)
		if v[0] != "t" || len(v) != 2 {
			t.Fatalf("time reply %v", v)
		}
		if ts, ok := v[1].(float64); !ok || math.Abs(ts-float64(time.Now().Unix())) > 60 {
			t.Fatalf("time reply %v is not the time", v[1])
		}
		p.b.Snd(p.a.NodePort(), "can", "mon1", me.ID(), "c")
		p.b.Snd(p.a.NodePort(), "can", "eval", me.ID(), "c") // answered (with an error), as Perl's table has it
		p.b.Snd(p.a.NodePort(), "can", "no_such_request", me.ID(), "c")
		if a, b, c := recv(t, got), recv(t, got), recv(t, got); !reflect.DeepEqual(a, []any{"c", "1"}) ||
			!reflect.DeepEqual(b, []any{"c", "1"}) || !reflect.DeepEqual(c, []any{"c", ""}) {
			t.Fatalf("can replies %v %v %v", a, b, c)
		}
		// snd relay: ["", "snd", port, msg…]
		p.b.Snd(p.a.NodePort(), "snd", string(me.ID()), "relayed", 7)
		if v := recv(t, got); !reflect.DeepEqual(v, []any{"relayed", int64(7)}) {
			t.Fatalf("relay delivered %v", v)
		}
		// Garbage requests are ignored; the link survives.
		p.b.Snd(p.a.NodePort(), "kil1", "")
		p.b.Snd(p.a.NodePort(), "mon1")
		p.b.Snd(p.a.NodePort(), "no_such_request", 1, 2)
		p.b.Snd(p.a.NodePort(), "time", me.ID(), "still")
		if v := recv(t, got); v[0] != "still" {
			t.Fatalf("after garbage: %v", v)
		}
	})
}

func TestUnknownNode(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	reasons, _ := reasonMonitor(p.b, "nowhere#x")
	p.b.Snd("nowhere#x", "hello")
	if r := recv(t, reasons); !reflect.DeepEqual(r, Reason{"transport_error", "nowhere", "no known address"}) {
		t.Fatalf("got %v", r)
	}
	if err := p.b.Snd("#x", "t"); !errors.Is(err, ErrBadPortID) {
		t.Fatal(err)
	}
}

// A received message is valid only during its handler; Clone keeps it,
// and the network buffer it came in is released (poisoned under test).
func TestRemoteMsgCloneOutlivesHandler(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	kept := make(chan *Msg, 1)
	target := p.a.NewPortFunc(func(m *Msg) error {
		kept <- m.Clone()
		return nil
	})
	p.b.Snd(target.ID(), "keep", "a string that must survive", 12345, []any{"x", 1.5})
	m := recv(t, kept)
	// Push more traffic through the same link so the buffer is reused.
	sink := p.a.NewPortFunc(func(*Msg) error { return nil })
	for range 100 {
		p.b.Snd(sink.ID(), "filler", strings.Repeat("z", 500))
	}
	time.Sleep(50 * time.Millisecond)
	s, err := m.String(1)
	n, err2 := m.Int(2)
	var list []any
	err3 := m.Decode(3, &list)
	if err != nil || err2 != nil || err3 != nil || s != "a string that must survive" || n != 12345 ||
		!reflect.DeepEqual(list, []any{"x", 1.5}) {
		t.Fatalf("clone: %q %v %d %v %v %v", s, err, n, err2, list, err3)
	}
	if m.Tag() != "keep" || m.Len() != 4 || m.From() != "nodeB" {
		t.Fatalf("clone: tag %q len %d from %q", m.Tag(), m.Len(), m.From())
	}
}

// TestRemoteAllocs guards the remote hot path: a round trip of a small
// tagged message between two nodes (encode into the link's batch, write,
// read, scan, route, handle, reply) allocates nothing once warmed up.
func TestRemoteAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are checked by the non-race pass of make test")
	}
	body := bytes.Repeat([]byte{0xab}, 64)
	for _, c := range []struct {
		framings []string
		bytes    bool // and a 64-byte []byte read with BytesView (a blob between Go nodes)
		tls      bool // secret-keyed TLS (the default between Go nodes)
	}{{nil, false, false}, {nil, true, false}, {[]string{"json"}, false, false}, {[]string{"cbor"}, false, false},
		{[]string{"cbor"}, true, false}, {nil, false, true}, {nil, true, true}} {
		p := newNetPair(t, Config{Framings: c.framings, PlainGoLinks: !c.tls}, Config{Framings: c.framings, PlainGoLinks: !c.tls})
		pongs := make(chan int64, 1)
		me := p.b.NewPort().Rcv("pong", func(m *Msg) error {
			v, err := m.Int(1)
			if c.bytes {
				if b, err := m.BytesView(2); err != nil || !bytes.Equal(b, body) {
					t.Errorf("pong body %q, %v", b, err)
				}
			}
			pongs <- v
			return err
		})
		echo := p.a.NewPort().Rcv("ping", func(m *Msg) error {
			v, err := m.Int(1)
			if err != nil {
				return err
			}
			pong := NewMsg("pong").AppendInt(v)
			if c.bytes {
				b, err := m.BytesView(2)
				if err != nil {
					return err
				}
				pong.AppendBytes(b) // encoded before SndMsg returns
			}
			return p.a.SndMsg(me.ID(), pong)
		})
		i := int64(1000)
		roundTrip := func() {
			i++
			ping := NewMsg("ping").AppendInt(i)
			if c.bytes {
				ping.AppendBytes(body)
			}
			p.b.SndMsg(echo.ID(), ping)
			if v := <-pongs; v != i {
				t.Fatalf("pong %d, want %d", v, i)
			}
		}
		for range 200 { // connect, fill pools and caches
			roundTrip()
		}
		// crypto/tls allocates one small atLeastReader per read of a record
		// (tls.Conn.readFromUntil): one per message each way in a ping-pong.
		limit := 0.05
		if c.tls {
			limit = 2.05
		}
		if allocs := testing.AllocsPerRun(2000, roundTrip); allocs > limit {
			t.Errorf("framings %v, bytes %v, tls %v: a remote round trip allocates %.3f times", c.framings, c.bytes, c.tls, allocs)
		}
	}
}

// Bytes travel as AEMP byte strings (Latin-1 code points) and come back
// as the same bytes, locally and remotely, built with AppendBytes or Snd.
func TestBytesRoundTrip(t *testing.T) {
	p := newNetPair(t, Config{}, Config{Framings: []string{"json"}})
	payload := []byte{0, 1, 'a', 0x7f, 0x80, 0xc3, 0xff, '"', '\\'}
	got := make(chan []byte, 4)
	recvPort := func(n *Node) *Port {
		return n.NewPort().Rcv("b", func(m *Msg) error {
			v, err := m.Bytes(1)
			got <- append([]byte(nil), v...)
			return err
		})
	}
	local, remote := recvPort(p.b), recvPort(p.a)
	for _, to := range []PortID{local.ID(), remote.ID()} {
		p.b.SndMsg(to, NewMsg("b").AppendBytes(payload))
		p.b.Snd(to, "b", payload)
		for range 2 {
			if v := recv(t, got); !bytes.Equal(v, payload) {
				t.Fatalf("to %s: got %q, want %q", to, v, payload)
			}
		}
	}
}

// A handler that stops consuming must not make a fast sender overrun the
// receiver: with netpoll (which reads eagerly) the link stays up only
// because the nodes negotiated credit-based flow control; with the std
// backend TCP back-pressure does it. Everything arrives once the handler
// resumes.
func TestSlowHandlerBackPressure(t *testing.T) {
	for _, c := range []struct{ name, recv, send string }{
		{"netpoll", "netpoll", "netpoll"}, {"std", "std", "std"},
		{"netpoll-receives-from-std", "netpoll", "std"}, // only the receiver wants credit
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.recv == "netpoll" && !mesh.BackendAvailable("netpoll") {
				t.Skip("no netpoll on this platform")
			}
			p := newNetPair(t, Config{Backend: c.recv, PlainGoLinks: true}, Config{Backend: c.send, PlainGoLinks: true})
			release := make(chan struct{})
			var got atomic.Int64
			const N = 30000 // 30000 × 1 KiB: past the inbound bound (8 MiB) plus netpoll's own buffering
			done := make(chan struct{})
			slow := p.a.NewPort().Rcv("bulk", func(m *Msg) error {
				<-release
				if got.Add(1) == N {
					close(done)
				}
				return nil
			})
			died, _ := reasonMonitor(p.b, slow.ID())
			body := strings.Repeat("x", 1024)
			for i := range N {
				if err := p.b.Snd(slow.ID(), "bulk", i, body); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			time.Sleep(200 * time.Millisecond) // let the link fill up
			close(release)
			select {
			case <-done:
			case r := <-died:
				t.Fatalf("link failed under back-pressure: %v", r)
			case <-time.After(20 * time.Second):
				t.Fatalf("only %d of %d delivered", got.Load(), N)
			}
		})
	}
}

// With OrderPerPort a small message to one port overtakes a bulk transfer
// queued for another port of the same node: it waits for the frame being
// written, not for the whole queue. Messages to one port keep their order.
// Without it (AEMP's one FIFO per node pair) the small message arrives
// only after the bulk transfer.
func TestOrderPerPort(t *testing.T) {
	for _, perPort := range []bool{true, false} {
		t.Run(fmt.Sprint("OrderPerPort=", perPort), func(t *testing.T) {
			cfg := Config{MaxFrame: 2 << 20, SendBuffer: 64 << 10, OrderPerPort: perPort, MaxQueue: 64 << 20}
			p := newNetPair(t, Config{MaxFrame: 2 << 20}, cfg)
			tokens := make(chan struct{}) // the bulk handler takes one per message
			handled := make(chan int64, 1)
			bulk := p.a.NewPort().Rcv("bulk", func(m *Msg) error {
				<-tokens
				i, err := m.Int(1)
				handled <- i
				return err
			})
			quick := make(chan struct{}, 1)
			small := p.a.NewPort().Rcv("ping", func(*Msg) error { quick <- struct{}{}; return nil })
			up := make(chan blobCheck, 1)
			linkUp(t, p.b, p.a.NewPort().Rcv("b", func(*Msg) error { up <- blobCheck{}; return nil }).ID(), up)

			// 56 MiB: the receiver's inbound bound (8 MiB) and the kernel
			// buffers take some, most waits in the sender's queue.
			const n = 56
			body := make([]byte, 1<<20)
			for i := range n {
				if err := p.b.SndMsg(bulk.ID(), NewMsg("bulk").AppendInt(int64(i)).AppendBytes(body)); err != nil {
					t.Fatal(err)
				}
			}
			p.b.SndMsg(bulk.ID(), NewMsg("bulk").AppendInt(n)) // small, same port: stays behind
			p.b.Snd(small.ID(), "ping")

			arrived := -1 // bulk messages handled when the ping was seen
			for r := 0; r <= n; r++ {
				select {
				case <-quick:
					if arrived < 0 {
						arrived = r
					}
				case <-time.After(5 * time.Millisecond):
				}
				tokens <- struct{}{}
				if i := recv(t, handled); i != int64(r) {
					t.Fatalf("bulk message %d handled as number %d: per-port order broken", i, r)
				}
			}
			if arrived < 0 {
				recv(t, quick)
				arrived = n + 1
			}
			// FIFO: the reader reaches the ping only after every bulk frame,
			// so at least n - 8 (inbound bound) - 2 are handled by then.
			// Per port: it waits for about what was in the kernel and the
			// inbound buffers when it was sent (~16 MiB here).
			if perPort && arrived > n/2 || !perPort && arrived < n-10 {
				t.Errorf("the ping arrived after %d of %d bulk messages", arrived, n)
			}
			t.Logf("the ping arrived after %d of %d bulk messages", arrived, n)
		})
	}
}

// Config.Compress: large messages to a Go node travel compressed and
// arrive as sent, byte strings (blobs) and text alike.
func TestCompressRoundTrip(t *testing.T) {
	p := newNetPair(t, Config{Compress: 512}, Config{Compress: 512})
	got := make(chan []any, 2)
	port := p.a.NewPortFunc(func(m *Msg) error { v, err := m.Values(); got <- v; return err })
	text := strings.Repeat("compressible text, ", 5000)
	data := bytes.Repeat([]byte{0, 1, 2, 3}, 20000)
	if err := p.b.Snd(port.ID(), "big", text, data); err != nil {
		t.Fatal(err)
	}
	if v := recv(t, got); v[1] != text || !bytes.Equal(v[2].([]byte), data) {
		t.Fatal("the message changed on the way")
	}
}
