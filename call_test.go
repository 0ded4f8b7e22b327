package aemp

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// adder answers cal-style ["add", a, b, reply] with ["sum", a+b], and
// dies on "boom".
func adder(n *Node) *Port {
	return n.NewPort().Rcv("add", func(m *Msg) error {
		a, err1 := m.Int(1)
		b, err2 := m.Int(2)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		return m.Reply("sum", a+b)
	}).Rcv("boom", func(m *Msg) error {
		return errors.New("adder got 'boom'")
	}).Rcv("silent", func(*Msg) error { return nil })
}

// liveMonitors counts the local monitors of port id (on a remote node:
// those in its remoteNode; locally: the port's).
func liveMonitors(n *Node, id PortID) int {
	if n.IsLocal(id) {
		if p := n.Port(id); p != nil {
			p.mu.Lock()
			defer p.mu.Unlock()
			return len(p.mons)
		}
		return 0
	}
	rn := n.mesh.Known(id.Node()).Handler().(*remoteNode)
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return len(rn.mons[id.Local()])
}

// Call over every link kind: the reply, a timeout, a target that dies, a
// node request; the reply port and the monitor are gone afterwards.
func TestCall(t *testing.T) {
	forEachLink(t, func(t *testing.T, p *netPair) {
		add := adder(p.a)
		ctx := timeout(t, 5*time.Second)
		for i := range 3 {
			r, err := p.b.Call(ctx, add.ID(), "add", i, 2)
			if err != nil {
				t.Fatal(err)
			}
			if sum, _ := r.Int(1); r.Tag() != "sum" || sum != int64(i+2) || r.Len() != 2 {
				t.Fatalf("reply %#v", r)
			}
		}
		if n := liveMonitors(p.b, add.ID()); n != 0 {
			t.Fatalf("%d monitors left after the calls", n)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := p.b.Call(short, add.ID(), "silent")
		cancel()
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call to a silent handler: %v", err)
		}
		_, err = p.b.Call(ctx, add.ID(), "boom")
		var r Reason
		if !errors.Is(err, ErrDied) || !errors.As(err, &r) || !reflect.DeepEqual(r, Reason{"die", "adder got 'boom'"}) {
			t.Fatalf("call to a port that dies: %v (reason %v)", err, r)
		}
		tm, err := p.b.Call(ctx, p.a.NodePort(), "time")
		if f, ferr := tm.Float(0); err != nil || ferr != nil || time.Since(time.Unix(int64(f), 0)) > time.Minute {
			t.Fatalf("time: %#v, %v, %v", tm, err, ferr)
		}
		if n := p.b.portCount(); n != 0 {
			waitFor(t, "the reply ports to go", func() bool { return p.b.portCount() == 0 })
		}
	})
}

// portCount counts the node's live ports.
func (n *Node) portCount() int {
	c := 0
	n.ports.Range(func(any, any) bool { c++; return true })
	return c
}

// The remote monitor of a call stays with the other node (no mon0), so
// the next call to the same port sends no mon1; a link loss ends a call
// with a transport error.
func TestCallMonitorKept(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	add := adder(p.a)
	ctx := timeout(t, 5*time.Second)
	if _, err := p.b.Call(ctx, add.ID(), "add", 1, 1); err != nil {
		t.Fatal(err)
	}
	rn := p.b.mesh.Known(p.a.ID()).Handler().(*remoteNode)
	rn.mu.Lock()
	set, watched := rn.mons[add.ID().Local()]
	rn.mu.Unlock()
	add.mu.Lock()
	remotes := len(add.remotes)
	add.mu.Unlock()
	if !watched || len(set) != 0 || remotes != 1 {
		t.Fatalf("after a call: watched %v with %d monitors; the target has %d remote watchers", watched, len(set), remotes)
	}
	done := make(chan error, 1)
	go func() { _, err := p.b.Call(ctx, add.ID(), "silent"); done <- err }()
	waitFor(t, "the call's monitor", func() bool { return liveMonitors(p.b, add.ID()) == 1 })
	p.a.Close()
	err := recv(t, done)
	var r Reason
	if !errors.Is(err, ErrDied) || !errors.As(err, &r) || r.Kind() != "transport_error" {
		t.Fatalf("call over a link that went down: %v", err)
	}
}

// Local calls: the same semantics without the network.
func TestCallLocal(t *testing.T) {
	n := newTestNode(t, Config{})
	add := adder(n)
	ctx := timeout(t, 5*time.Second)
	r, err := n.Call(ctx, add.ID(), "add", 20, 22)
	if sum, _ := r.Int(1); err != nil || sum != 42 {
		t.Fatalf("local call: %#v, %v", r, err)
	}
	_, err = n.Call(ctx, n.NewPort().ID(), "add", 1, 2) // no handler: unhandled_message
	var why Reason
	if !errors.As(err, &why) || why.Kind() != "unhandled_message" {
		t.Fatalf("call to a port without handlers: %v", err)
	}
	_, err = n.Call(ctx, PortID(n.ID()+"#nosuch"), "add")
	if !errors.As(err, &why) || why.Kind() != "no_such_port" {
		t.Fatalf("call to a port that does not exist: %v", err)
	}
	// A reply sent just before the port dies is the answer.
	last := n.NewPort().Rcv("last", func(m *Msg) error {
		m.Reply("bye")
		return errors.New("gone")
	})
	if r, err := n.Call(ctx, last.ID(), "last"); err != nil || r.Tag() != "bye" {
		t.Fatalf("reply then death: %#v, %v", r, err)
	}
	if k := liveMonitors(n, add.ID()); k != 0 {
		t.Fatalf("%d monitors left on the target", k)
	}
	n.Close()
	if _, err := n.Call(ctx, add.ID(), "add", 1, 2); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on a closed node: %v", err)
	}
}

// Reply and ReplyTo: the last element is the reply port.
func TestReplyTo(t *testing.T) {
	n := newTestNode(t, Config{})
	for _, c := range []struct {
		m    *Msg
		want PortID
		err  error
	}{
		{NewMsg("req", 1, "node#b"), "node#b", nil},
		{NewMsg("req", "node"), "node", nil},
		{NewMsg("req"), "", ErrIndex},
		{NewMsg("req", 1, "#b"), "", ErrBadPortID},
		{NewMsg("req", []int{1}), "", ErrType},
	} {
		got, err := c.m.ReplyTo()
		if got != c.want || c.err != nil && !errors.Is(err, c.err) || c.err == nil && err != nil {
			t.Errorf("%#v: ReplyTo = %q, %v", c.m, got, err)
		}
	}
	if err := NewMsg("x", string(n.NewPort().ID())).Reply("y"); !errors.Is(err, ErrNotLocal) {
		t.Errorf("Reply outside a handler: %v", err)
	}
}

// A handler that waits for a message coming over the link it was called
// from (a Call to the node that sent the request, answered by a handler
// that itself calls back) still gets it: a message for an idle port runs
// on the link's reader, which hands its reading to another goroutine when
// the handler blocks. In every framing, with one worker and the default.
func TestHandlerWaitsOnItsLink(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"workers1", Config{Workers: 1}},
		{"json", Config{Framings: []string{"json"}}},
		{"plain", Config{PlainGoLinks: true}},
		{"netpoll", Config{PlainGoLinks: true, Backend: "netpoll"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newNetPair(t, c.cfg, c.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			add := adder(p.a)
			// B's "relay" asks A's adder and answers with its sum: a Call
			// from a handler to the node whose message it is handling.
			relay := p.b.NewPort().Rcv("relay", callOn(ctx, p.b, add.ID(), "add", "relayed", 1))
			// A's "start" calls B's relay from a handler of its own: both
			// waits are on the one link between A and B.
			start := p.a.NewPort().Rcv("start", callOn(ctx, p.a, relay.ID(), "relay", "done"))
			for i := range int64(50) {
				r, err := p.b.Call(ctx, start.ID(), "start", i)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if v, err := r.Int(1); err != nil || v != i+1 {
					t.Fatalf("call %d: got %v, %v, want %d", i, v, err, i+1)
				}
			}
		})
	}
}

// callOn returns a handler that calls to with (tag, the message's first
// argument, more…) and answers with replyTag and the reply's first
// argument.
func callOn(ctx context.Context, n *Node, to PortID, tag, replyTag string, more ...any) Handler {
	return func(m *Msg) error {
		a, _ := m.Int(1)
		r, err := n.Call(ctx, to, tag, append([]any{a}, more...)...)
		if err != nil {
			return err
		}
		v, err := r.Int(1)
		if err != nil {
			return err
		}
		return m.Reply(replyTag, v)
	}
}
