package aemp

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/mesh"
)

func TestNodeIDRules(t *testing.T) {
	host := hostname()
	cases := []struct {
		template, profile string
		want              string // regexp
		random            bool
	}{
		{"", "", "^" + regexp.QuoteMeta(host) + "/[0-9A-Za-z]{9}[0-9A-Z]$", true},
		{"", "myprof", "^myprof/[0-9A-Za-z]{9}[0-9A-Z]$", true},
		{"anon/", "", "^anon/[0-9A-Za-z]{9}[0-9A-Z]$", true},
		{"aemp/%n/%u", "", "^aemp/" + regexp.QuoteMeta(host) + "/[0-9A-Za-z]{9}[0-9A-Z]$", true},
		{"fixed", "", "^fixed$", false},
		{"x-%n", "", "^x-" + regexp.QuoteMeta(host) + "$", false},
	}
	for _, c := range cases {
		n := newTestNode(t, Config{NodeID: c.template, Profile: c.profile})
		if !regexp.MustCompile(c.want).MatchString(n.ID()) {
			t.Errorf("template %q profile %q: ID %q does not match %s", c.template, c.profile, n.ID(), c.want)
		}
		p := n.NewPort()
		if c.random && p.ID() != PortID(n.ID()+"#b") {
			t.Errorf("randomised ID: first port %q, want %s#b", p.ID(), n.ID())
		}
		if !c.random && !regexp.MustCompile(`#[0-9A-Za-z]{9}b$`).MatchString(string(p.ID())) {
			t.Errorf("fixed ID: first port %q, want <UNIQ>b local part", p.ID())
		}
	}
	// %u: every occurrence gets the same value.
	n := newTestNode(t, Config{NodeID: "%u-%u"})
	a, b, _ := strings.Cut(n.ID(), "-")
	if a != b || len(a) != 10 {
		t.Errorf("%%u-%%u gave %q", n.ID())
	}
}

func TestLocalNames(t *testing.T) {
	want := map[uint64]string{2: "b", 26: "z", 27: "aa", 28: "ab", 52: "az", 53: "ba", 702: "zz", 703: "aaa"}
	for n, s := range want {
		if got := localName(n); got != s {
			t.Errorf("localName(%d) = %q, want %q", n, got, s)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{NodeID: "a#b"}, {NodeID: "a;b"}, {NodeID: "0"}, {Workers: -1},
		{Backend: "carrier-pigeon"}, {Framings: []string{"storable"}},
		{Nodes: map[string][]string{"x": nil}},
	}
	for _, c := range bad {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: Validate = %v, want ErrConfig", c, err)
		}
		if _, err := NewNode(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: NewNode = %v, want ErrConfig", c, err)
		}
	}
	// netpoll: accepted where it runs, refused elsewhere (wrapping both
	// ErrConfig and mesh.ErrBackend); the default is std everywhere.
	np := Config{Backend: "netpoll"}
	err := np.Validate()
	if mesh.BackendAvailable("netpoll") {
		if err != nil {
			t.Errorf("Backend netpoll on %s/%s: %v", runtime.GOOS, runtime.GOARCH, err)
		}
	} else if !errors.Is(err, ErrConfig) || !errors.Is(err, mesh.ErrBackend) {
		t.Errorf("Backend netpoll on %s/%s: %v, want ErrConfig and mesh.ErrBackend", runtime.GOOS, runtime.GOARCH, err)
	}
	for _, f := range [][]string{{"cbor"}, {"json"}, {"goframe1", "cbor", "json"}} {
		if err := (&Config{Framings: f}).Validate(); err != nil {
			t.Errorf("framings %v: %v", f, err)
		}
	}
	if got := (Config{}).withDefaults().Framings; !slices.Equal(got, []string{"goframe1", "cbor", "json"}) {
		t.Errorf("default framings %v", got)
	}
	// The caller's config is copied, never written.
	c := Config{Binds: nil, Framings: []string{"json"}}
	n := newTestNode(t, c)
	n.cfg.Framings[0] = "changed"
	if c.Framings[0] != "json" {
		t.Fatal("node shares the caller's slice")
	}
}

func TestPortIDParsing(t *testing.T) {
	cases := []struct{ id, node, local string }{
		{"a#b", "a", "b"}, {"a#b#c", "a", "b#c"}, {"a", "a", ""}, {"a#", "a", ""},
		{"anon/x#y", "anon/x", "y"}, {"#b", "", "b"},
	}
	for _, c := range cases {
		p := PortID(c.id)
		if p.Node() != c.node || p.Local() != c.local {
			t.Errorf("%q: node %q local %q", c.id, p.Node(), p.Local())
		}
	}
}

func TestPortIDsNeverReused(t *testing.T) {
	n := newTestNode(t, Config{})
	seen := map[PortID]bool{}
	for range 1000 {
		p := n.NewPort()
		if seen[p.ID()] {
			t.Fatalf("port ID %s reused", p.ID())
		}
		seen[p.ID()] = true
		p.Kill()
	}
}

func TestRcvTagsAndDefault(t *testing.T) {
	n := newTestNode(t, Config{})
	got := make(chan string, 10)
	p := n.NewPort()
	p.Rcv("a", func(m *Msg) error {
		s, err := m.String(1)
		got <- "a:" + s
		return err
	}).Rcv("b", func(m *Msg) error { got <- "b"; return nil })
	p.RcvDefault(func(m *Msg) error { got <- "default:" + m.Tag(); return nil })

	n.Snd(p.ID(), "a", "x")
	n.Snd(p.ID(), "b")
	n.Snd(p.ID(), "zzz")
	for _, want := range []string{"a:x", "b", "default:zzz"} {
		if g := recv(t, got); g != want {
			t.Fatalf("got %q, want %q", g, want)
		}
	}
	// Replace and remove.
	p.Rcv("a", func(m *Msg) error { got <- "a2"; return nil })
	p.Rcv("b", nil)
	n.Snd(p.ID(), "a")
	n.Snd(p.ID(), "b")
	for _, want := range []string{"a2", "default:b"} {
		if g := recv(t, got); g != want {
			t.Fatalf("got %q, want %q", g, want)
		}
	}
}

func TestUnhandledMessageKills(t *testing.T) {
	n := newTestNode(t, Config{})
	p := n.NewPort()
	reasons, _ := reasonMonitor(n, p.ID())
	n.Snd(p.ID(), "hello", 1)
	r := recv(t, reasons)
	want := Reason{"unhandled_message", "no callback found for message 'hello'"}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("reason %v, want %v", r, want)
	}
	if p.Alive() || n.Port(p.ID()) != nil {
		t.Fatal("port still alive")
	}
	// Tag cut to 30 chars, non-printables shown as '.'.
	q := n.NewPort()
	reasons, _ = reasonMonitor(n, q.ID())
	n.Snd(q.ID(), "\x01"+strings.Repeat("x", 40))
	r = recv(t, reasons)
	if r.Text() != "no callback found for message '."+strings.Repeat("x", 29)+"'" {
		t.Fatalf("text %q", r.Text())
	}
}

func TestHandlerErrorsKill(t *testing.T) {
	n := newTestNode(t, Config{})
	cases := []struct {
		h    Handler
		want Reason
	}{
		{func(m *Msg) error { return errors.New("boom\n\n") }, Reason{"die", "boom"}},
		{func(m *Msg) error { panic("kaputt") }, Reason{"die", "kaputt"}},
		{func(m *Msg) error { return Reason{"my_error", "custom", int64(42)} }, Reason{"my_error", "custom", int64(42)}},
		{func(m *Msg) error { _, err := m.Int(1); return err }, nil}, // checked by prefix below
	}
	for i, c := range cases {
		p := n.NewPortFunc(c.h)
		reasons, _ := reasonMonitor(n, p.ID())
		n.Snd(p.ID(), "go", "not a number")
		r := recv(t, reasons)
		if c.want == nil {
			if r.Kind() != "die" || !strings.Contains(r.Text(), "not an integer") {
				t.Errorf("case %d: reason %v", i, r)
			}
			continue
		}
		if !reflect.DeepEqual(r, c.want) {
			t.Errorf("case %d: reason %v, want %v", i, r, c.want)
		}
	}
}

func TestKillOrdering(t *testing.T) {
	n := newTestNode(t, Config{})
	got := make(chan int64, 100)
	p := n.NewPortFunc(func(m *Msg) error {
		v, _ := m.Int(1)
		got <- v
		return nil
	})
	reasons, _ := reasonMonitor(n, p.ID())
	block := make(chan struct{})
	p.Exec(func() error { <-block; return nil }) // hold the port so everything queues
	for i := range 5 {
		n.Snd(p.ID(), "n", i)
	}
	p.Kill("stop", "now")
	n.Snd(p.ID(), "n", 99) // after the kill: dropped
	close(block)
	if r := recv(t, reasons); !reflect.DeepEqual(r, Reason{"stop", "now"}) {
		t.Fatalf("reason %v", r)
	}
	close(got)
	var seq []int64
	for v := range got {
		seq = append(seq, v)
	}
	if !reflect.DeepEqual(seq, []int64{0, 1, 2, 3, 4}) {
		t.Fatalf("delivered %v, want 0..4 and nothing after the kill", seq)
	}
	// Killing again or a dead port is a no-op; node port cannot be killed.
	p.Kill()
	if err := n.Kill(p.ID()); err != nil {
		t.Fatal(err)
	}
	if err := n.Kill(n.NodePort()); !errors.Is(err, ErrNodePort) {
		t.Fatalf("kill node port: %v", err)
	}
}

func TestMonitorForms(t *testing.T) {
	n := newTestNode(t, Config{})

	// Callback with a normal kill: empty reason.
	p := n.NewPort()
	reasons, _ := reasonMonitor(n, p.ID())
	n.Kill(p.ID())
	if r := recv(t, reasons); !r.Normal() {
		t.Fatalf("normal kill gave %v", r)
	}

	// Link: non-normal reasons propagate, normal ones don't.
	target := n.NewPort()
	linked := n.NewPortFunc(func(*Msg) error { return nil })
	linkedReasons, _ := reasonMonitor(n, linked.ID())
	linked.Mon(target.ID())
	target.Kill("crash", "text")
	if r := recv(t, linkedReasons); !reflect.DeepEqual(r, Reason{"crash", "text"}) {
		t.Fatalf("linked port died with %v", r)
	}
	t2 := n.NewPort()
	survivor := n.NewPortFunc(func(*Msg) error { return nil })
	survivor.Mon(t2.ID())
	done, _ := reasonMonitor(n, t2.ID())
	t2.Kill()
	recv(t, done)
	time.Sleep(20 * time.Millisecond)
	if !survivor.Alive() {
		t.Fatal("a normal kill propagated through a link")
	}

	// Message form: (msg…, reason…) to the receiving port.
	msgs := make(chan []any, 1)
	rcv := n.NewPortFunc(func(m *Msg) error {
		v, err := m.Values()
		msgs <- v
		return err
	})
	t3 := n.NewPort()
	n.Mon(t3.ID(), MonSend(rcv.ID(), "died", "F"))
	t3.Kill("reasonF", "text")
	if v := recv(t, msgs); !reflect.DeepEqual(v, []any{"died", "F", "reasonF", "text"}) {
		t.Fatalf("message form delivered %#v", v)
	}

	// Nonexistent port.
	ghost := PortID(n.ID() + "#doesnotexist")
	reasons, _ = reasonMonitor(n, ghost)
	if r := recv(t, reasons); !reflect.DeepEqual(r, Reason{"no_such_port", "cannot monitor nonexistent port", string(ghost)}) {
		t.Fatalf("no_such_port gave %v", r)
	}

	// Cancel: never fires; fires at most once.
	t4 := n.NewPort()
	fired := make(chan Reason, 2)
	m := n.Mon(t4.ID(), MonFunc(func(r Reason) { fired <- r }))
	if !m.Cancel() || m.Cancel() {
		t.Fatal("Cancel should succeed once")
	}
	other, _ := reasonMonitor(n, t4.ID())
	t4.Kill("x")
	recv(t, other)
	select {
	case r := <-fired:
		t.Fatalf("cancelled monitor fired with %v", r)
	case <-time.After(20 * time.Millisecond):
	}

	// Own node port never fires.
	own := n.Mon(n.NodePort(), MonFunc(func(r Reason) { fired <- r }))
	if !own.Cancel() {
		t.Fatal("own node-port monitor should be active")
	}
}

func TestExecWrapAfter(t *testing.T) {
	n := newTestNode(t, Config{})
	p := n.NewPortFunc(func(*Msg) error { return nil })
	ran := make(chan string, 3)
	p.Exec(func() error { ran <- "exec"; return nil })
	p.Wrap(func() error { ran <- "wrap"; return nil })()
	p.After(10*time.Millisecond, func() error { ran <- "after"; return nil })
	for _, w := range []string{"exec", "wrap", "after"} {
		if g := recv(t, ran); g != w {
			t.Fatalf("got %s want %s", g, w)
		}
	}
	reasons, _ := reasonMonitor(n, p.ID())
	p.Exec(func() error { return errors.New("exec failed") })
	if r := recv(t, reasons); !reflect.DeepEqual(r, Reason{"die", "exec failed"}) {
		t.Fatalf("reason %v", r)
	}

	// Node.After sends a message; Stop cancels.
	got := make(chan int64, 2)
	q := n.NewPort().Rcv("tick", func(m *Msg) error { v, _ := m.Int(1); got <- v; return nil })
	tm := n.After(time.Hour, q.ID(), "tick", 1)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer")
	}
	n.After(5*time.Millisecond, q.ID(), "tick", 2)
	if v := recv(t, got); v != 2 {
		t.Fatalf("tick %d", v)
	}
}

func TestMailboxOverflowKills(t *testing.T) {
	n := newTestNode(t, Config{MailboxRing: 4, MailboxLimit: 100})
	block := make(chan struct{})
	p := n.NewPortFunc(func(*Msg) error { <-block; return nil })
	reasons, _ := reasonMonitor(n, p.ID())
	var overflowErr error
	for i := range 200 {
		if err := n.Snd(p.ID(), "x", i); err != nil && overflowErr == nil {
			overflowErr = err
		}
	}
	close(block)
	if !errors.Is(overflowErr, ErrOverflow) {
		t.Fatalf("Snd past the limit returned %v, want ErrOverflow", overflowErr)
	}
	r := recv(t, reasons)
	if r.Kind() != "overflow" || !strings.Contains(r.Text(), "100") {
		t.Fatalf("reason %v", r)
	}
}

// Many producers: each producer's messages arrive in order, none is lost,
// handlers of one port never run concurrently.
func TestPerProducerOrderAndExclusion(t *testing.T) {
	n := newTestNode(t, Config{MailboxRing: 8, Workers: 4})
	const producers, per = 4, 5000
	var running, maxRunning int
	var mu sync.Mutex
	next := make([]int64, producers)
	var fail error
	done := make(chan struct{})
	total := 0
	p := n.NewPortFunc(func(m *Msg) error {
		mu.Lock()
		running++
		if running > maxRunning {
			maxRunning = running
		}
		mu.Unlock()
		pr, _ := m.Int(1)
		seq, _ := m.Int(2)
		if seq != next[pr] && fail == nil {
			fail = fmt.Errorf("producer %d: got %d want %d", pr, seq, next[pr])
		}
		next[pr]++
		total++
		if total == producers*per {
			close(done)
		}
		mu.Lock()
		running--
		mu.Unlock()
		return nil
	})
	var wg sync.WaitGroup
	for pr := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				n.Snd(p.ID(), "m", pr, i)
			}
		}()
	}
	wg.Wait()
	recv(t, done)
	if fail != nil {
		t.Fatal(fail)
	}
	if maxRunning != 1 {
		t.Fatalf("%d handlers of one port ran at once", maxRunning)
	}
}

func TestSndErrors(t *testing.T) {
	n := newTestNode(t, Config{})
	if err := n.Snd("#x", "t"); !errors.Is(err, ErrBadPortID) {
		t.Fatalf("empty node: %v", err)
	}
	// Nonexistent local port: silently dropped.
	if err := n.Snd(PortID(n.ID()+"#nope"), "t"); err != nil {
		t.Fatal(err)
	}
	// A remote node on a local-only node.
	if err := n.Snd("elsewhere#b", "t"); !errors.Is(err, ErrNoRoute) {
		t.Fatalf("remote on local-only node: %v", err)
	}
	n.Close()
	if err := n.Snd(PortID(n.ID()+"#b"), "t"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
