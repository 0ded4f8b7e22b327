package transport

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/pool"
)

// bufFreed is the pool.Buf.OnFree hook of every read buffer; it runs on
// whichever goroutine releases the buffer last.
func (l *Link) bufFreed(b *pool.Buf) {
	if l.inflight.Add(-int64(cap(b.B))) <= int64(l.cfg.MaxInbound) {
		select {
		case l.credit <- struct{}{}:
		default:
		}
	}
}

// getBuf returns a read buffer of at least n bytes (len == cap), counted
// in inflight until its last release.
func (l *Link) getBuf(n int) *pool.Buf {
	b := pool.Get(n)
	b.B = b.B[:cap(b.B)]
	l.inflight.Add(int64(cap(b.B)))
	b.OnFree(l.onFree)
	return b
}

// reader holds the reader goroutine's state: the current buffer and the
// unparsed bytes buf.B[start:end].
type reader struct {
	l          *Link
	buf        *pool.Buf
	start, end int
	need       int    // bytes the pending message needs in total (0: unknown)
	msgs       uint64 // messages delivered
	json       frame.JSONSplitter
	cbor       frame.CBORSplitter

	// credit flow control
	recvData  int64 // data-frame bytes received from the peer
	granted   int64 // of those, bytes already granted back
	recvLimit int64 // recvData may not exceed granted + recvLimit

	// turn is the reader goroutine's current turn (readOn), nil for a
	// reader without a goroutine of its own (netpoll's events). inline is
	// set while the handler runs for a message that RunInline may be
	// called for: a whole frame of its own, on a reader goroutine, with no
	// more input read yet.
	turn   *readerTurn
	inline bool
}

// readerTurn is one goroutine's time as a link's reader: taken over
// (RunInline) it ends. gone and timer belong to that goroutine; state and
// handed are shared with the timer's goroutine (takeOver).
type readerTurn struct {
	gone   bool
	state  atomic.Int32
	handed atomic.Bool // the new turn has counted itself in Link.running
	timer  *time.Timer
}

// errTakenOver ends a turn whose reader state another goroutine owns now.
var errTakenOver = errors.New("transport: reading taken over")

// copyBelow is the input size under which the netpoll reader's slice
// (reader_netpoll.go) copies into a pooled buffer instead of slicing
// netpoll's: a slice costs four allocations (netpoll's reader and node, the
// Buf and its release), a copy of a few KiB less than that. A round trip of
// small messages allocates nothing.
const copyBelow = 8 << 10

func (l *Link) newReader() *reader {
	r := &reader{l: l}
	r.json.MaxSize = l.cfg.MaxFrame
	r.json.MaxDepth = l.cfg.MaxDepth
	r.cbor.MaxSize, r.cbor.MaxDepth = l.cfg.MaxFrame, l.cfg.MaxDepth
	r.recvLimit = int64(l.cfg.Credit) + l.cfg.creditSlack()
	return r
}

// grant lets the peer send as much more as the reader has consumed since
// the last grant, once that is half the credit. Called by the reader when
// it is not paused.
func (r *reader) grant() {
	if l := r.l; l.creditOn && r.recvData-r.granted >= int64(l.cfg.Credit/2) {
		l.queueGrant(r.recvData - r.granted)
		r.granted = r.recvData
	}
}

// readLoop is the link's reader goroutine.
func (l *Link) readLoop() {
	r := l.newReader()
	size := max(l.cfg.ReadBuffer, len(l.buffered))
	r.buf = l.getBuf(size)
	r.end = copy(r.buf.B, l.buffered)
	l.bytesIn.Add(uint64(r.end)) // read by the handshake, but data-phase bytes
	l.buffered = nil
	l.rd = r
	l.readOn(r)
}

// readOn reads the link with r on the calling goroutine (one turn) until
// the link ends, or until another goroutine takes the reading over
// (RunInline): then r and its buffer are that goroutine's.
func (l *Link) readOn(r *reader) {
	r.turn = &readerTurn{}
	taken := false
	defer func() {
		if !taken {
			r.buf.Release()
		}
	}()
	for {
		err := r.parse()
		if taken = err == errTakenOver; taken {
			return
		}
		l.msgsIn.Store(r.msgs)
		if err != nil {
			l.shutdown(err)
			return
		}
		r.makeRoom()
		if !l.waitInbound(int64(cap(r.buf.B))) {
			return
		}
		r.grant()
		n, err := l.io.read(r.buf.B[r.end:])
		r.end += n
		if n > 0 {
			l.bytesIn.Add(uint64(n))
			l.lastRecv.Store(monoNow())
		}
		if err != nil {
			select {
			case <-l.quit: // our own close
			default:
				if errors.Is(err, io.EOF) || l.io.isEOF(err) {
					err = fmt.Errorf("%w: %w", ErrPeerClosed, err)
				} else {
					err = fmt.Errorf("transport: read: %w", err)
				}
			}
			l.shutdown(err)
			return
		}
	}
}

// parse delivers every complete message in buf.B[start:end]. It returns
// errTakenOver, without touching r again, when a handler's RunInline has
// handed the reading to another goroutine.
func (r *reader) parse() error {
	l := r.l
	t := r.turn
	for r.start < r.end {
		select {
		case <-l.quit:
			return nil
		default:
		}
		data := r.buf.B[r.start:r.end]
		if l.recvGo {
			f, n, err := frame.Parse(data, l.cfg.MaxFrame)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrFraming, err)
			}
			if n == 0 {
				r.need, _ = frame.Need(data, l.cfg.MaxFrame)
				return nil
			}
			r.start += n
			if f.Flags&frame.FlagCredit != 0 {
				if err := r.credit(f); err != nil {
					return err
				}
				continue
			}
			if l.creditOn {
				if r.recvData += int64(n); r.recvData-r.granted > r.recvLimit {
					return fmt.Errorf("%w: peer sent %d bytes beyond its credit", ErrInboundOverflow, r.recvData-r.granted-int64(l.cfg.Credit))
				}
			}
			if err := r.deliverFrame(f, t); err != nil {
				return err
			}
			continue
		}
		msg, n, err := r.nextText(data)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrFraming, err)
		}
		if n == 0 {
			return nil
		}
		r.start += n
		if msg != nil {
			if err := r.handle(r.buf, msg, t, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// handle gives one message to the handler. RunInline may run there when
// inlineOK, on a reader goroutine (t), for the last message read so far
// (with more input waiting, handing the message on keeps reading and
// handling in parallel: a flood) and a small one (inlineMaxSize). It
// returns errTakenOver, without touching r again, when the handler's
// RunInline handed the reading to another goroutine.
func (r *reader) handle(buf *pool.Buf, msg []byte, t *readerTurn, inlineOK bool) error {
	r.msgs++
	r.inline = inlineOK && t != nil && r.start == r.end && len(msg) <= inlineMaxSize
	r.l.h.OnMessage(buf, msg)
	if t != nil && t.gone {
		return errTakenOver
	}
	r.inline = false
	return nil
}

func (r *reader) credit(f frame.Frame) error {
	if !r.l.creditOn {
		return fmt.Errorf("%w: credit frame on a link without flow control", ErrFraming)
	}
	g, err := frame.ParseCredit(f)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFraming, err)
	}
	r.l.addCredit(g)
	return nil
}

func (r *reader) deliverFrame(f frame.Frame, t *readerTurn) error {
	l := r.l
	buf, p := r.buf, f.Payload
	if f.Flags&frame.FlagS2 != 0 {
		n, err := frame.DecodedLen(p, l.cfg.MaxFrame)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrFraming, err)
		}
		buf = l.getBuf(n)
		d, err := frame.Decompress(buf.B[:0], p, l.cfg.MaxFrame)
		if err != nil {
			buf.Release()
			return fmt.Errorf("%w: %w", ErrFraming, err)
		}
		p = d
		defer buf.Release()
	}
	if f.Flags&frame.FlagBatch == 0 {
		return r.handle(buf, p, t, f.Flags&frame.FlagS2 == 0) // (an s2 frame's buffer is released here)
	}
	// A corrupt batch is refused whole: its items are checked before any
	// is delivered (walking the item headers costs little next to the
	// handler's work), so a link that fails on a bad frame has delivered
	// nothing of it.
	check := frame.NewBatch(p)
	for _, ok := check.Next(); ok; _, ok = check.Next() {
	}
	if err := check.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrFraming, err)
	}
	it := frame.NewBatch(p)
	for msg, ok := it.Next(); ok; msg, ok = it.Next() {
		r.msgs++
		l.h.OnMessage(buf, msg)
	}
	return nil
}

// makeRoom ensures the buffer has free space after end, and room for the
// whole pending frame when its size is known, moving the pending bytes to
// the front or into a new buffer. Bytes before end in a buffer a handler
// still holds are never overwritten.
func (r *reader) makeRoom() {
	l := r.l
	pending := r.end - r.start
	exclusive := r.buf.Refs() == 1
	if exclusive && pending == 0 {
		r.start, r.end = 0, 0
	}
	total := pending + l.cfg.ReadBuffer/4 // capacity wanted from start
	if r.need > total {
		total = r.need
	} else if r.need > l.cfg.ReadBuffer {
		// a large frame: room for exactly that frame, so that its buffer
		// comes from the pool's size class (with read-ahead on top it
		// could exceed the class and be allocated and collected every time)
		total = r.need
	}
	r.need = 0
	if len(r.buf.B)-r.start >= total {
		return
	}
	if exclusive && len(r.buf.B) >= total {
		copy(r.buf.B, r.buf.B[r.start:r.end])
		r.start, r.end = 0, pending
		return
	}
	size := max(total, l.cfg.ReadBuffer)
	if !l.recvGo {
		size = max(size, 2*pending) // JSON text of unknown size: grow geometrically
	}
	nb := l.getBuf(size)
	copy(nb.B, r.buf.B[r.start:r.end])
	r.buf.Release()
	r.buf, r.start, r.end = nb, 0, pending
}

// waitInbound blocks while the buffers handed out (besides the reader's own
// current buffer, own bytes) exceed MaxInbound. It returns false when the
// link closes.
func (l *Link) waitInbound(own int64) bool {
	if in := l.inflight.Load(); in <= int64(l.cfg.MaxInbound) || in <= own {
		return true
	}
	l.pausedAt.Store(monoNow())
	l.paused.Store(true)
	defer func() {
		l.pausedAt.Store(monoNow())
		l.paused.Store(false)
	}()
	for {
		in := l.inflight.Load()
		if in <= int64(l.cfg.MaxInbound) || in <= own {
			return true
		}
		var tick <-chan time.Time
		var t *time.Timer
		if l.io.eagerBuffered() >= 0 {
			t = time.NewTimer(10 * time.Millisecond)
			tick = t.C
		}
		ok := true
		select {
		case <-l.credit:
		case <-l.quit:
			ok = false
		case <-tick:
			// netpoll keeps reading into its own buffer while we pause;
			// bound that too.
			limit := int64(l.cfg.MaxInbound)
			if l.creditOn { // the peer's credit bounds it; allow what we granted
				limit = max(limit, int64(l.cfg.Credit)+l.cfg.creditSlack())
			}
			if n := l.io.eagerBuffered(); int64(n) > limit {
				l.shutdown(fmt.Errorf("%w: %d bytes buffered by the poller while paused, limit %d", ErrInboundOverflow, n, limit))
				ok = false
			}
		}
		if t != nil {
			t.Stop()
		}
		if !ok {
			return false
		}
	}
}
