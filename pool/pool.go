// Package pool provides size-classed, reference-counted byte buffers.
//
// A [Buf] is obtained with [Get], shared with [Buf.Retain] and given back with
// [Buf.Release]; the last release returns it to the pool of its size class.
// Buffers larger than the largest class are allocated and dropped normally.
//
// Releasing a buffer more often than it was retained is a bug. It always panics
// when the count goes below zero. In debug mode (enabled automatically inside
// test binaries, or with AEMP_POOL_DEBUG=1) released buffers are poisoned and
// held in a short quarantine before reuse, so a double release or a late write
// is caught even after the count has reached zero. A test binary run with
// -test.bench (go test -bench) measures what programs run: debug mode is off
// there unless AEMP_POOL_DEBUG=1 asks for it.
package pool

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

// Size classes. The largest class holds a maximum-size frame (1 MiB payload)
// plus its header and some slack.
var classes = [...]int{512, 2 << 10, 8 << 10, 32 << 10, 128 << 10, 512 << 10, 1<<20 + 4096}

// maxPooled is the largest capacity served from a pool; larger requests are
// allocated directly and garbage collected after their last release.
var maxPooled = classes[len(classes)-1]

var pools [len(classes)]sync.Pool

// Buf is a reference-counted byte buffer. B is the usable slice; its length is
// what the caller asked for, its capacity is the size class.
type Buf struct {
	B      []byte
	refs   atomic.Int32
	class  int8         // index into classes, or -1 when not pooled
	onFree func(b *Buf) // see OnFree; cleared when it runs
	free   func()       // Wrap's release of the borrowed memory
}

var debug = os.Getenv("AEMP_POOL_DEBUG") == "1" || testing.Testing() && !benchmarking(os.Args)

// benchmarking reports whether a test binary's arguments ask for
// benchmarks (a non-empty -test.bench pattern), read at init, before the
// testing package parses its flags.
func benchmarking(args []string) bool {
	const flag = "test.bench"
	for i := 1; i < len(args); i++ {
		a := args[i]
		for range 2 { // -flag or --flag
			if len(a) > 0 && a[0] == '-' {
				a = a[1:]
			}
		}
		switch {
		case a == flag:
			return i+1 < len(args) && args[i+1] != ""
		case len(a) > len(flag) && a[:len(flag)+1] == flag+"=":
			return len(a) > len(flag)+1
		}
	}
	return false
}

// SetDebug switches debug mode (see the package doc) and returns the previous
// setting. It is meant for tests and benchmarks.
func SetDebug(on bool) bool {
	old := debug
	debug = on
	if !on {
		flushQuarantine()
	}
	return old
}

func classOf(n int) int {
	for i, c := range classes {
		if n <= c {
			return i
		}
	}
	return -1
}

// Get returns a buffer with len(B) == n and a reference count of one.
func Get(n int) *Buf {
	if n < 0 {
		panic("pool: negative size")
	}
	c := classOf(n)
	if c < 0 {
		b := &Buf{B: make([]byte, n), class: -1}
		b.refs.Store(1)
		return b
	}
	var b *Buf
	if v := pools[c].Get(); v != nil {
		b = v.(*Buf)
		b.B = b.B[:n]
		b.onFree = nil
	} else {
		b = &Buf{B: make([]byte, n, classes[c]), class: int8(c)}
	}
	b.refs.Store(1)
	return b
}

// Wrap returns a Buf over memory the pool does not own (len(B) == cap(B)
// == len(b), a reference count of one). The last Release runs the OnFree
// hook, if any, then free, which gives the memory back to its owner; the Buf
// itself is never pooled. It lets reference-counted consumers share a
// buffer borrowed from elsewhere (a netpoll read buffer) as they would a
// pooled one.
func Wrap(b []byte, free func()) *Buf {
	w := &Buf{B: b[:len(b):len(b)], class: -1, free: free}
	w.refs.Store(1)
	return w
}

// grow returns a buffer holding the contents of b with room for at least n
// more bytes. If b has room it is returned unchanged; otherwise a larger
// buffer is obtained, the contents copied and b released. Only the sole owner
// of b (reference count one) may call grow.
func grow(b *Buf, n int) *Buf {
	if cap(b.B)-len(b.B) >= n {
		return b
	}
	need := len(b.B) + n
	if c := 2 * cap(b.B); c > need {
		need = c
	}
	nb := Get(need)
	nb.B = nb.B[:copy(nb.B, b.B)]
	b.Release()
	return nb
}

// OnFree registers fn to run once, when the last reference is released,
// just before b goes back to its pool. fn runs on the goroutine that made the
// final Release call, must not block, and must not use b.B or keep b; it may
// read cap(b.B). It lets an owner bound the bytes it has handed out but that
// are not yet released (a link's inbound limit). Only the sole owner may call
// OnFree (reference count one, nobody else holding b yet); a later call
// replaces fn. Passing a method value created once keeps Get/Release free of
// allocations.
func (b *Buf) OnFree(fn func(b *Buf)) { b.onFree = fn }

// Retain adds a reference.
func (b *Buf) Retain() {
	if b.refs.Add(1) <= 1 {
		panic("pool: Retain of a released buffer")
	}
}

// Refs reports the current reference count (for tests and assertions).
func (b *Buf) Refs() int32 { return b.refs.Load() }

// Release drops a reference; the last one returns the buffer to its pool.
func (b *Buf) Release() { b.ReleaseN(1) }

// ReleaseN drops n references at once (n >= 1), as n Releases would.
func (b *Buf) ReleaseN(n int32) {
	switch n = b.refs.Add(-n); {
	case n > 0:
		return
	case n < 0:
		panic("pool: double release of a buffer")
	}
	if fn := b.onFree; fn != nil {
		b.onFree = nil
		fn(b)
	}
	if b.class < 0 {
		if f := b.free; f != nil {
			b.free = nil
			f()
		}
		return
	}
	if debug {
		quarantine(b)
		return
	}
	pools[b.class].Put(b)
}

// quarantine poisons a released buffer and delays its reuse, so that a second
// Release (count below zero) panics instead of silently freeing a buffer that
// someone else got from the pool in the meantime. It holds the last 256
// released buffers, and at most qMaxBytes of them.
var qmu sync.Mutex
var qring [256]*Buf
var qpos, qlen, qbytes int

const qMaxBytes = 16 << 20

func quarantine(b *Buf) {
	full := b.B[:cap(b.B)]
	for i := range full {
		full[i] = 0xdb
	}
	for {
		qmu.Lock()
		if qlen < len(qring) && (qlen == 0 || qbytes+cap(b.B) <= qMaxBytes) {
			qring[(qpos+qlen)%len(qring)] = b
			qlen++
			qbytes += cap(b.B)
			qmu.Unlock()
			return
		}
		old := qpopLocked()
		qmu.Unlock()
		reuse(old)
	}
}

// qpopLocked takes the oldest quarantined buffer. Called with qmu held.
func qpopLocked() *Buf {
	old := qring[qpos]
	qring[qpos] = nil
	qpos = (qpos + 1) % len(qring)
	qlen--
	qbytes -= cap(old.B)
	return old
}

// reuse puts a buffer that left the quarantine back into its pool. A
// buffer whose count moved after its release has already made Release or
// Retain panic; it is dropped rather than reused.
func reuse(b *Buf) {
	if b.refs.Load() == 0 {
		pools[b.class].Put(b)
	}
}

// flushQuarantine releases every quarantined buffer to its pool.
func flushQuarantine() {
	for {
		qmu.Lock()
		if qlen == 0 {
			qmu.Unlock()
			return
		}
		b := qpopLocked()
		qmu.Unlock()
		reuse(b)
	}
}
