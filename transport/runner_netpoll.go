//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package transport

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// netpoll runs each OnRequest on a task of its runner. Its default runner
// (bytedance gopool) lets a worker goroutine exit as soon as the queue is
// empty, so on a link with one message in flight every message starts a
// fresh goroutine, which grows its stack to the handler's depth again
// (runtime.morestack and copystack were 15 % of a ping-pong's CPU
// profile, and the round trip 1.4× that of a reader goroutine blocked in
// Read). runTask keeps a worker, with its grown stack, for workerLinger
// after its last task, handing the next task to a waiting worker.
//
// netpoll's runner is process-wide: it is installed with the first
// goframe1 link on netpoll, and from then on also runs the callbacks of
// any other netpoll user in the process. Like gopool it recovers a
// panicking task and logs it with its stack (to netpoll's log output,
// SetNetpollLogOutput), so that others see no change but the goroutines.
// (netpoll.Configure, which installs it, also sets the poller load balance
// to its default, RoundRobin, a no-op, and its AlwaysNoCopyRead feature to
// its default, off.)
var installRunner sync.Once

// workerLinger is how long an idle worker waits for another task.
const workerLinger = 100 * time.Millisecond

var (
	taskCh  = make(chan func()) // unbuffered: a send succeeds only into a waiting worker
	workers atomic.Int32        // for tests and Stats-like checks
)

func runTask(_ context.Context, f func()) {
	select {
	case taskCh <- f:
	default:
		go worker(f)
	}
}

func worker(f func()) {
	workers.Add(1)
	defer workers.Add(-1)
	t := time.NewTimer(workerLinger)
	defer t.Stop()
	for {
		runSafely(f)
		t.Reset(workerLinger)
		select {
		case f = <-taskCh:
		case <-t.C:
			return
		}
	}
}

func runSafely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(npLog(), "NETPOLL: panic in a callback: %v: %s\n", r, debug.Stack())
		}
	}()
	f()
}
