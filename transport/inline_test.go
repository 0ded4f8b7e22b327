package transport

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/pool"
)

// inliner is a Handler that runs every message's work through RunInline,
// or on a goroutine of its own where RunInline refuses (as the node hands
// a message to a worker); work may block, and waits are what the test
// checks.
type inliner struct {
	link  atomic.Pointer[Link]
	mu    sync.Mutex
	got   []string
	ran   atomic.Int64 // messages RunInline ran
	not   atomic.Int64 // messages it refused
	work  func(msg string, inline bool)
	close chan struct{}
}

func (h *inliner) OnMessage(buf *pool.Buf, msg []byte) {
	s := string(msg)
	h.mu.Lock()
	h.got = append(h.got, s)
	h.mu.Unlock()
	if h.link.Load().RunInline(func(a any) { h.work(a.(string), true) }, s) {
		h.ran.Add(1)
	} else {
		h.not.Add(1)
		go h.work(s, false)
	}
}

func (h *inliner) OnClose(error) { close(h.close) }

// A handler's inline work that waits for a later message on the same link
// does not deadlock it: after 50 µs another goroutine reads on, delivers
// that message, and the order of delivery is kept. Every framing with a
// reader goroutine runs inline; netpoll's goframe1 reader (its poller
// calls OnMessage) refuses, and so do batch frames.
func TestRunInlineTakeover(t *testing.T) {
	for _, be := range backends {
		for _, fr := range []string{"goframe1", "json"} {
			t.Run(fmt.Sprintf("%v/%s", be, fr), func(t *testing.T) {
				defer leakcheck.Check(t)()
				const n = 200
				arrived := make([]chan struct{}, n)
				for i := range arrived {
					arrived[i] = make(chan struct{})
				}
				h := &inliner{close: make(chan struct{})}
				var inlineWaits, workDone atomic.Int64
				h.work = func(msg string, inline bool) {
					defer workDone.Add(1)
					i := msgIndex(t, msg)
					close(arrived[i])
					if i%2 == 0 && i+1 < n { // wait for the next message, which comes over this link
						if inline {
							inlineWaits.Add(1)
						}
						select {
						case <-arrived[i+1]:
						case <-time.After(10 * time.Second):
							t.Errorf("message %d: the next message never came (the link stopped reading)", i)
						}
					}
				}
				ca, cb := tcpPair(t, Config{Backend: be})
				a, err := NewLink(ca, nil, fr, fr, newRecorder(), Config{Backend: be})
				if err != nil {
					t.Fatal(err)
				}
				b, err := NewLink(cb, nil, fr, fr, h, Config{Backend: be})
				if err != nil {
					a.Close()
					t.Fatal(err)
				}
				h.link.Store(b)
				defer a.Close()
				defer b.Close()
				for i := range n {
					if err := a.Commit(appendMsg(a.Begin(), i)); err != nil {
						t.Fatal(err)
					}
					time.Sleep(100 * time.Microsecond) // each message on its own, mostly: RunInline refuses with more input behind
				}
				waitFor(t, "every message handled", func() bool { return workDone.Load() == n })
				// Inline wherever the link has a reader goroutine (not
				// netpoll's goframe1), for the messages that came alone; a
				// wait there needed the takeover.
				if inline := be == BackendStd || fr == "json"; inline && inlineWaits.Load() == 0 || !inline && h.ran.Load() != 0 {
					t.Errorf("RunInline ran %d of %d messages (%d of them waited), refused %d (inline expected: %v)",
						h.ran.Load(), n, inlineWaits.Load(), h.not.Load(), inline)
				}
				t.Logf("%d of %d inline, %d of them waited for the next message", h.ran.Load(), n, inlineWaits.Load())
				h.mu.Lock()
				defer h.mu.Unlock()
				for i, m := range h.got {
					if want := string(appendMsg(nil, i)); m != want {
						t.Fatalf("message %d = %q, want %q", i, m, want)
					}
				}
			})
		}
	}
}

// msgIndex is the number appendMsg put in msg.
func msgIndex(t *testing.T, msg string) int {
	const head = `["port","tag",`
	i, err := strconv.Atoi(msg[len(head) : len(msg)-1])
	if err != nil {
		t.Fatalf("message %q: %v", msg, err)
	}
	return i
}
