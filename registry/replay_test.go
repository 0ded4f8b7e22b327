package registry

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/wire"
)

// gmsg is one recorded node request ["", "g_…", args…].
type gmsg struct {
	tag  string
	args []any
}

// recordedG returns the g_* node requests sent in direction dir.
func recordedG(t *testing.T, c *vectors.Connection, dir string) []gmsg {
	t.Helper()
	var out []gmsg
	for _, r := range c.Messages(dir) {
		if !strings.HasPrefix(r.JSON, `["",`) && !strings.HasPrefix(r.JSON, `["", `) {
			continue // not for a node port (and maybe not JSON: the CBOR views show NaN)
		}
		v, err := wire.DecodeAny([]byte(r.JSON))
		if err != nil {
			t.Fatalf("decode %s: %v", r.JSON, err)
		}
		list, ok := v.([]any)
		if !ok || len(list) < 2 || list[0] != "" {
			continue
		}
		tag, _ := list[1].(string)
		if strings.HasPrefix(tag, "g_") {
			out = append(out, gmsg{tag, list[2:]})
		}
	}
	return out
}

// sessions loads the recordings, keyed by file name.
func sessions(t *testing.T) map[string][]*vectors.Connection {
	t.Helper()
	all, err := vectors.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]*vectors.Connection{}
	for p, conns := range all {
		byName[filepath.Base(p)] = conns
	}
	return byName
}

// TestReplaySeed plays the listening Perl seed of every recorded connection
// on which the seed spoke the global protocol: a Go global node gets the
// client's recorded g_* requests and must answer with exactly the seed's
// recorded g_* messages. The seed's database (which the recordings show
// only through its answers) is set up from the recorded answers: the
// addresses g_found names, and the keys each g_reply lists, registered by
// the node their port IDs name before the query they answer arrives.
func TestReplaySeed(t *testing.T) {
	replayed := 0
	for name, conns := range sessions(t) {
		for _, c := range conns {
			fromC, fromS := recordedG(t, c, "C>S"), recordedG(t, c, "S>C")
			if len(fromS) == 0 || fromS[0].tag != "g_global" {
				continue // the listening node is not global on this connection
			}
			replayed++
			t.Run(name+"/"+c.S, func(t *testing.T) {
				seed := New(c.S)
				var out Out
				seed.BecomeGlobal(&out)
				answers := map[string][]any{} // request ID → keys of the recorded reply
				for _, m := range fromS {
					switch m.tag {
					case "g_found":
						seed.Set(FamilyListeners, m.args[0].(string), m.args[1], &out)
					case "g_reply":
						answers[m.args[0].(string)] = m.args[1].([]any)
					}
				}
				out = Out{}
				seed.NodeUp(c.C, &out)
				for _, m := range fromC {
					if m.tag == "g_db_keys" {
						family, id := m.args[0].(string), m.args[1].(string)
						registerKeys(t, seed, family, answers[id])
					}
					if err := seed.Handle(c.C, m.tag, m.args, &out); err != nil {
						t.Fatalf("%s: %v", m.tag, err)
					}
				}
				var got []gmsg
				for _, s := range out.Sends {
					if s.To != c.C {
						t.Errorf("sent %v to %s, want only messages to %s", s.Msg, s.To, c.C)
					}
					got = append(got, gmsg{s.Msg[0].(string), s.Msg[1:]})
				}
				if !sameMessages(got, fromS) {
					t.Errorf("seed sent\n%s\nrecorded\n%s", show(got), show(fromS))
				}
			})
		}
	}
	if replayed != 10 {
		t.Fatalf("replayed %d seed connections, want the 10 recorded ones", replayed)
	}
}

// registerKeys makes family hold exactly keys on a global node, each
// registered (value null, as db_reg does) by the node its port ID names.
func registerKeys(t *testing.T, g *State, family string, keys []any) {
	t.Helper()
	var out Out
	want := map[string]bool{}
	for _, k := range keys {
		port := k.(string)
		want[port] = true
		node, _, _ := strings.Cut(port, "#")
		if node == g.Self() {
			g.Set(family, port, nil, &out)
			continue
		}
		if err := g.Handle(node, "g_upd", []any{family, map[string]any{port: nil}}, &out); err != nil {
			t.Fatal(err)
		}
		g.g.slaves[node] = true
	}
	for k := range g.Merged(family) {
		if !want[k] {
			node, _, _ := strings.Cut(k, "#")
			g.Handle(node, "g_upd", []any{family, nil, []any{k}}, &out)
		}
	}
}

// TestReplayClient plays the connecting Perl client of the recorded ping
// sessions: a Go normal node whose master is the recorded seed sends the
// client's g_slave database and its g_db_keys query, and turns the seed's
// recorded answers into the query's reply and a found address.
func TestReplayClient(t *testing.T) {
	c := sessions(t)["session-ping-json.txt"][0]
	fromC, fromS := recordedG(t, c, "C>S"), recordedG(t, c, "S>C")
	var db map[string]any
	for _, m := range fromC {
		if m.tag == "g_slave" && len(m.args) > 0 {
			db = m.args[0].(map[string]any)
		}
	}
	client := New(c.C)
	var out Out
	for f, fm := range db {
		for k, v := range fm.(map[string]any) {
			client.Set(f, k, v, &out)
		}
	}
	id, err := client.Query("g_db_keys", "echo", &out)
	if err != nil {
		t.Fatal(err)
	}
	client.Find(c.S, &out)
	if len(out.Sends) != 0 {
		t.Fatalf("sent %v before there was a master", out.Sends)
	}
	client.SetMaster(c.S, &out)
	var got []gmsg
	for _, s := range out.Sends {
		got = append(got, gmsg{s.Msg[0].(string), s.Msg[1:]})
	}
	// The recorded client sent two plain g_slave (the node's seed logic
	// does that, not the registry), then these three; its query ID was "b".
	want := fromC[2:]
	want[1].args[1] = id
	if !sameMessages(got, want) {
		t.Fatalf("client sent\n%s\nrecorded\n%s", show(got), show(want))
	}
	out = Out{}
	for _, m := range fromS {
		if m.tag == "g_reply" {
			m.args[0] = id
		}
		if err := client.Handle(c.S, m.tag, m.args, &out); err != nil {
			t.Fatal(err)
		}
	}
	if len(out.Replies) != 1 || out.Replies[0].ID != id || !reflect.DeepEqual(out.Replies[0].Result, []any{"perlseed#9q3J9HyJQb"}) {
		t.Errorf("replies %+v", out.Replies)
	}
	if len(out.Found) != 1 || !reflect.DeepEqual(out.Found[0].Addrs, []string{"127.0.0.1:14040"}) {
		t.Errorf("found %+v", out.Found)
	}
	if client.IsGlobal() || len(out.Sends) != 0 {
		t.Errorf("g_global made the client global or answer: %v", out.Sends)
	}
}

func sameMessages(a, b []gmsg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].tag != b[i].tag || !sameJSON(a[i].args, b[i].args) {
			return false
		}
	}
	return true
}

// sameJSON compares two values by their JSON text (Go's map order is
// canonical, so equal maps encode equally).
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func show(ms []gmsg) string {
	var b strings.Builder
	for _, m := range ms {
		j, _ := json.Marshal(append([]any{"", m.tag}, m.args...))
		b.WriteString("  " + string(j) + "\n")
	}
	return b.String()
}
