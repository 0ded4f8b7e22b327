//go:build unix

package transport

import (
	"net"
	"syscall"
)

// canRawWrite: a socket can be written without blocking (writeOnce).
const canRawWrite = true

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
	s.wn, s.werr = writeOnce(int(fd), s.wb)
	return true // never wait: the writer goroutine handles the rest
}

// writeOnce is one non-blocking write(2) of b to the socket fd: the bytes
// it took (0 if it would block or was interrupted), or its error.
func writeOnce(fd int, b []byte) (int, error) {
	n, err := syscall.Write(fd, b)
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return 0, nil
	}
	return max(n, 0), err
}
