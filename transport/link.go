package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aemp-go/aemp/frame"
	"github.com/aemp-go/aemp/pool"
)

// Handler receives a link's inbound messages and its end.
type Handler interface {
	// OnMessage is called on the link's reader goroutine for each inbound
	// message, one at a time, in arrival order. msg is one message (the
	// JSON envelope text) and lies inside buf.B. Both are valid only during
	// the call unless the handler calls buf.Retain (and later, from any
	// goroutine, buf.Release). OnMessage may block — that stalls this
	// link's reading, which is back-pressure — and may call Begin/Commit on
	// any link, and Shutdown, but must not call Close or Drain on its own
	// link (they wait for the reader: deadlock).
	OnMessage(buf *pool.Buf, msg []byte)
	// OnClose is called exactly once, on whichever of the link's goroutines
	// exits last, after both have stopped reading and writing: with nil
	// after a local Close or Drain, else with the reason (wrapping a
	// sentinel of this package or a network error). It must not call Close
	// or Drain on this link.
	OnClose(err error)
}

// Link is the data phase of one authenticated connection. Its methods may be
// called from any goroutine, except as noted on Handler.
type Link struct {
	io  linkIO
	h   Handler
	cfg Config

	sendGo   bool // send framing is goframe1 (else json)
	recvGo   bool // receive framing is goframe1 (else json or cbor)
	recvCBOR bool // receive framing is cbor

	// Send side, guarded by mu.
	mu           sync.Mutex
	chunks       []*pool.Buf // queued batches; the last one is being filled
	spare        []*pool.Buf // the writer's previous list, reused
	curMsgs      int         // messages in the last chunk
	queued       int         // bytes committed but not yet written
	mark         int         // len of the last chunk at Begin
	closed       bool        // no more Commits
	draining     bool        // Drain called: close once queued == 0
	zbuf         []byte      // compression scratch
	drained      chan struct{}
	writing      bool    // a write (writer goroutine or direct) is in flight
	takenPartial bool    // the writer's first taken chunk starts inside a frame (a partial direct write)
	pack         *packer // Config.Compress: the writer packs batches (writer goroutine only)
	headOff      int     // bytes of chunks[0] already written by a partial direct write
	lastSend     int64   // monotonic ns of the last sending activity: a Commit to an empty queue, or a writer's write (direct-write heuristic)

	// Express (Config.Express > 0), guarded by mu: frames that overtake
	// the queued chunks, the keys of the frames in each queued chunk
	// (aligned with chunks), how many frames of each key are queued in
	// chunks or being written, and the keys of the chunk being written.
	express   *pool.Buf
	chunkKeys [][]uint64
	keyCount  map[uint64]int32
	writeKeys []uint64

	// Credit flow control (Config.Credit > 0), guarded by mu.
	creditOn     bool
	sendCredit   int64  // bytes we may still send (may go below zero by one batch)
	grantPending uint32 // bytes to grant the peer, sent by the writer

	kick chan struct{} // wakes the writer; capacity 1, non-blocking sends
	// parkWriter: the writer goroutine exits after writerLinger without
	// writing and the next kick starts a new one (links without a reader
	// goroutine, eventIO), so that an idle link has no goroutine at all.
	// writerUp: a writer goroutine runs (or Start has yet to start it).
	parkWriter bool
	writerUp   atomic.Bool
	linger     time.Duration // writerLinger
	room       chan struct{} // closed when the writer frees queue space (WaitRoom), guarded by mu

	// Traffic, for Stats and liveness: msgsOut and directs are guarded by mu; the rest
	// is written by one goroutine (the reader: *In, lastRecv, paused; the
	// writer or a direct write under mu: bytesOut, lastWrite).
	msgsOut   uint64
	directs   uint64 // direct writes (directWrite)
	bytesOut  atomic.Uint64
	lastWrite atomic.Int64 // monoNow of the last write
	bytesIn   atomic.Uint64
	msgsIn    atomic.Uint64
	lastRecv  atomic.Int64 // monoNow of the last read
	paused    atomic.Bool  // the reader waits for handlers to release buffers
	pausedAt  atomic.Int64 // monoNow when the reader last waited (0: never)

	rd       *reader     // the reader goroutine's state (readLoop), for RunInline
	inInline atomic.Bool // RunInline's fn runs on this link's reader: CommitKey leaves its messages to the writer (no direct write)

	// Inbound bound.
	inflight atomic.Int64  // cap of read buffers not yet freed
	credit   chan struct{} // capacity 1: inflight fell
	onFree   func(*pool.Buf)

	// Lifecycle.
	quit      chan struct{} // closed by shutdown: both goroutines exit
	done      chan struct{} // closed after OnClose returned
	quitOnce  sync.Once
	reasonMu  sync.Mutex
	reason    error
	hasReason bool
	running   atomic.Int32
	buffered  []byte
}

// Open prepares the data phase on conn. buffered holds bytes already read
// from conn by the handshake (handshake.Result.Buffered); they are processed
// before anything read from conn. sendFraming and recvFraming are the
// framings of each direction ("goframe1", "json" or "cbor", handshake.Result's
// SendFraming and RecvFraming). The link owns conn from now on; a *tls.Conn
// always runs on the std backend, whatever Config.Backend says (netpoll has
// no TLS). The link does nothing until Start.
func Open(conn net.Conn, buffered []byte, sendFraming, recvFraming string, h Handler, cfg Config) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.populated()
	l := &Link{
		h:        h,
		cfg:      cfg,
		kick:     make(chan struct{}, 1),
		credit:   make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		drained:  make(chan struct{}),
		buffered: buffered,
	}
	var err error
	if l.sendGo, err = isGoFraming(sendFraming); err != nil {
		return nil, err
	}
	if l.recvGo, err = isGoFraming(recvFraming); err != nil {
		return nil, err
	}
	l.recvCBOR = recvFraming == frame.NameCBOR
	if h == nil {
		return nil, fmt.Errorf("%w: nil Handler", ErrConfig)
	}
	if cfg.Credit > 0 {
		if !l.sendGo || !l.recvGo {
			return nil, fmt.Errorf("%w: credit flow control needs goframe1 in both directions", ErrConfig)
		}
		l.creditOn, l.sendCredit = true, int64(cfg.Credit)
	}
	if cfg.Express > 0 {
		l.keyCount = make(map[uint64]int32)
	}
	if cfg.Compress && l.sendGo && cfg.Express == 0 {
		l.pack = &packer{threshold: cfg.CompressThreshold, maxFrame: cfg.MaxSend}
	}
	if l.io, err = newLinkIO(conn, cfg); err != nil {
		return nil, err
	}
	l.onFree = l.bufFreed
	if _, ev := l.io.(eventIO); ev && l.recvGo {
		l.parkWriter, l.linger = true, writerLinger
		l.writerUp.Store(true) // Start starts it
	}
	now := monoNow()
	l.lastWrite.Store(now)
	l.lastRecv.Store(now)
	return l, nil
}

// NewLink is Open followed by Start.
func NewLink(conn net.Conn, buffered []byte, sendFraming, recvFraming string, h Handler, cfg Config) (*Link, error) {
	l, err := Open(conn, buffered, sendFraming, recvFraming, h, cfg)
	if err != nil {
		return nil, err
	}
	l.Start()
	return l, nil
}

// Start starts the link's reader and writer goroutines; h is called from
// them. Until then nothing is read, and committed messages wait (except
// those Commit writes directly). A link must be started exactly once,
// also when it is closed before: its goroutines report the end.
func (l *Link) Start() {
	l.running.Add(2) // both counted before either runs: the first may exit at once
	if l.parkWriter {
		go l.runWriter()
		l.io.(eventIO).startEvents(l, l.newReader()) // calls l.exited once, as readLoop's goroutine would
		return
	}
	l.start(l.readLoop)
	l.start(func() { l.writeLoop() })
}

// eventIO is a backend whose poller reads the socket and calls the link
// with the input, so that the link needs no reader goroutine (netpoll, for
// goframe1). startEvents plays readLoop's part: it delivers through r and
// calls l.exited once when reading has ended for good.
type eventIO interface {
	startEvents(l *Link, r *reader)
}

func (l *Link) isQuit() bool {
	select {
	case <-l.quit:
		return true
	default:
		return false
	}
}

func isGoFraming(name string) (bool, error) {
	switch name {
	case frame.NameGo:
		return true, nil
	case frame.NameJSON, frame.NameCBOR:
		return false, nil
	}
	return false, fmt.Errorf("%w: %q", ErrUnknownFraming, name)
}

// start runs fn as one of the link's goroutines (counted in running by
// Start); the last one to finish reports the end to the handler.
func (l *Link) start(fn func()) {
	go func() {
		defer l.exited()
		fn()
	}()
}

func (l *Link) exited() {
	if l.running.Add(-1) != 0 {
		return
	}
	l.mu.Lock()
	l.closed = true
	for i, c := range l.chunks {
		c.Release()
		l.chunks[i] = nil
	}
	l.chunks = l.chunks[:0]
	if l.express != nil {
		l.express.Release()
		l.express = nil
	}
	l.chunkKeys, l.keyCount = nil, nil
	l.queued = 0
	l.mu.Unlock()
	l.reasonMu.Lock()
	reason := l.reason
	l.reasonMu.Unlock()
	l.h.OnClose(reason)
	close(l.done)
}

// shutdown records the first reason, stops accepting messages, closes the
// connection and tells both goroutines to exit. It does not wait.
func (l *Link) shutdown(reason error) {
	l.reasonMu.Lock()
	if !l.hasReason {
		l.reason, l.hasReason = reason, true
	}
	l.reasonMu.Unlock()
	l.quitOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.quit)
		l.io.close()
		l.kickWriter() // a parked writer: start one to see quit and report the end
	})
}

// Shutdown closes the link with reason (nil counts as a local close) without
// waiting for its goroutines; OnClose(reason) follows. Unlike Close it may
// be called from the handler's callbacks. Queued messages are dropped.
func (l *Link) Shutdown(reason error) { l.shutdown(reason) }

// Close closes the link at once, dropping queued messages, and waits until
// both goroutines have exited and OnClose has returned. It is idempotent and
// returns nil; OnClose gets nil unless the link had already failed. It must
// not be called from the link's Handler callbacks (use Shutdown).
func (l *Link) Close() error {
	l.shutdown(nil)
	<-l.done
	return nil
}

// Done returns a channel closed after the link has ended and OnClose has
// returned.
func (l *Link) Done() <-chan struct{} { return l.done }

// Drain stops accepting messages (Commit returns ErrClosed), waits until
// everything queued has been written to the connection, then closes the
// link like Close. If ctx ends first the link is closed anyway, queued
// messages are dropped and the error satisfies net.Error (Timeout() true on
// a deadline) and wraps ctx.Err(). If the link fails meanwhile, Drain
// returns that reason. Must not be called from the Handler's callbacks.
func (l *Link) Drain(ctx context.Context) error {
	l.mu.Lock()
	if !l.draining {
		l.draining = true
		l.closed = true
		if l.queued == 0 {
			close(l.drained)
		}
	}
	l.mu.Unlock()
	l.kickWriter()
	select {
	case <-l.drained:
		l.Close()
		return nil
	case <-l.done:
		l.reasonMu.Lock()
		err := l.reason
		l.reasonMu.Unlock()
		return err
	case <-ctx.Done():
		l.Close()
		err := ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			return &timeoutError{op: "drain", err: err}
		}
		return err
	}
}

// addCredit is called by the reader for each credit frame from the peer.
func (l *Link) addCredit(n uint32) {
	l.mu.Lock()
	l.sendCredit += int64(n)
	l.mu.Unlock()
	l.kickWriter()
}

// queueGrant is called by the reader: the writer sends the peer a credit
// frame for n more bytes, ahead of (and regardless of) data.
func (l *Link) queueGrant(n int64) {
	l.mu.Lock()
	l.grantPending += uint32(n)
	l.mu.Unlock()
	l.kickWriter()
}

// creditSlack is how far a correct peer may overshoot its credit: it sends
// a whole batch once it has any credit left.
func (c Config) creditSlack() int64 {
	return int64(c.MaxFrame) + frame.HeaderLen + int64(max(c.BatchBytes, 1<<20))
}

// Backend reports the backend this link runs on.
func (l *Link) Backend() Backend { return l.io.backend() }

// Queued reports the bytes committed but not yet written.
func (l *Link) Queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queued
}

// Inflight reports the bytes of read buffers handed out and not yet released
// (including the reader's current buffer).
func (l *Link) Inflight() int { return int(l.inflight.Load()) }

// sent records n bytes written to the connection and wakes the senders
// waiting for room. Called with mu held.
func (l *Link) sent(n int) {
	if n <= 0 {
		return
	}
	l.bytesOut.Add(uint64(n))
	l.lastWrite.Store(monoNow())
	l.freed()
}

// Stats is a snapshot of a link's traffic.
type Stats struct {
	BytesIn, BytesOut uint64 // bytes read and written (frames, headers included)
	MsgsIn, MsgsOut   uint64 // messages delivered to the handler and committed
	Queued            int    // bytes committed, not yet written
	Inflight          int    // bytes of read buffers handed out, not yet released
	Paused            bool   // the reader waits for handlers (inbound bound reached)
	// SincePaused is the time since the reader last waited for handlers:
	// 0 while it waits, -1 if it never has. A reader that waits reads
	// nothing, so it cannot see the peer close the connection.
	SincePaused time.Duration
	// IdleRecv and IdleSend are the times since the link last read and
	// wrote anything (or since it was opened).
	IdleRecv, IdleSend time.Duration
	// DirectWrites counts the writes of sparse traffic made at once by the
	// committing goroutine instead of the writer (Commit).
	DirectWrites uint64
}

// Stats returns a snapshot of the link's traffic; cheap (one lock).
func (l *Link) Stats() Stats {
	now := monoNow()
	l.mu.Lock()
	st := Stats{MsgsOut: l.msgsOut, Queued: l.queued, DirectWrites: l.directs}
	l.mu.Unlock()
	st.BytesIn, st.BytesOut, st.MsgsIn = l.bytesIn.Load(), l.bytesOut.Load(), l.msgsIn.Load()
	st.Inflight = int(l.inflight.Load())
	st.Paused = l.paused.Load()
	st.SincePaused = -1
	if st.Paused {
		st.SincePaused = 0
	} else if at := l.pausedAt.Load(); at != 0 {
		st.SincePaused = time.Duration(now - at)
	}
	st.IdleRecv = time.Duration(now - l.lastRecv.Load())
	st.IdleSend = time.Duration(now - l.lastWrite.Load())
	return st
}
