package registry

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/aemp-go/aemp/wire"
)

// sim is an in-memory mesh of States. Messages travel as JSON text, as on
// a link, in one FIFO per run.
type sim struct {
	t       *testing.T
	nodes   map[string]*State
	links   map[[2]string]bool
	queue   []simMsg
	changes map[string][]Change // node → the Changes it reported
	replies map[string][]Reply
	found   map[string][]Found
}

type simMsg struct {
	from, to string
	text     []byte
}

func newSim(t *testing.T, ids ...string) *sim {
	s := &sim{t: t, nodes: map[string]*State{}, links: map[[2]string]bool{},
		changes: map[string][]Change{}, replies: map[string][]Reply{}, found: map[string][]Found{}}
	for _, id := range ids {
		s.nodes[id] = New(id)
	}
	return s
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// do runs f on node id's State and processes everything that follows.
func (s *sim) do(id string, f func(st *State, out *Out)) {
	var out Out
	f(s.nodes[id], &out)
	s.collect(id, &out)
	s.run()
}

func (s *sim) collect(id string, out *Out) {
	for _, m := range out.Sends {
		if m.To == id {
			s.t.Fatalf("%s sent %v to itself through the owner", id, m.Msg)
		}
		text, err := wire.AppendValue(nil, m.Msg)
		if err != nil {
			s.t.Fatalf("%s: encode %v: %v", id, m.Msg, err)
		}
		s.queue = append(s.queue, simMsg{id, m.To, text})
	}
	for _, c := range out.Changes {
		c.Values = cloneFamily(c.Values)
		s.changes[id] = append(s.changes[id], c)
	}
	s.replies[id] = append(s.replies[id], out.Replies...)
	s.found[id] = append(s.found[id], out.Found...)
	if out.BecameGlobal {
		var more Out
		for p := range s.links {
			if p[0] == id {
				s.nodes[id].NodeUp(p[1], &more)
			} else if p[1] == id {
				s.nodes[id].NodeUp(p[0], &more)
			}
		}
		s.collect(id, &more)
	}
}

func cloneFamily(f Family) Family {
	c := Family{}
	for k, v := range f {
		c[k] = v
	}
	return c
}

func (s *sim) run() {
	for len(s.queue) > 0 {
		m := s.queue[0]
		s.queue = s.queue[1:]
		if !s.links[pair(m.from, m.to)] {
			continue // no link: AEMP drops what was queued for a lost link
		}
		v, err := wire.DecodeAny(m.text)
		if err != nil {
			s.t.Fatal(err)
		}
		list := v.([]any)
		var out Out
		if err := s.nodes[m.to].Handle(m.from, list[0].(string), list[1:], &out); err != nil {
			s.t.Fatalf("%s handling %s from %s: %v", m.to, m.text, m.from, err)
		}
		s.collect(m.to, &out)
	}
}

// link brings a link up (both nodes see node-up); a normal node whose seed
// it is sends g_slave and takes it as master when it has none, as the
// owner's seed logic does.
func (s *sim) link(a, b string, seedOfA bool) {
	s.links[pair(a, b)] = true
	s.do(a, func(st *State, out *Out) { st.NodeUp(b, out) })
	s.do(b, func(st *State, out *Out) { st.NodeUp(a, out) })
	if seedOfA {
		s.queue = append(s.queue, simMsg{a, b, []byte(`["g_slave"]`)})
		s.run()
		s.do(a, func(st *State, out *Out) {
			if st.Master() == "" {
				st.SetMaster(b, out)
			}
		})
	}
}

func (s *sim) unlink(a, b string) {
	delete(s.links, pair(a, b))
	s.queue = slices.DeleteFunc(s.queue, func(m simMsg) bool { return pair(m.from, m.to) == pair(a, b) })
	s.do(a, func(st *State, out *Out) { st.NodeDown(b, out) })
	s.do(b, func(st *State, out *Out) { st.NodeDown(a, out) })
}

func (s *sim) last(id string) Change {
	s.t.Helper()
	cs := s.changes[id]
	if len(cs) == 0 {
		s.t.Fatalf("%s reported no change", id)
	}
	return cs[len(cs)-1]
}

// mesh: global nodes A and B (each a seed of the other), N1 attached to
// A, N2 to B, both monitoring family "svc".
func newMesh(t *testing.T) *sim {
	s := newSim(t, "A", "B", "N1", "N2")
	s.do("A", func(st *State, out *Out) { st.BecomeGlobal(out) })
	s.do("B", func(st *State, out *Out) { st.BecomeGlobal(out) })
	s.link("A", "B", false)
	s.link("N1", "A", true)
	s.link("N2", "B", true)
	for _, n := range []string{"N1", "N2"} {
		s.do(n, func(st *State, out *Out) { st.Monitor("svc", out) })
	}
	return s
}

func TestPropagation(t *testing.T) {
	s := newMesh(t)
	if !s.nodes["A"].IsGlobal() || s.nodes["N1"].IsGlobal() || s.nodes["N1"].Master() != "A" {
		t.Fatalf("roles: A global %v, N1 global %v, N1 master %q", s.nodes["A"].IsGlobal(), s.nodes["N1"].IsGlobal(), s.nodes["N1"].Master())
	}
	// The first notification is the subscription's resync: empty.
	if c := s.last("N2"); c.Family != "svc" || len(c.Values) != 0 || len(c.Added) != 0 {
		t.Fatalf("initial change %+v", c)
	}

	s.do("N1", func(st *State, out *Out) { st.Set("svc", "N1#p", "v1", out) })
	if c := s.last("N2"); !reflect.DeepEqual(c.Added, []string{"N1#p"}) || c.Values["N1#p"] != "v1" {
		t.Fatalf("N2 saw %+v", c)
	}
	n := len(s.changes["N2"])
	s.do("N1", func(st *State, out *Out) { st.Set("svc", "N1#p", "v1", out) })
	if len(s.changes["N2"]) != n {
		t.Fatal("setting an equal value was published")
	}
	s.do("N1", func(st *State, out *Out) { st.Set("svc", "N1#p", "v2", out) })
	if c := s.last("N2"); !reflect.DeepEqual(c.Changed, []string{"N1#p"}) || c.Values["N1#p"] != "v2" {
		t.Fatalf("N2 saw %+v", c)
	}
	// Both global nodes answer queries from the merged view.
	s.do("N2", func(st *State, out *Out) { st.Query("g_db_family", "svc", out) })
	if r := s.replies["N2"]; len(r) != 1 || !reflect.DeepEqual(r[0].Result, map[string]any{"N1#p": "v2"}) {
		t.Fatalf("N2's query got %+v", r)
	}
	s.do("N2", func(st *State, out *Out) { st.Query("g_db_family", "absent", out) })
	if r := s.replies["N2"]; len(r) != 2 || r[1].Result == nil {
		t.Fatalf("an absent family's g_db_family got %+v, want {} (Perl's callback expects a hash)", r)
	}
	// Every node can find every other through its master.
	s.do("N2", func(st *State, out *Out) {
		st.Set(FamilyListeners, "N2", []any{"10.0.0.2:4040"}, out)
	})
	s.do("N1", func(st *State, out *Out) { st.Find("N2", out) })
	if f := s.found["N1"]; len(f) != 1 || len(f[0].Addrs) != 1 || f[0].Addrs[0] != "10.0.0.2:4040" {
		t.Fatalf("N1 found %+v", f)
	}
	s.do("N1", func(st *State, out *Out) { st.Find("nobody", out) })
	if f := s.found["N1"]; len(f) != 2 || len(f[1].Addrs) != 0 {
		t.Fatalf("N1 found %+v for an unknown node", f)
	}

	s.do("N1", func(st *State, out *Out) { st.Del("svc", []string{"N1#p", "not-set"}, out) })
	if c := s.last("N2"); !reflect.DeepEqual(c.Deleted, []string{"N1#p"}) || len(c.Values) != 0 {
		t.Fatalf("N2 saw %+v", c)
	}
}

// A key set by two nodes falls back to the remaining value when one of
// them deletes it, and everything a node set disappears with its link to
// its master.
func TestFallbackAndDisconnect(t *testing.T) {
	s := newMesh(t)
	s.do("N1", func(st *State, out *Out) { st.Set("svc", "shared", "from N1", out) })
	s.do("N2", func(st *State, out *Out) { st.Set("svc", "shared", "from N2", out) })
	s.do("N1", func(st *State, out *Out) { st.Set("svc", "only1", 1, out) })
	for _, g := range []string{"A", "B"} {
		if v := s.nodes[g].Merged("svc")["shared"]; v != "from N2" {
			t.Fatalf("%s merged %v, want the last update", g, v)
		}
	}
	s.do("N2", func(st *State, out *Out) { st.Del("svc", []string{"shared"}, out) })
	for _, g := range []string{"A", "B"} {
		if v, ok := s.nodes[g].Merged("svc")["shared"]; !ok || v != "from N1" {
			t.Fatalf("%s merged %v %v after N2's delete, want N1's value", g, v, ok)
		}
	}
	if c := s.last("N2"); c.Values["shared"] != "from N1" {
		t.Fatalf("N2 sees %+v", c)
	}

	s.unlink("N1", "A")
	for _, g := range []string{"A", "B"} {
		if len(s.nodes[g].Merged("svc")) != 0 {
			t.Fatalf("%s still has %v after N1 left", g, s.nodes[g].Merged("svc"))
		}
	}
	if c := s.last("N2"); len(c.Values) != 0 || !slices.Contains(c.Deleted, "only1") {
		t.Fatalf("N2 saw %+v", c)
	}
	// N1 attaches to B: it republishes, and its monitor resyncs.
	s.link("N1", "B", true)
	if s.nodes["N1"].Master() != "A" {
		t.Fatal("owner-level master change is the owner's job; the sim keeps A")
	}
	s.do("N1", func(st *State, out *Out) { st.SetMaster("", out); st.SetMaster("B", out) })
	if v := s.nodes["A"].Merged("svc")["only1"]; v != int64(1) {
		t.Fatalf("A has %v (%T) after N1 came back through B", v, v)
	}
	if c := s.last("N1"); c.Values["only1"] != int64(1) {
		t.Fatalf("N1's resync %+v", c)
	}
}

// Global nodes learn each other's binds (g_set mirrors 'l) and list each
// other in 'g; a node that receives g_slave becomes global.
func TestGlobalsMeet(t *testing.T) {
	s := newSim(t, "A", "B", "C")
	s.do("A", func(st *State, out *Out) {
		st.BecomeGlobal(out)
		st.Set(FamilyListeners, "A", []any{"10.0.0.1:1"}, out)
	})
	s.links[pair("A", "B")] = true
	s.queue = append(s.queue, simMsg{"A", "B", []byte(`["g_slave"]`)})
	s.run()
	if !s.nodes["B"].IsGlobal() {
		t.Fatal("g_slave did not make B global")
	}
	s.do("A", func(st *State, out *Out) { st.NodeUp("B", out) })
	s.do("B", func(st *State, out *Out) { st.NodeUp("A", out) })
	if got := s.nodes["B"].Globals(); !reflect.DeepEqual(got, []string{"A"}) {
		t.Fatalf("B knows globals %v", got)
	}
	if v, _ := s.nodes["B"].Local(FamilyListeners, "A"); !reflect.DeepEqual(v, []any{"10.0.0.1:1"}) {
		t.Fatalf("B mirrored A's binds as %v", v)
	}
	// C becomes global with a link to B only: A learns of C through B.
	s.links[pair("B", "C")] = true
	s.do("C", func(st *State, out *Out) { st.BecomeGlobal(out) })
	s.do("B", func(st *State, out *Out) { st.NodeUp("C", out) })
	if got := s.nodes["A"].Globals(); !reflect.DeepEqual(got, []string{"B", "C"}) {
		t.Fatalf("A knows globals %v, want B and C", got)
	}
	s.unlink("B", "C")
	if got := s.nodes["B"].Globals(); !reflect.DeepEqual(got, []string{"A"}) {
		t.Fatalf("B still knows %v after C left", got)
	}
}

func TestMonitorResync(t *testing.T) {
	st := New("N")
	var out Out
	st.Monitor("f", &out)
	st.SetMaster("M", &out)
	if len(out.Sends) != 2 || out.Sends[1].Msg[0] != "g_mon1" {
		t.Fatalf("sends %v", out.Sends)
	}
	out = Out{}
	st.Handle("M", "g_chg1", []any{"f", nil}, &out)
	if c := out.Changes[0]; len(c.Added)+len(c.Changed)+len(c.Deleted) != 0 {
		t.Fatalf("empty resync %+v", c)
	}
	st.Handle("M", "g_chg1", []any{"f", map[string]any{"a": 1, "b": 2}}, &out)
	st.Handle("M", "g_chg1", []any{"f", map[string]any{"b": 3, "c": 4}}, &out)
	c := out.Changes[2]
	if !reflect.DeepEqual(c.Added, []string{"c"}) || !reflect.DeepEqual(c.Changed, []string{"b"}) || !reflect.DeepEqual(c.Deleted, []string{"a"}) {
		t.Fatalf("resync diff %+v", c)
	}
	// Incremental: deleted is the master's list as sent.
	st.Handle("M", "g_chg2", []any{"f", map[string]any{"d": 5}, []any{"zz", "c"}}, &out)
	c = out.Changes[3]
	if !reflect.DeepEqual(c.Added, []string{"d"}) || !reflect.DeepEqual(c.Deleted, []string{"zz", "c"}) || len(c.Values) != 2 {
		t.Fatalf("increment %+v", c)
	}
	// Only the current master's view counts.
	st.Handle("X", "g_chg2", []any{"f", map[string]any{"x": 1}, []any{}}, &out)
	if len(out.Changes) != 4 {
		t.Fatal("a change from a node that is not the master was applied")
	}
	out = Out{}
	st.Unmonitor("f", &out)
	if len(out.Sends) != 1 || out.Sends[0].Msg[0] != "g_mon0" || st.Monitored("f") != nil {
		t.Fatalf("unmonitor sent %v", out.Sends)
	}
}

func TestQueryWaitsForMaster(t *testing.T) {
	st := New("N")
	var out Out
	id, _ := st.Query("g_db_keys", "f", &out)
	id2, _ := st.Query("g_db_values", "f", &out)
	st.Cancel(id2)
	if _, err := st.Query("g_db_bogus", "f", &out); err == nil {
		t.Fatal("unknown query accepted")
	}
	st.SetMaster("M", &out)
	st.SetMaster("", &out)
	st.SetMaster("M2", &out)
	var queries []any
	for _, s := range out.Sends {
		if s.Msg[0] == "g_db_keys" || s.Msg[0] == "g_db_values" {
			queries = append(queries, s.To, s.Msg[2])
		}
	}
	if !reflect.DeepEqual(queries, []any{"M", id, "M2", id}) {
		t.Fatalf("queries sent %v", queries)
	}
	out = Out{}
	st.Handle("M", "g_reply", []any{id, []any{"from the old master"}}, &out)
	st.Handle("M2", "g_reply", []any{id, []any{}}, &out)
	st.Handle("M2", "g_reply", []any{id, []any{"late"}}, &out)
	if len(out.Replies) != 1 || len(out.Replies[0].Result.([]any)) != 0 {
		t.Fatalf("replies %+v", out.Replies)
	}
}

func TestMalformed(t *testing.T) {
	bad := []struct {
		tag  string
		args []any
	}{
		{"g_slave", []any{"not a db"}},
		{"g_slave", []any{map[string]any{"f": []any{1}}}},
		{"g_set", []any{}},
		{"g_set", []any{7}},
		{"g_upd", []any{}},
		{"g_upd", []any{1, nil}},
		{"g_upd", []any{"f", "x"}},
		{"g_upd", []any{"f", nil, "x"}},
		{"g_find", []any{}},
		{"g_find", []any{[]any{}}},
		{"g_found", []any{}},
		{"g_found", []any{"n", "addr"}},
		{"g_db_keys", []any{"f"}},
		{"g_db_family", []any{nil, "id"}},
		{"g_reply", []any{}},
		{"g_mon1", []any{}},
		{"g_chg1", []any{"f", "x"}},
		{"g_chg2", []any{"f", nil, 5}},
	}
	for _, b := range bad {
		g := New("G")
		var out Out
		g.BecomeGlobal(&out)
		g.Monitor("f", &out)
		g.Find("n", &out)
		out = Out{}
		from := "X"
		switch b.tag {
		case "g_chg1", "g_chg2", "g_found", "g_reply":
			from = g.Master() // these count only from the master
		}
		if err := g.Handle(from, b.tag, b.args, &out); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s %v: err %v, want ErrMalformed", b.tag, b.args, err)
		}
		if len(out.Sends)+len(out.Changes)+len(out.Replies)+len(out.Found) != 0 {
			t.Errorf("%s %v produced %+v", b.tag, b.args, out)
		}
	}
}

// FuzzHandle feeds arbitrary node requests to a global and a normal node:
// no panic, and what they send must encode.
func FuzzHandle(f *testing.F) {
	for _, seed := range []string{
		`["g_slave",{"'l":{"x":["127.0.0.1:1"]}}]`, `["g_slave"]`, `["g_global"]`,
		`["g_set",{"f":{"k":1}}]`, `["g_upd","f",{"k":[1,2]},["j"]]`, `["g_upd","f",null,["k"]]`,
		`["g_find","x"]`, `["g_found","x",null]`, `["g_found","x",["a:1"]]`,
		`["g_db_family","f","b"]`, `["g_db_keys","f","c"]`, `["g_db_values","f",{}]`,
		`["g_reply","1",[]]`, `["g_mon1","f"]`, `["g_mon0","f"]`,
		`["g_chg1","f",{"a":1}]`, `["g_chg2","f",{"a":2},["b"]]`, `["g_chg2","f",null,null]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := wire.DecodeAny([]byte(text))
		if err != nil {
			return
		}
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return
		}
		tag, _ := list[0].(string)
		g, n := New("G"), New("N")
		var out Out
		g.BecomeGlobal(&out)
		g.Monitor("f", &out)
		n.Monitor("f", &out)
		n.SetMaster("X", &out)
		n.Query("g_db_keys", "f", &out)
		n.Find("x", &out)
		for _, st := range []*State{g, n} {
			st.Handle("X", tag, list[1:], &out)
			st.NodeDown("X", &out)
		}
		for _, s := range out.Sends {
			if _, err := wire.AppendValue(nil, s.Msg); err != nil {
				t.Fatalf("unencodable %v: %v", s.Msg, err)
			}
		}
	})
}

// A node monitoring 'g that becomes global learns itself in the first
// notification, with every key as added, not in a second one.
func TestBecomeGlobalFirstChange(t *testing.T) {
	st := New("g1")
	var out Out
	st.Set("f", "k", "v", &out)
	st.Monitor(FamilyGlobals, &out)
	st.Monitor("f", &out)
	st.BecomeGlobal(&out)
	want := map[string][]string{FamilyGlobals: {"g1"}, "f": {"k"}}
	if len(out.Changes) != len(want) {
		t.Fatalf("changes %+v, want one per family", out.Changes)
	}
	for _, c := range out.Changes {
		if !reflect.DeepEqual(c.Added, want[c.Family]) || len(c.Changed)+len(c.Deleted) != 0 {
			t.Errorf("first change of %s: %+v, want added %v", c.Family, c, want[c.Family])
		}
	}
}

func TestCounts(t *testing.T) {
	s := New("n")
	var out Out
	s.Set("f", "a", "1", &out)
	s.Set("f", "b", "2", &out)
	s.Set("g", "a", "1", &out)
	s.Monitor("f", &out)
	if c := s.Counts(); c != (Counts{LocalFamilies: 2, LocalKeys: 3, Monitored: 1}) {
		t.Errorf("normal node: %+v", c)
	}
	s.BecomeGlobal(&out)
	c := s.Counts()
	// The merged view holds the local keys and the node's own 'g entry.
	if c.LocalFamilies != 3 || c.LocalKeys != 4 || c.Families != 3 || c.Keys != 4 || c.Slaves != 1 || c.GlobalPeers != 0 {
		t.Errorf("global node: %+v", c)
	}
}
