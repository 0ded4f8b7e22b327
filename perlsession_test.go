package aemp

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/fakepeer"
	"github.com/aemp-go/aemp/internal/vectors"
)

// A kit for replaying the recorded Perl sessions of spawn and cal
// (session-spawn.txt, session-cal.txt) against Go nodes, in both roles:
// a fake Perl client sends the recorded requests to a Go node and checks
// its answers against the recorded ones, and a fake Perl server answers
// a Go node's requests as the recorded Perl node did, so that the test
// can check that Go sent exactly the recorded requests. The g_* traffic
// of the recordings (the global database) is left out: other tests
// replay it.

// recMsg is one recorded data-phase message, decoded.
type recMsg struct {
	dir string // "C>S" or "S>C"
	v   []any
}

// sessionMsgs loads connection conn of a recorded session, with the
// recorded text rewritten by subst (e.g. Perl's random node suffix to a
// Go node's) and the g_* messages left out. It returns the shared secret
// too.
func sessionMsgs(t *testing.T, name string, conn int, subst *strings.Replacer) ([]recMsg, string) {
	t.Helper()
	path := vectors.Path(name)
	conns, err := vectors.LoadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := vectors.Secret(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []recMsg
	for _, r := range conns[conn].Records {
		if r.Kind != "msg" {
			continue
		}
		v := decodeJSONList(t, subst.Replace(r.JSON))
		if !isRegistryMsg(v) {
			out = append(out, recMsg{r.Dir, v})
		}
	}
	return out, secret
}

func decodeJSONList(t *testing.T, s string) []any {
	t.Helper()
	var v []any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func isRegistryMsg(v []any) bool {
	if len(v) < 2 || v[0] != "" {
		return false
	}
	tag, _ := v[1].(string)
	return strings.HasPrefix(tag, "g_")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// perlClient dials node as the recorded client and plays the recorded
// conversation from message from on: it sends each C>S message and checks
// each S>C message against what the node sends next. check compares one
// answer (the request it answers is the last one sent); nil means equal.
func perlClient(t *testing.T, node *Node, id, secret string, msgs []recMsg, check func(req, want, got []any) bool) {
	t.Helper()
	ctx := timeout(t, 10*time.Second)
	peer, err := fakepeer.Dial(ctx, node.Binds()[0], fakepeer.Config{NodeID: id, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if check == nil {
		check = func(_, want, got []any) bool { return reflect.DeepEqual(want, got) }
	}
	seen := 0
	var req []any
	for _, m := range msgs {
		if m.dir == "C>S" {
			req = m.v
			if err := peer.Send(mustJSON(m.v)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		waitFor(t, "the answer "+string(mustJSON(m.v)), func() bool { return len(peer.Messages()) > seen })
		got := decodeJSONList(t, peer.Messages()[seen])
		seen++
		if !check(req, m.v, got) {
			t.Errorf("to %s\nthe Go node answered %s\nPerl answered        %s", mustJSON(req), mustJSON(got), mustJSON(m.v))
		}
	}
	time.Sleep(20 * time.Millisecond) // nothing more comes
	if extra := peer.Messages()[seen:]; len(extra) > 0 {
		t.Errorf("the Go node sent more than Perl did:\n%s", strings.Join(extra, "\n"))
	}
}

// perlServer plays a recorded listening node: each message that equals a
// recorded C>S message not yet seen is answered with the S>C messages
// recorded right after it; anything else is kept, unanswered.
type perlServer struct {
	msgs   []recMsg
	mu     sync.Mutex
	used   []bool
	peer   *fakepeer.Peer
	served chan struct{} // closed once the connection is served (peer set) or failed
}

// startPerlServer listens as the recorded node id and serves one
// connection; it returns the address.
func startPerlServer(t *testing.T, id, secret string, msgs []recMsg) (*perlServer, string) {
	t.Helper()
	s := &perlServer{msgs: msgs, used: make([]bool, len(msgs)), served: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := s.served
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p, err := fakepeer.Serve(context.Background(), c, fakepeer.Config{NodeID: id, Secret: secret, OnMessage: s.answer})
		if err != nil {
			t.Error(err)
			return
		}
		s.mu.Lock()
		s.peer = p
		s.mu.Unlock()
	}()
	t.Cleanup(func() { // before the kit's leak check: registered after it
		ln.Close()
		<-served
		if p := s.link(); p != nil {
			p.Close()
		}
	})
	return s, ln.Addr().String()
}

func (s *perlServer) link() *fakepeer.Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peer
}

func (s *perlServer) answer(p *fakepeer.Peer, msg []byte) {
	var v []any
	if json.Unmarshal(msg, &v) != nil || isRegistryMsg(v) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.msgs {
		if m.dir != "C>S" || s.used[i] || !reflect.DeepEqual(m.v, v) {
			continue
		}
		s.used[i] = true
		for _, a := range s.msgs[i+1:] {
			if a.dir != "S>C" {
				break
			}
			p.Send(mustJSON(a.v))
		}
		return
	}
}

// received returns the non-g_* messages the server got, as JSON.
func (s *perlServer) received(t *testing.T) []string {
	var out []string
	select { // the accepting goroutine records the peer once Serve returns
	case <-s.served:
	case <-time.After(5 * time.Second):
		t.Fatal("the fake Perl node never served a connection")
	}
	p := s.link()
	if p == nil {
		return nil
	}
	for _, m := range p.Messages() {
		if v := decodeJSONList(t, m); !isRegistryMsg(v) {
			out = append(out, string(mustJSON(v)))
		}
	}
	return out
}

// sent returns the recorded C>S messages as JSON.
func sent(msgs []recMsg) []string {
	var out []string
	for _, m := range msgs {
		if m.dir == "C>S" {
			out = append(out, string(mustJSON(m.v)))
		}
	}
	return out
}

// recorder is a port that keeps every message it gets.
type recorder struct {
	*Port
	got chan []any
}

func newRecorder(n *Node) *recorder {
	r := &recorder{got: make(chan []any, 16)}
	r.Port = n.NewPortFunc(func(m *Msg) error {
		v, err := m.Values()
		r.got <- v
		return err
	})
	return r
}

func (r *recorder) next(t *testing.T) []any {
	t.Helper()
	return recv(t, r.got)
}

func equalJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	if g := string(mustJSON(got)); g != want {
		t.Errorf("%s: got %s, want %s", what, g, want)
	}
}

// afterCall is Call for the recorded steps: fails the test on an error
// other than the one expected (nil: none).
func afterCall(t *testing.T, ctx context.Context, n *Node, to PortID, want error, tag string, args ...any) *Msg {
	t.Helper()
	r, err := n.Call(ctx, to, tag, args...)
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("call %s %s: %v, want %v", to, tag, err, want)
	}
	return r
}
