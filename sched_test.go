package aemp

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Idle workers poll their run queue before parking, one per node and no
// more than GOMAXPROCS in the whole process: with many nodes in one
// process, unbounded pollers (each yielding in a loop) held up the nodes
// that had work (W5, docs/performance.md).
func TestSpinnersBounded(t *testing.T) {
	bound := int32(runtime.GOMAXPROCS(0))
	type target struct {
		n  *Node
		id PortID
	}
	var handled atomic.Int64
	targets := make([]target, 2*bound+4)
	for i := range targets {
		n := newTestNode(t, Config{Workers: 2})
		targets[i] = target{n, n.NewPortFunc(func(*Msg) error { handled.Add(1); return nil }).ID()}
	}

	stop := make(chan struct{})
	var most atomic.Int32
	var wg sync.WaitGroup
	wg.Go(func() { // the sampler
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s := pollers.spinners.Load(); s > most.Load() {
				most.Store(s)
			}
			runtime.Gosched()
		}
	})
	sent := 0
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		for _, tg := range targets { // each node in turn: its worker wakes, handles the message, then polls
			if err := tg.n.Snd(tg.id, "m"); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		time.Sleep(20 * time.Microsecond)
	}
	close(stop)
	wg.Wait()
	if m := most.Load(); m > bound {
		t.Fatalf("%d workers polled at once, bound %d (GOMAXPROCS)", m, bound)
	} else if m == 0 {
		t.Fatalf("no worker was seen polling in %d sends: the test saw nothing", sent)
	}
	for deadline := time.Now().Add(10 * time.Second); handled.Load() != int64(sent); {
		if time.Now().After(deadline) {
			t.Fatalf("handled %d of %d", handled.Load(), sent)
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("%d sends to %d nodes; at most %d workers polled at once (bound %d)", sent, len(targets), most.Load(), bound)
}
