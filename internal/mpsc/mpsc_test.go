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

func TestOverflowCount(t *testing.T) {
	q := New[int](2)
	q.Push(ptr(1))
	q.Push(ptr(2))
	if n := q.Push(ptr(3)); n != 1 {
		t.Fatalf("overflow len %d, want 1", n)
	}
	if n := q.Push(ptr(4)); n != 2 {
		t.Fatalf("overflow len %d, want 2", n)
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
