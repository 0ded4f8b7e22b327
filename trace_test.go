package aemp

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// With Config.Trace on one node and AEMP_TRACE on the other, each logs the
// messages it sends and receives: direction, peer, port, tag and size.
func TestTrace(t *testing.T) {
	t.Setenv(TraceEnv, "1")
	p := newNetPair(t, Config{Trace: true}, Config{})
	got := make(chan struct{}, 1)
	port := p.b.NewPortFunc(func(*Msg) error { got <- struct{}{}; return nil })
	if err := p.a.Snd(port.ID(), "ping", "hello"); err != nil {
		t.Fatal(err)
	}
	recv(t, got)
	send := regexp.MustCompile(`level=DEBUG msg="aemp: trace" node=nodeA trace=send peer=nodeB port=` +
		regexp.QuoteMeta(string(port.ID())) + ` tag=ping size=(\d+)`)
	m := send.FindStringSubmatch(p.logA.String())
	if m == nil {
		t.Fatalf("no send trace in A's log:\n%s", p.logA)
	}
	want := fmt.Sprintf(`level=DEBUG msg="aemp: trace" node=nodeB trace=recv peer=nodeA port=%s tag=ping size=%s`, port.ID(), m[1])
	if !strings.Contains(p.logB.String(), want) {
		t.Fatalf("no %q in B's log:\n%s", want, p.logB)
	}
}

func TestTraceOff(t *testing.T) {
	t.Setenv(TraceEnv, "")
	p := newNetPair(t, Config{}, Config{})
	got := make(chan struct{}, 1)
	port := p.b.NewPortFunc(func(*Msg) error { got <- struct{}{}; return nil })
	p.a.Snd(port.ID(), "ping")
	recv(t, got)
	if strings.Contains(p.logA.String()+p.logB.String(), "trace") {
		t.Fatalf("traced with tracing off:\n%s\n%s", p.logA, p.logB)
	}
}

// Log levels: links up and down at Info, a handler's panic at Error with
// its stack, a node refusing its own seed connection at Debug.
func TestLogLevels(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	dead := make(chan Reason, 1)
	port := p.b.NewPortFunc(func(*Msg) error { panic("kaboom") })
	p.b.Mon(port.ID(), MonFunc(func(r Reason) { dead <- r }))
	p.a.Snd(port.ID(), "x")
	recv(t, dead)
	p.b.Close()
	waitFor(t, "the link down", func() bool { return strings.Contains(p.logA.String(), `msg="aemp: link down"`) })
	for _, want := range []string{`level=INFO msg="aemp: link up" node=nodeA peer=nodeB`, `level=INFO msg="aemp: link down" node=nodeA peer=nodeB`} {
		if !strings.Contains(p.logA.String(), want) {
			t.Errorf("no %q in A's log:\n%s", want, p.logA)
		}
	}
	if !regexp.MustCompile(`level=ERROR msg="aemp: handler panicked" node=nodeB port=nodeB#\w+ panic=kaboom stack=".*goroutine`).MatchString(p.logB.String()) {
		t.Errorf("no panic at ERROR in B's log:\n%s", p.logB)
	}

	k := newMeshKit(t)
	addr := freeAddr(t)
	g := k.node("g", Config{Binds: []string{addr}, Seeds: []string{addr}})
	waitFor(t, "g to become global", g.IsGlobal)
	log := k.logs["g"]
	waitFor(t, "the refusal", func() bool { return strings.Contains(log.String(), "incoming connection refused") })
	if !strings.Contains(log.String(), `level=DEBUG msg="aemp: incoming connection refused"`) || strings.Contains(log.String(), "level=WARN") {
		t.Errorf("g's log:\n%s", log)
	}
}
