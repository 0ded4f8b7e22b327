package mpsc

import (
	"sync"
	"testing"
)

type item struct{ producer, seq int }

func TestFIFOSingleProducer(t *testing.T) {
	q := New[int](4)
	for i := 0; i < 100; i++ { // 4 in the ring, the rest overflows
		q.Push(ptr(i))
	}
	for i := 0; i < 100; i++ {
		v, ok := q.Pop()
		if !ok || v != i {
			t.Fatalf("pop %d: got %d %v", i, v, ok)
		}
	}
	if _, ok := q.Pop(); ok || q.Ready() {
		t.Fatal("queue should be empty")
	}
	// After the overflow has been consumed the ring is used again.
	if n := q.Push(ptr(7)); n != 0 {
		t.Fatalf("push after drain went to overflow (%d)", n)
	}
	if v, _ := q.Pop(); v != 7 {
		t.Fatal("lost element after overflow")
	}
}

// A push that overflows reports a bound (the producers' overflow list
// exactly, the ring as full, the list the consumer took over at its length
// then, until handled); Count is exact: the ring, the overflow list, and
// what is left of the list the consumer has taken over.
func TestOverflowCount(t *testing.T) {
	q := New[int](2)
	q.Push(ptr(1))
	q.Push(ptr(2))
	check := func(pushed, bound, exact int) {
		t.Helper()
		if n := q.Push(ptr(pushed)); n != bound {
			t.Fatalf("push %d: bound %d, want %d", pushed, n, bound)
		}
		if n := q.Count(); n != exact {
			t.Fatalf("push %d: count %d, want %d", pushed, n, exact)
		}
	}
	check(3, 3, 3)
	if v, _ := q.Pop(); v != 1 {
		t.Fatalf("popped %d, want 1", v)
	}
	check(4, 4, 3) // one ring slot is free: the bound counts it, Count does not
	// The consumer empties the ring and takes the overflow list over
	// (3, 4); new pushes go to the ring again.
	for want := 2; want <= 3; want++ {
		if v, _ := q.Pop(); v != want {
			t.Fatalf("popped %d, want %d", v, want)
		}
	}
	q.Push(ptr(5))
	q.Push(ptr(6))
	check(7, 5, 4) // 4 left of the 2 taken over (the bound counts both), 5 and 6 in the ring, 7
	if v, _ := q.Pop(); v != 4 {
		t.Fatalf("popped %d, want 4", v)
	}
	// The taken-over list is handled: the bound counts only 7 (taken over
	// next), 8 and a full ring.
	check(8, 4, 4) // 5, 6 in the ring, 7 and 8 in the overflow list
	for want := 5; want <= 8; want++ {
		if v, ok := q.Pop(); !ok || v != want {
			t.Fatalf("popped %d %v, want %d", v, ok, want)
		}
	}
}

// After a burst the queue does not keep the burst's memory: the overflow
// list goes once drained, and the ring slots are cleared as they are
// advanced past.
func TestBurstMemoryReleased(t *testing.T) {
	q := New[*[1024]byte](4)
	for range 10000 {
		q.Push(ptr(new([1024]byte)))
	}
	for {
		if _, ok := q.Pop(); !ok {
			break
		}
	}
	q.Idle()
	if cap(q.pending) != 0 || cap(q.over) > retainMax {
		t.Fatalf("retained lists of %d and %d elements", cap(q.pending), cap(q.over))
	}
	for i := range q.ring {
		if q.ring[i].v != nil {
			t.Fatalf("slot %d still holds a value", i)
		}
	}
	// Handled in place (Peek/Advance) the slot is cleared too.
	q.Push(ptr(new([1024]byte)))
	q.Peek()
	q.Advance()
	for i := range q.ring {
		if q.ring[i].v != nil {
			t.Fatalf("slot %d still holds a value after Peek/Advance", i)
		}
	}
}

// Many producers, one consumer, a tiny ring so the overflow path is hit
// constantly: every element arrives exactly once and each producer's
// elements arrive in order.
func TestConcurrentPerProducerOrder(t *testing.T) {
	const producers, per = 4, 20000
	for _, size := range []int{2, 64, 4096} {
		q := New[item](size)
		var wg sync.WaitGroup
		for p := 0; p < producers; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					q.Push(ptr(item{p, i}))
				}
			}()
		}
		next := make([]int, producers)
		got := 0
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		finished := false
		for got < producers*per {
			v, ok := q.Pop()
			if !ok {
				if finished && !q.Ready() {
					// producers are done, nothing in flight, yet elements are missing
					t.Fatalf("size %d: lost elements: got %d of %d", size, got, producers*per)
				}
				select {
				case <-done:
					finished = true
				default:
				}
				continue
			}
			if v.seq != next[v.producer] {
				t.Fatalf("size %d: producer %d: got seq %d, want %d", size, v.producer, v.seq, next[v.producer])
			}
			next[v.producer]++
			got++
		}
		<-done
		if _, ok := q.Pop(); ok {
			t.Fatalf("size %d: extra element", size)
		}
	}
}

func BenchmarkPushPop(b *testing.B) {
	q := New[item](1024)
	b.ReportAllocs()
	for b.Loop() {
		q.Push(ptr(item{1, 2}))
		q.Pop()
	}
}

func TestPeekAdvance(t *testing.T) {
	q := New[int](2)
	for i := range 10 { // ring of 2 + overflow
		q.Push(ptr(i))
	}
	for i := range 10 {
		v, ok := q.Peek()
		if !ok || *v != i {
			t.Fatalf("peek %d: %v %v", i, v, ok)
		}
		// Peek is idempotent until Advance.
		if v2, _ := q.Peek(); v2 != v {
			t.Fatal("second Peek moved")
		}
		q.Advance()
	}
	if _, ok := q.Peek(); ok {
		t.Fatal("not empty")
	}
	if q.Pending() {
		t.Fatal("Pending on an empty queue")
	}
}

func ptr[T any](v T) *T { return &v }
