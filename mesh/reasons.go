package mesh

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/aemp-go/aemp/transport"
	"github.com/aemp-go/aemp/transport/handshake"
)

// The texts of ("transport_error", node, text) reasons: what went wrong,
// in the words a user can act on. "connect timeout" is used only for a
// real timeout.

// dialReason describes why a connection attempt failed, from the last
// error of its last try (nil: no try finished before the deadline).
func dialReason(err error) string {
	var he *handshake.Error
	switch {
	case err == nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "connect timeout"
	case errors.As(err, &he):
		return he.Err.Error() // "authentication failed: …", "TLS handshake failed: tls: …", …
	}
	if t := sysReason(err); t != "" {
		return t
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "connect timeout"
	}
	return err.Error()
}

// linkReason describes why an established link ended.
func linkReason(err error) string {
	switch {
	case err == nil, errors.Is(err, transport.ErrClosed):
		return "link closed"
	case errors.Is(err, errSwitched):
		return errSwitched.Error()
	case errors.Is(err, errKeepAlive):
		return errKeepAlive.Error()
	case errors.Is(err, transport.ErrPeerClosed), errors.Is(err, io.EOF):
		return "peer closed the connection"
	}
	if t := sysReason(err); t != "" {
		return t
	}
	return err.Error()
}

// sysReason names the common socket errors ("" for others).
func sysReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	}
	return ""
}
