package pool

import (
	"sync"
	"testing"

	"github.com/aemp-go/aemp/internal/race"
)

func TestGetSizes(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4000, 1 << 20, 1<<20 + 4096, 1<<20 + 4097, 3 << 20} {
		b := Get(n)
		if len(b.B) != n {
			t.Fatalf("Get(%d): len %d", n, len(b.B))
		}
		if c := classOf(n); c >= 0 && cap(b.B) != classes[c] {
			t.Fatalf("Get(%d): cap %d, want class %d", n, cap(b.B), classes[c])
		}
		if b.Refs() != 1 {
			t.Fatalf("refs %d", b.Refs())
		}
		b.Release()
	}
}

func TestRetainRelease(t *testing.T) {
	b := Get(100)
	b.Retain()
	b.Retain()
	b.Release()
	b.Release()
	if b.Refs() != 1 {
		t.Fatalf("refs %d, want 1", b.Refs())
	}
	b.Release()
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatalf("%s did not panic", what)
		}
	}()
	f()
}

func TestDoubleReleasePanics(t *testing.T) {
	if !debug {
		t.Fatal("debug mode must be on inside tests")
	}
	b := Get(64)
	b.Release()
	mustPanic(t, "double release", b.Release)
	// Unpooled (oversized) buffers detect it too.
	big := Get(maxPooled + 1)
	big.Release()
	mustPanic(t, "double release of big buffer", big.Release)
}

func TestRetainAfterReleasePanics(t *testing.T) {
	b := Get(64)
	b.Release()
	mustPanic(t, "retain after release", b.Retain)
}

func TestReleasedBufferIsPoisoned(t *testing.T) {
	b := Get(16)
	copy(b.B, "secret payload!!")
	b.Release()
	for i, c := range b.B[:16] {
		if c != 0xdb {
			t.Fatalf("byte %d = %#x after release, want poison", i, c)
		}
	}
}

func TestGrow(t *testing.T) {
	b := Get(10)
	copy(b.B, "0123456789")
	b = grow(b, 600)
	if string(b.B) != "0123456789" || cap(b.B)-len(b.B) < 600 {
		t.Fatalf("grow: %q cap %d", b.B, cap(b.B))
	}
	same := grow(b, 1)
	if same != b {
		t.Fatal("grow with room must return the same buffer")
	}
	b.Release()
}

func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				b := Get(i % 9000)
				b.Retain()
				b.Release()
				b.Release()
			}
		}()
	}
	wg.Wait()
}

func TestPooledGetDoesNotAllocate(t *testing.T) {
	old := SetDebug(false)
	defer SetDebug(old)
	Get(1000).Release()
	if n := testing.AllocsPerRun(1000, func() { Get(1000).Release() }); n != 0 {
		t.Fatalf("Get/Release allocates %v times", n)
	}
}

func BenchmarkGetRelease(b *testing.B) {
	old := SetDebug(false)
	defer SetDebug(old)
	b.ReportAllocs()
	for b.Loop() {
		Get(1500).Release()
	}
}

func TestOnFree(t *testing.T) {
	var freed []int
	fn := func(b *Buf) { freed = append(freed, cap(b.B)) }
	b := Get(100)
	b.OnFree(fn)
	b.Retain()
	b.Release()
	if len(freed) != 0 {
		t.Fatal("OnFree ran before the last release")
	}
	b.Release()
	if len(freed) != 1 || freed[0] != 512 {
		t.Fatalf("OnFree: %v", freed)
	}
	c := Get(100) // may be the same Buf; the hook must not carry over
	c.Release()
	if len(freed) != 1 {
		t.Fatalf("hook survived reuse: %v", freed)
	}
	big := Get(maxPooled + 1)
	big.OnFree(fn)
	big.Release()
	if len(freed) != 2 {
		t.Fatal("OnFree not run for an unpooled buffer")
	}
}

func TestOnFreeAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race (sync.Pool drops items there); make test runs this without it")
	}
	n := 0
	fn := func(*Buf) { n++ }
	allocs := testing.AllocsPerRun(1000, func() {
		b := Get(1000)
		b.OnFree(fn)
		b.Release()
	})
	if allocs != 0 {
		t.Fatalf("%v allocs", allocs)
	}
}

func TestBenchmarking(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"x.test"}, false},
		{[]string{"x.test", "-test.run", "Foo"}, false},
		{[]string{"x.test", "-test.bench=."}, true},
		{[]string{"x.test", "--test.bench=Remote"}, true},
		{[]string{"x.test", "-test.bench", "Remote"}, true},
		{[]string{"x.test", "-test.bench="}, false},
		{[]string{"x.test", "-test.bench", ""}, false},
		{[]string{"x.test", "-test.bench"}, false},
		{[]string{"x.test", "-test.benchtime=1s", "-test.benchmem"}, false},
		{[]string{"x.test", "-test.benchtime", "1s", "-test.bench=Local"}, true},
	} {
		if got := benchmarking(c.args); got != c.want {
			t.Errorf("benchmarking(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

func TestWrap(t *testing.T) {
	mem := make([]byte, 10, 20)
	var order []string
	b := Wrap(mem, func() { order = append(order, "free") })
	if len(b.B) != 10 || cap(b.B) != 10 || &b.B[0] != &mem[0] {
		t.Fatalf("Wrap: len %d cap %d, want 10 10 over the same memory", len(b.B), cap(b.B))
	}
	b.OnFree(func(w *Buf) { order = append(order, "onfree") })
	b.Retain()
	b.Release()
	if len(order) != 0 {
		t.Fatalf("freed with a reference left: %v", order)
	}
	b.Release()
	if len(order) != 2 || order[0] != "onfree" || order[1] != "free" {
		t.Fatalf("order %v, want [onfree free]", order)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a third Release did not panic")
		}
	}()
	b.Release()
}
