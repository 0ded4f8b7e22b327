package aemp

import (
	"context"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
)

// waitDone fails the test unless n's Done is closed soon.
func waitDone(t *testing.T, n *Node, what string) {
	t.Helper()
	select {
	case <-n.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the node did not close", what)
	}
}

// waitReturned fails the test unless the call (what) returns nil soon.
func waitReturned(t *testing.T, returned <-chan error, what string) {
	t.Helper()
	select {
	case err := <-returned:
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return", what)
	}
}

// A handler, an Exec function or a monitor's function may close its own
// node: Close returns at once instead of waiting for the goroutine it runs
// on, and the node's goroutines end after it (leakcheck). A later Close
// from outside waits for all of them.
func TestCloseFromHandler(t *testing.T) {
	for _, how := range []string{"handler", "exec", "monitor"} {
		t.Run(how, func(t *testing.T) {
			defer leakcheck.Check(t)()
			n, err := NewNode(Config{})
			if err != nil {
				t.Fatal(err)
			}
			returned := make(chan error, 1)
			closeIt := func() { returned <- n.Close() }
			switch how {
			case "handler":
				p := n.NewPort().Rcv("stop", func(*Msg) error { closeIt(); return nil })
				if err := n.Snd(p.ID(), "stop"); err != nil {
					t.Fatal(err)
				}
			case "exec":
				n.NewPort().Exec(func() error { closeIt(); return nil })
			case "monitor":
				target := n.NewPort()
				n.Mon(target.ID(), MonFunc(func(Reason) { closeIt() }))
				if err := n.Kill(target.ID(), "stop"); err != nil {
					t.Fatal(err)
				}
			}
			waitReturned(t, returned, "Close from the "+how)
			waitDone(t, n, how)
			n.Close() // from outside: waits for the rest of the teardown
		})
	}
}

// A handler that runs on a link's reader (a message for an idle port from
// another node) may close or shut down its node too: neither waits for
// the link it runs on nor for the node's workers.
func TestCloseFromInlineHandler(t *testing.T) {
	for _, how := range []string{"Close", "Shutdown"} {
		t.Run(how, func(t *testing.T) { testCloseFromInlineHandler(t, how) })
	}
}

func testCloseFromInlineHandler(t *testing.T, how string) {
	p := newNetPair(t, Config{}, Config{})
	returned := make(chan error, 1)
	sink := p.b.NewPort().Rcv("stop", func(*Msg) error {
		if how == "Close" {
			returned <- p.b.Close()
		} else {
			returned <- p.b.Shutdown(context.Background())
		}
		return nil
	})
	if err := p.a.Snd(sink.ID(), "stop"); err != nil {
		t.Fatal(err)
	}
	waitReturned(t, returned, how+" from the inline handler")
	waitDone(t, p.b, "inline handler")
}
