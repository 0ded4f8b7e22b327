package main

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// verifier checks the delivery of one message stream: every message arrives
// once, per sender in order, with the expected body size. It is fed from a
// single goroutine (one Handler kind); the counters may be read from any.
type verifier struct {
	bodySize int
	next     []uint64     // next expected seq per sender; only the feeding goroutine touches it
	got      atomic.Int64 // messages accepted so far
	errOnce  sync.Once
	err      atomic.Pointer[error]
}

// newVerifier returns a verifier for senders senders, all starting at seq 0.
func newVerifier(senders, bodySize int) *verifier {
	return &verifier{bodySize: bodySize, next: make([]uint64, senders)}
}

// check verifies m and counts it. It returns false after the first failure.
func (v *verifier) check(m Msg) bool {
	switch {
	case int(m.Sender) >= len(v.next):
		v.fail(fmt.Errorf("message from unknown sender %d", m.Sender))
	case m.Seq != v.next[m.Sender]:
		v.fail(fmt.Errorf("sender %d: got seq %d, want %d (lost, duplicated or reordered)", m.Sender, m.Seq, v.next[m.Sender]))
	case len(m.Body) != v.bodySize:
		v.fail(fmt.Errorf("sender %d seq %d: body of %d bytes, want %d", m.Sender, m.Seq, len(m.Body), v.bodySize))
	case v.bodySize > 0 && (m.Body[0] != bodyByte(0) || m.Body[len(m.Body)-1] != bodyByte(len(m.Body)-1)):
		v.fail(fmt.Errorf("sender %d seq %d: body content corrupted", m.Sender, m.Seq))
	default:
		v.next[m.Sender]++
		v.got.Add(1)
		return true
	}
	return false
}

// fail records the first failure.
func (v *verifier) fail(err error) {
	v.errOnce.Do(func() { v.err.Store(&err) })
}

// Err returns the first failure, or nil.
func (v *verifier) Err() error {
	if p := v.err.Load(); p != nil {
		return *p
	}
	return nil
}

// bodyByte is the content of byte i of every body: printable ASCII, so the
// same bytes are valid inside a JSON string without escaping.
func bodyByte(i int) byte { return 'a' + byte(i%26) }

// newBody returns a body of n bytes. Bodies are never modified once built.
func newBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = bodyByte(i)
	}
	return b
}

// window caps the messages one sender has in flight (sent but not yet
// received). Sender and receiver share the process, so the cap costs nothing
// on the wire; it keeps every system out of "how fast can it fill memory"
// and is the same for all systems. A blocked sender resumes only when half
// the window has drained, so sender and receiver do not wake each other for
// every message.
//
// The sender's fields and the receiver's counters are on separate cache
// lines: the receiver stores acked for every message, and a sender field
// on the same line (seen, limit) made both sides miss the cache on every
// message, which cost up to 40% of the CPU of a fast local system and
// made its results bimodal (docs/performance.md in the library, W3).
type window struct {
	_ [64]byte // nothing else shares the sender's line (a 256-byte object is 64-aligned)

	// Sender side (wake, abort and timeout are read-only).
	limit   int64
	seen    int64 // sender's cached copy of acked
	wake    chan struct{}
	abort   <-chan struct{} // closed when the run has failed
	timeout time.Duration   // longest wait without progress
	_       [24]byte        // to offset 128

	// Receiver side: written for every message (resume only when the
	// sender waits).
	acked  atomic.Int64 // messages received, stored by the receiver
	resume atomic.Int64 // acked count at which to wake the sender; noWaiter when it is not waiting
	_      [112]byte
}

const noWaiter = math.MaxInt64

// errAborted stops a sender whose run has already failed.
var errAborted = errors.New("run aborted")

func newWindow(limit int, timeout time.Duration, abort <-chan struct{}) *window {
	w := &window{limit: int64(limit), wake: make(chan struct{}, 1), abort: abort, timeout: timeout}
	w.resume.Store(noWaiter)
	return w
}

// acquire blocks the sender until it may send message number sent
// (0-based). It fails when the run is aborted or nothing is delivered for
// the timeout (messages lost without an error). Only the owning sender
// calls it.
func (w *window) acquire(sent int64) error {
	if sent-w.seen < w.limit {
		return nil
	}
	if w.seen = w.acked.Load(); sent-w.seen < w.limit {
		return nil
	}
	target := sent - w.limit/2
	w.resume.Store(target)
	defer w.resume.Store(noWaiter)
	timer := time.NewTimer(w.timeout)
	defer timer.Stop()
	for {
		if w.seen = w.acked.Load(); w.seen >= target {
			return nil
		}
		select {
		case <-w.wake: // a stale token from an earlier wait only causes one more check
		case <-w.abort:
			return errAborted
		case <-timer.C:
			return fmt.Errorf("no delivery for %v with %d messages in flight (lost?)", w.timeout, sent-w.seen)
		}
	}
}

// ack records that the receiver has now received total messages.
func (w *window) ack(total int64) {
	w.acked.Store(total)
	if r := w.resume.Load(); total >= r && w.resume.CompareAndSwap(r, noWaiter) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}
