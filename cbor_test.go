package aemp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/fakepeer"
	"github.com/aemp-go/aemp/internal/race"
	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/wire"
)

// perlPeer connects a fake Perl node to n with the given framings and
// returns it with a function that waits for the next message it receives
// for a port other than the node port.
func perlPeer(t *testing.T, n *Node, id string, framings []string, maxFrame int) (*fakepeer.Peer, func() []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	peer, err := fakepeer.Dial(ctx, n.Binds()[0], fakepeer.Config{NodeID: id, Secret: "s", Framings: framings, MaxFrame: maxFrame})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	// The peer's handshake ends before the node has attached the link:
	// a message to the peer sent in between would find no link and no
	// address to dial.
	waitFor(t, "the node's side of the link", func() bool { return n.mesh.Up(id) })
	seen := 0
	next := func() []byte {
		t.Helper()
		var got []byte
		waitFor(t, "a message", func() bool {
			msgs := peer.Messages()
			for ; seen < len(msgs); seen++ {
				if local, _ := head(t, []byte(msgs[seen])); local != "" {
					got = []byte(msgs[seen])
					seen++
					return true
				}
			}
			return false
		})
		return got
	}
	return peer, next
}

// nested is depth levels of one-element arrays around 0 in the framing.
func nested(framing string, depth int) []byte {
	if framing == "cbor" {
		return append(bytes.Repeat([]byte{0x81}, depth), 0)
	}
	return []byte(strings.Repeat("[", depth) + "0" + strings.Repeat("]", depth))
}

// ping encodes ["echo","ping",reply,arg] (arg already encoded).
func ping(framing, reply string, arg []byte) []byte {
	if framing == "cbor" {
		b := wire.AppendCBOREnvelopeHead(nil, 4, "echo", "ping")
		return append(wire.AppendCBORString(b, reply), arg...)
	}
	return append(append([]byte(`["echo","ping","`+reply+`",`), arg...), ']')
}

func pong(framing string, arg []byte) []byte {
	if framing == "cbor" {
		return append(wire.AppendCBOREnvelopeHead(nil, 3, "b", "pong"), arg...)
	}
	return append(append([]byte(`["b","pong",`), arg...), ']')
}

// Big and deep messages in both framings (session-big-deep and beyond):
// a 2 MiB byte string over CBOR (5a 00200000, with MaxFrame raised), 512
// levels of nesting echoed byte for byte, 513 refused with a clear error
// that closes that link only: the node takes the next connection.
func TestBigAndDeepMessages(t *testing.T) {
	for _, framing := range []string{"cbor", "json"} {
		t.Run(framing, func(t *testing.T) {
			k := newMeshKit(t)
			n := k.node("goseed", Config{Secret: "s", Framings: []string{framing}, MaxFrame: 4 << 20})
			lb := k.logs["goseed"]
			n.newPort("echo").Rcv("ping", func(m *Msg) error {
				to, out, err := exactEcho(m)
				if err != nil {
					return err
				}
				return n.SndMsg(to, out)
			})
			peer, next := perlPeer(t, n, "perl", []string{framing}, 4<<20)
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<17)
			arg := wire.AppendCBORBytes(nil, big)
			if framing == "json" {
				arg = wire.AppendBytes(nil, big)
			} else if !bytes.Equal(arg[:5], []byte{0x5a, 0, 0x20, 0, 0}) {
				t.Fatalf("2 MiB head %x", arg[:5])
			}
			for _, a := range [][]byte{arg, nested(framing, wire.MaxDepth-1)} {
				if err := peer.Send(ping(framing, "perl#b", a)); err != nil {
					t.Fatal(err)
				}
				if got, want := next(), pong(framing, a); !bytes.Equal(got, want) {
					t.Fatalf("pong of %d bytes, want %d", len(got), len(want))
				}
			}
			if err := peer.Send(ping(framing, "perl#b", nested(framing, wire.MaxDepth))); err != nil {
				t.Fatal(err)
			}
			select {
			case <-peer.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("513 levels: the link stayed up")
			}
			waitFor(t, "the reason in the log", func() bool { return strings.Contains(lb.String(), "nesting too deep") })
			peer2, next2 := perlPeer(t, n, "perl2", []string{framing}, 0)
			seven := []byte{0x07}
			if framing == "json" {
				seven = []byte("7")
			}
			if err := peer2.Send(ping(framing, "perl2#b", seven)); err != nil {
				t.Fatal(err)
			}
			if got := next2(); !bytes.Equal(got, pong(framing, seven)) {
				t.Fatalf("after the refused message: %q", got)
			}
		})
	}
}

// The node-port requests of session-cal, answered by a Go node over
// either framing, in the recorded shapes: snd relays every element with
// its type (the integer 42 first stays 42), time answers a float number
// (CBOR f64), can answers Perl's booleans "1" and "" (CBOR byte strings
// 41 31 and 40).
func TestNodeRequestsRecordedShapes(t *testing.T) {
	conns, err := vectors.LoadSession(vectors.Path("session-cal.txt"))
	if err != nil {
		t.Fatal(err)
	}
	rec := conns[0]
	replies := map[string]vectors.Record{}
	for _, r := range rec.Messages("S>C") {
		if local, _ := head(t, r.Wire); local != "" {
			replies[local] = r
		}
	}
	for _, framing := range []string{"cbor", "json"} {
		t.Run(framing, func(t *testing.T) {
			k := newMeshKit(t)
			n := k.node(rec.S, Config{Secret: "s", Framings: []string{framing}})
			peer, next := perlPeer(t, n, rec.C, []string{framing}, 0)
			checked := 0
			for _, r := range rec.Messages("C>S") {
				local, tag := head(t, r.Wire)
				if local != "" || tag != "time" && tag != "can" && tag != "snd" {
					continue
				}
				req := r.Wire
				if framing == "json" {
					req = compactJSON(t, r.JSON)
				}
				if err := peer.Send(req); err != nil {
					t.Fatal(err)
				}
				got := next()
				gl, _ := head(t, got)
				want, ok := replies[gl]
				if !ok {
					t.Fatalf("%s: reply to %q, which Perl did not answer", r.JSON, gl)
				}
				switch {
				case tag == "time" && framing == "cbor":
					if len(got) != 12 || !bytes.Equal(got[:4], want.Wire[:4]) { // 82 41 6b fb
						t.Fatalf("time: %x, recorded %x", got, want.Wire)
					}
				case tag == "time":
					v := decodeJSON(t, got)
					if _, ok := v[1].(json.Number); !ok || len(v) != 2 || v[0] != "k" {
						t.Fatalf("time: %s, recorded %s", got, want.JSON)
					}
				case strings.Contains(r.JSON, `"can", "AnyEvent::MP::_spawn"`):
					// a Go node serves spawns from the start; a fresh Perl
					// node says "" until it has served one
					if framing == "cbor" && !bytes.HasSuffix(got, []byte{0x41, '1'}) ||
						framing != "cbor" && !reflect.DeepEqual(decodeJSON(t, got)[1:], []any{"1"}) {
						t.Fatalf("can _spawn: %x", got)
					}
				case framing == "cbor":
					if !bytes.Equal(got, want.Wire) {
						t.Fatalf("%s: got %x, recorded %x", r.JSON, got, want.Wire)
					}
				default:
					if g, w := decodeJSON(t, got), decodeJSON(t, compactJSON(t, want.JSON)); !reflect.DeepEqual(g, w) {
						t.Fatalf("%s: got %s, recorded %s", r.JSON, got, want.JSON)
					}
				}
				checked++
			}
			if checked != 13 { // time, 10 × can, 2 × snd
				t.Fatalf("%d requests checked", checked)
			}
		})
	}
}

func compactJSON(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decodeJSON(t *testing.T, b []byte) []any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v []any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Receiving a CBOR message and reading its scalar arguments allocates
// nothing, as for the same message in JSON: the items stay in the network
// buffer and are decoded in place (a byte string is even read in place,
// where a JSON string must be decoded into a copy).
func TestCBORReceiveAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are checked by the non-race pass of make test")
	}
	k := newMeshKit(t)
	n := k.node("allocs", Config{})
	rn := n.mesh.Peer("peer").Handler().(*remoteNode)
	done := make(chan struct{}, 1)
	n.newPort("b").Rcv("ping", func(m *Msg) error {
		i, err1 := m.Int(1)
		u, err2 := m.Uint(2)
		f, err3 := m.Float(3)
		ok, err4 := m.Bool(4)
		b, err5 := m.BytesView(5)
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil || i != -7 || u != 1<<40 || f != 3.25 || !ok || len(b) != 3 {
			t.Errorf("%d %d %v %v %q %v", i, u, f, ok, b, err)
		}
		done <- struct{}{}
		return nil
	})
	cborMsg := unhexT(t, "87 4162 4470696e67 26 1b0000010000000000 fa40500000 f5 43616263")
	jsonMsg := []byte(`["b","ping",-7,1099511627776,3.25,true,"abc"]`)
	for _, c := range []struct {
		msg  []byte
		want float64
	}{{cborMsg, 0}, {jsonMsg, 1}} { // JSON: BytesView copies a string, CBOR returns a byte string in place
		msg := c.msg
		buf := pool.Get(len(msg)) // one buffer, held here: the reader's, in effect
		copy(buf.B, msg)
		deliver := func() {
			rn.deliver(buf, buf.B[:len(msg)], nil)
			<-done
		}
		for range 100 {
			rn.deliver(buf, buf.B[:len(msg)], nil)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("%q was not handled", msg)
			}
		}
		if allocs := testing.AllocsPerRun(1000, deliver); allocs > c.want+0.05 {
			t.Errorf("%q: receiving and reading allocates %.2f times, want %v", msg, allocs, c.want)
		}
		buf.Release()
	}
}

// What a Perl node sent as CBOR goes on to Go nodes exactly (goframe1 with
// CBOR envelopes, wire.FormatMixed): a relayed message keeps NaN's bits,
// ±Inf, byte and text strings, 64-bit integers and a numeric first
// element — also when it waits in the queue while the link connects.
func TestCBORToGoPeersExact(t *testing.T) {
	for _, queued := range []bool{false, true} {
		t.Run(map[bool]string{false: "linked", true: "queued"}[queued], func(t *testing.T) {
			p := newNetPair(t, Config{Secret: "s"}, Config{Secret: "s"})
			got := make(chan []any, 2)
			tags := make(chan string, 2)
			sink := p.b.newPort("sink").RcvDefault(func(m *Msg) error {
				v, err := m.Values()
				tags <- m.Tag()
				got <- v
				return err
			})
			relay := p.a.newPort("relay").RcvDefault(func(m *Msg) error {
				return p.a.SndMsg(sink.ID(), m) // passed on as it came
			})
			_ = relay
			peer, _ := perlPeer(t, p.a, "perl", []string{"cbor"}, 0)
			msg := unhexT(t, "87 4572656c6179 44706f6e67 fb7ff8000000000001 41ff 62c3a9 1bffffffffffffffff fa7f800000")
			snd := wire.AppendCBOREnvelopeHead(nil, 5, "", "snd")
			snd = append(wire.AppendCBORString(snd, string(sink.ID())), unhexT(t, "182a fa7fc00000")...)
			send := func() {
				if err := peer.Send(msg); err != nil {
					t.Fatal(err)
				}
				if err := peer.Send(snd); err != nil {
					t.Fatal(err)
				}
			}
			if queued {
				queueThenConnect(t, p.a, p.b, send)
			} else {
				send()
			}
			byTag := map[string][]any{} // the two take different paths: their order is not fixed
			for range 2 {
				v := recv(t, got)
				byTag[recv(t, tags)] = v
			}
			v := byTag["pong"]
			if len(v) != 6 || v[0] != "pong" {
				t.Fatalf("relayed %#v", byTag)
			}
			f, _ := v[1].(float64)
			if math.Float64bits(f) != 0x7ff8000000000001 || !reflect.DeepEqual(v[2:5], []any{[]byte{0xff}, "é", uint64(math.MaxUint64)}) || !math.IsInf(v[5].(float64), 1) {
				t.Fatalf("relayed %#v", v)
			}
			if v = byTag["42"]; len(v) != 2 || v[0] != int64(42) || !math.IsNaN(v[1].(float64)) {
				t.Fatalf("snd relay %#v", byTag)
			}
		})
	}
}

// What a Perl node sent as CBOR and a Go node relays to a JSON peer: ±Inf
// as 1e999 and -1e999, NaN as null, with a warning; byte strings as
// Perl's JSON byte strings; the rest exactly.
func TestCBORRelayToJSONPeer(t *testing.T) {
	k := newMeshKit(t)
	n := k.node("goseed", Config{Secret: "s"})
	q, next := perlPeer(t, n, "q", []string{"json"}, 0)
	_ = q
	n.newPort("relay").RcvDefault(func(m *Msg) error { return n.SndMsg("q#x", m) })
	p, _ := perlPeer(t, n, "p", []string{"cbor"}, 0)
	msg := unhexT(t, "86 4572656c6179 43746167 fa7f800000 faff800000 fb7ff8000000000001 42ff61")
	if err := p.Send(msg); err != nil {
		t.Fatal(err)
	}
	if got := string(next()); got != `["x","tag",1e999,-1e999,null,"ÿa"]` {
		t.Fatalf("relayed %s", got)
	}
	waitFor(t, "the warning", func() bool { return strings.Contains(k.logs["goseed"].String(), "NaN or Inf") })
}

// Messages sent to a Perl node before its link is up wait in the queue as
// JSON or blob envelopes and are converted when it comes up with the cbor
// framing: the bytes are those a direct send would have written.
func TestQueuedForCBORPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan *fakepeer.Peer, 1)
	queued := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(queued) }) }
	defer release()
	go func() {
		defer close(served)
		<-queued // the handshake cannot end before the message is queued
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p, err := fakepeer.Serve(context.Background(), c, fakepeer.Config{NodeID: "perl", Secret: "s", Framings: []string{"cbor"}})
		if err != nil {
			t.Error(err)
			return
		}
		served <- p
	}()
	k := newMeshKit(t)
	n := k.node("goclient", Config{Secret: "s"})
	n.AddNode("perl", ln.Addr().String())
	if err := n.SndMsg("perl#x", NewMsg("t", 1, "abc", 2.0, 0.1, map[string]any{"é": nil}).AppendBytes([]byte{0xff})); err != nil {
		t.Fatal(err)
	}
	if n.mesh.Up("perl") {
		t.Fatal("the link is up before the peer accepted it")
	}
	release()
	p := <-served
	if p == nil {
		t.FailNow()
	}
	defer p.Close()
	want := unhexT(t, "88 4178 4174 01 43616263 02 fb3fb999999999999a a1 62c3a9 f6 41ff")
	waitFor(t, "the queued message", func() bool { return len(p.Messages()) > 0 })
	if got := []byte(p.Messages()[0]); !bytes.Equal(got, want) {
		t.Fatalf("queued message as %x, want %x", got, want)
	}
}

// A snd relay from a Perl node to a port of the relaying node itself: the
// message is copied out of the network buffer, its byte-string first
// element is the tag as a string, the rest keeps its CBOR types.
func TestSndRelayToLocalPort(t *testing.T) {
	k := newMeshKit(t)
	n := k.node("goseed", Config{Secret: "s"})
	got := make(chan []any, 1)
	port := n.NewPort().Rcv("relayed", func(m *Msg) error {
		v, err := m.Values()
		got <- v
		return err
	})
	p, _ := perlPeer(t, n, "perl", []string{"cbor"}, 0)
	snd := wire.AppendCBOREnvelopeHead(nil, 6, "", "snd")
	snd = wire.AppendCBORString(snd, string(port.ID()))
	snd = append(snd, unhexT(t, "4772656c6179656401 41ff")...)
	if err := p.Send(snd); err != nil {
		t.Fatal(err)
	}
	if v := recv(t, got); !reflect.DeepEqual(v, []any{"relayed", int64(1), []byte{0xff}}) {
		t.Fatalf("delivered %#v", v)
	}
}
