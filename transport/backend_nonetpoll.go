//go:build !((linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64)))

package transport

// Platforms without cloudwego/netpoll (windows, 32-bit, other arches): only
// the std backend exists. Config.Validate refuses BackendNetpoll here, so
// newLinkIO never asks for it.

import (
	"errors"
	"io"
	"net"
)

const netpollAvailable = false

func setNetpollLogOutput(io.Writer) {}

func netpollLinkIO(net.Conn) (linkIO, bool) { return nil, false }

func moveToNetpoll(*net.TCPConn) (linkIO, error) {
	return nil, errors.New("netpoll is not available on this platform")
}
