//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package transport

// The platforms where cloudwego/netpoll v0.7.2 builds and works: linux on
// 64-bit arches with its epoll bindings, darwin and freebsd (kqueue) on
// 64-bit. backend_nonetpoll.go covers the rest.

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/cloudwego/netpoll"
)

// netpollAvailable: BackendNetpoll can run here.
const netpollAvailable = true

func setNetpollLogOutput(w io.Writer) { netpoll.SetLoggerOutput(w) }

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
	return &npConn{Connection: c, laddr: laddr, raddr: raddr}, nil
}

// netpollIO runs a link on netpoll. netpoll's poller reads eagerly into the
// connection's own buffer; the reader copies from it into pooled buffers.
// Writes go through Connection.Write, which blocks until the bytes are in
// the socket.
type netpollIO struct {
	c *npConn
}

func newNetpollIO(c *npConn) *netpollIO { return &netpollIO{c: c} }

func (n *netpollIO) read(p []byte) (int, error) { return n.c.Read(p) }

// writev writes each batch with the connection's Write, which copies into
// netpoll's output buffer and flushes under netpoll's flush lock. (The
// nocopy Writer API — WriteBinary + Flush — races with Close: netpoll frees
// its buffers on Close while an unlocked WriteBinary may be using them.)
func (n *netpollIO) writev(iov [][]byte) error {
	for _, b := range iov {
		if _, err := n.c.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (n *netpollIO) close() error { return n.c.Close() }

func (n *netpollIO) isEOF(err error) bool { return errors.Is(err, netpoll.ErrEOF) }

func (n *netpollIO) eagerBuffered() int { return n.c.Reader().Len() }

func (n *netpollIO) backend() Backend { return BackendNetpoll }

func (n *netpollIO) canTryWrite() bool { return false }

func (n *netpollIO) tryWrite([]byte) (int, error) { return 0, errors.ErrUnsupported }
