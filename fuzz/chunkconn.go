package fuzz

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// ChunkConn is an in-memory net.Conn for driving a reader: its reads serve
// a fixed inbound stream, each read returning at most the next of a cycle
// of chosen sizes (a TCP stream may be cut anywhere), then io.EOF once the
// stream is exhausted (the peer hung up). Writes are recorded (Written).
// After Close, reads and writes fail with net.ErrClosed. Deadlines are
// accepted and ignored: no call ever blocks. It is safe for concurrent use.
type ChunkConn struct {
	mu     sync.Mutex
	in     []byte // what is left of the inbound stream
	sizes  []int  // read sizes, used in turn; empty: no limit
	next   int
	out    bytes.Buffer
	closed bool
}

// NewChunkConn returns a conn whose reads serve stream. Each byte of sizes
// is one read limit (the byte's value plus one, so 1…256 bytes), used in
// turn and cyclically; no sizes means reads take as much as fits.
func NewChunkConn(stream, sizes []byte) *ChunkConn {
	c := &ChunkConn{in: stream}
	for _, s := range sizes {
		c.sizes = append(c.sizes, int(s)+1)
	}
	return c
}

// Read copies at most the next chunk size of the stream into p.
func (c *ChunkConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	if len(c.sizes) > 0 {
		if n := c.sizes[c.next]; len(p) > n {
			p = p[:n]
		}
		c.next = (c.next + 1) % len(c.sizes)
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

// Write records p.
func (c *ChunkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	return c.out.Write(p)
}

// Written returns a copy of everything written so far.
func (c *ChunkConn) Written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

// Close makes further reads and writes fail; it is idempotent.
func (c *ChunkConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

// LocalAddr returns a placeholder address.
func (c *ChunkConn) LocalAddr() net.Addr { return chunkAddr{} }

// RemoteAddr returns a placeholder address.
func (c *ChunkConn) RemoteAddr() net.Addr { return chunkAddr{} }

// SetDeadline is accepted and ignored (no call blocks).
func (c *ChunkConn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline is accepted and ignored.
func (c *ChunkConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline is accepted and ignored.
func (c *ChunkConn) SetWriteDeadline(time.Time) error { return nil }

// chunkAddr is the address of both ends of a ChunkConn.
type chunkAddr struct{}

func (chunkAddr) Network() string { return "chunk" }
func (chunkAddr) String() string  { return "chunk" }
