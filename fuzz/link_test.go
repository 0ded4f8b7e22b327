package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/transport"
)

// linkCredit is the receive window of the credit mode: small, so that the
// reader grants credit (writes credit frames) within short streams.
const linkCredit = 512

// linkMode is what the fuzzer's mode byte selects.
type linkMode struct {
	json     bool // json framing (else goframe1)
	credit   bool // credit flow control (goframe1 only)
	retain   bool // the handler retains every buffer until the end
	buffered bool // the stream's head comes as the handshake's buffered bytes
	maxFrame int  // Config.MaxFrame (0: the default)
	readBuf  int  // Config.ReadBuffer (0: the default)
}

func linkModeOf(m uint8) linkMode {
	return linkMode{
		json:     m&1 != 0,
		credit:   m&1 == 0 && m&2 != 0,
		retain:   m&4 != 0,
		buffered: m&0x80 != 0,
		maxFrame: []int{0, 64, 300, 4096}[m>>3&3],
		readBuf:  []int{0, 16, 100, 4096}[m>>5&3],
	}
}

// FuzzLinkReader feeds a byte stream to a transport.Link's reader through a
// conn whose reads return fuzz-chosen chunk sizes (ChunkConn), in either
// framing (goframe1 with single, batch, s2 and credit frames, with credit
// flow control on or off; or the json framing), with small or default
// limits and read buffers, the stream's head passed to NewLink as bytes
// the handshake read ahead or not, while the handler copies or retains
// what it is given. The messages delivered must be exactly those of a one-shot
// reference parse of the same stream (ParseGoStream, independent of package
// frame; ParseJSONStream, through package wire's scanner), in order,
// whatever the chunking; retained messages must stay intact; a malformed
// stream must close the link with ErrFraming (or ErrInboundOverflow) after
// the messages before the bad frame, a well-formed one with ErrPeerClosed
// at its end; the credit frames the link writes must grant no more than it
// received; no goroutine may stay behind.
func FuzzLinkReader(f *testing.F) {
	for _, s := range linkSeeds(f) {
		f.Add(s.mode, s.stream, []byte{0})
		f.Add(s.mode|0x20, s.stream, []byte{6, 200, 1})
		f.Add(s.mode|0x80, s.stream, []byte{11, 3})
	}
	var leaks leakGuard
	f.Fuzz(func(t *testing.T, mode uint8, stream, sizes []byte) {
		leaks.run(t, func() { runLink(t, linkModeOf(mode), stream, sizes) })
	})
}

// runLink runs one stream through a link and checks the outcome.
func runLink(t *testing.T, m linkMode, stream, sizes []byte) {
	maxFrame := m.maxFrame
	if maxFrame == 0 {
		maxFrame = frame.DefaultMaxFrame
	}
	var want Parsed
	framing := frame.NameGo
	if m.json {
		framing = frame.NameJSON
		want = ParseJSONStream(stream, maxFrame)
	} else {
		want = ParseGoStream(stream, maxFrame, m.credit)
	}
	var buffered []byte
	if m.buffered { // the first size byte says how much (half the stream without)
		k := len(stream) / 2
		if len(sizes) > 0 {
			k = min(int(sizes[0]), len(stream))
		}
		buffered = bytes.Clone(stream[:k])
		stream = stream[k:]
	}
	conn := NewChunkConn(stream, sizes)
	h := &collector{retain: m.retain, closed: make(chan struct{})}
	cfg := transport.Config{MaxFrame: m.maxFrame, ReadBuffer: m.readBuf, KeepAlive: -1}
	if m.credit {
		cfg.Credit = linkCredit
	}
	l, err := transport.NewLink(conn, buffered, framing, framing, h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.closed:
	case <-time.After(10 * time.Second):
		l.Close()
		t.Fatalf("link did not close at the end of a %d-byte stream", len(stream))
	}
	l.Close()
	defer h.release(t)
	checkDelivered(t, want, h.msgs, h.reason, maxFrame)
	if m.credit {
		checkGrants(t, conn.Written(), want)
	} else if w := conn.Written(); len(w) > 0 {
		t.Fatalf("link without flow control wrote %q", w)
	}
}

// checkDelivered compares what the link delivered and why it closed with
// the reference parse.
func checkDelivered(t *testing.T, want Parsed, got [][]byte, reason error, maxFrame int) {
	if len(got) != len(want.Msgs) {
		t.Fatalf("link delivered %d messages, reference %d (end %v, reason %v)", len(got), len(want.Msgs), want.End, reason)
	}
	for i := range got {
		if !bytes.Equal(got[i], want.Msgs[i]) {
			t.Fatalf("message %d: link %q, reference %q", i, got[i], want.Msgs[i])
		}
	}
	framing := errors.Is(reason, transport.ErrFraming) || errors.Is(reason, transport.ErrInboundOverflow)
	switch {
	case want.End == Malformed && !framing:
		t.Fatalf("malformed stream closed the link with %v, want ErrFraming", reason)
	case want.End == Clean && !errors.Is(reason, transport.ErrPeerClosed):
		t.Fatalf("well-formed stream closed the link with %v, want ErrPeerClosed", reason)
	case want.End == Truncated && !errors.Is(reason, transport.ErrPeerClosed) && !(framing && want.Partial > maxFrame-8):
		// a JSON text cut inside its last UTF-8 sequence or escape may be
		// refused as too large only once the rest arrives
		t.Fatalf("stream cut inside a message closed the link with %v, want ErrPeerClosed", reason)
	}
}

// checkGrants checks the credit frames the link wrote: nothing else, and
// never more than the data-frame bytes it received.
func checkGrants(t *testing.T, written []byte, want Parsed) {
	var total uint64
	for len(written) > 0 {
		if len(written) < frame.CreditLen || binary.BigEndian.Uint32(written) != 4 || written[4] != frame.FlagCredit {
			t.Fatalf("link wrote %q, not a credit frame", written)
		}
		total += uint64(binary.BigEndian.Uint32(written[5:]))
		written = written[frame.CreditLen:]
	}
	if total > uint64(want.DataBytes) {
		t.Fatalf("link granted %d bytes of credit, received %d in data frames", total, want.DataBytes)
	}
}

// collector is the fuzzed link's Handler: it copies every message and, in
// retain mode, keeps every buffer with the message's alias to check at the
// end that the reader never overwrote bytes a handler holds.
type collector struct {
	retain bool
	mu     sync.Mutex
	msgs   [][]byte
	held   []*pool.Buf
	alias  [][]byte
	reason error
	closed chan struct{}
}

// OnMessage implements transport.Handler.
func (c *collector) OnMessage(buf *pool.Buf, msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, append([]byte{}, msg...))
	if c.retain {
		buf.Retain()
		c.held = append(c.held, buf)
		c.alias = append(c.alias, msg)
	}
}

// OnClose implements transport.Handler.
func (c *collector) OnClose(err error) {
	c.mu.Lock()
	c.reason = err
	c.mu.Unlock()
	close(c.closed)
}

// release checks the retained messages and releases their buffers.
func (c *collector) release(t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, b := range c.held {
		if !bytes.Equal(c.alias[i], c.msgs[i]) {
			t.Errorf("retained message %d overwritten: %q, was %q", i, c.alias[i], c.msgs[i])
		}
		b.Release()
	}
	c.held, c.alias = nil, nil
}
