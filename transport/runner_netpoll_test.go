//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package transport

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/syncbuf"
)

// goroutinesIn counts the goroutines whose stack mentions fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// TestNetpollIdleLinks: goframe1 links on netpoll read from the poller's
// callback, so an idle link keeps its writer goroutine only, and that one
// parks after writerLinger; the runner's workers leave once idle.
func TestNetpollIdleLinks(t *testing.T) {
	defer leakcheck.Check(t)()
	const links = 20
	var ps []*pair
	for range links {
		p := linkPair(t, "goframe1", "goframe1", Config{Backend: BackendNetpoll})
		defer p.close()
		ps = append(ps, p)
	}
	for _, p := range ps { // traffic both ways, so that callbacks ran
		sendN(t, p.a, 100)
		sendN(t, p.b, 100)
	}
	for _, p := range ps {
		checkSeq(t, p.rb, 100)
		checkSeq(t, p.ra, 100)
	}
	waitFor(t, "idle runner workers to leave", func() bool { return workers.Load() == 0 })
	if n := goroutinesIn("transport.(*Link).readLoop"); n != 0 {
		t.Fatalf("%d reader goroutines for %d goframe1 netpoll links", n, 2*links)
	}
	if n := goroutinesIn("transport.(*Link).writeLoop"); n != 2*links {
		t.Fatalf("%d writer goroutines, want %d", n, 2*links)
	}
	// idle for writerLinger: the writers park too, and come back on demand
	old := writerLinger
	writerLinger = 50 * time.Millisecond
	defer func() { writerLinger = old }()
	for _, p := range ps { // restart them with the short linger
		p.a.Shutdown(nil)
		p.b.Shutdown(nil)
	}
	ps = ps[:0]
	for range links {
		p := linkPair(t, "goframe1", "goframe1", Config{Backend: BackendNetpoll})
		defer p.close()
		ps = append(ps, p)
	}
	waitFor(t, "idle writers to park", func() bool { return goroutinesIn("transport.(*Link).writeLoop") == 0 })
	for _, p := range ps {
		sendN(t, p.a, 100)
		sendN(t, p.b, 100)
	}
	for _, p := range ps {
		checkSeq(t, p.rb, 100)
		checkSeq(t, p.ra, 100)
	}
	waitFor(t, "the writers to park again", func() bool { return goroutinesIn("transport.(*Link).writeLoop") == 0 })
	// and a json link on netpoll keeps its reader goroutine (Read)
	p := linkPair(t, "json", "json", Config{Backend: BackendNetpoll})
	defer p.close()
	waitFor(t, "2 reader goroutines for a json netpoll link pair", func() bool { return goroutinesIn("transport.(*Link).readLoop") == 2 })
}

// TestRunTask: a task runs on a worker that stays for the next one, and a
// panicking task is logged, not fatal.
func TestRunTask(t *testing.T) {
	defer leakcheck.Check(t)()
	var log syncbuf.Buffer
	setNetpollLogOutput(&log)
	defer setNetpollLogOutput(nil)
	done := make(chan struct{})
	runTask(context.Background(), func() { panic("boom") })
	waitFor(t, "the panic in the log", func() bool { return strings.Contains(log.String(), "panic in a callback: boom") })
	deadline := time.Now().Add(workerLinger / 2)
	runTask(context.Background(), func() { close(done) })
	<-done
	if time.Now().Before(deadline) && workers.Load() != 1 {
		t.Fatalf("%d workers after two tasks in a row, want 1 (reused)", workers.Load())
	}
	waitFor(t, "the worker to leave", func() bool { return workers.Load() == 0 })
}
