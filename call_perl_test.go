package aemp

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// perlEcho is the recorded Perl node's echo port (session-cal.txt):
// calecho and add answer a cal, mkport makes a port that is silent or dies
// on "boom", ping answers its first argument.
func perlEcho(n *Node) *Port {
	return n.NewPort().Rcv("calecho", func(m *Msg) error {
		v, err := m.Values()
		if err != nil {
			return err
		}
		return m.Reply("result", v[1:len(v)-1]...)
	}).Rcv("add", func(m *Msg) error {
		a, _ := m.Int(1)
		b, _ := m.Int(2)
		return m.Reply("sum", a+b)
	}).Rcv("mkport", func(m *Msg) error {
		to, _ := m.String(1)
		kind, _ := m.String(2)
		p := n.NewPort().RcvDefault(func(*Msg) error { return nil })
		if kind == "dier" {
			p.Rcv("boom", func(*Msg) error { return errors.New("dier got 'boom'") })
		}
		return n.Snd(PortID(to), "port", string(p.ID()))
	}).Rcv("ping", func(m *Msg) error {
		v, err := m.Values()
		if err != nil {
			return err
		}
		to, _ := v[1].(string)
		return n.Snd(PortID(to), "pong", v[2:]...)
	})
}

// calAnswer compares a Go node's answer with the recorded Perl answer:
// equal, except where a Go node answers differently on purpose.
func calAnswer(req, want, got []any) bool {
	nodeReq := func(tag string) bool { return len(req) > 2 && req[0] == "" && req[1] == tag }
	switch {
	case nodeReq("time"): // another clock: a number
		// (sent as a numeric string until relays keep the type of the
		// first element, another branch's work)
		var num bool
		switch x := got[len(got)-1].(type) {
		case float64:
			num = true
		case string:
			_, err := strconv.ParseFloat(x, 64)
			num = err == nil
		}
		return len(got) == len(want) && got[0] == want[0] && num
	case nodeReq("can") && req[2] == spawnRequest: // served from the start
		return reflect.DeepEqual(got, []any{want[0], "1"})
	case nodeReq("eval"): // reply…, "$@" saying why, no results
		w := append([]any{want[0]}, req[4:]...)
		return reflect.DeepEqual(got, append(w, evalRefused))
	case nodeReq("snd") && req[3] == 42.0:
		// A relay keeps a number as the first element: that is another
		// branch's work (type-preserving relays); until then it is "42".
		w := slices.Clone(want)
		w[1] = "42"
		return reflect.DeepEqual(got, want) || reflect.DeepEqual(got, w)
	}
	return reflect.DeepEqual(want, got)
}

// A Go node serves the recorded Perl client of session-cal.txt: cal
// requests (reply port last), ports that stay silent or die, time, can,
// devnull, snd relays and eval get the recorded answers (eval: an error
// at once, where Perl evaluates); then a Secure node refuses eval and
// spawn without an answer, as the recorded perlsecure did.
func TestCalServesRecordedPerlClient(t *testing.T) {
	msgs, secret := sessionMsgs(t, "session-cal.txt", 0, strings.NewReplacer())
	k := newMeshKit(t)
	seed := k.node("perlseed", Config{Secret: secret})
	seed.uniq = "91OFspYTU" // the recorded node's port names…
	perlEcho(seed)          // #b
	seed.NewPort()          // …and counter: the ports mkport makes are e, f, g
	seed.NewPort()
	perlClient(t, seed, "perlclient/89CzPt5s0O", secret, msgs, calAnswer)

	msgs, _ = sessionMsgs(t, "session-cal.txt", 1, strings.NewReplacer())
	secure := k.node("perlsecure", Config{Secret: secret, Secure: true, Funcs: interopSpawn()})
	perlClient(t, secure, "perlclient/89CzPt5s0O", secret, msgs, calAnswer)
	log := k.logs["perlsecure"].String()
	if n := strings.Count(log, "remote execution not allowed"); n != 3 {
		t.Errorf("the secure node logged %d refusals, want 3 (eval, eval, spawn):\n%s", n, log)
	}
}

// A Go node calls as the recorded Perl client did, against fake nodes
// that answer as the recorded perlseed and perlsecure: the requests on
// the wire are the recorded ones, except that a Go Call monitors its
// target (a mon1 before the first call to a port, none after: Perl's cal
// sends one only without a timeout), and Call returns what Perl's
// callbacks got.
func TestCalAsRecordedPerlClient(t *testing.T) {
	k := newMeshKit(t)
	_, secret := sessionMsgs(t, "session-cal.txt", 0, strings.NewReplacer())
	n := k.node("perlclient/", Config{Secret: secret})
	runiq := strings.TrimPrefix(n.ID(), "perlclient/")
	subst := strings.NewReplacer("89CzPt5s0O", runiq)
	seedMsgs, _ := sessionMsgs(t, "session-cal.txt", 0, subst)
	secureMsgs, _ := sessionMsgs(t, "session-cal.txt", 1, subst)
	seed, addr := startPerlServer(t, "perlseed", secret, seedMsgs)
	n.AddNode("perlseed", addr)
	secure, addr2 := startPerlServer(t, "perlsecure", secret, secureMsgs)
	n.AddNode("perlsecure", addr2)

	calAsPerl(t, n, "perlseed#91OFspYTUb", runiq)

	want := sent(seedMsgs)
	want = slices.DeleteFunc(want, func(s string) bool { return s == `["","mon1","91OFspYTUb"]` })
	for _, port := range []string{"91OFspYTUb", "91OFspYTUe", "91OFspYTUg"} {
		i := slices.IndexFunc(want, func(s string) bool { return strings.HasPrefix(s, `["`+port+`",`) })
		want = slices.Insert(want, i, `["","mon1","`+port+`"]`)
	}
	for _, c := range []struct {
		srv  *perlServer
		want []string
	}{{seed, want}, {secure, sent(secureMsgs)}} {
		if got := c.srv.received(t); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("the Go node sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}

// calAsPerl makes the recorded client's calls and checks what each
// returns. The order matters: every Call and port takes the next port
// name, as in the recording.
func calAsPerl(t *testing.T, n *Node, echo PortID, runiq string) {
	ctx := timeout(t, 5*time.Second)
	check := func(what string, r *Msg, want string) {
		t.Helper()
		equalJSON(t, what, mustValues(t, r), want)
	}
	check("calecho", afterCall(t, ctx, n, echo, nil, "calecho", 1, "two", []any{3}, map[string]any{"four": 4}), `["result",1,"two",[3],{"four":4}]`) // b
	check("calecho", afterCall(t, ctx, n, echo, nil, "calecho", "no-timeout"), `["result","no-timeout"]`)                                            // c
	check("add", afterCall(t, ctx, n, echo, nil, "add", 2, 3), `["sum",5]`)                                                                          // d
	silent := mkport(t, n, echo, "silent")                                                                                                           // e
	afterCall(t, timeout(t, 100*time.Millisecond), n, silent, ErrTimeout, "hello", "anyone?")                                                        // f
	dier := mkport(t, n, echo, "dier")                                                                                                               // g
	_, err := n.Call(ctx, dier, "boom", 1)                                                                                                           // h
	var why Reason
	if !errors.Is(err, ErrDied) || !errors.As(err, &why) {
		t.Fatalf("call to the dier: %v", err)
	}
	equalJSON(t, "dier's death", why, `["die","dier got 'boom'"]`)
	dier2 := mkport(t, n, echo, "dier")                                             // i
	afterCall(t, timeout(t, 100*time.Millisecond), n, dier2, ErrTimeout, "boom", 2) // j: nobody tells
	if f, _ := afterCall(t, ctx, n, "perlseed", nil, "time").Float(0); f != 1796114235.683005 {
		t.Errorf("time: %v", f) // k
	}
	for _, req := range []string{"time", "snd", "can", "devnull", "eval", "mon1", "kil1", "g_find", spawnRequest, "no_such_request"} {
		want := "1" // l…u
		if req == spawnRequest || req == "no_such_request" {
			want = ""
		}
		if got := afterCall(t, ctx, n, "perlseed", nil, "can", req).Tag(); got != want {
			t.Errorf("can %s: %q, want %q", req, got, want)
		}
	}
	afterCall(t, timeout(t, 100*time.Millisecond), n, "perlseed", ErrTimeout, "devnull", "into the void") // v
	sndTo := func(node PortID, args ...any) *recorder {
		r := newRecorder(n)
		args = slices.Insert(args, 1, any(string(r.ID())))
		n.Snd(node, args[0].(string), args[1:]...)
		return r
	}
	equalJSON(t, "relay", sndTo("perlseed", "snd", "relayed", 1, []any{2}).next(t), `["relayed",1,[2]]`) // w
	if r := sndTo("perlseed", "snd", 42, "x").next(t); len(r) != 2 || r[1] != "x" {                      // x
		t.Errorf("relay of 42: %v", r)
	}
	evalOn := func(code, tag string) []any { // eval_on: the reply port is not last
		r := newRecorder(n)
		n.Snd("perlseed", "eval", code, string(r.ID()), tag)
		return r.next(t)
	}
	equalJSON(t, "eval_on", evalOn("6*7", "evalreply"), `["evalreply","",42]`)                                           // y
	equalJSON(t, "eval_on", evalOn("(1, 'two', [3])", "evallist"), `["evallist","",1,"two",[3]]`)                        // z
	equalJSON(t, "eval_on", evalOn(`die "oops\n"`, "evaldie"), `["evaldie","oops\n"]`)                                   // aa
	equalJSON(t, "eval_on", evalOn("1 +;", "evalsyntax"), `["evalsyntax","syntax error at (eval 20) line 1, at EOF\n"]`) // ab
	check("cal eval", afterCall(t, ctx, n, "perlseed", nil, "eval", "6*7"), `["",42]`)                                   // ac

	afterCall(t, ctx, n, "perlsecure", nil, "time")                                    // ad
	check("can eval", afterCall(t, ctx, n, "perlsecure", nil, "can", "eval"), `["1"]`) // ae
	refused := newRecorder(n)                                                          // af
	n.Snd("perlsecure", "eval", "6*7", string(refused.ID()), "evalreply")
	afterCall(t, timeout(t, 100*time.Millisecond), n, "perlsecure", ErrTimeout, "eval", "6*7") // ag
	id, err := n.Spawn(ctx, "perlsecure", "InteropSpawn::echo")                                // ah
	if err != nil {
		t.Fatal(err)
	}
	died, _ := reasonMonitor(n, id)
	equalJSON(t, "spawn on the secure node", recv(t, died), `["no_such_port","cannot monitor nonexistent port","perlsecure#`+runiq+`ah"]`)
	equalJSON(t, "secure relay", sndTo("perlsecure", "snd", "relayed by a secure node").next(t), `["relayed by a secure node"]`) // ai
	equalJSON(t, "still there", sndTo(echo, "ping", "still there").next(t), `["pong","still there"]`)                            // aj
	select {
	case r := <-refused.got:
		t.Errorf("the secure node answered an eval: %v", r)
	default:
	}
}

// mkport asks the recorded echo port for a new port of a kind.
func mkport(t *testing.T, n *Node, echo PortID, kind string) PortID {
	t.Helper()
	r := newRecorder(n)
	n.Snd(echo, "mkport", string(r.ID()), kind)
	v := r.next(t)
	id, _ := v[1].(string)
	return PortID(id)
}
