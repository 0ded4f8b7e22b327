package fuzz

import (
	"runtime"
	"sync"
	"testing"

	"github.com/aemp-go/aemp/internal/leakcheck"
)

// leakGuard checks that fuzz inputs leave no goroutine behind, with
// internal/leakcheck against one snapshot taken before the first input the
// target runs in this process (one guard per target: another target's
// goroutines are no leak of this one). A full leakcheck comparison (a
// stack dump of every goroutine, two per input if done per input) costs
// milliseconds, which would cap a fuzzer at a few hundred runs a second;
// so after each run the goroutines are first counted, and leakcheck
// compares stacks (and polls, and reports with stacks) whenever the count
// is above the baseline, and in any case every 256th run.
type leakGuard struct {
	once  sync.Once
	base  int
	check func()
	mu    sync.Mutex
	runs  int
	tb    currentTB
}

// run runs one fuzz input and checks for leaks.
func (g *leakGuard) run(t *testing.T, fn func()) {
	g.once.Do(func() {
		g.base = runtime.NumGoroutine()
		g.check = leakcheck.Check(&g.tb)
	})
	fn()
	settle(g.base)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.runs++; runtime.NumGoroutine() > g.base || g.runs%256 == 0 {
		g.tb.t = t
		g.check()
		g.tb.t = nil
	}
}

// currentTB hands leakcheck's reports to the test of the current run.
type currentTB struct{ t *testing.T }

func (c *currentTB) Helper() {}

func (c *currentTB) Errorf(format string, args ...any) {
	c.t.Helper()
	c.t.Errorf(format, args...)
}

// settle yields until at most base goroutines are left (or a bound is
// reached), so that goroutines that are returning — a link's last
// goroutine after closing Done, a driver that has sent its result — are
// gone before they are counted. It checks nothing itself.
func settle(base int) {
	for i := 0; i < 10000 && runtime.NumGoroutine() > base; i++ {
		runtime.Gosched()
	}
}
