package aemp

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testFuncs are the functions the spawn tests start.
func testFuncs() map[string]Func {
	return map[string]Func{
		// echo reports ["spawned", itself, args…] to the port in its first
		// argument, then answers ping (reply port first) and add (cal).
		"test::echo": func(p *Port, m *Msg) error {
			vals, err := m.Values()
			if err != nil {
				return err
			}
			p.Rcv("ping", func(m *Msg) error {
				to, err := m.String(1)
				if err != nil {
					return err
				}
				out := NewMsg("pong")
				for i := 2; i < m.Len(); i++ {
					v, _ := m.Value(i)
					out.Append(v)
				}
				return p.Node().SndMsg(PortID(to), out)
			}).Rcv("add", func(m *Msg) error {
				a, err1 := m.Int(1)
				b, err2 := m.Int(2)
				if err := errors.Join(err1, err2); err != nil {
					return err
				}
				return m.Reply("sum", a+b)
			})
			if len(vals) > 1 {
				to, _ := vals[1].(string)
				return p.Node().Snd(PortID(to), "spawned", append([]any{string(p.ID())}, vals[2:]...)...)
			}
			return nil
		},
		"test::fail": func(p *Port, m *Msg) error {
			p.RcvDefault(func(*Msg) error { return nil })
			return errors.New("init failed on purpose")
		},
		"test::panic": func(p *Port, m *Msg) error {
			p.RcvDefault(func(*Msg) error { return nil })
			panic("init panicked")
		},
		"test::nohandler": func(p *Port, m *Msg) error { return nil },
		"test::failearly": func(p *Port, m *Msg) error { return errors.New("no handler yet") },
		// start is for function-call requests: it registers an add
		// handler and sends its port to the reply port it was given.
		"test::start": func(p *Port, m *Msg) error {
			p.Rcv("add", func(m *Msg) error {
				a, _ := m.Int(1)
				b, _ := m.Int(2)
				return m.Reply("sum", a+b)
			})
			return m.Reply("started", string(p.ID()))
		},
	}
}

func withTestFuncs(c *Config) { c.Funcs = testFuncs() }

// A node spawns a port on another: the init function gets the arguments
// and the port is an ordinary port afterwards (send, cal, kill, monitor).
func TestSpawnRemote(t *testing.T) {
	forEachLinkWith(t, withTestFuncs, func(t *testing.T, p *netPair) {
		ctx := timeout(t, 5*time.Second)
		reports := make(chan []any, 4)
		me := p.b.NewPort().RcvDefault(func(m *Msg) error {
			v, err := m.Values()
			reports <- v
			return err
		})
		id, err := p.b.Spawn(ctx, p.a.ID(), "test::echo", string(me.ID()), "extra", 42)
		if err != nil {
			t.Fatal(err)
		}
		if id.Node() != p.a.ID() || !strings.HasPrefix(id.Local(), p.b.runiq) {
			t.Fatalf("spawned port %s: want a port of %s named %s…", id, p.a.ID(), p.b.runiq)
		}
		died, _ := reasonMonitor(p.b, id)
		p.b.Snd(id, "ping", string(me.ID()), "early") // sent at once: waits for the init
		if got, want := recv(t, reports), []any{"spawned", string(id), "extra", int64(42)}; !reflect.DeepEqual(got, want) {
			t.Fatalf("report %#v, want %#v", got, want)
		}
		if got := recv(t, reports); !reflect.DeepEqual(got, []any{"pong", "early"}) {
			t.Fatalf("pong %#v", got)
		}
		r, err := p.b.Call(ctx, id, "add", 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if sum, err := r.Int(1); r.Tag() != "sum" || err != nil || sum != 5 {
			t.Fatalf("call add = %#v", r)
		}
		p.b.Kill(id, "spawner_kil", "killed by the spawner", 7)
		if r := recv(t, died); !reflect.DeepEqual(r, Reason{"spawner_kil", "killed by the spawner", int64(7)}) {
			t.Fatalf("monitor got %v", r)
		}
	})
}

// What the spawner's monitor gets when the init function fails or does
// not exist, locally and remotely, monitored right after the spawn (the
// recorded Perl idiom) and long after.
func TestSpawnFailures(t *testing.T) {
	cases := []struct {
		fn   string
		kind string // the reason's first element
		text string
	}{
		{"test::fail", "die", "init failed on purpose"},
		{"test::panic", "die", "init panicked"},
		{"test::nohandler", "no_such_port", "cannot monitor nonexistent port"},
		{"test::failearly", "no_such_port", "cannot monitor nonexistent port"},
		{"test::unknown", "no_such_port", "cannot monitor nonexistent port"},
	}
	p := newNetPair(t, Config{Funcs: testFuncs()}, Config{Funcs: testFuncs()})
	ctx := timeout(t, 5*time.Second)
	for _, spawner := range []*Node{p.b, p.a} { // remote, then local
		for _, c := range cases {
			if spawner == p.a && c.fn == "test::unknown" {
				if _, err := p.a.Spawn(ctx, p.a.ID(), c.fn); !errors.Is(err, ErrNoFunc) {
					t.Errorf("local spawn of an unknown function: %v", err)
				}
				continue
			}
			id, err := spawner.Spawn(ctx, p.a.ID(), c.fn, "a1")
			if err != nil {
				t.Fatal(err)
			}
			now, _ := reasonMonitor(spawner, id)
			r := recv(t, now)
			if r.Kind() != c.kind || r.Text() != c.text {
				t.Errorf("%s from %s: monitor got %v, want (%s, %s…)", c.fn, spawner.ID(), r, c.kind, c.text)
			}
			if c.kind == "no_such_port" && (len(r) != 3 || r[2] != string(id)) {
				t.Errorf("%s: %v does not name %s", c.fn, r, id)
			}
			later, _ := reasonMonitor(spawner, id) // the port is gone: same reason
			if r2 := recv(t, later); !reflect.DeepEqual(r2, r) {
				t.Errorf("%s: a later monitor got %v, the first %v", c.fn, r2, r)
			}
		}
	}
	if strings.Contains(p.logA.String(), "unmonitored local port died") && strings.Contains(p.logA.String(), "no_such_port") {
		t.Errorf("a port that never existed was logged as a death:\n%s", p.logA)
	}
	// Any port ID names its node.
	if id, err := p.b.Spawn(ctx, p.a.ID()+"#whatever", "test::echo"); err != nil || id.Node() != p.a.ID() {
		t.Errorf("spawn at a port ID: %s, %v", id, err)
	}
	if _, err := p.a.Spawn(ctx, p.b.ID(), "nocolons"); !errors.Is(err, ErrNoFunc) {
		t.Errorf("spawn of a name without '::': %v", err)
	}
}

// A spawn request cannot take a name this node gives its own ports, nor
// an existing port.
func TestSpawnNameRefused(t *testing.T) {
	p := newNetPair(t, Config{Funcs: testFuncs()}, Config{})
	own := p.a.NewPort().RcvDefault(func(*Msg) error { return nil })
	next := p.a.uniq + localName(p.a.counter.Load()+1)
	for _, local := range []string{own.ID().Local(), next, ""} {
		p.b.Snd(p.a.NodePort(), spawnRequest, local, "test::nohandler")
	}
	waitFor(t, "the refusals", func() bool { return strings.Count(p.logA.String(), "refused") == 3 })
	if !own.Alive() {
		t.Fatal("a spawn into an existing port killed it")
	}
	if q := p.a.NewPort(); q.ID().Local() != next {
		t.Fatalf("next port %s, want %s", q.ID(), next)
	}
}

// A function-call request runs the function on a port of the callee's
// choosing; Secure refuses it, and spawns and eval, with nothing on the
// wire (only a log record), while ordinary traffic goes on.
func TestFuncRequestsAndSecure(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure=%v", secure), func(t *testing.T) {
			p := newNetPair(t, Config{Funcs: testFuncs(), Secure: secure}, Config{})
			started := make(chan *Msg, 1)
			me := p.b.NewPortFunc(func(m *Msg) error { started <- m.Clone(); return nil })
			p.b.Snd(p.a.NodePort(), "test::start", string(me.ID()))
			ctx := timeout(t, 5*time.Second)
			evalCtx := timeout(t, 2*time.Second)
			if secure {
				evalCtx = timeout(t, 300*time.Millisecond) // never answered
			}
			spawned, err := p.b.Spawn(ctx, p.a.ID(), "test::echo")
			if err != nil {
				t.Fatal(err)
			}
			mon, _ := reasonMonitor(p.b, spawned)
			eval, evalErr := p.b.Call(evalCtx, p.a.NodePort(), "eval", "6*7")
			if secure {
				if !errors.Is(evalErr, ErrTimeout) {
					t.Fatalf("eval on a secure node: %#v, %v", eval, evalErr)
				}
				if r := recv(t, mon); r.Kind() != "no_such_port" {
					t.Fatalf("spawn on a secure node: monitor got %v", r)
				}
				waitFor(t, "three refusals logged", func() bool {
					return strings.Count(p.logA.String(), "remote execution not allowed") == 3
				})
				select {
				case m := <-started:
					t.Fatalf("a secure node ran a function: %#v", m)
				default:
				}
				if _, err := p.a.Spawn(ctx, p.a.ID(), "test::echo"); err != nil {
					t.Fatalf("a local spawn on a secure node: %v", err)
				}
				return
			}
			if evalErr != nil || eval.Len() != 1 || eval.Tag() != evalRefused {
				t.Fatalf("eval answered %#v, %v; want [%q]", eval, evalErr, evalRefused)
			}
			m := recv(t, started)
			port, _ := m.String(1)
			if m.Tag() != "started" || PortID(port).Node() != p.a.ID() {
				t.Fatalf("function reported %#v", m)
			}
			r, err := p.b.Call(ctx, PortID(port), "add", 40, 2)
			if n, _ := r.Int(1); err != nil || n != 42 {
				t.Fatalf("call to the function's port: %#v, %v", r, err)
			}
		})
	}
}

// "can" answers for spawn and this node's functions from the start, and
// not on a secure node.
func TestCanFuncs(t *testing.T) {
	for _, secure := range []bool{false, true} {
		n := newTestNode(t, Config{Funcs: testFuncs(), Secure: secure})
		ctx := timeout(t, 5*time.Second)
		for req, want := range map[string]bool{
			spawnRequest: !secure, "test::echo": !secure, "test::nosuch": false, "eval": true, "time": true,
		} {
			r, err := n.Call(ctx, n.NodePort(), "can", req)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Tag() == "1"; got != want {
				t.Errorf("secure=%v: can %s = %q, want %v", secure, req, r.Tag(), want)
			}
		}
	}
}

// Services start with the node, in order; one that fails fails NewNode.
func TestServices(t *testing.T) {
	started := make(chan string, 4)
	funcs := map[string]Func{
		"svc::one": func(p *Port, m *Msg) error { started <- m.Tag(); return nil },
		"svc::two": func(p *Port, m *Msg) error {
			started <- m.Tag()
			p.RcvDefault(func(*Msg) error { return nil })
			return nil
		},
		"svc::bad": func(p *Port, m *Msg) error { return errors.New("no database") },
	}
	newTestNode(t, Config{Funcs: funcs, Services: []string{"svc::one", "AnyEvent::MP::Foo::", "svc::two"}})
	if a, b := recv(t, started), recv(t, started); a != "svc::one" || b != "svc::two" {
		t.Fatalf("services started %s, %s", a, b)
	}
	g := newTestNode(t, Config{Services: []string{globalService}})
	waitFor(t, "the global service", g.IsGlobal)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := NewNode(Config{Funcs: funcs, Services: []string{"svc::bad"}, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("a failing service: %v", err)
	}
	for _, bad := range []Config{
		{Services: []string{"svc::none"}},
		{Funcs: map[string]Func{"nocolons": funcs["svc::one"]}},
		{Funcs: map[string]Func{"a::b": nil}},
	} {
		if err := bad.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
