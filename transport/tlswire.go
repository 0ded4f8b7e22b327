package transport

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// TLS links make the direct write of sparse traffic too (Commit): the
// committing goroutine seals the record with crypto/tls and writes it with
// one non-blocking write(2), which saves the writer's wake-up as on plain
// TCP. crypto/tls writes each record to the connection under it, so that
// connection is a tlsWire (WrapTLS): during the direct write its Write
// never blocks, and whatever the socket does not take is kept (stash) and
// written by the writer goroutine before anything else. The record is the
// link's once sealed, so the stash is never dropped: it holds at most one
// direct write's records (maxTLSDirect and the record overhead), because a
// direct write is made only while the stash is empty.

// maxTLSDirect is the largest batch a TLS link writes directly: one TLS
// record. A larger one is sealed by the writer goroutine, so a committing
// goroutine seals at most this much and the stash stays this small.
const maxTLSDirect = 16 << 10

// WrapTLS returns the connection to run a link's TLS over: conn (a
// *net.TCPConn from Dial or Listener.Accept) with the Write that lets the
// link write sparse messages directly (see Link.Commit). Pass its result to
// tls.Client or tls.Server; reads and everything else go to conn as they
// are. NewLink finds it under the *tls.Conn (through NetConn methods).
// Without it a TLS link writes everything on its writer goroutine.
func WrapTLS(conn net.Conn) net.Conn {
	w := &tlsWire{Conn: conn}
	if tc, ok := conn.(*net.TCPConn); ok && canRawWrite {
		if raw, err := tc.SyscallConn(); err == nil {
			w.raw = raw
			w.wfn = w.writeFD
		}
	}
	return w
}

// tlsWire is the connection under a link's TLS (WrapTLS).
type tlsWire struct {
	net.Conn                 // the TCP connection
	raw      syscall.RawConn // nil: no non-blocking write (not TCP, or not unix)
	wfn      func(fd uintptr) bool

	mu      sync.Mutex   // Write and flush (the link's writer, a direct write, TLS's own records)
	try     bool         // a direct write runs: Write does not block
	stash   []byte       // record bytes the socket did not take during a direct write
	stashed atomic.Int32 // times the stash was started (for tests)
	pending atomic.Bool
	wb      []byte // writeFD's argument and results
	wn      int
	werr    error
}

// NetConn returns the TCP connection (as tls.Conn.NetConn does).
func (w *tlsWire) NetConn() net.Conn { return w.Conn }

// Write writes one record crypto/tls has sealed. During a direct write it
// makes at most one non-blocking write and keeps the rest; otherwise it
// writes the stash first and then p, blocking as net.Conn.Write does.
func (w *tlsWire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.try {
		n := 0
		if len(w.stash) == 0 {
			w.wb = p
			err := w.raw.Write(w.wfn)
			w.wb = nil
			if err == nil {
				err = w.werr
			}
			if err != nil {
				return 0, err
			}
			n = w.wn
		}
		if n < len(p) {
			if len(w.stash) == 0 {
				w.stashed.Add(1)
			}
			w.stash = append(w.stash, p[n:]...)
			w.pending.Store(true)
		}
		return len(p), nil
	}
	if err := w.flushLocked(); err != nil {
		return 0, err
	}
	return w.Conn.Write(p)
}

func (w *tlsWire) writeFD(fd uintptr) bool {
	w.wn, w.werr = writeOnce(int(fd), w.wb)
	return true // never wait
}

// flush writes the stash (blocking).
func (w *tlsWire) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *tlsWire) flushLocked() error {
	if len(w.stash) == 0 {
		return nil
	}
	_, err := w.Conn.Write(w.stash)
	if cap(w.stash) > 2*maxTLSDirect {
		w.stash = nil
	} else {
		w.stash = w.stash[:0]
	}
	w.pending.Store(false)
	return err
}

// direct runs write (the tls.Conn's Write of one batch) as a direct
// write: no call blocks, and what the socket does not take is stashed.
func (w *tlsWire) direct(write func() error) error {
	w.mu.Lock()
	w.try = true
	w.mu.Unlock()
	err := write()
	w.mu.Lock()
	w.try = false
	w.mu.Unlock()
	return err
}

// closeUnder closes the TCP connection at once if a blocking write holds
// the wire (a stalled peer): crypto/tls's Close would otherwise wait for
// it to send its close_notify. tls.Conn.Close does the same for a Write in
// flight; a flush of the stash is not one.
func (w *tlsWire) closeUnder() {
	if w.mu.TryLock() {
		w.mu.Unlock()
		return
	}
	_ = w.Conn.Close()
}

// tlsWireOf finds the tlsWire under conn, following NetConn methods
// (tls.Conn's, the handshake's replay wrapper's).
func tlsWireOf(conn net.Conn) *tlsWire {
	for ; conn != nil; conn = under(conn) {
		if w, ok := conn.(*tlsWire); ok {
			return w
		}
	}
	return nil
}
