// Package mpsc is the per-port mailbox: a lock-free multi-producer,
// single-consumer ring with an unbounded, mutex-protected overflow path.
//
// Producers [Queue.Push] from any goroutine. While the ring has room a push is
// one CAS and two stores. When the ring is full the push goes to the overflow
// list, and from then on every push goes there until the consumer has taken
// the list over; this keeps each producer's messages in order. Nothing is
// ever dropped: the overflow list grows, and a push that goes there reports
// a bound on the number of elements waiting (the overflow list exactly, the
// ring as full, the list the consumer has taken over at its length then),
// and Count gives the exact number, so the owner can enforce its own limit.
//
// Memory: a slot's value is cleared when the consumer advances past it. The
// two overflow lists (the producers' and the one the consumer took over)
// are reused while the queue is busy, so a steady backlog allocates
// nothing; when the consumer finds the queue empty ([Queue.Idle]) a list
// larger than retainMax elements goes to a sync.Pool, which the garbage
// collector empties: a burst does not keep its memory, and a backlog that
// comes back soon takes its list back.
//
// The algorithm for the ring is D. Vyukov's bounded MPMC queue specialised to
// a single consumer: each slot carries a sequence number that tells producers
// and the consumer whose turn it is.
package mpsc

import (
	"sync"
	"sync/atomic"
)

type slot[T any] struct {
	seq atomic.Uint64
	v   T
}

// Queue is an MPSC queue of T. The zero value is not usable; call New.
type Queue[T any] struct {
	// Read-mostly fields first, then the producers' tail and the
	// consumer's head on cache lines of their own (no false sharing).
	mask        uint64
	ring        []slot[T]
	overflowing atomic.Bool
	_           [64]byte
	tail        atomic.Uint64
	_           [56]byte
	// head is the consumer's position. The consumer keeps it in headLocal
	// and publishes it to head (for Pending) only when the queue runs
	// empty, which saves a fenced store per element.
	head atomic.Uint64
	_    [56]byte

	// The consumer's own fields, written per element taken from a list
	// it took over: apart from the lock and list the producers write on
	// every overflowing push.
	headLocal uint64
	pending   []T          // an overflow list taken over by the consumer
	pendPos   int          //
	pendLeft  atomic.Int64 // len(pending)-pendPos, for Count (exact; producers do not read it per push)
	tookOver  bool         // a list was taken over since the last Idle
	_         [64]byte

	mu   sync.Mutex
	over []T // overflow list (FIFO), guarded by mu
	// pendTaken is len(pending) when the consumer took it over, until it
	// has handled that list (then 0): Push's bound. Push reads it, not
	// pendLeft, so that the consumer's per-element store stays on a cache
	// line the producers do not read on every push (in a local flood the
	// line's traffic both ways was a fifth of the CPU).
	pendTaken atomic.Int64
	spare     sync.Pool // *[]T: large overflow lists set aside by Idle
}

// retainMax is the largest overflow list kept in the queue while it is
// idle; larger ones wait in the queue's sync.Pool.
const retainMax = 1024

// New returns a queue whose ring holds size elements (rounded up to a power
// of two, at least 2).
func New[T any](size int) *Queue[T] {
	n := 2
	for n < size {
		n <<= 1
	}
	q := &Queue[T]{mask: uint64(n - 1), ring: make([]slot[T], n)}
	for i := range q.ring {
		q.ring[i].seq.Store(uint64(i))
	}
	return q
}

// Cap is the ring capacity.
func (q *Queue[T]) Cap() int { return len(q.ring) }

// Push appends a copy of *v. It never blocks on the consumer. atMost is 0
// when v went into the ring; when it went to the overflow list it is a
// bound on the number of elements in the queue after the push (v
// included, and the one the consumer holds between Peek and Advance):
// exact for the producers' overflow list, with every ring slot counted as
// full and the list the consumer took over counted whole until it has
// handled it.
// [Queue.Count] is exact but reads the ring; call it only when the bound
// is over a limit.
func (q *Queue[T]) Push(v *T) (atMost int) {
	if q.overflowing.Load() {
		q.mu.Lock()
		if q.overflowing.Load() {
			q.appendOverLocked(v)
			n := q.boundLocked()
			q.mu.Unlock()
			return n
		}
		q.mu.Unlock()
	}
	for {
		pos := q.tail.Load()
		s := &q.ring[pos&q.mask]
		seq := s.seq.Load()
		switch d := int64(seq - pos); {
		case d == 0:
			if q.tail.CompareAndSwap(pos, pos+1) {
				s.v = *v
				s.seq.Store(pos + 1)
				return 0
			}
		case d < 0: // ring full
			q.mu.Lock()
			q.overflowing.Store(true)
			q.appendOverLocked(v)
			n := q.boundLocked()
			q.mu.Unlock()
			return n
		}
	}
}

// appendOverLocked appends to the overflow list, taking a list set aside
// by Idle when it has none. Called with mu held.
func (q *Queue[T]) appendOverLocked(v *T) {
	if q.over == nil {
		if l, ok := q.spare.Get().(*[]T); ok {
			q.over = (*l)[:0]
		}
	}
	q.over = append(q.over, *v)
}

// Idle sets aside overflow lists larger than retainMax when the queue is
// empty (the consumer's Peek found nothing): into the queue's sync.Pool,
// which keeps them for a backlog that comes back and lets the garbage
// collector take them otherwise. Consumer only; cheap when there are none.
func (q *Queue[T]) Idle() {
	if !q.tookOver {
		return
	}
	q.tookOver = false
	if cap(q.pending) > retainMax && q.pendPos == len(q.pending) {
		l := q.pending[:0]
		q.pending, q.pendPos = nil, 0
		q.spare.Put(&l)
	}
	q.mu.Lock()
	if !q.overflowing.Load() && len(q.over) == 0 && cap(q.over) > retainMax {
		l := q.over[:0]
		q.over = nil
		q.spare.Put(&l)
	}
	q.mu.Unlock()
}

// boundLocked is Push's bound: the overflow list, the list the consumer
// took over at its length then, and a full ring.
// Called with mu held.
func (q *Queue[T]) boundLocked() int {
	return len(q.over) + int(q.pendTaken.Load()) + len(q.ring)
}

// Count is the exact number of elements waiting (Push reports a bound). It takes
// the overflow lock and reads every slot: for checks off the fast path.
func (q *Queue[T]) Count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.countLocked()
}

// countLocked is the number of elements waiting: the ring slots that hold
// an element not yet advanced past, the overflow list and what is left of
// the list the consumer took over. Called with mu held (on the overflow
// path only: it reads every slot's sequence).
func (q *Queue[T]) countLocked() int {
	n := len(q.over) + int(q.pendLeft.Load())
	tail := q.tail.Load()
	size := uint64(len(q.ring))
	for pos := tail - min(tail, size); pos < tail; pos++ {
		if q.ring[pos&q.mask].seq.Load() == pos+1 {
			n++
		}
	}
	return n
}

// Pop removes the oldest element. It must only be called by the consumer.
// ok is false when no element is ready; an element whose push is still in
// progress is not ready (its producer will see that and notify the consumer).
func (q *Queue[T]) Pop() (v T, ok bool) {
	p, ok := q.Peek()
	if !ok {
		return v, false
	}
	v = *p
	q.Advance()
	return v, true
}

// Peek returns a pointer to the oldest element without removing it, so the
// consumer can use it in place; the slot stays owned by the consumer until
// Advance. Consumer only. ok is false when no element is ready (as for Pop).
func (q *Queue[T]) Peek() (v *T, ok bool) {
	if q.pendPos < len(q.pending) {
		return &q.pending[q.pendPos], true
	}
	head := q.headLocal
	s := &q.ring[head&q.mask]
	if s.seq.Load() == head+1 {
		return &s.v, true
	}
	q.head.Store(head) // running empty: publish the position for Pending
	if !q.overflowing.Load() || q.tail.Load() != head {
		return nil, false
	}
	q.mu.Lock()
	if q.tail.Load() != head {
		q.mu.Unlock()
		return q.Peek()
	}
	old := q.pending
	q.pending, q.over = q.over, old[:0] // the consumed list is the producers' next
	q.tookOver = true
	q.pendPos = 0
	q.pendLeft.Store(int64(len(q.pending)))
	q.pendTaken.Store(int64(len(q.pending)))
	q.overflowing.Store(false)
	q.mu.Unlock()
	return q.Peek()
}

// Advance removes the element returned by the last Peek and hands its slot
// back to the producers, cleared: nothing the element referenced stays
// reachable from the queue.
func (q *Queue[T]) Advance() {
	if q.pendPos < len(q.pending) {
		var zero T
		q.pending[q.pendPos] = zero // the overflow list is reused: clear it
		q.pendPos++
		q.pendLeft.Store(int64(len(q.pending) - q.pendPos))
		if q.pendPos == len(q.pending) {
			q.pendTaken.Store(0) // the list is handled: it no longer counts in the bound
		}
		return
	}
	head := q.headLocal
	s := &q.ring[head&q.mask]
	var zero T
	s.v = zero // drop its references now: the slot is the producers' after the store
	s.seq.Store(head + q.mask + 1)
	q.headLocal = head + 1
}

// Release drops the consumer's retained memory for good: the ring slots it
// used and the overflow lists. Call it, as the consumer, once the queue
// will not be used again (after the last Pop); pushes that still come in
// are kept as usual. Consumer only.
func (q *Queue[T]) Release() {
	q.pending, q.pendPos = nil, 0
	q.pendLeft.Store(0)
	q.pendTaken.Store(0)
	q.mu.Lock()
	if len(q.over) == 0 {
		q.over = nil
	}
	q.mu.Unlock()
	for q.spare.Get() != nil { // the lists set aside go too
	}
}

// Ready reports whether Pop would return an element. Consumer only.
func (q *Queue[T]) Ready() bool {
	head := q.headLocal
	return q.pendPos < len(q.pending) ||
		q.ring[head&q.mask].seq.Load() == head+1 ||
		q.overflowing.Load() && q.tail.Load() == head
}

// Pending reports whether anything has been pushed and not yet popped,
// including pushes still in flight. Unlike Ready it may be called from any
// goroutine, but it is exact only after the consumer's last Pop or Peek
// found the queue empty (the consumer publishes its position then); it
// does not count an overflow list the consumer already took.
func (q *Queue[T]) Pending() bool {
	return q.tail.Load() != q.head.Load() || q.overflowing.Load()
}
