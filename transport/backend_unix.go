//go:build unix

package transport

import (
	"net"
	"syscall"
)

// initTryWrite enables tryWrite on a plain TCP connection.
func (s *stdIO) initTryWrite() {
	if tc, ok := s.conn.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			s.raw = raw
			s.wfn = s.writeFD
		}
	}
}

func (s *stdIO) writeFD(fd uintptr) bool {
	n, err := syscall.Write(int(fd), s.wb)
	if err == syscall.EAGAIN || err == syscall.EINTR {
		n, err = 0, nil
	}
	s.wn, s.werr = max(n, 0), err
	return true // never wait: the writer goroutine handles the rest
}
