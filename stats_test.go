package aemp

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
)

// link returns s's entry for node id (the zero value if there is none).
func (s Stats) link(id string) LinkStats {
	for _, l := range s.Links {
		if l.Node == id {
			return l
		}
	}
	return LinkStats{}
}

// 100 messages each way between two nodes: both sides count them, the
// bytes one wrote are the bytes the other read, and a cut link comes back
// as a reconnect with its reason kept.
func TestStatsTraffic(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	px := proxy(t, p.a, p.b)
	got := make(chan int, 200)
	echo := p.b.NewPortFunc(func(m *Msg) error {
		to, _ := m.String(1)
		i, _ := m.Int(2)
		return p.b.Snd(PortID(to), "pong", i)
	})
	sink := p.a.NewPortFunc(func(m *Msg) error { i, _ := m.Int(1); got <- int(i); return nil })
	for i := range 100 {
		if err := p.a.Snd(echo.ID(), "ping", string(sink.ID()), i); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		recv(t, got)
	}
	settled := func() bool {
		a, b := p.a.Stats().link("nodeB"), p.b.Stats().link("nodeA")
		return a.Queued == 0 && b.Queued == 0 && a.BytesOut == b.BytesIn && b.BytesOut == a.BytesIn &&
			a.MsgsIn == 100 && b.MsgsIn == 100 // (a reader counts what it read once it has parsed it all)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !settled() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !settled() {
		t.Fatalf("byte counts: A %+v\nB %+v", p.a.Stats().link("nodeB"), p.b.Stats().link("nodeA"))
	}
	a, b := p.a.Stats().link("nodeB"), p.b.Stats().link("nodeA")
	if a.MsgsOut != 100 || a.MsgsIn != 100 || b.MsgsIn != 100 || b.MsgsOut != 100 {
		t.Errorf("messages: A out %d in %d, B out %d in %d", a.MsgsOut, a.MsgsIn, b.MsgsOut, b.MsgsIn)
	}
	if a.BytesOut < 100*20 || a.BytesIn < 100*10 {
		t.Errorf("bytes: A out %d in %d", a.BytesOut, a.BytesIn)
	}
	if !a.Up || !b.Up || a.Reconnects != 0 || a.SendFraming != "goframe1" || a.RecvFraming != "goframe1" ||
		a.Auth != "tls_hmac_sha3_512" || a.PeerAuth != "tls_hmac_sha3_512" || !a.TLS || a.Since.IsZero() || a.LastError != "" {
		t.Errorf("A's link: %+v", a)
	}

	px.Cut()
	waitFor(t, "the link down", func() bool { return !p.a.Stats().link("nodeB").Up })
	down := p.a.Stats().link("nodeB")
	if down.LastError == "" || !down.Since.IsZero() || down.MsgsOut != 100 {
		t.Errorf("after the cut: %+v", down)
	}
	if err := p.a.Snd(echo.ID(), "ping", string(sink.ID()), 100); err != nil {
		t.Fatal(err)
	}
	recv(t, got)
	waitFor(t, "the reply counted", func() bool { return p.a.Stats().link("nodeB").MsgsIn == 101 })
	a = p.a.Stats().link("nodeB")
	if !a.Up || a.Reconnects != 1 || a.MsgsOut != 101 || a.MsgsIn != 101 || a.LastError != down.LastError {
		t.Errorf("after the reconnect: %+v", a)
	}
}

// Port deaths are counted by the kind of their reason; the port count
// follows creations and deaths.
func TestStatsKills(t *testing.T) {
	n := newTestNode(t, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	base := n.Stats().Ports.Count
	dead := make(chan Reason, 8)
	watch := func(p *Port) { n.Mon(p.ID(), MonFunc(func(r Reason) { dead <- r })) }
	ports := []*Port{
		n.NewPortFunc(func(*Msg) error { panic("boom") }),
		n.NewPortFunc(func(*Msg) error { return fmt.Errorf("failed") }),
		n.NewPort(), // no handler: unhandled_message
		n.NewPort(), // killed with a reason of its own
		n.NewPort(), // killed normally
		n.NewPort(), // lives
	}
	for _, p := range ports {
		watch(p)
	}
	if c := n.Stats().Ports.Count; c != base+6 {
		t.Errorf("ports: %d, want %d", c, base+6)
	}
	for _, p := range ports[:3] {
		n.Snd(p.ID(), "x")
	}
	ports[3].Kill("timeout", "too slow")
	ports[4].Kill()
	for range 5 {
		recv(t, dead)
	}
	st := n.Stats().Ports
	want := map[string]uint64{"die": 2, "unhandled_message": 1, "timeout": 1, "normal": 1}
	if fmt.Sprint(st.Kills) != fmt.Sprint(want) {
		t.Errorf("kills %v, want %v", st.Kills, want)
	}
	if st.Count != base+1 {
		t.Errorf("ports: %d, want %d", st.Count, base+1)
	}
}

// Past 16 kinds of its own the rest count as "other".
func TestStatsKillKindsBounded(t *testing.T) {
	n := newTestNode(t, Config{})
	done := make(chan Reason, 40)
	for i := range 40 {
		p := n.NewPort()
		n.Mon(p.ID(), MonFunc(func(r Reason) { done <- r }))
		p.Kill(fmt.Sprintf("kind%d", i))
	}
	for range 40 {
		recv(t, done)
	}
	kills := n.Stats().Ports.Kills
	if len(kills) != maxOtherKinds+1 || kills["other"] != 40-maxOtherKinds {
		t.Errorf("%d kinds, other %d: %v", len(kills), kills["other"], kills)
	}
}

// A port whose handler is stuck shows up as the deepest mailbox, and
// leaves the list once it has caught up.
func TestStatsDeepest(t *testing.T) {
	n := newTestNode(t, Config{})
	release := make(chan struct{})
	stuck := n.NewPortFunc(func(*Msg) error { <-release; return nil })
	other := n.NewPortFunc(func(*Msg) error { <-release; return nil })
	for range 1000 {
		n.Snd(stuck.ID(), "x")
	}
	for range 100 {
		n.Snd(other.ID(), "x")
	}
	shallow := n.NewPortFunc(func(*Msg) error { <-release; return nil })
	n.Snd(shallow.ID(), "x")
	d := n.Stats().Ports.Deepest
	// Each handler holds one message; the rest wait.
	if len(d) != 2 || d[0].Port != stuck.ID() || d[0].Waiting < 998 || d[1].Port != other.ID() || d[1].Waiting < 98 {
		t.Fatalf("deepest %+v", d)
	}
	close(release)
	waitFor(t, "the mailboxes to drain", func() bool { return len(n.Stats().Ports.Deepest) == 0 })
	n.stats.deepMu.Lock()
	defer n.stats.deepMu.Unlock()
	if len(n.stats.deep) != 0 {
		t.Errorf("%d ports still tracked as deep", len(n.stats.deep))
	}
}

// A deep port that dies is forgotten without a Stats call.
func TestStatsDeepPortDies(t *testing.T) {
	n := newTestNode(t, Config{})
	release := make(chan struct{})
	p := n.NewPortFunc(func(*Msg) error { <-release; return fmt.Errorf("stop") })
	for range 200 {
		n.Snd(p.ID(), "x")
	}
	close(release)
	waitFor(t, "the port to die", func() bool { return !p.Alive() })
	waitFor(t, "the deep set to empty", func() bool {
		n.stats.deepMu.Lock()
		defer n.stats.deepMu.Unlock()
		return len(n.stats.deep) == 0
	})
}

// Monitors are counted while active: this node's of its own ports, of
// other nodes' ports, and other nodes' of its ports.
func TestStatsMonitors(t *testing.T) {
	p := newNetPair(t, Config{}, Config{})
	local := p.a.NewPort()
	remote := p.b.NewPort()
	m1 := p.a.Mon(local.ID(), MonFunc(func(Reason) {}))
	fired := make(chan Reason, 1)
	p.a.Mon(remote.ID(), MonFunc(func(r Reason) { fired <- r }))
	p.a.Mon(remote.ID(), MonFunc(func(Reason) {})).Cancel()
	waitFor(t, "B to count A's monitor", func() bool { return p.b.Stats().Monitors.Peers == 1 })
	if m := p.a.Stats().Monitors; m != (MonitorStats{Local: 1, Remote: 1}) {
		t.Errorf("A's monitors %+v", m)
	}
	m1.Cancel()
	remote.Kill("bye")
	recv(t, fired)
	if m := p.a.Stats().Monitors; m != (MonitorStats{}) {
		t.Errorf("A's monitors after cancel and kill %+v", m)
	}
	if m := p.b.Stats().Monitors; m != (MonitorStats{}) {
		t.Errorf("B's monitors after the kill %+v", m)
	}
}

// A seed node's registry: global, its own master, the merged families
// with every node's 'l entry; a normal node sees its master.
func TestStatsRegistry(t *testing.T) {
	k := newMeshKit(t)
	addr := freeAddr(t)
	seed := k.node("seed", Config{Binds: []string{addr}, Seeds: []string{addr}})
	n := k.node("n", Config{Seeds: []string{addr}})
	if err := n.DBSet("svc", "a", 1); err != nil {
		t.Fatal(err)
	}
	n.DBMon("svc", func(DBChange) {})
	waitFor(t, "the key at the seed", func() bool { return seed.Stats().Registry.Keys >= 4 })
	rs := seed.Stats().Registry
	// 'l: seed and n; 'g: seed; svc: a
	if !rs.Global || rs.Master != "seed" || rs.Families != 3 || rs.Keys != 4 || rs.Slaves != 2 {
		t.Errorf("the seed's registry %+v", rs)
	}
	waitFor(t, "n's master", func() bool { return n.Stats().Registry.Master == "seed" })
	rs = n.Stats().Registry
	if rs.Global || rs.LocalFamilies != 2 || rs.LocalKeys != 2 || rs.Monitored != 1 || rs.Families != 0 {
		t.Errorf("n's registry %+v", rs)
	}
}

// BenchmarkStats measures Stats on a node with 100 links, 10 000 ports
// and 10 deep mailboxes.
func BenchmarkStats(b *testing.B) {
	check := leakcheck.Check(b)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub, err := NewNode(Config{NodeID: "hub", Binds: []string{"127.0.0.1:0"}, Secret: "s", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	sink := hub.NewPortFunc(func(*Msg) error { return nil })
	var peers []*Node
	for i := range 100 {
		n, err := NewNode(Config{NodeID: fmt.Sprintf("peer%d", i), Secret: "s", Workers: 1, Logger: quiet,
			Nodes: map[string][]string{"hub": hub.Binds()}})
		if err != nil {
			b.Fatal(err)
		}
		peers = append(peers, n)
		n.Snd(sink.ID(), "hello")
	}
	for len(hub.UpNodes()) < 100 {
		time.Sleep(time.Millisecond)
	}
	for range 10000 - 1 {
		hub.NewPort()
	}
	release := make(chan struct{})
	for i := range 10 {
		p := hub.NewPortFunc(func(*Msg) error { <-release; return nil })
		for range 100 + i {
			hub.Snd(p.ID(), "x")
		}
	}
	b.Cleanup(func() {
		close(release)
		for _, n := range peers {
			n.Close()
		}
		hub.Close()
		check()
	})
	if s := hub.Stats(); len(s.Links) != 100 || len(s.Ports.Deepest) != 10 || s.Ports.Count < 10000 {
		b.Fatalf("%d links, %d deep ports, %d ports", len(s.Links), len(s.Ports.Deepest), s.Ports.Count)
	}
	b.ReportAllocs()
	for b.Loop() {
		hub.Stats()
	}
}

// The aemp::stats node request answers with the node's Stats as JSON
// values; "can" knows it.
func TestStatsRequest(t *testing.T) {
	p := newNetPair(t, Config{}, Config{Framings: []string{"json"}})
	got := make(chan []any, 2)
	me := p.b.NewPortFunc(func(m *Msg) error { v, err := m.Values(); got <- v; return err })
	p.b.Snd(p.a.NodePort(), "can", StatsRequest, me.ID(), "can")
	if v := recv(t, got); fmt.Sprint(v) != "[can 1]" {
		t.Fatalf("can reply %v", v)
	}
	p.b.Snd(p.a.NodePort(), StatsRequest, me.ID(), "stats")
	v := recv(t, got)
	if len(v) != 2 || v[0] != "stats" {
		t.Fatalf("reply %v", v)
	}
	st, _ := v[1].(map[string]any)
	links, _ := st["links"].([]any)
	if st["node"] != "nodeA" || len(links) != 1 {
		t.Fatalf("stats %v", v[1])
	}
	l := links[0].(map[string]any)
	if l["node"] != "nodeB" || l["up"] != true || l["recv_framing"] != "json" || l["msgs_out"] != int64(1) {
		t.Errorf("link %v", l)
	}
	if _, ok := st["ports"].(map[string]any)["kills"].(map[string]any); !ok {
		t.Errorf("ports %v", st["ports"])
	}
}
