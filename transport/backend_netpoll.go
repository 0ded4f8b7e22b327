//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package transport

// The platforms where cloudwego/netpoll v0.7.2 builds and works: linux on
// 64-bit arches with its epoll bindings, darwin and freebsd (kqueue) on
// 64-bit. backend_nonetpoll.go covers the rest.

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/cloudwego/netpoll"
)

// netpollAvailable: BackendNetpoll can run here.
const netpollAvailable = true

func setNetpollLogOutput(w io.Writer) {
	if w == nil {
		w = os.Stderr
	}
	npLogOut.Store(&w)
	netpoll.SetLoggerOutput(w)
}

var npLogOut atomic.Pointer[io.Writer]

// npLog is where netpoll's log goes (standard error until set).
func npLog() io.Writer {
	if w := npLogOut.Load(); w != nil {
		return *w
	}
	return os.Stderr
}

// netpollLinkIO returns the netpoll link I/O of a connection that already is
// a netpoll one.
func netpollLinkIO(conn net.Conn) (linkIO, bool) {
	if np, ok := conn.(*npConn); ok {
		return newNetpollIO(np), true
	}
	return nil, false
}

// moveToNetpoll moves a TCP connection onto netpoll (see toNetpoll).
func moveToNetpoll(tc *net.TCPConn) (linkIO, error) {
	np, err := toNetpoll(tc)
	if err != nil {
		return nil, err
	}
	return newNetpollIO(np), nil
}

// npConn is a netpoll connection with the addresses of the TCP connection
// it was made from (netpoll's fd-based constructor does not know them).
type npConn struct {
	netpoll.Connection
	laddr, raddr net.Addr
	fd           int // the socket, for tryWrite
}

func (c *npConn) LocalAddr() net.Addr  { return c.laddr }
func (c *npConn) RemoteAddr() net.Addr { return c.raddr }

// toNetpoll moves a TCP connection onto netpoll's epoll loops: it
// duplicates the socket (close-on-exec), closes the std conn and registers
// the duplicate with netpoll. Socket options (keep-alive, TCP_NODELAY) are
// properties of the socket and survive.
func toNetpoll(tc *net.TCPConn) (*npConn, error) {
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var derr error
	if err := raw.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			derr = e
			return
		}
		nfd = int(r)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	laddr, raddr := tc.LocalAddr(), tc.RemoteAddr()
	tc.Close()
	c, err := netpoll.NewFDConnection(nfd)
	if err != nil {
		syscall.Close(nfd)
		return nil, err
	}
	return &npConn{Connection: c, laddr: laddr, raddr: raddr, fd: nfd}, nil
}

// netpollIO runs a link on netpoll. netpoll's poller reads eagerly into the
// connection's LinkBuffer; goframe1 links take it from there without a
// copy (reader_netpoll.go), other framings through Read. Writes are nocopy:
// WriteBinary links each batch (above netpoll's inplace threshold) into the
// output LinkBuffer and Flush writes it with one sendmsg, waiting on the
// poller when the socket is full.
//
// Ownership: only the writer goroutine writes, and WriteBinary (which does
// not take netpoll's locks) runs under wmu; close and the close callback
// (which runs before netpoll frees its buffers, whoever closed) take wmu
// too, so that netpoll never frees its output buffer under a WriteBinary.
// A Flush that waits is woken by Close and returns an error; the batches
// it was sending stay linked into netpoll's buffer until the connection
// has left the poller, so the writer keeps them until then (quiesce).
type netpollIO struct {
	c      *npConn
	wmu    sync.Mutex
	closed bool
	gone   chan struct{} // closed by netpoll's close callback: the poller is done with our buffers
}

func newNetpollIO(c *npConn) *netpollIO {
	n := &netpollIO{c: c, gone: make(chan struct{})}
	// netpoll runs close callbacks newest first, so this one runs before
	// its own, which frees the buffers: also when the poller closes the
	// connection (the peer hung up) while the writer is in writev.
	_ = c.AddCloseCallback(func(netpoll.Connection) error {
		n.markClosed()
		close(n.gone)
		return nil
	})
	return n
}

// markClosed stops writes: it waits for a WriteBinary or tryWrite in
// progress, and none starts after it.
func (n *netpollIO) markClosed() {
	n.wmu.Lock()
	n.closed = true
	n.wmu.Unlock()
}

func (n *netpollIO) read(p []byte) (int, error) { return n.c.Read(p) }

func (n *netpollIO) writev(iov [][]byte) error {
	w := n.c.Writer()
	n.wmu.Lock()
	if n.closed {
		n.wmu.Unlock()
		return netpoll.ErrConnClosed
	}
	for _, b := range iov {
		if _, err := w.WriteBinary(b); err != nil {
			n.wmu.Unlock()
			return err
		}
	}
	n.wmu.Unlock()
	return w.Flush()
}

// quiesce waits, after a failed writev, until netpoll no longer reads the
// buffers it was given (the link is closing: shutdown has closed it).
func (n *netpollIO) quiesce() { <-n.gone }

func (n *netpollIO) close() error {
	n.markClosed()
	return n.c.Close()
}

func (n *netpollIO) isEOF(err error) bool { return errors.Is(err, netpoll.ErrEOF) }

func (n *netpollIO) eagerBuffered() int { return n.c.Reader().Len() }

func (n *netpollIO) backend() Backend { return BackendNetpoll }

func (n *netpollIO) canTryWrite(int) bool { return true }

func (n *netpollIO) pending() bool { return false }

// tryWrite is the direct write of sparse traffic: one non-blocking write(2)
// on the socket, from the committing goroutine, instead of waking the
// writer (or starting a parked one). The link calls it only when no writev
// is in flight, and Flush returns only once netpoll's output buffer is
// empty, so nothing of netpoll's is queued ahead of b. Under wmu the fd is
// still open: our close callback, which takes wmu, runs before netpoll's
// closes it.
func (n *netpollIO) tryWrite(b []byte) (int, error) {
	n.wmu.Lock()
	defer n.wmu.Unlock()
	if n.closed {
		return 0, netpoll.ErrConnClosed
	}
	return writeOnce(n.c.fd, b)
}
