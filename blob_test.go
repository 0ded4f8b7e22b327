package aemp

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/fakepeer"
	"github.com/aemp-go/aemp/internal/race"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/wire"
)

// allBytes is every byte value, twice, so that escapes, Latin-1 and ASCII
// all appear.
func allBytes() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func (c blobCheck) err() error { return errors.Join(c.errs...) }

// blobCheck is what a handler saw of one message's byte arguments.
type blobCheck struct {
	blobs bool     // the message came as a blob envelope
	errs  []error  // the first error reading each argument
	view  [][]byte // BytesView of each argument
	bytes [][]byte // Bytes of each argument
	str   []string // String of each argument
	raw   [][]byte // Raw of each argument
	dec   [][]byte // Decode into *[]byte of each argument
	decS  []string // Decode into *string of each argument
	val   []any    // Value of each argument
}

// inspect reads elements 1…Len()-1 every way there is, copying what aliases.
func inspect(m *Msg) blobCheck {
	c := blobCheck{blobs: m.flags&msgBlobs != 0}
	for i := 1; i < m.Len(); i++ {
		v, err := m.BytesView(i)
		b, err2 := m.Bytes(i)
		s, err3 := m.String(i)
		r, err4 := m.Raw(i)
		var d []byte
		err5 := m.Decode(i, &d)
		var ds string
		err6 := m.Decode(i, &ds)
		val, err7 := m.Value(i)
		if vb, ok := val.([]byte); ok {
			val = bytes.Clone(vb)
		}
		c.errs = append(c.errs, errors.Join(err, err2, err3, err4, err5, err6, err7))
		c.decS = append(c.decS, ds)
		c.val = append(c.val, val)
		c.view = append(c.view, bytes.Clone(v))
		c.bytes = append(c.bytes, b)
		c.str = append(c.str, s)
		c.raw = append(c.raw, bytes.Clone(r))
		c.dec = append(c.dec, d)
	}
	return c
}

// Between Go nodes on goframe1 a []byte travels raw (a blob envelope) and
// every accessor converts it as it would the local []byte; Raw gives the
// JSON string of code points it stands for on the wire.
func TestBlobRoundTrip(t *testing.T) {
	p := newNetPair(t, Config{MaxFrame: 4 << 20}, Config{MaxFrame: 4 << 20})
	got := make(chan blobCheck, 1)
	port := p.a.NewPort().Rcv("b", func(m *Msg) error {
		got <- inspect(m)
		return nil
	})
	linkUp(t, p.b, port.ID(), got)
	big := bytes.Repeat(allBytes(), 4096) // 2 MiB
	cases := []struct {
		name string
		msg  *Msg
		want [][]byte // the byte arguments, nil for an argument that is not bytes
	}{
		{"one", NewMsg("b").AppendBytes(allBytes()), [][]byte{allBytes()}},
		{"empty", NewMsg("b").AppendBytes([]byte{}), [][]byte{{}}},
		{"mixed", NewMsg("b").AppendInt(7).AppendBytes([]byte("x\x00y")).AppendString("s").
			AppendBytes([]byte{0xff}).AppendBytes([]byte("\"\\")), [][]byte{nil, []byte("x\x00y"), nil, {0xff}, []byte("\"\\")}},
		{"large", NewMsg("b").AppendBytes(big), [][]byte{big}},
		{"far", farBlobs(), farBlobsWant()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := p.b.SndMsg(port.ID(), c.msg); err != nil {
				t.Fatal(err)
			}
			r := recv(t, got)
			if !r.blobs {
				t.Fatal("message did not travel as a blob envelope")
			}
			if len(r.view) != len(c.want) {
				t.Fatalf("%d arguments, want %d", len(r.view), len(c.want))
			}
			for i, w := range c.want {
				if w == nil {
					continue
				}
				if r.errs[i] != nil {
					t.Fatalf("arg %d: %v", i+1, r.errs[i])
				}
				jsonForm := wire.AppendBytes(nil, w)
				local := NewMsg("b").AppendBytes(w) // what the same []byte gives locally
				wantVal, _ := local.Value(1)
				switch {
				case !bytes.Equal(r.view[i], w):
					t.Errorf("arg %d: BytesView %d bytes, differs", i+1, len(r.view[i]))
				case !bytes.Equal(r.bytes[i], w) || r.bytes[i] == nil:
					t.Errorf("arg %d: Bytes differs", i+1)
				case !bytes.Equal(r.dec[i], w) || r.dec[i] == nil:
					t.Errorf("arg %d: Decode(&[]byte) differs", i+1)
				case r.str[i] != string(w) || r.decS[i] != string(w):
					t.Errorf("arg %d: String/Decode(&string) are not the bytes unchanged", i+1)
				case !isBytes(r.val[i], wantVal):
					t.Errorf("arg %d: Value %T differs from the local []byte's", i+1, r.val[i])
				case !bytes.Equal(r.raw[i], jsonForm):
					t.Errorf("arg %d: Raw is not the JSON string", i+1)
				}
			}
		})
	}
}

// farBlobs is a message of 70 arguments with bytes as arguments 1, 62, 63
// and 70 (past the 63 that Msg's blob mask tells apart one by one), the
// others integers; farBlobsWant is its byte arguments.
func farBlobs() *Msg {
	m := NewMsg("b")
	for i, w := range farBlobsWant() {
		if w != nil {
			m.AppendBytes(w)
		} else {
			m.AppendInt(int64(i))
		}
	}
	return m
}

func farBlobsWant() [][]byte {
	w := make([][]byte, 70)
	for _, i := range []int{0, 61, 62, 69} {
		w[i] = []byte{byte(i), 0xff, '"'}
	}
	return w
}

// A received blob envelope sent on goes raw to a Go peer and as JSON
// strings to a peer that does not take blobs (a json-framing node stands
// in for Perl here); a Clone keeps the bytes after the handler returns.
func TestBlobRelay(t *testing.T) {
	p := newNetPair(t, Config{}, Config{}) // its cleanup checks for leaks after ours has run
	c, err := NewNode(Config{NodeID: "nodeC", Secret: "test-secret", Binds: []string{"127.0.0.1:0"},
		Framings: []string{"json"}, ConnectTimeout: 2 * time.Second, Logger: p.logB.logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p.b.AddNode("nodeC", c.Binds()...)
	c.AddNode("nodeB", p.b.Binds()...)

	payload := allBytes()
	got := make(chan blobCheck, 2)
	rcvAt := func(n *Node) PortID {
		return n.NewPort().Rcv("b", func(m *Msg) error {
			got <- inspect(m)
			return nil
		}).ID()
	}
	atA, atC := rcvAt(p.a), rcvAt(c)
	linkUp(t, p.b, atA, got)
	linkUp(t, p.b, atC, got)
	kept := make(chan *Msg, 1)
	up := make(chan struct{}, 1)
	relay := p.b.NewPort().Rcv("b", func(m *Msg) error {
		if v, _ := m.BytesView(1); string(v) == "up" {
			up <- struct{}{}
			return nil
		}
		kept <- m.Clone()
		if err := p.b.SndMsg(atC, m); err != nil {
			return err
		}
		return p.b.SndMsg(atA, m)
	})
	p.a.SndMsg(relay.ID(), NewMsg("b").AppendBytes([]byte("up"))) // link A→B
	recv(t, up)
	if err := p.a.SndMsg(relay.ID(), NewMsg("b").AppendBytes(payload)); err != nil {
		t.Fatal(err)
	}
	seen := map[bool]bool{}
	for range 2 {
		r := recv(t, got)
		if r.err() != nil || len(r.view) != 1 || !bytes.Equal(r.view[0], payload) {
			t.Fatalf("relayed message: err %v, %d args", r.err(), len(r.view))
		}
		seen[r.blobs] = true
	}
	if !seen[true] || !seen[false] {
		t.Fatalf("want one blob envelope (to nodeA) and one JSON one (to nodeC), saw %v", seen)
	}
	m := recv(t, kept)
	time.Sleep(10 * time.Millisecond) // the handler has returned and the buffer may be reused
	if v, err := m.BytesView(1); err != nil || !bytes.Equal(v, payload) {
		t.Fatalf("clone: %v, equal %v", err, bytes.Equal(v, payload))
	}
}

// A Perl-compatible node that does not announce blobs never gets one: a
// json-framing pair moves the same bytes as JSON strings.
func TestNoBlobsWithoutCapability(t *testing.T) {
	p := newNetPair(t, Config{}, Config{Framings: []string{"json"}})
	got := make(chan blobCheck, 1)
	port := p.a.NewPort().Rcv("b", func(m *Msg) error {
		got <- inspect(m)
		return nil
	})
	p.b.SndMsg(port.ID(), NewMsg("b").AppendBytes(allBytes()))
	r := recv(t, got)
	if r.err() != nil || r.blobs || !bytes.Equal(r.view[0], allBytes()) {
		t.Fatalf("err %v, blobs %v", r.err(), r.blobs)
	}
}

// Malformed blob envelopes are dropped with a warning; the link and the
// node stay up and the next message arrives.
func TestMalformedBlobEnvelopeDropped(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	got := make(chan blobCheck, 4)
	port := p.a.NewPort().Rcv("b", func(m *Msg) error {
		got <- inspect(m)
		return nil
	})
	good, err := appendEnvelope(nil, port.ID().Local(), NewMsg("b").AppendBytes([]byte("abc")), wire.FormatBlobs, wire.NonFiniteError, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	peer, err := fakepeer.Dial(ctx, p.a.Binds()[0], fakepeer.Config{NodeID: "nodeC", Secret: "test-secret", Framings: []string{"goframe1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	noTable, mark := wire.BeginBlobEnvelope(nil)
	noTable = append(noTable, `["b","b",null]`...)
	noTable, _ = wire.EndBlobJSON(noTable, mark, 1)
	noTable = noTable[:len(noTable)-2] // without the count
	after, err := appendEnvelope(nil, port.ID().Local(), NewMsg("b").AppendBytes([]byte("after")), wire.FormatBlobs, wire.NonFiniteError, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range [][]byte{
		good[:len(good)-1],                 // data short
		append(bytes.Clone(good), 'x'),     // data long
		{wire.BlobMagic, 0, 0, 0, 99, '['}, // JSON length beyond the end
		noTable,
		after,
	} {
		if err := peer.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	if r := recv(t, got); !bytes.Equal(r.view[0], []byte("after")) {
		t.Fatalf("got %q after the malformed ones", r.view[0])
	}
	waitFor(t, "warnings", func() bool {
		return bytes.Count([]byte(p.logA.String()), []byte("malformed message dropped")) == 4
	})
}

// linkUp sends one message from n to port and waits for it, so that the
// link is up before the test's own messages.
func linkUp(t *testing.T, n *Node, port PortID, got chan blobCheck) {
	t.Helper()
	if err := n.SndMsg(port, NewMsg("b").AppendBytes([]byte("up"))); err != nil {
		t.Fatal(err)
	}
	recv(t, got)
}

// isBytes reports whether got is a []byte equal to the []byte want.
func isBytes(got, want any) bool {
	g, ok1 := got.([]byte)
	w, ok2 := want.([]byte)
	return ok1 && ok2 && bytes.Equal(g, w)
}

// Messages sent while the link is still connecting are queued as blob
// envelopes and flushed as such to a Go peer, or turned into JSON for a
// peer that does not take blobs.
func TestBlobQueuedWhileConnecting(t *testing.T) {
	for _, c := range []struct {
		name      string
		framings  []string
		wantBlobs bool
	}{{"goframe1", nil, true}, {"json", []string{"json"}, false}} {
		t.Run(c.name, func(t *testing.T) {
			p := newNetPair(t, Config{Framings: c.framings}, Config{Framings: c.framings})
			got := make(chan blobCheck, 3)
			port := p.a.NewPort().Rcv("b", func(m *Msg) error {
				got <- inspect(m)
				return nil
			})
			msgs := []*Msg{ // all before the link is up
				NewMsg("b").AppendBytes(allBytes()),
				NewMsg("b").AppendString("no bytes"),
				NewMsg("b").AppendBytes([]byte("x")).AppendInt(1).AppendBytes(nil),
			}
			queueThenConnect(t, p.b, p.a, func() {
				for _, m := range msgs {
					if err := p.b.SndMsg(port.ID(), m); err != nil {
						t.Fatal(err)
					}
				}
			})
			for k, m := range msgs {
				r := recv(t, got)
				if r.blobs != (c.wantBlobs && k != 1) {
					t.Errorf("message %d: blob envelope %v", k, r.blobs)
				}
				want, _ := m.Values()
				for i := range r.view {
					if e := r.errs[i]; e != nil && (m.kindOf(i) == kBytes) {
						t.Fatalf("message %d arg %d: %v", k, i+1, e)
					}
					if b, ok := want[i+1].([]byte); ok && !bytes.Equal(r.view[i], b) {
						t.Errorf("message %d arg %d: %q, want %q", k, i+1, r.view[i], b)
					}
				}
			}
		})
	}
}

// A queued message that turns out too large for the peer (it announces a
// smaller MaxFrame) is dropped on its own, and the monitors of its port
// learn of the gap; the messages queued after it still go out, and the
// link stays up. A message too large for the sender itself is refused by
// Snd at once, before anything is queued.
func TestQueuedTooLargeDropsOnlyItself(t *testing.T) {
	p := newNetPair(t, Config{MaxFrame: 64 << 10}, Config{})
	got := make(chan blobCheck, 3)
	port := p.a.NewPort().Rcv("b", func(m *Msg) error {
		got <- inspect(m)
		return nil
	})
	var lost <-chan Reason
	queueThenConnect(t, p.b, p.a, func() { // (the monitor's mon1 would start the attempt: it is queued too)
		lost, _ = reasonMonitor(p.b, port.ID())
		for _, n := range []int{1, 100 << 10, 2} {
			if err := p.b.SndMsg(port.ID(), NewMsg("b").AppendBytes(bytes.Repeat([]byte{'z'}, n))); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, n := range []int{1, 2} {
		if r := recv(t, got); len(r.view) != 1 || len(r.view[0]) != n {
			t.Fatalf("got %d args, first of %d bytes; want %d bytes", len(r.view), len(r.view[0]), n)
		}
	}
	if r := recv(t, lost); r.Kind() != "transport_error" || !strings.Contains(r.Text(), "message lost") {
		t.Fatalf("the port's monitor got %v, want a transport error for the lost message", r)
	}
	waitFor(t, "the warning", func() bool { return strings.Contains(p.logB.String(), "queued message dropped") })
	// Too large for the sender: refused by Snd, nothing queued.
	err := p.a.SndMsg("nodeB#x", NewMsg("b").AppendBytes(make([]byte, 100<<10)))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Snd of a message above MaxFrame: %v, want ErrTooLarge", err)
	}
}

// TestLargeMessageAllocs: 1 MiB []byte messages between Go nodes come
// from pooled buffers on both sides and are read in place. (A read buffer
// sized with read-ahead on top of a nearly complete 1 MiB frame used to
// exceed the pool's largest class: an unpooled 1 MiB allocation for about
// one frame in twenty, and a garbage collection every few frames.)
func TestLargeMessageAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are checked by the non-race pass of make test")
	}
	old := pool.SetDebug(false) // no quarantine: buffers are reused
	defer pool.SetDebug(old)
	p := newNetPair(t, Config{MaxFrame: 2 << 20}, Config{MaxFrame: 2 << 20})
	got := make(chan int, 8)
	port := p.a.NewPort().Rcv("b", func(m *Msg) error {
		v, err := m.BytesView(1)
		got <- len(v)
		return err
	})
	body := bytes.Repeat([]byte{1}, 1<<20)
	rounds := func(n int) { // n rounds of 8 messages in flight
		for range n {
			for range 8 {
				if err := p.b.SndMsg(port.ID(), NewMsg("b").AppendBytes(body)); err != nil {
					t.Fatal(err)
				}
			}
			for range 8 {
				if n := recv(t, got); n != len(body) {
					t.Fatalf("got %d bytes", n)
				}
			}
		}
	}
	rounds(5) // connect, warm the pools
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 50
	rounds(n)
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / (8 * n); per > 32<<10 {
		t.Errorf("%d bytes allocated per 1 MiB message, want buffers from the pool", per)
	}
}
