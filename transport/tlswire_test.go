package transport

import (
	"bytes"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
)

// Sparse messages on a TLS link over WrapTLS are written by the committing
// goroutine (Stats.DirectWrites), as on plain TCP, and arrive in order;
// without WrapTLS every message goes through the writer.
func TestTLSDirectWrite(t *testing.T) {
	for _, wrap := range []bool{true, false} {
		t.Run(map[bool]string{true: "wrapped", false: "unwrapped"}[wrap], func(t *testing.T) {
			defer leakcheck.Check(t)()
			ca, cb := tlsPair(t, wrap)
			p := newPair(t, ca, cb, "goframe1", "goframe1", Config{}, Config{}, newRecorder(), newRecorder())
			defer p.close()
			const n = 200
			for i := 0; i < n; i++ {
				time.Sleep(2 * time.Duration(directGap)) // sparse
				if err := p.a.Commit(appendMsg(p.a.Begin(), i)); err != nil {
					t.Fatal(err)
				}
			}
			checkSeq(t, p.rb, n)
			got := p.a.Stats().DirectWrites
			switch {
			case wrap && got < n/2:
				t.Errorf("%d of %d sparse messages written directly", got, n)
			case !wrap && got != 0:
				t.Errorf("%d direct writes without WrapTLS", got)
			}
		})
	}
}

// A peer that stops reading fills the socket under direct TLS writes:
// Commit never blocks (what the socket does not take waits in the stash,
// then in the queue until MaxOutbound), and every accepted message arrives
// in order once the peer reads again.
func TestTLSDirectWriteStalledPeer(t *testing.T) {
	defer leakcheck.Check(t)()
	gate := make(chan struct{})
	rb := newRecorder()
	rb.onMsg = func([]byte) { <-gate } // the reader stops at the first message
	ca, cb := tlsPair(t, true)
	cfgA := Config{SendBuffer: 16 << 10, MaxOutbound: 512 << 10}
	p := newPair(t, ca, cb, "goframe1", "goframe1", cfgA, Config{}, newRecorder(), rb)
	defer p.close()
	tw := p.a.io.(*stdIO).tw
	if tw == nil {
		t.Fatal("no direct TLS writes on a WrapTLS link")
	}
	const size = 16000 // one record: written directly (maxTLSDirect)
	accepted := make(chan int, 1)
	go func() {
		for i := 0; ; i++ {
			time.Sleep(2 * time.Duration(directGap)) // sparse
			err := p.a.Commit(append(p.a.Begin(), bigMsg(i, size)...))
			if errors.Is(err, ErrOutboundFull) {
				accepted <- i
				return
			}
			if err != nil {
				t.Errorf("commit %d: %v", i, err)
				accepted <- i
				return
			}
		}
	}()
	var n int
	select {
	case n = <-accepted:
	case <-time.After(30 * time.Second):
		close(gate)
		t.Fatal("a Commit blocked on the stalled socket")
	}
	if tw.stashed.Load() == 0 || p.a.Stats().DirectWrites == 0 {
		t.Errorf("stash started %d times, %d direct writes: no direct write met the full socket",
			tw.stashed.Load(), p.a.Stats().DirectWrites)
	}
	close(gate)
	waitFor(t, "the accepted messages", func() bool { return rb.n.Load() >= int64(n) })
	rb.mu.Lock()
	defer rb.mu.Unlock()
	for i, m := range rb.msgs {
		if !bytes.Equal(m, bigMsg(i, size)) {
			t.Fatalf("message %d of %d differs (%.20q…)", i, n, m)
		}
	}
}

// blockConn is a connection whose Write blocks until Close.
type blockConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *blockConn) Write(p []byte) (int, error) {
	<-c.closed
	return 0, net.ErrClosed
}

func (c *blockConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// closeUnder closes the connection under a flush of the stash that blocks
// (crypto/tls's Close, which sends close_notify through the same wire,
// would wait up to 5 s for it), and leaves an idle wire alone.
func TestTLSWireCloseUnderFlush(t *testing.T) {
	defer leakcheck.Check(t)()
	c := &blockConn{closed: make(chan struct{})}
	w := WrapTLS(c).(*tlsWire)
	w.closeUnder()
	select {
	case <-c.closed:
		t.Fatal("closeUnder closed an idle wire")
	default:
	}
	w.stash = append(w.stash, "record"...)
	w.pending.Store(true)
	done := make(chan error, 1)
	go func() { done <- w.flush() }()
	for w.mu.TryLock() { // until the flush holds the wire
		w.mu.Unlock()
		runtime.Gosched()
	}
	w.closeUnder()
	select {
	case err := <-done:
		if err == nil {
			t.Error("flush over a closed connection succeeded")
		}
	case <-time.After(10 * time.Second):
		c.Close()
		t.Fatal("closeUnder left the blocked flush")
	}
	if w.pending.Load() {
		t.Error("stash still pending after its flush ended")
	}
}

// Large messages over a TLS link on WrapTLS: the writer's batches of many
// records go through the wire's blocking Write, small ones after them may
// be written directly, and every message arrives whole and in order.
func TestTLSLargeMessages(t *testing.T) {
	defer leakcheck.Check(t)()
	ca, cb := tlsPair(t, true)
	cfg := Config{MaxFrame: 8 << 20}
	p := newPair(t, ca, cb, "goframe1", "goframe1", cfg, cfg, newRecorder(), newRecorder())
	defer p.close()
	sizes := []int{100, 70000, 1 << 20, 5000, 3 << 20, 17000, 200}
	for i, n := range sizes {
		time.Sleep(2 * time.Duration(directGap)) // the small ones may go directly
		if err := p.a.Send(bigMsg(i, n)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the messages", func() bool { return p.rb.n.Load() == int64(len(sizes)) })
	p.rb.mu.Lock()
	defer p.rb.mu.Unlock()
	for i, n := range sizes {
		if !bytes.Equal(p.rb.msgs[i], bigMsg(i, n)) {
			t.Errorf("message %d (%d bytes) arrived as %d bytes, or changed", i, n, len(p.rb.msgs[i]))
		}
	}
}
