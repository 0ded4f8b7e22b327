package transport

import (
	"fmt"
	"runtime"
	"time"

	"github.com/aemp-go/aemp/frame"
)

// Backend selects the I/O implementation of a link.
type Backend int

const (
	// BackendDefault is the measured-faster backend (see DefaultBackend).
	BackendDefault Backend = iota
	// BackendStd uses the standard library's net package; it takes any
	// net.Conn, including *tls.Conn.
	BackendStd
	// BackendNetpoll uses cloudwego/netpoll (epoll, kqueue); plain TCP
	// only, and only where netpoll runs (see Available).
	BackendNetpoll
)

// DefaultBackend is what BackendDefault means. It is BackendStd, on every
// platform: in the side-by-side run (docs/performance.md, "The netpoll
// backend, event-driven") std had 1.4–1.5× netpoll's one-way throughput
// and 1.15× its bulk rate with the round trip a tie, it bounds inbound
// memory by TCP back-pressure, and it is the only backend for TLS. netpoll
// is the better choice for many mostly idle links: a goframe1 link on it
// has no goroutine while idle and ~30 % less memory.
const DefaultBackend = BackendStd

// Available reports whether b runs on this platform. BackendStd (and so
// BackendDefault) runs everywhere; BackendNetpoll on linux (amd64, arm64,
// loong64), darwin and freebsd (amd64, arm64), where cloudwego/netpoll
// builds. Elsewhere a Config asking for it fails Validate with ErrBackend.
func (b Backend) Available() bool {
	return b == BackendDefault || b == BackendStd || (b == BackendNetpoll && netpollAvailable)
}

// String returns "default", "std" or "netpoll".
func (b Backend) String() string {
	switch b {
	case BackendDefault:
		return "default"
	case BackendStd:
		return "std"
	case BackendNetpoll:
		return "netpoll"
	}
	return fmt.Sprintf("Backend(%d)", int(b))
}

// Config configures links, Dial and Listen. The zero value is valid; every
// zero field means the documented default. NewLink copies the Config and
// never modifies the caller's value.
type Config struct {
	// Backend selects the I/O implementation (default DefaultBackend).
	Backend Backend

	// MaxFrame is the maximum size of one inbound or outbound message
	// (goframe1 payload, decompressed payload, JSON text or CBOR item);
	// default frame.DefaultMaxFrame (1 MiB).
	MaxFrame int
	// MaxSend, if positive and below MaxFrame, is the largest outbound
	// message (the limit the peer announced); default MaxFrame.
	MaxSend int
	// MaxDepth is the maximum nesting depth of an inbound JSON text or
	// CBOR item; default and maximum frame.DefaultMaxDepth (= wire.MaxDepth,
	// the deepest nesting package wire scans: a larger limit would let the
	// splitter pass texts that the envelope scanner then rejects).
	MaxDepth int

	// MaxOutbound bounds the bytes queued for sending but not yet written;
	// default 64 MiB.
	MaxOutbound int
	// MaxInbound bounds the bytes of read buffers handed to the handler and
	// not yet released; past it the reader pauses. Default 8 MiB.
	MaxInbound int
	// ReadBuffer is the size of one read buffer; default 64 KiB.
	ReadBuffer int

	// BatchBytes and BatchMessages bound one outbound batch buffer; the
	// writer writes all ready batches with one writev. Defaults 64 KiB and
	// 4096 messages.
	BatchBytes    int
	BatchMessages int

	// Compress enables s2 compression of outbound goframe1 payloads larger
	// than CompressThreshold (default frame.DefaultCompressThreshold).
	// Inbound compressed frames are always accepted.
	Compress          bool
	CompressThreshold int

	// Credit enables credit-based flow control with this receive window in
	// bytes (0: off). Only for links that use goframe1 in both directions,
	// and only if the peer runs it too with the same window (the node
	// announces it as a greeting capability and passes the agreed value):
	// each side may send Credit bytes, then waits for credit frames
	// (frame.FlagCredit) that the receiver sends as it consumes data. This
	// bounds what the peer can push even when the backend reads eagerly
	// (netpoll); a peer that overruns its credit fails the link with
	// ErrInboundOverflow.
	Credit int

	// KeepAlive is the TCP keep-alive period set on the connection; zero
	// means 15 s, negative leaves the socket's setting alone.
	KeepAlive time.Duration

	// Express lets a message of at most Express bytes (framed) overtake
	// larger messages queued before it, when they go to other destinations
	// (see Link.CommitKey): small messages then wait for at most one queued
	// batch instead of every queued megabyte. Messages with the same key
	// keep their order, and a message with key 0 (a barrier) is neither
	// overtaken nor overtakes. 0: off, one FIFO (the AEMP order). With
	// Express on, every message goes through the writer goroutine (no
	// direct writes from Commit).
	Express int
	// SendBuffer sets the socket's send buffer (SO_SNDBUF) in bytes: a
	// small one keeps few bytes queued in the kernel, where nothing can
	// overtake them (what Express needs to help), at some cost on links
	// with a large bandwidth-delay product. 0 leaves the system's
	// (autotuned) default.
	SendBuffer int
}

// Defaults.
const (
	DefaultMaxOutbound   = 64 << 20
	DefaultMaxInbound    = 8 << 20
	DefaultReadBuffer    = 64 << 10
	DefaultBatchBytes    = 64 << 10
	DefaultBatchMessages = 4096
	DefaultKeepAlive     = 15 * time.Second
)

// Validate reports a field that is out of range (wrapping ErrConfig) or a
// backend this platform does not have (wrapping ErrBackend).
func (c *Config) Validate() error {
	switch {
	case c.Backend < BackendDefault || c.Backend > BackendNetpoll:
		return fmt.Errorf("%w: unknown backend %d", ErrConfig, int(c.Backend))
	case !c.Backend.Available():
		return fmt.Errorf("%w: %s is not available on %s/%s", ErrBackend, c.Backend, runtime.GOOS, runtime.GOARCH)
	case c.MaxFrame < 0 || c.MaxFrame > 1<<30:
		return fmt.Errorf("%w: MaxFrame %d", ErrConfig, c.MaxFrame)
	case c.MaxDepth > frame.DefaultMaxDepth:
		return fmt.Errorf("%w: MaxDepth %d above %d", ErrConfig, c.MaxDepth, frame.DefaultMaxDepth)
	case c.MaxDepth < 0, c.MaxSend < 0, c.MaxOutbound < 0, c.MaxInbound < 0, c.ReadBuffer < 0,
		c.BatchBytes < 0, c.BatchMessages < 0, c.CompressThreshold < 0, c.Credit < 0,
		c.Express < 0, c.SendBuffer < 0:
		return fmt.Errorf("%w: negative limit", ErrConfig)
	}
	return nil
}

// populated returns a copy with every default filled in.
func (c Config) populated() Config {
	if c.Backend == BackendDefault {
		c.Backend = DefaultBackend
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxFrame, frame.DefaultMaxFrame)
	if c.MaxSend <= 0 || c.MaxSend > c.MaxFrame {
		c.MaxSend = c.MaxFrame
	}
	def(&c.MaxDepth, frame.DefaultMaxDepth)
	def(&c.MaxOutbound, DefaultMaxOutbound)
	def(&c.MaxInbound, DefaultMaxInbound)
	def(&c.ReadBuffer, DefaultReadBuffer)
	def(&c.BatchBytes, DefaultBatchBytes)
	def(&c.BatchMessages, DefaultBatchMessages)
	def(&c.CompressThreshold, frame.DefaultCompressThreshold)
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	return c
}
