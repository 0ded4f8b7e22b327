package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/vectors"
)

// appendCBORMsg appends message i as CBOR: ['port', 'tag', i].
func appendCBORMsg(b []byte, i int) []byte {
	b = append(b, 0x83, 0x44, 'p', 'o', 'r', 't', 0x43, 't', 'a', 'g', 0x1b)
	return binary.BigEndian.AppendUint64(b, uint64(i))
}

// Both directions in the cbor framing: the sender appends items back to
// back, the reader splits them, in order, none lost.
func TestLinkCBOR(t *testing.T) {
	for _, be := range backends {
		t.Run(be.String(), func(t *testing.T) {
			defer leakcheck.Check(t)()
			n := 20_000
			p := linkPair(t, frame.NameCBOR, frame.NameCBOR, Config{Backend: be})
			defer p.close()
			for _, l := range []*Link{p.a, p.b} {
				go func() {
					for i := range n {
						if err := l.Commit(appendCBORMsg(l.Begin(), i)); err != nil {
							t.Errorf("commit %d: %v", i, err)
							return
						}
					}
				}()
			}
			for _, r := range []*recorder{p.ra, p.rb} {
				waitFor(t, fmt.Sprintf("%d messages", n), func() bool { return r.n.Load() >= int64(n) })
				r.mu.Lock()
				for i, m := range r.msgs {
					if want := appendCBORMsg(nil, i); !bytes.Equal(m, want) {
						r.mu.Unlock()
						t.Fatalf("message %d = %x, want %x", i, m, want)
					}
				}
				r.mu.Unlock()
			}
		})
	}
}

// Malformed CBOR from the peer closes the link with ErrFraming and the
// splitter's reason.
func TestLinkBadCBOR(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"map", []byte{0x80, 0xa0}, frame.ErrNotArray},
		{"break", []byte{0x81, 0xff}, frame.ErrMalformed},
		{"deep", bytes.Repeat([]byte{0x81}, 1000), frame.ErrTooDeep},
		{"oversized", []byte{0x81, 0x5a, 0, 0x20, 0, 0}, frame.ErrFrameTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer leakcheck.Check(t)()
			ca, cb := tcpPair(t, Config{})
			defer cb.Close()
			r := newRecorder()
			l, err := NewLink(ca, nil, frame.NameCBOR, frame.NameCBOR, r, Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go cb.Write(c.data)
			if err := r.waitClosed(t); !errors.Is(err, ErrFraming) || !errors.Is(err, c.want) {
				t.Fatalf("reason %v, want ErrFraming and %v", err, c.want)
			}
		})
	}
}

// The recorded CBOR stream of a Perl node, with some of it already read by
// the handshake and the rest in the recorded chunks, arrives as the
// transcript's messages; so does a 2 MiB item with MaxFrame raised.
func TestLinkRecordedPerlCBOR(t *testing.T) {
	defer leakcheck.Check(t)()
	all, chunks, err := vectors.Stream("session-cbor-only.raw.jsonl", 1, "c2s")
	if err != nil {
		t.Fatal(err)
	}
	conns, err := vectors.LoadSession(vectors.Path("session-cbor-only.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for _, m := range conns[0].Messages("C>S") {
		want = append(want, m.Wire)
	}
	big := append([]byte{0x82, 0x41, 'b', 0x5a, 0, 0x20, 0, 0}, bytes.Repeat([]byte("0123456789abcdef"), 1<<17)...)
	want = append(want, big)
	skip := 0
	for range 3 {
		skip += bytes.IndexByte(all[skip:], '\n') + 1
	}
	data := all[skip:]
	ca, cb := tcpPair(t, Config{})
	defer cb.Close()
	r := newRecorder()
	l, err := NewLink(ca, data[:20], frame.NameJSON, frame.NameCBOR, r, Config{ReadBuffer: 64, MaxFrame: 4 << 20})
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
	go cb.Write(big)
	waitFor(t, "recorded messages", func() bool { return r.n.Load() == int64(len(want)) })
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, w := range want {
		if !bytes.Equal(r.msgs[i], w) {
			t.Fatalf("message %d = %x, want %x", i, r.msgs[i], w)
		}
	}
}
