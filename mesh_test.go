package aemp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/fakepeer"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/registry"
)

// watch keeps the latest contents of a family as one node's DBMon sees it.
type watch struct {
	mu   sync.Mutex
	vals map[string]any
	all  []DBChange
	mon  *DBMonitor
}

func watchFamily(n *Node, family string) *watch {
	w := &watch{}
	w.mon = n.DBMon(family, func(c DBChange) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.vals = maps.Clone(c.Values)
		c.Values = nil
		w.all = append(w.all, c)
	})
	return w
}

func (w *watch) get() map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.vals)
}

func (w *watch) calls() []DBChange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.all)
}

func (w *watch) waitFor(t *testing.T, what string, cond func(map[string]any) bool) {
	t.Helper()
	waitFor(t, what, func() bool { return cond(w.get()) })
}

func hasKeys(keys ...string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				return false
			}
		}
		return true
	}
}

// startSeeds starts two global seed nodes that know each other.
func startSeeds(k *meshKit) (s1, s2 *Node, seeds []string) {
	s1 = k.node("seed1", Config{Global: true})
	s2 = k.node("seed2", Config{Global: true, Seeds: s1.Binds()})
	return s1, s2, append(s1.Binds(), s2.Binds()...)
}

func TestMeshRegistry(t *testing.T) {
	k := newMeshKit(t)
	s1, s2, seeds := startSeeds(k)
	n1 := k.node("n1", Config{Seeds: seeds})
	n2 := k.node("n2", Config{Seeds: seeds, Framings: []string{"json"}}) // speaks as a Perl node does
	n3 := k.node("n3", Config{Seeds: []string{seeds[1], seeds[0]}})      // master seed2
	all := []*Node{s1, s2, n1, n2, n3}
	var ids []string
	for _, n := range all {
		ids = append(ids, n.ID())
	}
	ws := map[string]*watch{}
	for _, n := range all {
		ws[n.ID()] = watchFamily(n, "'l")
	}
	for _, n := range all {
		ws[n.ID()].waitFor(t, n.ID()+" to know every node's listeners", hasKeys(ids...))
	}
	if !s1.IsGlobal() || !s2.IsGlobal() || n1.IsGlobal() {
		t.Fatalf("global: seed1 %v seed2 %v n1 %v", s1.IsGlobal(), s2.IsGlobal(), n1.IsGlobal())
	}
	if got, want := ws["n3"].get()["n1"], []any{n1.Binds()[0]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("n3 sees n1's listeners as %v, want %v", got, want)
	}

	// A change on n1 (master seed1) reaches n3 (master seed2).
	w3 := watchFamily(n3, "svc")
	w3.waitFor(t, "n3's first svc notification", func(map[string]any) bool { return len(w3.calls()) > 0 })
	ws1, ws2 := watchFamily(s1, "svc"), watchFamily(s2, "svc")
	if err := n1.DBSet("svc", "n1-key", map[string]any{"v": 1}); err != nil {
		t.Fatal(err)
	}
	w3.waitFor(t, "n1's key at n3", hasKeys("n1-key"))
	if v := w3.get()["n1-key"]; fmt.Sprint(v) != "map[v:1]" {
		t.Fatalf("n3 sees %v", v)
	}
	// The global nodes replicate among themselves as they go: n3 may
	// have it from one seed before the other does. Once both do, a
	// query through either master answers it.
	ws1.waitFor(t, "n1's key at seed1", hasKeys("n1-key"))
	ws2.waitFor(t, "n1's key at seed2", hasKeys("n1-key"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys, err := n2.DBKeys(ctx, "svc")
	if err != nil || !slices.Equal(keys, []string{"n1-key"}) {
		t.Fatalf("DBKeys = %v, %v", keys, err)
	}
	fam, err := n3.DBFamily(ctx, "nothing-here")
	if err != nil || len(fam) != 0 {
		t.Fatalf("DBFamily of an absent family = %v, %v", fam, err)
	}

	// n1 reaches a port on n3 without being told its address: it asks
	// its master (g_find).
	got := make(chan int64, 1)
	p := n3.NewPort().Rcv("hi", func(m *Msg) error {
		v, err := m.Int(1)
		got <- v
		return err
	})
	if err := n1.Snd(p.ID(), "hi", 42); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != 42 {
			t.Fatalf("got %d", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a message to a node known only through the registry did not arrive")
	}

	// DBReg: the key goes when the port dies.
	rp := n2.NewPortFunc(func(*Msg) error { return nil })
	if _, err := n2.DBReg("svc", rp.ID(), nil); err != nil {
		t.Fatal(err)
	}
	w3.waitFor(t, "the registered port at n3", hasKeys(string(rp.ID())))
	rp.Kill()
	w3.waitFor(t, "the dead port's key to go", func(m map[string]any) bool { _, ok := m[string(rp.ID())]; return !ok })

	// A node's keys leave the network with it.
	n1.Close()
	w3.waitFor(t, "n1's key to go", func(m map[string]any) bool { return len(m) == 0 })
	ws["n3"].waitFor(t, "n1's listeners to go", func(m map[string]any) bool { _, ok := m["n1"]; return !ok })
}

// When its master goes, a node attaches to the next seed and publishes
// its keys again; monitors resync.
func TestMeshMasterFailover(t *testing.T) {
	k := newMeshKit(t)
	s1, _, seeds := startSeeds(k)
	n1 := k.node("n1", Config{Seeds: seeds})
	n2 := k.node("n2", Config{Seeds: []string{seeds[1]}})
	w2 := watchFamily(n2, "svc")
	if err := n1.DBSet("svc", "a", "1"); err != nil {
		t.Fatal(err)
	}
	w2.waitFor(t, "n1's key at n2", hasKeys("a"))
	var downs sync.Map
	nm := n1.MonNodes(func(node string, up bool, r Reason) {
		if !up {
			downs.Store(node, r)
		}
	})
	defer nm.Cancel()
	waitFor(t, "n1's link to seed1", func() bool { return n1.mesh.Up("seed1") })
	s1.Close()
	waitFor(t, "n1 to see seed1 go down", func() bool { _, ok := downs.Load("seed1"); return ok })
	if r, _ := downs.Load("seed1"); len(r.(Reason)) != 3 || r.(Reason)[0] != "transport_error" {
		t.Fatalf("node-down reason %v", r)
	}
	// The key disappears with seed1 (seed2 learnt it from seed1), then comes
	// back when n1 has attached to seed2.
	if err := n1.DBSet("svc", "b", "2"); err != nil {
		t.Fatal(err)
	}
	w2.waitFor(t, "n1's keys back at n2 through seed2", hasKeys("a", "b"))
}

func TestMonNodesAlternate(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	px := proxy(t, p.a, p.b)
	var mu sync.Mutex
	var events []string
	m := p.a.MonNodes(func(node string, up bool, r Reason) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprintf("%s %v", node, up))
	})
	defer m.Cancel()
	for i := 0; i < 3; i++ {
		pong := make(chan struct{}, 1)
		rp := p.b.NewPortFunc(func(*Msg) error { pong <- struct{}{}; return nil })
		if err := p.a.Snd(rp.ID(), "x"); err != nil {
			t.Fatal(err)
		}
		<-pong
		px.Cut()
		waitFor(t, "link down", func() bool { return !p.a.mesh.Up("nodeB") })
	}
	waitFor(t, "six events", func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 6 })
	mu.Lock()
	defer mu.Unlock()
	for i, e := range events {
		want := fmt.Sprintf("nodeB %v", i%2 == 0)
		if e != want {
			t.Fatalf("events %v: #%d is %q, want %q", events, i, e, want)
		}
	}
}

// A node whose seed list names itself becomes global; a normal node with
// no reachable seed queues its queries until the context ends.
func TestSelfSeedAndNoMaster(t *testing.T) {
	k := newMeshKit(t)
	addr := freeAddr(t)
	g := k.node("g", Config{Binds: []string{addr}, Seeds: []string{addr}})
	waitFor(t, "g to become global", g.IsGlobal)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.DBSet("f", "k", "v"); err != nil {
		t.Fatal(err)
	}
	vals, err := g.DBValues(ctx, "f")
	if err != nil || fmt.Sprint(vals) != "[v]" {
		t.Fatalf("DBValues = %v, %v", vals, err)
	}

	lone := k.node("lone", Config{Seeds: []string{freeAddr(t)}})
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := lone.DBKeys(short, "f"); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("query without a master: %v", err)
	}
	if err := lone.DBSet("f", "k", make(chan int)); !errors.Is(err, ErrType) {
		t.Fatalf("DBSet of a channel: %v", err)
	}
}

// A node that becomes global through its own seed: the first DBMon
// notification of 'g lists the node itself as added (every key), and no
// second one follows for it.
func TestDBMonFirstOnSelfSeed(t *testing.T) {
	k := newMeshKit(t)
	addr := freeAddr(t)
	g := k.node("g1", Config{Binds: []string{addr}, Seeds: []string{addr}})
	w := watchFamily(g, "'g") // before the node is global: no master yet
	w.waitFor(t, "g1 in 'g", hasKeys("g1"))
	waitFor(t, "g1 to be global", g.IsGlobal)
	g.DBSet("f", "k", 1) // a later change, so that all calls for 'g are in
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := g.DBKeys(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	calls := w.calls()
	if len(calls) != 1 || !slices.Equal(calls[0].Added, []string{"g1"}) {
		t.Fatalf("DBMon of 'g got %+v, want one call with g1 added", calls)
	}
}

func TestConfigSeeds(t *testing.T) {
	for _, bad := range []string{"host", "host:0", "host:", ":"} {
		c := Config{Seeds: []string{bad}}
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("seed %q accepted", bad)
		}
	}
	c := Config{Seeds: []string{"127.0.0.1:4040", "[::1]:4040", "seed.example:4040"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// A local-only global node serves the database to itself.
func TestLocalGlobal(t *testing.T) {
	check := leakcheck.Check(t)
	defer check()
	n, err := NewNode(Config{NodeID: "solo", Global: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	w := watchFamily(n, "f")
	n.DBSet("f", "a", 1)
	w.waitFor(t, "a", hasKeys("a"))
	w2 := watchFamily(n, "f") // a second subscriber: one call with every key as added
	waitFor(t, "second subscriber's call", func() bool {
		c := w2.calls()
		return len(c) == 1 && slices.Equal(c[0].Added, []string{"a"})
	})
	n.DBDel("f", "a")
	w.waitFor(t, "a to go", func(m map[string]any) bool { return len(m) == 0 })
	w.mon.Cancel()
	w2.mon.Cancel()
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago (for a node that must name its own address in its seed list).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A seed endpoint that accepts connections and never answers does not
// hold up the others: the node attaches to the seed that works.
func TestStalledSeed(t *testing.T) {
	k := newMeshKit(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	held := make(chan net.Conn, 16)
	conns.Add(1)
	go func() { // accept and hold, say nothing
		defer conns.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c
		}
	}()
	t.Cleanup(func() { // after the nodes are closed (cleanups run last-in first-out)
		ln.Close()
		conns.Wait()
		close(held)
		for c := range held {
			c.Close()
		}
	})
	g := k.node("g", Config{Global: true})
	n := k.node("n", Config{Seeds: append([]string{ln.Addr().String()}, g.Binds()...)})
	w := watchFamily(n, "'l")
	w.waitFor(t, "n to attach to the working seed", hasKeys("g", "n"))
}

// A Go global node plays the Perl seed of the recorded JSON session: a peer
// that speaks only JSON, as the Perl client did, sends the client's
// recorded g_* messages byte for byte, and gets the seed's recorded
// answers byte for byte (the listener address in g_found is the Go
// seed's own).
func TestSeedAnswersRecordedPerlClient(t *testing.T) {
	path := vectors.Path("session-ping-json.txt")
	conns, err := vectors.LoadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := vectors.Secret(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := conns[0]
	k := newMeshKit(t)
	seed := k.node(rec.S, Config{Global: true, Secret: secret})
	seed.DBSet("echo", "perlseed#9q3J9HyJQb", nil) // the port the recorded g_reply names
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if keys, err := seed.DBKeys(ctx, "echo"); err != nil || len(keys) != 1 {
		t.Fatalf("seed's echo family: %v, %v", keys, err)
	}

	peer, err := fakepeer.Dial(ctx, seed.Binds()[0], fakepeer.Config{NodeID: rec.C, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	var want []string
	for _, m := range rec.Messages("S>C") {
		if strings.HasPrefix(m.JSON, `["","g_`) {
			want = append(want, strings.Replace(m.JSON, "127.0.0.1:14040", seed.Binds()[0], 1))
		}
	}
	for _, m := range rec.Messages("C>S") {
		if strings.HasPrefix(m.JSON, `["","g_`) {
			if err := peer.Send([]byte(m.JSON)); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "the seed's answers", func() bool { return len(peer.Messages()) >= len(want) })
	if got := peer.Messages(); !slices.Equal(got, want) {
		t.Fatalf("the seed sent\n%s\nrecorded\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// answerAsPerlSeed answers as the recorded Perl seed did: the recorded
// g_reply (with the asker's request ID) to g_db_keys.
func answerAsPerlSeed(p *fakepeer.Peer, msg []byte) {
	var req []any
	if err := json.Unmarshal(msg, &req); err != nil || len(req) != 4 || req[1] != "g_db_keys" {
		return
	}
	id, _ := json.Marshal(req[3])
	p.Send([]byte(`["","g_reply",` + string(id) + `,["perlseed#9q3J9HyJQb"]]`))
}

// A Go normal node uses a seed that speaks as the recorded Perl seed (JSON
// only): it asks it to run the global service, publishes its listeners in
// the recorded form, and gets the answer to a query.
func TestGoNodeWithPerlSeed(t *testing.T) {
	path := vectors.Path("session-ping-json.txt")
	secret, err := vectors.Secret(path)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan *fakepeer.Peer, 1)
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		seed, err := fakepeer.Serve(context.Background(), c, fakepeer.Config{NodeID: "perlseed", Secret: secret, OnMessage: answerAsPerlSeed})
		if err != nil {
			t.Error(err)
			return
		}
		if err := seed.Send([]byte(`["","g_global"]`)); err != nil { // g_global first, as Perl
			t.Error(err)
		}
		served <- seed
	}()
	k := newMeshKit(t)
	n := k.node("goclient", Config{Seeds: []string{ln.Addr().String()}, Secret: secret})
	seed := <-served
	if seed == nil {
		t.FailNow()
	}
	defer seed.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys, err := n.DBKeys(ctx, "echo")
	if err != nil || !slices.Equal(keys, []string{"perlseed#9q3J9HyJQb"}) {
		t.Fatalf("DBKeys through the Perl seed = %v, %v", keys, err)
	}
	got := seed.Messages()
	want := []string{
		`["","g_slave"]`,
		`["","g_slave",{"'l":{"goclient":["` + n.Binds()[0] + `"]}}]`,
	}
	if len(got) < 3 || !slices.Equal(got[:2], want) || !strings.HasPrefix(got[2], `["","g_db_keys","echo",`) {
		t.Fatalf("the seed got\n%s\nwant first\n%s\nthen g_db_keys", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n.IsGlobal() {
		t.Fatal("g_global made the Go node global")
	}
}

// Updates that queue up at a global node while its registry is busy reach
// a subscriber as one g_chg2 (registry.Coalesce), whose set map travels as
// raw JSON shared by the subscribers: one db_mon call with the net change,
// not one call per update, in every framing.
func TestRegistryBurstCoalesced(t *testing.T) {
	for _, framing := range []string{"goframe1", "json", "cbor"} {
		t.Run(framing, func(t *testing.T) {
			k := newMeshKit(t)
			g := k.node("g", Config{Global: true, Framings: []string{framing}})
			var ws []*watch
			for i := range 2 {
				n := k.node(fmt.Sprint("n", i), Config{Seeds: g.Binds(), Framings: []string{framing}})
				w := watchFamily(n, "f")
				waitFor(t, "n's first call for f (its subscription at g)", func() bool { return len(w.calls()) > 0 })
				ws = append(ws, w)
			}

			held, release := make(chan struct{}), make(chan struct{})
			g.reg.run(func(*registry.Out) { close(held); <-release }) // g's registry is busy
			<-held
			for i := range 100 {
				if err := g.DBSet("f", fmt.Sprint("k", i), map[string]any{"i": i}); err != nil {
					t.Fatal(err)
				}
			}
			g.DBDel("f", "k0") // set and deleted in the same burst
			close(release)
			for _, w := range ws {
				w.waitFor(t, "the burst", func(m map[string]any) bool { return len(m) == 99 })
				calls := w.calls()
				if len(calls) != 2 {
					t.Fatalf("DBMon was called %d times, want 2 (subscription, then the whole burst): %+v", len(calls), calls)
				}
				if c := calls[1]; len(c.Added) != 99 || len(c.Changed) != 0 || !slices.Equal(c.Deleted, []string{"k0"}) {
					t.Fatalf("the burst's call: %d added, changed %v, deleted %v", len(c.Added), c.Changed, c.Deleted)
				}
				if v := w.get()["k99"]; fmt.Sprint(v) != "map[i:99]" {
					t.Fatalf("k99 = %v", v)
				}
			}
		})
	}
}
