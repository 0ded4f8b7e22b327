package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// frameCodec turns a Msg into a frame payload and back; the raw-TCP baselines
// differ only in their codec.
type frameCodec interface {
	// appendMsg appends the payload of m (without the length prefix) to b.
	appendMsg(b []byte, m Msg) ([]byte, error)
	// decode parses one payload; the Msg may alias p.
	decode(p []byte) (Msg, error)
}

// tcpPair connects two raw TCP endpoints on 127.0.0.1 that exchange
// u32-big-endian length-prefixed frames encoded by codec.
func tcpPair(codec frameCodec, atA, atB Handler) (*Pair, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	ca, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	cb := <-accepted
	if cb == nil {
		ca.Close()
		return nil, errors.New("accept failed")
	}
	a, b := newTCPEndpoint(ca, codec, atA), newTCPEndpoint(cb, codec, atB)
	return &Pair{A: a, B: b, Close: func() error {
		return errors.Join(a.close(), b.close())
	}}, nil
}

// tcpEndpoint is one side of a raw TCP pair: one reader goroutine calling the
// handler, and one writer goroutine flushing batched frames with writev.
type tcpEndpoint struct {
	conn  net.Conn
	codec frameCodec

	mu      sync.Mutex
	cond    *sync.Cond // signalled when the writer has taken a batch
	pending net.Buffers
	tail    []byte      // current small-frame chunk, also the last element of pending when non-empty
	size    int         // bytes in pending
	free    [][]byte    // written small-frame chunks, ready for reuse
	spare   net.Buffers // the previous batch's vector, ready for reuse
	err     error
	closed  bool
	kick    chan struct{}
	done    chan struct{}
}

const (
	tcpChunk    = 64 << 10 // small frames are copied into chunks of this size
	tcpMaxBatch = 4 << 20  // Send blocks while this many bytes wait for the writer
	tcpReadBuf  = 256 << 10
)

func newTCPEndpoint(c net.Conn, codec frameCodec, h Handler) *tcpEndpoint {
	e := &tcpEndpoint{conn: c, codec: codec, kick: make(chan struct{}, 1), done: make(chan struct{})}
	e.cond = sync.NewCond(&e.mu)
	go e.writeLoop()
	go e.readLoop(h)
	return e
}

// Send frames m into the pending batch and kicks the writer. Bodies of
// 64 KiB and more are not copied: they go to writev as their own buffer.
func (e *tcpEndpoint) Send(m Msg) error {
	e.mu.Lock()
	for e.size >= tcpMaxBatch && e.err == nil {
		e.cond.Wait()
	}
	if e.err != nil {
		err := e.err
		e.mu.Unlock()
		return err
	}
	var err error
	if len(m.Body) >= 64<<10 {
		err = e.appendLarge(m)
	} else {
		err = e.appendSmall(m)
	}
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
	return err
}

func (e *tcpEndpoint) appendSmall(m Msg) error {
	if e.tail == nil {
		if n := len(e.free); n > 0 {
			e.tail, e.free = e.free[n-1], e.free[:n-1]
		} else {
			e.tail = make([]byte, 0, tcpChunk)
		}
		e.pending = append(e.pending, nil)
	}
	start := len(e.tail)
	b, err := e.codec.appendMsg(append(e.tail, 0, 0, 0, 0), m)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	e.size += len(b) - start
	e.tail = b
	e.pending[len(e.pending)-1] = b
	if len(b) >= tcpChunk {
		e.tail = nil
	}
	return nil
}

// appendLarge writes header and body as separate buffers; only codecs whose
// payload is "header | body" (B0) can do that, others fall back to copying.
func (e *tcpEndpoint) appendLarge(m Msg) error {
	if hc, ok := e.codec.(interface{ appendHeader([]byte, Msg) []byte }); ok {
		h := hc.appendHeader(make([]byte, 4, 32), m)
		binary.BigEndian.PutUint32(h, uint32(len(h)-4+len(m.Body)))
		e.pending = append(e.pending, h, m.Body)
		e.size += len(h) + len(m.Body)
		e.tail = nil
		return nil
	}
	b, err := e.codec.appendMsg(make([]byte, 4, 4+len(m.Body)*2), m)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	e.pending = append(e.pending, b)
	e.size += len(b)
	e.tail = nil
	return nil
}

// writeLoop flushes the pending batch whenever it is kicked, then recycles
// the batch's chunks, so a steady flow allocates nothing.
func (e *tcpEndpoint) writeLoop() {
	defer close(e.done)
	var written [][]byte // the batch's buffers; WriteTo clears the vector it consumes
	for range e.kick {
		e.mu.Lock()
		batch := e.pending
		e.pending, e.spare, e.tail, e.size = e.spare[:0], nil, nil, 0
		e.cond.Broadcast()
		closed := e.closed
		e.mu.Unlock()
		if len(batch) > 0 {
			written = append(written[:0], batch...)
			vec := batch
			if _, err := vec.WriteTo(e.conn); err != nil {
				e.setErr(err)
				return
			}
			e.mu.Lock()
			for _, b := range written {
				if cap(b) == tcpChunk && len(e.free) < tcpMaxBatch/tcpChunk {
					e.free = append(e.free, b[:0])
				}
			}
			e.spare = batch[:0]
			e.mu.Unlock()
			clear(written)
		}
		if closed {
			return
		}
	}
}

func (e *tcpEndpoint) setErr(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.cond.Broadcast()
	e.mu.Unlock()
}

func (e *tcpEndpoint) readLoop(h Handler) {
	r := bufio.NewReaderSize(e.conn, tcpReadBuf)
	var big []byte
	for {
		hdr, err := r.Peek(4)
		if err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(hdr))
		r.Discard(4)
		var p []byte
		if n <= tcpReadBuf {
			if p, err = r.Peek(n); err != nil {
				return
			}
		} else {
			if cap(big) < n {
				big = make([]byte, n)
			}
			p = big[:n]
			if _, err := io.ReadFull(r, p); err != nil {
				return
			}
			n = 0
		}
		m, err := e.codec.decode(p)
		if err != nil {
			e.setErr(fmt.Errorf("decode: %w", err))
			return
		}
		h(m)
		r.Discard(n)
	}
}

func (e *tcpEndpoint) close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
	<-e.done
	return e.conn.Close()
}
