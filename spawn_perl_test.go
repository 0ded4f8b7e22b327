package aemp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// interopSpawn are Go versions of the Perl functions the recorded node
// spawned (package InteropSpawn of session-spawn.txt, see its README).
func interopSpawn() map[string]Func {
	snd := func(p *Port, to any, tag string, args ...any) error {
		s, _ := to.(string)
		return p.Node().Snd(PortID(s), tag, args...)
	}
	return map[string]Func{
		// echo(report, args…): reports ["spawned", itself, args…], then
		// answers initargs, ping and add.
		"InteropSpawn::echo": func(p *Port, m *Msg) error {
			vals, err := m.Values()
			if err != nil || len(vals) < 2 {
				return fmt.Errorf("echo: bad arguments %v (%v)", vals, err)
			}
			initArgs := vals[1:]
			p.Rcv("initargs", func(m *Msg) error {
				to, _ := m.Value(1)
				return snd(p, to, "initargs", initArgs...)
			}).Rcv("ping", func(m *Msg) error {
				v, err := m.Values()
				if err != nil {
					return err
				}
				return snd(p, v[1], "pong", v[2:]...)
			}).Rcv("add", func(m *Msg) error {
				a, _ := m.Int(1)
				b, _ := m.Int(2)
				return m.Reply("sum", a+b)
			})
			return snd(p, initArgs[0], "spawned", append([]any{string(p.ID())}, initArgs[1:]...)...)
		},
		"InteropSpawn::die_in_init": func(p *Port, m *Msg) error {
			p.RcvDefault(func(*Msg) error { return nil })
			a, _ := m.String(1)
			return fmt.Errorf("die_in_init: init failed on purpose (args: %s)", a)
		},
		"InteropSpawn::die_before_rcv": func(p *Port, m *Msg) error {
			return errors.New("die_before_rcv: no rcv yet")
		},
		"InteropSpawn::die_soon": func(p *Port, m *Msg) error {
			secs, _ := m.Float(1)
			p.RcvDefault(func(*Msg) error { return nil })
			p.After(time.Duration(secs*float64(time.Second)), func() error {
				return fmt.Errorf("die_soon: init gave up after %s s", strconv.FormatFloat(secs, 'f', -1, 64))
			})
			return nil
		},
	}
}

// A Go node serves the recorded Perl spawner of session-spawn.txt: the
// same requests (spawns of every kind, each followed by a mon1 in the
// same write, pings, a cal, a kill) get the recorded answers and kil0s,
// byte for byte as JSON values, including ["die", …] for the init that
// registers and then dies (Perl's answer when the mon1 came with the
// _spawn, which is the Go node's answer always).
func TestSpawnServesRecordedPerlClient(t *testing.T) {
	_, secret := sessionMsgs(t, "session-spawn.txt", 0, strings.NewReplacer())
	k := newMeshKit(t)
	seed := k.node("perlseed", Config{Secret: secret, Funcs: interopSpawn()})
	echo := newRecorder(seed) // stands in for the seed's echo port (83NWr3JDkb)
	echo.RcvDefault(func(m *Msg) error {
		v, _ := m.Values()
		to, _ := v[1].(string)
		return seed.Snd(PortID(to), "pong", v[2:]...)
	})
	msgs, _ := sessionMsgs(t, "session-spawn.txt", 0, strings.NewReplacer("83NWr3JDkb", echo.ID().Local()))
	perlClient(t, seed, "perlclient/dae9OU2j5U", secret, msgs, nil)
}

// A Go spawner does what the recorded Perl spawner did, against a fake
// node that answers as the recorded Perl node: every request on the wire
// is the recorded one (the port names use the Go node's random suffix
// where Perl's had its own), and the monitors get the recorded reasons
// (the CASE spawn/… table of the README).
func TestSpawnAsRecordedPerlClient(t *testing.T) {
	k := newMeshKit(t)
	_, secret := sessionMsgs(t, "session-spawn.txt", 0, strings.NewReplacer())
	n := k.node("perlclient/", Config{Secret: secret})
	runiq := strings.TrimPrefix(n.ID(), "perlclient/")
	msgs, _ := sessionMsgs(t, "session-spawn.txt", 0, strings.NewReplacer("dae9OU2j5U", runiq))
	srv, addr := startPerlServer(t, "perlseed", secret, msgs)
	n.AddNode("perlseed", addr)
	ctx := timeout(t, 5*time.Second)

	me := newRecorder(n) // #b
	echo, err := n.Spawn(ctx, "perlseed", "InteropSpawn::echo", string(me.ID()), "extra", 42)
	if err != nil {
		t.Fatal(err)
	}
	if want := PortID("perlseed#" + runiq + "c"); echo != want {
		t.Fatalf("spawned %s, want %s", echo, want)
	}
	died, _ := reasonMonitor(n, echo)
	equalJSON(t, "report", me.next(t), `["spawned","perlseed#`+runiq+`c","extra",42]`)
	n.Snd(echo, "initargs", string(me.ID()))
	equalJSON(t, "initargs", me.next(t), `["initargs","`+string(me.ID())+`","extra",42]`)
	n.Snd(echo, "ping", string(me.ID()), "hello", 42, []any{1, map[string]any{"a": 2}})
	equalJSON(t, "pong", me.next(t), `["pong","hello",42,[1,{"a":2}]]`)
	r := afterCall(t, ctx, n, echo, nil, "add", 2, 3) // reply port #d
	equalJSON(t, "cal add", mustValues(t, r), `["sum",5]`)
	n.Kill(echo, "spawner_kil", "killed by the spawner", 7)
	equalJSON(t, "echo's monitor", recv(t, died), `["spawner_kil","killed by the spawner",7]`)

	for _, c := range []struct {
		fn   string
		args []any
		want string
	}{
		{"InteropSpawn::die_in_init", []any{"a1"}, `["die","die_in_init: init failed on purpose (args: a1)"]`},
		{"InteropSpawn::die_before_rcv", []any{"a2"}, `["no_such_port","cannot monitor nonexistent port","perlseed#` + runiq + `f"]`},
		{"InteropSpawn::die_soon", []any{0.3}, `["die","die_soon: init gave up after 0.3 s"]`},
		{"InteropSpawn::nosuch", nil, `["no_such_port","cannot monitor nonexistent port","perlseed#` + runiq + `h"]`},
		{"No::Such::Package::func", nil, `["no_such_port","cannot monitor nonexistent port","perlseed#` + runiq + `i"]`},
	} {
		id, err := n.Spawn(ctx, "perlseed", c.fn, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		died, _ := reasonMonitor(n, id)
		equalJSON(t, c.fn, recv(t, died), c.want)
	}
	last := newRecorder(n) // #j
	n.Snd("perlseed#83NWr3JDkb", "ping", string(last.ID()), "still there")
	equalJSON(t, "last pong", last.next(t), `["pong","still there"]`)

	want := sent(msgs)
	if got := srv.received(t); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the Go node sent\n%s\nthe Perl node sent\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func mustValues(t *testing.T, m *Msg) []any {
	t.Helper()
	v, err := m.Values()
	if err != nil {
		t.Fatal(err)
	}
	return v
}
