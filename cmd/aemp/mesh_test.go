package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aemp-go/aemp"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/syncbuf"
)

// The protocol subcommands, run as the built binary against nodes of the
// test's own process (on 127.0.0.1), and `aemp run` as a process of its
// own.

const testSecret = "cli-test-secret"

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testMesh is a seed node and a service node "svc" that uses it, in this
// process, and an aemp environment whose configuration points at the
// seed.
type testMesh struct {
	*env
	seed, svc *aemp.Node
	addr      string // the seed's
}

func newTestMesh(t *testing.T) *testMesh {
	t.Helper()
	check := leakcheck.Check(t)
	m := &testMesh{env: newEnv(t), addr: freeAddr(t)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var err error
	m.seed, err = aemp.NewNode(aemp.Config{NodeID: "seed", Binds: []string{m.addr}, Seeds: []string{m.addr},
		Secret: testSecret, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	m.svc, err = aemp.NewNode(aemp.Config{NodeID: "svc", Binds: []string{"127.0.0.1:0"}, Seeds: []string{m.addr},
		Secret: testSecret, Logger: quiet})
	if err != nil {
		m.seed.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.svc.Close()
		m.seed.Close()
		check()
	})
	waitFor(t, "svc's master", func() bool { return m.svc.Stats().Registry.Master == "seed" })
	m.write(fmt.Sprintf(`{"secret": %q, "seeds": [%q]}`, testSecret, m.addr), 0o600)
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// proc is the binary running in the background.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string    // standard output, line by line
	errb  syncbuf.Buffer // standard error
	done  chan struct{}
	code  int
}

// start runs the binary in the background; it is killed when the test
// ends if it is still running.
func (e *env) start(args ...string) *proc {
	e.t.Helper()
	cmd := e.command(args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	p := &proc{t: e.t, cmd: cmd, lines: make(chan string, 100), done: make(chan struct{})}
	cmd.Stderr = &p.errb
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		err := cmd.Wait()
		if exit, ok := err.(*exec.ExitError); ok {
			p.code = exit.ExitCode()
		}
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) stderr() string { return p.errb.String() }

// line returns the next line of standard output.
func (p *proc) line() string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("the process ended (stderr %q)", p.stderr())
		}
		return l
	case <-time.After(10 * time.Second):
		p.t.Fatalf("no output (stderr %q)", p.stderr())
		return ""
	}
}

// wait waits for the process to end and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(15 * time.Second):
		p.t.Fatalf("the process did not end (stderr %q)", p.stderr())
		return -1
	}
}

// `aemp run` with a profile whose binds include its seed is a seed: a
// library node uses it as its master and the global database works
// through it; SIGTERM shuts it down gracefully with exit 0.
func TestRunSeed(t *testing.T) {
	defer leakcheck.Check(t)()
	e := newEnv(t)
	addr := freeAddr(t)
	e.write(fmt.Sprintf(`{"secret": %q, "seeds": [%q],
		"profile": {"seed": {"nodeid": "cli-seed", "binds": [%q], "services": ["AnyEvent::MP::Global::", "My::Service::"]}}}`,
		testSecret, addr, addr), 0o600)
	p := e.start("run", "seed")
	if l := p.line(); l != "node cli-seed listening on "+addr {
		t.Fatalf("first line %q", l)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes []*aemp.Node
	for _, id := range []string{"a", "b"} {
		n, err := aemp.NewNode(aemp.Config{NodeID: id, Seeds: []string{addr}, Binds: []string{"127.0.0.1:0"},
			Secret: testSecret, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		nodes = append(nodes, n)
	}
	if err := nodes[0].DBSet("printers", "p1", "2nd floor"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		f, err := nodes[1].DBFamily(ctx, "printers")
		if err != nil {
			t.Fatal(err)
		}
		if f["p1"] == "2nd floor" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m := nodes[1].Stats().Registry.Master; m != "cli-seed" {
		t.Errorf("b's master is %q", m)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr())
	}
	errText := p.stderr()
	for _, want := range []string{"services not started: My::Service::",
		`msg="aemp: this node is now a global node"`, `msg="aemp: link up" node=cli-seed peer=a`} {
		if !strings.Contains(errText, want) {
			t.Errorf("no %q in stderr:\n%s", want, errText)
		}
	}
}

// snd is acknowledged by the port's node; a port that does not exist
// is an error with its reason.
func TestSnd(t *testing.T) {
	m := newTestMesh(t)
	got := make(chan []any, 1)
	sink := m.svc.NewPortFunc(func(msg *aemp.Msg) error { v, err := msg.Values(); got <- v; return err })
	out := m.ok("snd", string(sink.ID()), "hello", `[1,"two"]`, `{"k":null}`)
	if out != "message sent successfully\n" {
		t.Errorf("stdout %q", out)
	}
	// The acknowledgement says the node has the message (in the port's
	// mailbox); its handler runs on a worker, maybe a moment later.
	select {
	case v := <-got:
		if jsonText(v) != `["hello",[1,"two"],{"k":null}]` {
			t.Errorf("the port got %s", jsonText(v))
		}
	case <-time.After(5 * time.Second):
		t.Error("acknowledged, but the port never got the message")
	}
	r := m.fails(exitFailure, "snd", "svc#nosuch", "x")
	if !strings.Contains(r.stderr, `port svc#nosuch died: ["no_such_port","cannot monitor nonexistent port","svc#nosuch"]`) {
		t.Errorf("stderr %q", r.stderr)
	}
}

// cal appends a reply port and prints the reply without the brackets.
func TestCal(t *testing.T) {
	m := newTestMesh(t)
	echo := m.svc.NewPortFunc(func(msg *aemp.Msg) error {
		v, err := msg.Values()
		if err != nil {
			return err
		}
		reply := v[len(v)-1].(string)
		return m.svc.Snd(aemp.PortID(reply), "pong", v[1:len(v)-1]...)
	})
	if out := m.ok("cal", string(echo.ID()), "ping", "42", "[42]"); out != `"pong","42",[42]`+"\n" {
		t.Errorf("stdout %q", out)
	}
	silent := m.svc.NewPortFunc(func(*aemp.Msg) error { return nil })
	r := m.fails(exitFailure, "cal", "-timeout", "300ms", string(silent.ID()), "x")
	if !strings.Contains(r.stderr, "no answer in time") {
		t.Errorf("stderr %q", r.stderr)
	}
	dies := m.svc.NewPortFunc(func(*aemp.Msg) error { return fmt.Errorf("cannot") })
	r = m.fails(exitFailure, "cal", string(dies.ID()), "x")
	if !strings.Contains(r.stderr, `died: ["die","cannot"]`) {
		t.Errorf("stderr %q", r.stderr)
	}
}

// mon prints the reason the port dies with; interrupted, it exits 1.
func TestMon(t *testing.T) {
	m := newTestMesh(t)
	victim := m.svc.NewPort()
	p := m.start("mon", string(victim.ID()))
	waitFor(t, "the monitor at svc", func() bool { return m.svc.Stats().Monitors.Peers == 1 })
	victim.Kill("bye", "for now")
	if l := p.line(); l != `["bye","for now"]` {
		t.Errorf("mon printed %q", l)
	}
	if code := p.wait(); code != 0 {
		t.Errorf("exit %d, stderr %q", code, p.stderr())
	}

	live := m.svc.NewPort()
	p = m.start("mon", string(live.ID()))
	waitFor(t, "the monitor at svc", func() bool { return m.svc.Stats().Monitors.Peers == 1 })
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(); code != exitFailure || !strings.Contains(p.stderr(), "interrupted before the port died") {
		t.Errorf("exit %d, stderr %q", code, p.stderr())
	}
}

// db prints a family; -watch follows it until interrupted.
func TestDB(t *testing.T) {
	m := newTestMesh(t)
	m.svc.DBSet("printers", "p1", "2nd floor")
	m.svc.DBSet("printers", "p2", []any{"x", 1})
	waitFor(t, "the keys at the seed", func() bool { return m.seed.Stats().Registry.Keys >= 5 })
	if out := m.ok("db", "printers"); out != "{\n   \"p1\": \"2nd floor\",\n   \"p2\": [\n      \"x\",\n      1\n   ]\n}\n" {
		t.Errorf("db printed %q", out)
	}
	if out := m.ok("db", "nosuchfamily"); out != "{}\n" {
		t.Errorf("db printed %q", out)
	}

	p := m.start("db", "-watch", "printers")
	first := []string{p.line(), p.line()}
	slices.Sort(first)
	if want := []string{`add "p1" "2nd floor"`, `add "p2" ["x",1]`}; !slices.Equal(first, want) {
		t.Errorf("first lines %q", first)
	}
	m.svc.DBSet("printers", "p1", "3rd floor")
	if l := p.line(); l != `change "p1" "3rd floor"` {
		t.Errorf("line %q", l)
	}
	m.svc.DBDel("printers", "p2")
	if l := p.line(); l != `del "p2"` {
		t.Errorf("line %q", l)
	}
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(); code != 0 {
		t.Errorf("exit %d, stderr %q", code, p.stderr())
	}
}

// nodes lists the seed (master, global) and svc with their addresses.
func TestNodes(t *testing.T) {
	m := newTestMesh(t)
	waitFor(t, "svc at the seed", func() bool { return m.seed.Stats().Registry.Slaves == 2 })
	out := m.ok("nodes")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("nodes printed %q", out)
	}
	if f := strings.Fields(lines[0]); !slices.Equal(f, []string{"seed", m.addr, "master,global"}) {
		t.Errorf("line %q", lines[0])
	}
	if f := strings.Fields(lines[1]); !slices.Equal(f, []string{"svc", m.svc.Binds()[0]}) {
		t.Errorf("line %q", lines[1])
	}
}

// stats prints a Go node's Stats; eval says Go nodes run no code.
func TestStatsAndEval(t *testing.T) {
	m := newTestMesh(t)
	m.svc.NewPort().Kill("gone")
	waitFor(t, "the kill counted", func() bool { return m.svc.Stats().Ports.Kills["gone"] == 1 })
	var st aemp.Stats
	if err := json.Unmarshal([]byte(m.ok("stats", "svc")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Node != "svc" || st.Ports.Kills["gone"] != 1 || st.Registry.Master != "seed" {
		t.Errorf("stats %+v", st)
	}
	var linked []string
	for _, l := range st.Links {
		if l.Up {
			linked = append(linked, l.Node)
		}
	}
	if len(linked) != 2 || !strings.HasPrefix(linked[0], "aemp/") || linked[1] != "seed" {
		t.Errorf("svc's up links %v (the seed and the tool)", linked)
	}
	r := m.fails(exitFailure, "eval", "svc", "1", "+", "1")
	if !strings.Contains(r.stderr, "node svc: eval is not supported by Go nodes") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// trace walks the links from a node.
func TestTrace(t *testing.T) {
	m := newTestMesh(t)
	out := m.ok("trace", "seed")
	if out != "seed -> svc\nsvc -> seed\n" {
		t.Errorf("trace printed %q", out)
	}
}

// bench measures round trips to an echo port and to a node.
func TestBench(t *testing.T) {
	m := newTestMesh(t)
	echo := m.svc.NewPortFunc(func(msg *aemp.Msg) error { // examples/ping's echo port
		reply, _ := msg.String(1)
		seq, _ := msg.Int(2)
		data, _ := msg.String(3)
		return m.svc.Snd(aemp.PortID(reply), "pong", seq, data)
	})
	for _, args := range [][]string{
		{"bench", "-n", "300", "-inflight", "8", "-size", "100", string(echo.ID())},
		{"bench", "-n", "100", "svc"},
	} {
		out := m.ok(args...)
		if !strings.Contains(out, " msgs/s\n") || !strings.Contains(out, "rtt min ") || !strings.Contains(out, " p99 ") {
			t.Errorf("aemp %q printed %q", args, out)
		}
	}
}

// Usage errors exit 2, failures 1; the protocol subcommands need seeds and
// a secret.
func TestProtocolExitCodes(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"snd"},
		{"snd", "-bogus", "x#y"},
		{"cal", "-timeout", "soon", "x#y"},
		{"mon"},
		{"mon", "x#y", "extra"},
		{"eval", "node"},
		{"eval", "x#y", "1"},
		{"stats"},
		{"stats", "x#y"},
		{"trace", "a", "b"},
		{"db"},
		{"bench", "-n", "0", "x"},
		{"bench", "x", "y"},
		{"nodes", "x"},
		{"run", "profile", "key"},
	} {
		r := e.fails(exitUsage, args...)
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("aemp %q: want one line on stderr, got %q", args, r.stderr)
		}
	}
	r := e.fails(exitFailure, "snd", "x#y", "m")
	if !strings.Contains(r.stderr, "no seeds configured") {
		t.Errorf("stderr %q", r.stderr)
	}
	e.write(`{"seeds": ["127.0.0.1:1"]}`, 0o600)
	r = e.fails(exitFailure, "nodes")
	if !strings.Contains(r.stderr, "no secret or certificate configured") {
		t.Errorf("stderr %q", r.stderr)
	}
	e.write(fmt.Sprintf(`{"secret": "s", "seeds": [%q]}`, freeAddr(t)), 0o600) // nobody there
	r = e.fails(exitFailure, "nodes", "-timeout", "300ms")
	if !strings.Contains(r.stderr, "nodes: asking the seeds: ") {
		t.Errorf("stderr %q", r.stderr)
	}
}
