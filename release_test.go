package aemp

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aemp-go/aemp/pool"
)

// A port drops the references of the remote messages it handled in a batch
// together (Port.releaseLater): however the batch ends — the mailbox runs
// empty, the batch is full, a handler fails or panics — every message's
// reference is dropped, each buffer's count comes back to the holder's own,
// and messages from several buffers interleave correctly.
func TestBatchedRelease(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch int
		fail  func(i int) error // the handler's result for message i
	}{
		{"drained", 0, nil},
		{"batch of 3", 3, nil},
		{"handler error", 0, func(i int) error {
			if i == 40 {
				return errors.New("stop")
			}
			return nil
		}},
		{"handler panic", 0, func(i int) error {
			if i == 40 {
				panic("stop")
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t, Config{Batch: tc.batch})
			bufs := []*pool.Buf{pool.Get(64), pool.Get(64), pool.Get(64)}
			var handled atomic.Int64
			block := make(chan struct{})
			p := n.NewPort().Rcv("t", func(m *Msg) error {
				if handled.Add(1) == 1 {
					<-block // the rest queue up behind the first: batches
				}
				v, err := m.Int(1)
				if err != nil {
					return err
				}
				if tc.fail != nil {
					return tc.fail(int(v))
				}
				return nil
			})
			const total = 100
			for i := range total {
				b := bufs[i/7%len(bufs)] // runs of 7 messages per buffer, interleaved
				args := []byte(fmt.Sprint(i))
				m := Msg{tag: "t"}
				b.Retain()
				m.setRemote(args, nil, b, nil)
				if err := p.push(&m); err != nil {
					t.Fatal(err)
				}
			}
			close(block)
			waitFor(t, "the port to finish", func() bool {
				if !p.Alive() {
					return true
				}
				return handled.Load() == total && p.state.Load() == portIdle
			})
			for j, b := range bufs {
				waitFor(t, fmt.Sprintf("buffer %d's references", j), func() bool { return b.Refs() == 1 })
				b.Release()
			}
		})
	}
}

// A handler that blocks holds no buffer but its own message's: references
// kept for messages handled before it are dropped first, so a link's
// inbound bound counts what it did when each message released its own.
func TestBatchedReleaseBeforeBlocking(t *testing.T) {
	n := newTestNode(t, Config{})
	buf := pool.Get(64)
	block, blocked := make(chan struct{}), make(chan struct{})
	var handled atomic.Int64
	p := n.NewPort().Rcv("t", func(m *Msg) error {
		if v, _ := m.Int(1); v < 0 { // the local message
			close(blocked)
			<-block
		}
		handled.Add(1)
		return nil
	})
	for i := range 10 {
		m := Msg{tag: "t"}
		buf.Retain()
		m.setRemote([]byte(fmt.Sprint(i)), nil, buf, nil)
		if err := p.push(&m); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.push(NewMsg("t", -1)); err != nil {
		t.Fatal(err)
	}
	recv(t, blocked)
	if r := buf.Refs(); r != 1 {
		t.Errorf("while a local message's handler blocks, the buffer has %d references, want 1 (the test's own)", r)
	}
	close(block)
	waitFor(t, "all handled", func() bool { return handled.Load() == 11 })
	buf.Release()
}
