package aemp

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/internal/faultproxy"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/syncbuf"
)

// The root test kit: nodes that are closed and checked for leaked
// goroutines when the test ends, connected node pairs over every kind of
// link, log capture, polling instead of sleeping, and a fault proxy
// between two nodes.

// logBuffer collects a node's log records for assertions.
type logBuffer struct{ syncbuf.Buffer }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recv waits for one value on ch.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting")
		panic("unreachable")
	}
}

// timeout returns a context that ends after d or with the test.
func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// reasonMonitor monitors id and returns a channel that gets the reason.
func reasonMonitor(n *Node, id PortID) (<-chan Reason, *Monitor) {
	ch := make(chan Reason, 1)
	m := n.Mon(id, MonFunc(func(r Reason) { ch <- r }))
	return ch, m
}

// newTestNode starts a local node that is closed (and checked for leaked
// goroutines) when the test ends.
func newTestNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	check := leakcheck.Check(t)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		check()
	})
	return n
}

var testCert = sync.OnceValue(func() string {
	pem, err := auth.GenerateSelfSigned("AnyEvent::MP", time.Hour)
	if err != nil {
		panic(err)
	}
	return string(pem)
})

// linkKind is one kind of link between two nodes: the two configs differ
// only in what decides the link (backend, framings, TLS).
type linkKind struct {
	name   string
	ca, cb Config
}

// linkKinds are the links node-level tests run over where the link
// matters: the Go default (secret-keyed TLS), plain goframe1 on both
// backends, JSON and CBOR framing (as toward Perl nodes), mixed framings
// (each direction its own), and certificate TLS with either framing.
func linkKinds() []linkKind {
	json := []string{"json"}
	plain := func(c Config) Config { c.PlainGoLinks = true; return c }
	return []linkKind{
		{"secret-tls", Config{}, Config{}},
		{"cbor", plain(Config{Framings: []string{"cbor"}}), plain(Config{Framings: []string{"cbor"}})},
		{"cbor-json", plain(Config{Framings: []string{"cbor", "json"}}), plain(Config{Framings: []string{"json", "cbor"}})},
		{"goframe-std", plain(Config{Backend: "std"}), plain(Config{Backend: "std"})},
		{"goframe-netpoll", plain(Config{Backend: "netpoll"}), plain(Config{Backend: "netpoll"})},
		{"json", plain(Config{Framings: json}), plain(Config{Framings: json})},
		{"mixed", plain(Config{Framings: json}), plain(Config{})},
		{"tls-goframe", Config{Cert: testCert()}, Config{Cert: testCert()}},
		{"tls-json", Config{Cert: testCert(), Framings: json}, Config{Cert: testCert(), Framings: json}},
	}
}

// textOf turns the byte strings in a decoded value into strings: over the
// cbor framing a Go string travels as a CBOR byte string when it is ASCII
// (as Perl's do), which Value returns as []byte.
func textOf(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = textOf(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = textOf(e)
		}
		return out
	}
	return v
}

// forEachLink runs f as a subtest over every link kind, with a fresh pair.
func forEachLink(t *testing.T, f func(t *testing.T, p *netPair)) {
	forEachLinkWith(t, nil, f)
}

// forEachLinkWith is forEachLink with both nodes' configs changed by
// with (e.g. to give them Funcs).
func forEachLinkWith(t *testing.T, with func(*Config), f func(t *testing.T, p *netPair)) {
	for _, k := range linkKinds() {
		if with != nil {
			with(&k.ca)
			with(&k.cb)
		}
		t.Run(k.name, func(t *testing.T) { f(t, newNetPair(t, k.ca, k.cb)) })
	}
}

// netPair is two listening nodes, "nodeA" and "nodeB", that know each
// other's address.
type netPair struct {
	a, b       *Node
	logA, logB *logBuffer
}

// newNetPair starts a pair. The configs may set Secret/Cert/Framings and
// the rest; IDs, binds and loggers are filled in, and a test secret when
// neither a Secret nor a Cert is given.
func newNetPair(t *testing.T, ca, cb Config) *netPair {
	t.Helper()
	check := leakcheck.Check(t)
	p := &netPair{logA: &logBuffer{}, logB: &logBuffer{}}
	for _, c := range []*Config{&ca, &cb} {
		if c.Secret == "" && c.Cert == "" {
			c.Secret = "test-secret"
		}
		if c.ConnectTimeout == 0 {
			c.ConnectTimeout = 2 * time.Second
		}
		c.Binds = []string{"127.0.0.1:0"}
	}
	ca.NodeID, cb.NodeID = "nodeA", "nodeB"
	ca.Logger, cb.Logger = p.logA.logger(), p.logB.logger()
	var err error
	if p.a, err = NewNode(ca); err != nil {
		t.Fatal(err)
	}
	if p.b, err = NewNode(cb); err != nil {
		p.a.Close()
		t.Fatal(err)
	}
	p.a.AddNode("nodeB", p.b.Binds()...)
	p.b.AddNode("nodeA", p.a.Binds()...)
	t.Cleanup(func() {
		p.a.Close()
		p.b.Close()
		check()
		if t.Failed() {
			t.Logf("log of nodeA:\n%s\nlog of nodeB:\n%s", p.logA, p.logB)
		}
	})
	return p
}

// proxy puts a fault proxy on the way from node from to node to: from
// reaches to only through it. It is closed when the test ends (after the
// nodes: cleanups run last-in first-out).
func proxy(t *testing.T, from, to *Node) *faultproxy.Proxy {
	t.Helper()
	px, err := faultproxy.New(to.Binds()[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	from.AddNode(to.ID(), px.Addr())
	return px
}

// queueThenConnect runs send while from's link to node to cannot come up
// (a stalled proxy holds its handshake), so that everything it sends is
// queued, then lets the link come up.
func queueThenConnect(t *testing.T, from, to *Node, send func()) {
	t.Helper()
	px := proxy(t, from, to)
	px.Stall(faultproxy.Up, true)
	px.Stall(faultproxy.Down, true)
	send()
	if from.mesh.Up(to.ID()) {
		t.Fatal("the link came up through a stalled proxy")
	}
	px.Stall(faultproxy.Up, false)
	px.Stall(faultproxy.Down, false)
}

// meshKit starts nodes that form a mesh through seeds, and closes them
// (checking for leaked goroutines) when the test ends.
type meshKit struct {
	t     *testing.T
	mu    sync.Mutex
	nodes []*Node
	logs  map[string]*logBuffer
}

func newMeshKit(t *testing.T) *meshKit {
	check := leakcheck.Check(t)
	k := &meshKit{t: t, logs: map[string]*logBuffer{}}
	t.Cleanup(func() {
		for _, n := range k.nodes {
			n.Close()
		}
		check()
		if t.Failed() {
			for _, id := range slices.Sorted(maps.Keys(k.logs)) {
				t.Logf("log of %s:\n%s", id, k.logs[id])
			}
		}
	})
	return k
}

// node starts a mesh node with ID id (secret, binds and logger filled in).
func (k *meshKit) node(id string, cfg Config) *Node {
	k.t.Helper()
	cfg.NodeID = id
	if cfg.Secret == "" {
		cfg.Secret = "mesh-secret"
	}
	if cfg.Binds == nil {
		cfg.Binds = []string{"127.0.0.1:0"}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 2 * time.Second
	}
	lb := &logBuffer{}
	cfg.Logger = lb.logger()
	n, err := NewNode(cfg)
	if err != nil {
		k.t.Fatal(err)
	}
	k.mu.Lock()
	k.nodes = append(k.nodes, n)
	k.logs[id] = lb
	k.mu.Unlock()
	return n
}
