package aemp

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/fakepeer"
	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/wire"
)

// A Go node plays the listening Perl node of a recorded session: a fake
// peer speaks as the recorded Perl client (the real handshake, the
// client's framings), sends the client's recorded data-phase messages
// byte for byte, and what the Go node's echo port answers is compared
// with what the Perl node answered.

// exactEcho answers ["ping", reply, args…] with ["pong", args…] sent to
// reply, every argument passed through as it came (AppendElem).
func exactEcho(m *Msg) (PortID, *Msg, error) {
	reply, err := m.String(1)
	if err != nil {
		return "", nil, err
	}
	out := NewMsg("pong")
	for i := 2; i < m.Len(); i++ {
		if err := out.AppendElem(m, i); err != nil {
			return "", nil, err
		}
	}
	return PortID(reply), out, nil
}

// valueEcho is exactEcho through generic values (Msg.Values).
func valueEcho(m *Msg) (PortID, *Msg, error) {
	vals, err := m.Values()
	if err != nil {
		return "", nil, err
	}
	reply, _ := vals[1].(string)
	if b, ok := vals[1].([]byte); ok {
		reply = string(b)
	}
	out := NewMsg("pong", vals[2:]...)
	return PortID(reply), out, nil
}

// replayResult tells how the answers compared.
type replayResult struct {
	exact, mapOrder []int // indexes of the pongs equal byte for byte, and up to map order
	differ          []int // the others
}

// replaySeed replays connection conn (0-based) of a transcript against a
// Go node with framings ours, the fake client offering theirs, and
// returns how each recorded pong compares with the Go node's.
func replaySeed(t *testing.T, transcript string, conn int, ours, theirs []string, maxFrame int,
	echo func(*Msg) (PortID, *Msg, error)) replayResult {
	t.Helper()
	path := vectors.Path(transcript)
	conns, err := vectors.LoadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := vectors.Secret(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := conns[conn]
	var pings, pongs []vectors.Record
	for _, r := range rec.Messages("C>S") {
		if local, tag := head(t, r.Wire); local != "" && tag == "ping" {
			pings = append(pings, r)
		}
	}
	for _, r := range rec.Messages("S>C") {
		if local, _ := head(t, r.Wire); local != "" {
			pongs = append(pongs, r)
		}
	}
	if len(pings) == 0 || len(pings) != len(pongs) {
		t.Fatalf("%s: %d pings, %d pongs", transcript, len(pings), len(pongs))
	}
	echoLocal, _ := head(t, pings[0].Wire)
	k := newMeshKit(t)
	n := k.node(rec.S, Config{Global: true, Secret: secret, Framings: ours, MaxFrame: maxFrame})
	port := n.newPort(echoLocal)
	port.Rcv("ping", func(m *Msg) error {
		to, out, err := echo(m)
		if err != nil {
			return err
		}
		return n.SndMsg(to, out)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	peer, err := fakepeer.Dial(ctx, n.Binds()[0], fakepeer.Config{NodeID: rec.C, Secret: secret, Framings: theirs, MaxFrame: maxFrame})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	wantSend, wantRecv := recordedFramings(t, rec)
	if peer.Result.SendFraming != wantSend || peer.Result.RecvFraming != wantRecv {
		t.Fatalf("negotiated: client sends %s, receives %s; recorded %s, %s",
			peer.Result.SendFraming, peer.Result.RecvFraming, wantSend, wantRecv)
	}
	for _, r := range rec.Messages("C>S") {
		if err := peer.Send(r.Wire); err != nil {
			t.Fatal(err)
		}
	}
	var got [][]byte
	waitFor(t, "the pongs", func() bool {
		got = got[:0]
		for _, m := range peer.Messages() {
			if local, _ := head(t, []byte(m)); local != "" {
				got = append(got, []byte(m))
			}
		}
		return len(got) >= len(pongs)
	})
	var res replayResult
	for i, want := range pongs {
		switch {
		case bytes.Equal(got[i], want.Wire):
			res.exact = append(res.exact, i)
		case sameUpToMapOrder(got[i], want.Wire):
			res.mapOrder = append(res.mapOrder, i)
		default:
			res.differ = append(res.differ, i)
			t.Logf("%s pong %d differs:\n got %s\nwant %s", transcript, i, show(got[i]), show(want.Wire))
		}
	}
	t.Logf("%s conn %d: %d pongs byte for byte, %d up to map order %v, %d differ %v",
		transcript, conn+1, len(res.exact), len(res.mapOrder), res.mapOrder, len(res.differ), res.differ)
	return res
}

// recordedFramings returns the framings the recorded client sent and
// received (the third field of each auth line).
func recordedFramings(t *testing.T, rec *vectors.Connection) (send, recv string) {
	t.Helper()
	framing := func(line string) string { return line[strings.LastIndexByte(line, ';')+1:] }
	return framing(rec.Line("C>S", "auth")), framing(rec.Line("S>C", "auth"))
}

// head returns a message's local part and tag (JSON or CBOR).
func head(t *testing.T, msg []byte) (local, tag string) {
	t.Helper()
	var env wire.Envelope
	var err error
	if wire.IsCBOREnvelope(msg) {
		env, err = wire.ScanCBOR(msg)
	} else {
		env, err = wire.ScanHead(msg)
	}
	if err != nil {
		t.Fatalf("%s: %v", show(msg), err)
	}
	return string(env.LocalText(nil)), string(env.TagText(nil))
}

func show(msg []byte) string {
	if wire.IsCBOREnvelope(msg) {
		return fmt.Sprintf("%x", msg)
	}
	if len(msg) > 300 {
		return string(msg[:300]) + "…"
	}
	return string(msg)
}

// sameUpToMapOrder compares two messages in one encoding with the entries
// of every map in a canonical order; everything else (CBOR major types,
// widths, NaN bits; JSON values) must be equal.
func sameUpToMapOrder(a, b []byte) bool {
	if wire.IsCBOREnvelope(a) != wire.IsCBOREnvelope(b) {
		return false
	}
	if !wire.IsCBOREnvelope(a) {
		var x, y any
		da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
		da.UseNumber()
		db.UseNumber()
		return da.Decode(&x) == nil && db.Decode(&y) == nil && reflect.DeepEqual(x, y)
	}
	ca, _, errA := canonCBOR(a, 0)
	cb, _, errB := canonCBOR(b, 0)
	return errA == nil && errB == nil && bytes.Equal(ca, cb)
}

// canonCBOR returns the (well-formed) item at b[i] with the entries of
// every map sorted by their canonical bytes, every head and string kept
// as it is, and the index after the item.
func canonCBOR(b []byte, i int) ([]byte, int, error) {
	if i >= len(b) {
		return nil, i, fmt.Errorf("truncated")
	}
	c := b[i]
	major, ai := c>>5, c&31
	hl := map[byte]int{24: 2, 25: 3, 26: 5, 27: 9}[ai]
	if ai < 24 || ai == 31 {
		hl = 1
	}
	if hl == 0 || i+hl > len(b) {
		return nil, i, fmt.Errorf("bad head")
	}
	var val uint64
	switch hl {
	case 1:
		val = uint64(ai)
	case 2:
		val = uint64(b[i+1])
	case 3:
		val = uint64(binary.BigEndian.Uint16(b[i+1:]))
	case 5:
		val = uint64(binary.BigEndian.Uint32(b[i+1:]))
	case 9:
		val = binary.BigEndian.Uint64(b[i+1:])
	}
	out := append([]byte(nil), b[i:i+hl]...)
	j := i + hl
	items := func(n int) ([][]byte, error) {
		var list [][]byte
		for k := 0; ai == 31 && b[j] != 0xff || ai != 31 && k < n; k++ {
			item, next, err := canonCBOR(b, j)
			if err != nil {
				return nil, err
			}
			list = append(list, item)
			j = next
		}
		if ai == 31 {
			j++
		}
		return list, nil
	}
	switch major {
	case 2, 3:
		if ai == 31 {
			list, err := items(0)
			for _, x := range list {
				out = append(out, x...)
			}
			return append(out, 0xff), j, err
		}
		return append(out, b[j:j+int(val)]...), j + int(val), nil
	case 4:
		list, err := items(int(val))
		for _, x := range list {
			out = append(out, x...)
		}
		if ai == 31 {
			out = append(out, 0xff)
		}
		return out, j, err
	case 5:
		list, err := items(2 * int(val))
		var pairs []string
		for k := 0; k+1 < len(list); k += 2 {
			pairs = append(pairs, string(list[k])+string(list[k+1]))
		}
		slices.Sort(pairs)
		for _, p := range pairs {
			out = append(out, p...)
		}
		if ai == 31 {
			out = append(out, 0xff)
		}
		return out, j, err
	case 6:
		item, next, err := canonCBOR(b, j)
		return append(out, item...), next, err
	}
	return out, j, nil
}

// The exact echo answers every recorded ping as the Perl node did: byte
// for byte, except for maps, whose order is Perl's random hash order.
func TestReplayRecordedSeeds(t *testing.T) {
	cbor, json := []string{"cbor"}, []string{"json"}
	var perlDefault []string // our default (goframe1, cbor, json) takes cbor from a Perl client, as Perl's cbor,json,storable
	for _, c := range []struct {
		transcript   string
		conn         int
		ours, theirs []string
		mapOrder     []int
		maxFrame     int
	}{
		{"session-ping.txt", 0, perlDefault, []string{"cbor", "json"}, nil, 0}, // Perl kept the ping's map order
		{"session-ping-mixed.txt", 0, perlDefault, []string{"json", "cbor"}, []int{7}, 0},
		{"session-cbor-only.txt", 0, cbor, cbor, []int{19, 23}, 0},
		{"session-ping-json.txt", 0, json, json, []int{7}, 0},
		{"session-big-deep.txt", 0, json, json, nil, 4 << 20},
		{"session-big-deep.txt", 1, cbor, cbor, nil, 0},
	} {
		t.Run(fmt.Sprintf("%s/%d", c.transcript, c.conn+1), func(t *testing.T) {
			res := replaySeed(t, c.transcript, c.conn, c.ours, c.theirs, c.maxFrame, exactEcho)
			if len(res.differ) > 0 || !slices.Equal(res.mapOrder, c.mapOrder) {
				t.Fatalf("pongs up to map order %v (want %v), differing %v", res.mapOrder, c.mapOrder, res.differ)
			}
		})
	}
}

// The value-based echo (Values, then NewMsg) gives the same values with
// the same CBOR major types, widths and NaN bits, because the encoder
// follows CBOR::XS's rules — with one difference: an ASCII string Perl had
// UTF-8-flagged arrives as a text string, becomes a Go string, and goes
// back as a byte string (a Go string has no flag; AppendElem keeps it).
func TestReplayValueEcho(t *testing.T) {
	cbor := []string{"cbor"}
	var perlDefault []string // the default framings
	for _, c := range []struct {
		transcript   string
		ours, theirs []string
		differ       []int
	}{
		{"session-ping.txt", perlDefault, []string{"cbor", "json"}, nil},
		{"session-ping-mixed.txt", perlDefault, []string{"json", "cbor"}, nil},
		{"session-cbor-only.txt", cbor, cbor, []int{11}}, // "ascii but utf8-flagged"
	} {
		t.Run(c.transcript, func(t *testing.T) {
			res := replaySeed(t, c.transcript, 0, c.ours, c.theirs, 0, valueEcho)
			if !slices.Equal(res.differ, c.differ) {
				t.Fatalf("pongs differing %v, want %v", res.differ, c.differ)
			}
		})
	}
}
