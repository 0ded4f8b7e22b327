//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package transport

import (
	"context"
	"fmt"
	"sync"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/pool"
	"github.com/cloudwego/netpoll"
)

// A goframe1 link on netpoll has no reader goroutine. netpoll's poller
// reads the socket into the connection's LinkBuffer and runs onRequest on
// one of its task goroutines while there is input; onRequest takes all of
// it as a zero-copy slice of the LinkBuffer (Slice, then Next: a copy only
// where the bytes straddle two of its nodes), hands the complete frames in
// it to the handler as one pool.Wrap buffer whose last Release releases the
// slice, and copies only a frame cut by the end of the input into a carry
// buffer, which the next call completes. So an idle link costs netpoll's
// buffer and no goroutine (its writer parks too: Link.parkWriter).
//
// The reader's part of the link's lifecycle (Start counts it in running)
// ends in finish, once: from netpoll's close callback, which netpoll runs
// after onRequest has returned and after the connection left the poller,
// or from startEvents if the connection closed before the callback was
// registered. mu serialises onRequest with finish for that second case.
//
// JSON and CBOR framings (Perl peers) keep the reader goroutine over
// netpoll's Read: their splitters want the text contiguous.
type npReader struct {
	l     *Link
	c     *npConn
	r     *reader
	carry bool // r.buf is a carry buffer holding the start of a frame

	mu     sync.Mutex
	exited bool
	once   sync.Once
}

// startEvents is the reader half of Link.Start on netpoll (eventIO).
func (n *netpollIO) startEvents(l *Link, r *reader) {
	p := &npReader{l: l, c: n.c, r: r}
	if len(l.buffered) == 0 {
		l.buffered = nil
		p.register()
		return
	}
	// Bytes the handshake read ahead come first; the handler may not run
	// on Start's caller, so deliver them on a goroutine of their own.
	go func() {
		p.mu.Lock()
		r.buf = l.getBuf(max(l.cfg.ReadBuffer, len(l.buffered)))
		r.end = copy(r.buf.B, l.buffered)
		l.bytesIn.Add(uint64(r.end))
		l.buffered = nil
		err := r.parse()
		l.msgsIn.Store(r.msgs)
		if p.carry = r.start < r.end; !p.carry {
			r.buf.Release()
			r.buf = nil
		}
		p.mu.Unlock()
		if err != nil {
			l.shutdown(err)
		}
		p.register()
	}()
}

func (p *npReader) register() {
	installRunner.Do(func() { _ = netpoll.Configure(netpoll.Config{Runner: runTask}) })
	_ = p.c.SetOnRequest(p.onRequest) // runs onRequest at once if input is waiting
	_ = p.c.AddCloseCallback(p.closed)
	if !p.c.IsActive() {
		// closed before the callback was added: it may never run
		p.closed(p.c)
	}
}

// closed is netpoll's close callback. It may run on the poller's
// goroutine, which must not wait for the handler's OnClose.
func (p *npReader) closed(netpoll.Connection) error {
	p.once.Do(func() { go p.finish() })
	return nil
}

func (p *npReader) finish() {
	l := p.l
	// A close we did not ask for is the peer's (netpoll reports reset and
	// hang-up alike).
	l.shutdown(fmt.Errorf("%w: %w", ErrPeerClosed, netpoll.ErrEOF))
	p.mu.Lock() // onRequest has returned (quit is closed: it does not wait)
	p.exited = true
	if p.r.buf != nil {
		p.r.buf.Release()
		p.r.buf = nil
	}
	p.mu.Unlock()
	l.exited()
}

// onRequest takes everything netpoll has buffered. netpoll calls it again
// while input is left, so it consumes all of it, also when it drops it.
func (p *npReader) onRequest(context.Context, netpoll.Connection) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, r, rd := p.l, p.r, p.c.Reader()
	defer func() { l.msgsIn.Store(r.msgs) }()
	for {
		n := rd.Len()
		if n == 0 {
			r.grant() // consumed all and not paused: the peer may send more
			return nil
		}
		if p.exited || !l.waitInbound(0) || l.isQuit() {
			p.discard()
			return nil
		}
		r.grant()
		// At most ReadBuffer at a time, as the std reader reads: the
		// inbound bound is checked between chunks.
		n = min(n, l.cfg.ReadBuffer)
		l.lastRecv.Store(monoNow())
		var err error
		if p.carry {
			err = p.fill(n)
		} else {
			err = p.slice(n)
		}
		if err != nil {
			l.shutdown(err)
			p.discard()
			return nil
		}
	}
}

// slice delivers the frames of the next n bytes of input (without copying
// them from copyBelow on), keeping a cut frame at the end in a carry
// buffer.
func (p *npReader) slice(n int) error {
	l, rd := p.l, p.c.Reader()
	if n < copyBelow {
		b, err := rd.Next(n)
		if err != nil {
			return fmt.Errorf("transport: read: %w", err)
		}
		l.bytesIn.Add(uint64(n))
		buf := l.getBuf(max(n, l.cfg.ReadBuffer/4))
		copy(buf.B, b)
		_ = rd.Release()
		return p.deliver(buf, n, true)
	}
	sub, err := rd.Slice(n)
	if err != nil {
		return fmt.Errorf("transport: read: %w", err)
	}
	b, err := sub.Next(n)
	if err != nil {
		sub.Release()
		return fmt.Errorf("transport: read: %w", err)
	}
	l.bytesIn.Add(uint64(n))
	buf := pool.Wrap(b, func() { sub.Release() })
	l.inflight.Add(int64(n))
	buf.OnFree(l.onFree)
	return p.deliver(buf, n, false)
}

// deliver parses buf.B[:n] and gives up the reader's reference to buf,
// keeping a frame cut at the end in a carry buffer: buf itself if it is
// one of ours (pooled: fill makes room in it as the std reader does), a
// copy if it is netpoll's memory.
func (p *npReader) deliver(buf *pool.Buf, n int, pooled bool) error {
	l, r := p.l, p.r
	r.buf, r.start, r.end = buf, 0, n
	err := r.parse()
	if err == nil && r.start < r.end && pooled {
		p.carry = true
		return nil
	}
	if err == nil && r.start < r.end {
		// a pooled buffer for the cut frame, with room for all of it if
		// its header is complete; netpoll's memory stays read-only
		pending := r.end - r.start
		cb := l.getBuf(max(r.need, pending+l.cfg.ReadBuffer/4))
		copy(cb.B, buf.B[r.start:r.end])
		r.buf, r.start, r.end, p.carry = cb, 0, pending, true
	} else {
		r.buf = nil
	}
	buf.Release()
	return err
}

// fill copies into the carry buffer what the cut frame still lacks (at
// most n bytes) and delivers it once complete.
func (p *npReader) fill(n int) error {
	r, rd := p.r, p.c.Reader()
	pending := r.end - r.start
	want := frame.HeaderLen - pending // the header is cut: first complete it
	if r.need > 0 {
		want = r.need - pending
	}
	want = min(want, n)
	r.makeRoom()
	b, err := rd.Next(want)
	if err != nil {
		return fmt.Errorf("transport: read: %w", err)
	}
	r.end += copy(r.buf.B[r.end:], b)
	_ = rd.Release()
	p.l.bytesIn.Add(uint64(want))
	if err := r.parse(); err != nil {
		return err
	}
	if r.start == r.end {
		r.buf.Release()
		r.buf, p.carry = nil, false
	}
	return nil
}

// discard drops the input of a link that is closing.
func (p *npReader) discard() {
	rd := p.c.Reader()
	_ = rd.Skip(rd.Len())
	_ = rd.Release()
}
