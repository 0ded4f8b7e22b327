// Package leakcheck verifies that a test leaves no goroutines behind.
//
// Use it at the start of every test that starts nodes, links or listeners:
//
//	defer leakcheck.Check(t)()
//
// Check snapshots the goroutines that exist when it is called; the returned
// function polls (up to a deadline) until every goroutine started since then
// has exited, and fails the test with their stacks otherwise.
package leakcheck

import (
	"runtime"
	"sort"
	"strings"
	"time"
)

// TB is the subset of testing.TB used here.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Timeout is how long the check waits for goroutines to exit.
var Timeout = 5 * time.Second

// ignored are goroutines that belong to the runtime, the test framework or
// long-lived library singletons rather than to the code under test.
var ignored = []string{
	"testing.(*T).Run",
	"testing.(*M).",
	"testing.tRunner",
	"testing.runTests",
	"testing.runFuzzing",
	"testing.runExample",
	"created by runtime.gc",
	"created by os/signal.Notify",
	"runtime.ensureSigM",
	"runtime.ReadTrace",
	"signal.signal_recv",
	"internal/poll.runtime_pollWait", // std net poller helpers owned by the runtime
	"github.com/cloudwego/netpoll.(*defaultPoll).Wait",
	"github.com/cloudwego/netpoll.(*manager)",
	"github.com/bytedance/gopkg/util/gopool",
	"github.com/cloudwego/gopkg",
}

// Check snapshots the current goroutines and returns the function that
// verifies none were added.
func Check(t TB) func() {
	before := snapshot()
	return func() {
		t.Helper()
		deadline := time.Now().Add(Timeout)
		var leaked []string
		for {
			leaked = leaked[:0]
			for id, stack := range snapshot() {
				if _, ok := before[id]; !ok && !isIgnored(stack) {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(leaked) > 0 {
			sort.Strings(leaked)
			t.Errorf("leakcheck: %d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	}
}

func isIgnored(stack string) bool {
	for _, s := range ignored {
		if strings.Contains(stack, s) && !strings.Contains(stack, "aemp-go/aemp") {
			return true
		}
	}
	return false
}

// snapshot returns goroutine id → stack text for all goroutines but the caller.
func snapshot() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := make(map[string]string)
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the calling goroutine
			continue
		}
		head, _, _ := strings.Cut(g, "\n")
		// "goroutine 42 [running]:"
		f := strings.Fields(head)
		if len(f) < 2 {
			continue
		}
		out[f[1]] = g
	}
	return out
}
