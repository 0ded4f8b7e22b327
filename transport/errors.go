package transport

import (
	"errors"
	"net"
)

// Sentinel errors. Errors returned by this package, and the reasons passed to
// [Handler.OnClose], wrap one of them (or a network error from the
// connection); match with errors.Is.
var (
	// ErrClosed: the link is closed (or draining) and takes no more messages.
	ErrClosed = errors.New("transport: link closed")
	// ErrOutboundFull: the outbound queue would exceed Config.MaxOutbound.
	// The message was not queued; the link stays up (see Link.WaitRoom).
	ErrOutboundFull = errors.New("transport: outbound queue full")
	// ErrInboundOverflow: the peer sent more than the inbound bound allows
	// while the link was paused (netpoll backend, which cannot stop the
	// kernel-to-user copy); the link is closed with this reason.
	ErrInboundOverflow = errors.New("transport: inbound buffer overflow")
	// ErrFraming: the peer sent bytes that are not valid in the link's
	// receive framing (the error also wraps the frame package's sentinel,
	// e.g. frame.ErrSyntax or frame.ErrFrameTooLarge).
	ErrFraming = errors.New("transport: framing error")
	// ErrMessageTooLarge: Commit got a message larger than Config.MaxFrame;
	// it was dropped, the link stays up.
	ErrMessageTooLarge = errors.New("transport: message too large")
	// ErrPeerClosed: the peer closed the connection (EOF) — AEMP's
	// "Unexpected end-of-file".
	ErrPeerClosed = errors.New("transport: unexpected end-of-file")
	// ErrUnknownFraming: NewLink got a framing name it does not implement.
	ErrUnknownFraming = errors.New("transport: unknown framing")
	// ErrBackend: the configured backend is not available on this
	// platform (see Backend.Available), or it could not take the
	// connection.
	ErrBackend = errors.New("transport: backend unavailable")
	// ErrConfig: a Config field is out of range.
	ErrConfig = errors.New("transport: invalid config")
)

// timeoutError is returned when a deadline (Drain's context) expires; it
// satisfies net.Error with Timeout() == true and wraps the context error.
type timeoutError struct {
	op  string
	err error
}

func (e *timeoutError) Error() string   { return "transport: " + e.op + " timed out: " + e.err.Error() }
func (e *timeoutError) Unwrap() error   { return e.err }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

var _ net.Error = (*timeoutError)(nil)
