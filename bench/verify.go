package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// verifier checks the delivery of one message stream: every message arrives
// once, per sender in order, with the expected body (the workload's, the
// same for every message of the stream). It is fed from a single goroutine
// (one Handler kind); the counters may be read from any.
type verifier struct {
	want    []byte       // the body every message must carry
	next    []uint64     // next expected seq per sender; only the feeding goroutine touches it
	got     atomic.Int64 // messages accepted so far
	errOnce sync.Once
	err     atomic.Pointer[error]
}

// newVerifier returns a verifier for senders senders, all starting at seq 0,
// whose messages all carry body want.
func newVerifier(senders int, want []byte) *verifier {
	return &verifier{want: want, next: make([]uint64, senders)}
}

// check verifies m and counts it. It returns false after the first failure.
func (v *verifier) check(m Msg) bool {
	switch {
	case int(m.Sender) >= len(v.next):
		v.fail(fmt.Errorf("message from unknown sender %d", m.Sender))
	case m.Seq != v.next[m.Sender]:
		v.fail(fmt.Errorf("sender %d: got seq %d, want %d (lost, duplicated or reordered)", m.Sender, m.Seq, v.next[m.Sender]))
	case len(m.Body) != len(v.want):
		v.fail(fmt.Errorf("sender %d seq %d: body of %d bytes, want %d", m.Sender, m.Seq, len(m.Body), len(v.want)))
	case !bodyMatches(m, v.want):
		v.fail(fmt.Errorf("sender %d seq %d: body content corrupted", m.Sender, m.Seq))
	default:
		v.next[m.Sender]++
		v.got.Add(1)
		return true
	}
	return false
}

// Bodies up to fullCheck bytes are compared whole; larger ones by their
// first and last 64 bytes and a 256-byte window whose place moves with
// sender and seq, and whole for every 64th message of a sender. That
// catches truncation, shifts, wrong payloads and (over a run) corruption
// anywhere, at a cost that stays small next to moving 1 MiB.
const fullCheck = 4096

func bodyMatches(m Msg, want []byte) bool {
	got := m.Body
	n := len(want)
	if n <= fullCheck || m.Seq%64 == 0 {
		return bytes.Equal(got, want)
	}
	const edge, win = 64, 256
	off := int((m.Seq*2654435761 + uint64(m.Sender)*40503) % uint64(n-win))
	return bytes.Equal(got[:edge], want[:edge]) && bytes.Equal(got[n-edge:], want[n-edge:]) &&
		bytes.Equal(got[off:off+win], want[off:off+win])
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

// jsonBody returns n bytes of compressible JSON, the shape of an API
// response: an array of records with the same keys, ids counting up and a
// few distinct values per field, padded with spaces before the closing
// bracket to exactly n bytes. It is printable ASCII, built deterministically
// (the same bytes in every process), and valid JSON (TestJSONBody).
func jsonBody(n int) []byte {
	statuses := []string{"active", "active", "pending", "suspended"}
	plans := []string{"free", "pro", "team", "enterprise"}
	regions := []string{"eu-west-1", "us-east-1", "ap-south-1"}
	tags := []string{`["alpha","beta"]`, `["beta"]`, `[]`, `["alpha","gamma","delta"]`, `["gamma"]`}
	b := make([]byte, 0, n)
	b = append(b, '[')
	var rec []byte
	for i := 0; ; i++ {
		rec = fmt.Appendf(rec[:0],
			`{"id":%d,"user":"user-%05d","email":"user-%05d@example.com","status":%q,"plan":%q,"region":%q,"score":%d,"verified":%t,"tags":%s,"created":"2024-0%d-1%dT12:00:00Z"}`,
			i+1, i, i, statuses[i%len(statuses)], plans[i%len(plans)], regions[i%len(regions)],
			(i*37)%100, i%3 != 0, tags[i%len(tags)], 1+i%9, i%7)
		sep := 0
		if i > 0 {
			sep = 1
		}
		if len(b)+sep+len(rec)+1 > n {
			break
		}
		if sep == 1 {
			b = append(b, ',')
		}
		b = append(b, rec...)
	}
	for len(b) < n-1 {
		b = append(b, ' ')
	}
	return append(b, ']')
}

// jsonBigBody is W4c's body, built once per process.
var jsonBigBody = sync.OnceValue(func() []byte { return jsonBody(bigBody) })
