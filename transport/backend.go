package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// linkIO is a backend's view of the connection, used by the reader (read),
// the writer (writev) and shutdown (close).
type linkIO interface {
	read(p []byte) (int, error)
	writev(iov [][]byte) error
	close() error
	isEOF(err error) bool
	// eagerBuffered reports bytes the backend has read from the socket but
	// the link has not, or -1 if the backend never reads ahead.
	eagerBuffered() int
	backend() Backend
	// canTryWrite reports whether tryWrite is available for n bytes.
	canTryWrite(n int) bool
	// tryWrite makes one non-blocking write attempt and reports how many
	// bytes the socket took (0 if it would block). Over TLS it takes all
	// of b: what the socket did not take waits in the backend (pending).
	tryWrite(b []byte) (int, error)
	// pending reports bytes a tryWrite left in the backend, which the
	// writer's next writev writes first (even with nothing else to write).
	pending() bool
	// quiesce is called after a failed writev, once the link is shut down;
	// it returns when the backend no longer uses the slices writev was
	// given, so that their buffers may be reused.
	quiesce()
}

func newLinkIO(conn net.Conn, cfg Config) (linkIO, error) {
	if io, ok := netpollLinkIO(conn); ok {
		return io, nil
	}
	setKeepAlive(conn, cfg.KeepAlive)
	if cfg.SendBuffer > 0 {
		if tc, ok := netConnOf(conn).(*net.TCPConn); ok {
			_ = tc.SetWriteBuffer(cfg.SendBuffer) // best effort, like keep-alive
		}
	}
	if cfg.Backend == BackendNetpoll {
		if tc, ok := conn.(*net.TCPConn); ok {
			io, err := moveToNetpoll(tc)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBackend, err)
			}
			return io, nil
		}
		// netpoll has no TLS (and cannot take arbitrary net.Conns): those
		// links run on the std backend.
	}
	s := &stdIO{conn: conn}
	s.initTryWrite()
	s.initTLSWrite()
	return s, nil
}

// netConnOf is the connection under TLS and the wrappers around it (their
// NetConn methods: tls.Conn's, tlsWire's, the handshake's replay wrapper's).
func netConnOf(conn net.Conn) net.Conn {
	for u := under(conn); u != nil; u = under(conn) {
		conn = u
	}
	return conn
}

// under is the connection conn wraps (its NetConn method), or nil.
func under(conn net.Conn) net.Conn {
	if u, ok := conn.(interface{ NetConn() net.Conn }); ok {
		return u.NetConn()
	}
	return nil
}

func setKeepAlive(conn net.Conn, period time.Duration) {
	if period < 0 {
		return
	}
	if tc, ok := netConnOf(conn).(*net.TCPConn); ok {
		_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: period, Interval: period})
	}
}

// stdIO runs a link over any net.Conn with the standard library. Its
// direct write (tryWrite) needs a raw socket write, which exists on unix
// only (backend_unix.go); elsewhere raw and tw stay nil and canTryWrite is
// false. Over TLS the direct write goes through crypto/tls to the tlsWire
// under it (tlswire.go), when the connection was made with WrapTLS.
type stdIO struct {
	conn net.Conn
	raw  syscall.RawConn // plain TCP on unix only: for tryWrite
	wfn  func(fd uintptr) bool
	wb   []byte // tryWrite's argument and results, for wfn and tfn (no closure per call)
	wn   int
	werr error
	tw   *tlsWire     // TLS over a WrapTLS connection that can write without blocking
	tfn  func() error // the TLS Write of wb, for tw.direct
}

func (s *stdIO) canTryWrite(n int) bool {
	if s.tw != nil {
		return n <= maxTLSDirect && !s.tw.pending.Load()
	}
	return s.raw != nil
}

func (s *stdIO) tryWrite(b []byte) (int, error) {
	s.wb = b
	var err error
	if s.tw != nil {
		err = s.tw.direct(s.tfn)
		s.wn, s.werr = len(b), nil
	} else {
		err = s.raw.Write(s.wfn)
	}
	s.wb = nil
	if err != nil {
		return 0, err
	}
	return s.wn, s.werr
}

func (s *stdIO) pending() bool { return s.tw != nil && s.tw.pending.Load() }

// initTLSWrite enables tryWrite over TLS when the connection under the
// tls.Conn is a tlsWire that can write without blocking.
func (s *stdIO) initTLSWrite() {
	tc, ok := s.conn.(*tls.Conn)
	if !ok {
		return
	}
	if w := tlsWireOf(tc.NetConn()); w != nil && w.raw != nil {
		s.tw = w
		s.tfn = func() error {
			_, err := tc.Write(s.wb)
			return err
		}
	}
}

func (s *stdIO) read(p []byte) (int, error) { return s.conn.Read(p) }

func (s *stdIO) writev(iov [][]byte) error {
	if s.pending() {
		if err := s.tw.flush(); err != nil {
			return err
		}
	}
	if len(iov) == 0 {
		return nil
	}
	if len(iov) == 1 {
		_, err := s.conn.Write(iov[0])
		return err
	}
	bufs := net.Buffers(iov)
	_, err := bufs.WriteTo(s.conn) // writev on *net.TCPConn
	return err
}

func (s *stdIO) close() error {
	if s.tw != nil {
		s.tw.closeUnder()
	}
	return s.conn.Close()
}

func (s *stdIO) quiesce()             {}
func (s *stdIO) isEOF(err error) bool { return false }
func (s *stdIO) eagerBuffered() int   { return -1 }
func (s *stdIO) backend() Backend     { return BackendStd }

// Dial connects to addr over TCP for the handshake and a later NewLink with
// the same cfg. It sets TCP_NODELAY and keep-alive. The connection is a
// plain *net.TCPConn for both backends: the handshake (and TLS, if
// negotiated) runs on the std runtime poller, and NewLink moves plain TCP
// connections onto netpoll when cfg.Backend asks for it.
func Dial(ctx context.Context, addr string, cfg Config) (net.Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.populated()
	d := net.Dialer{KeepAlive: cfg.KeepAlive}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// Listener accepts connections for the handshake and a later NewLink, like
// Dial's. Close it to stop accepting.
type Listener struct {
	ln  net.Listener
	cfg Config
}

// Listen listens on the TCP address addr (e.g. ":4040", "127.0.0.1:0").
func Listen(addr string, cfg Config) (*Listener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lc := net.ListenConfig{KeepAlive: cfg.populated().KeepAlive}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Listener{ln: ln, cfg: cfg}, nil
}

// Accept waits for the next connection. After Close it returns an error
// wrapping net.ErrClosed. Safe for concurrent use.
func (l *Listener) Accept() (net.Conn, error) { return l.ln.Accept() }

// Close stops the listener; connections already accepted stay open.
func (l *Listener) Close() error { return l.ln.Close() }

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// IsClosed reports whether err is the error Accept returns after Close.
func IsClosed(err error) bool { return errors.Is(err, net.ErrClosed) }
