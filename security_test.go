package aemp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/wire"
)

// The security suite (docs/security.md): nobody without the secret or
// the certificate has any effect on a node.

// relay is an attacker on the path between two nodes that share a secret
// it does not know: it forwards every byte both ways, so both nodes
// authenticate each other, and injects a message of its own into the
// stream toward the listening node — right after the dialler's auth line
// where it can see it (plain AEMP), else when the test says (inside TLS it
// cannot find the lines).
type relay struct {
	ln     net.Listener
	target string
	evil   []byte // the frame to inject
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
	done   chan struct{}
	now    chan struct{} // closed by inject
	lines  bool          // inject after the dialler's third line (plain AEMP)
}

func newRelay(t *testing.T, target string, evil []byte, lines bool) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target, evil: evil, done: make(chan struct{}), now: make(chan struct{}), lines: lines}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.close)
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

// inject makes the relay inject now where it has not yet.
func (r *relay) inject() { close(r.now) }

func (r *relay) close() {
	r.ln.Close()
	close(r.done)
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		t, err := net.Dial("tcp", r.target)
		if err != nil {
			c.Close()
			continue
		}
		r.mu.Lock()
		r.conns = append(r.conns, c, t)
		r.mu.Unlock()
		r.wg.Add(2)
		go r.pipe(t, c, false) // target → dialler, as it is
		go r.pipe(c, t, true)  // dialler → target, with the injection
	}
}

// pipe copies src to dst; with inject it adds r.evil after the third line
// (greeting, nonce, auth line) of the stream, or when inject is called.
func (r *relay) pipe(src, dst net.Conn, inject bool) {
	defer r.wg.Done()
	defer dst.Close()
	lines, injected := 0, !inject
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-r.now:
		case <-stop:
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if !injected {
			injected = true
			dst.Write(r.evil)
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		chunk := buf[:n]
		r.mu.Lock()
		for r.lines && !injected && lines < 3 && len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				break
			}
			dst.Write(chunk[:i+1])
			chunk = chunk[i+1:]
			if lines++; lines == 3 {
				injected = true
				dst.Write(r.evil)
			}
		}
		if len(chunk) > 0 {
			dst.Write(chunk)
		}
		r.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// goframe returns one goframe1 frame carrying msg.
func goframe(msg string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	return append(append(b, 0), msg...)
}

// TestRelayCannotInject: between Go nodes that share a secret, a relay
// that passes the handshake through cannot get a message of its own
// delivered: the default link runs inside TLS with the HMAC bound to the
// channel, and the injected bytes break the TLS stream (the link is
// dropped and the failure logged). With PlainGoLinks (the AEMP protocol
// as toward Perl nodes) the injection is delivered, as if the dialler had
// sent it — the known limit of hmac_sha3_512 — and RequireTLS refuses
// such links outright.
func TestRelayCannotInject(t *testing.T) {
	for _, c := range []struct {
		name        string
		ca, cb      Config // ca: the listening victim; cb: the dialler
		delivered   bool   // the injection gets through (known protocol limit)
		linkRefused bool
		logged      string
	}{
		{"secret-tls", Config{}, Config{}, false, false, "link down"},
		{"plain", Config{PlainGoLinks: true}, Config{PlainGoLinks: true}, true, false, ""},
		{"plain-require-tls", Config{PlainGoLinks: true, RequireTLS: true}, Config{PlainGoLinks: true}, false, true, "no TLS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.ca.Framings, c.cb.Framings = []string{"goframe1"}, []string{"goframe1"}
			p := newNetPair(t, c.ca, c.cb)
			got := make(chan string, 16)
			victim := p.a.newPort("victim").RcvDefault(func(m *Msg) error {
				got <- m.Tag() + " from " + m.From()
				return nil
			})
			r := newRelay(t, p.a.Binds()[0], goframe(`["victim","evil"]`), c.ca.PlainGoLinks)
			p.b.AddNode("nodeA", r.addr())
			if err := p.b.Snd(victim.ID(), "legit"); err != nil {
				t.Fatal(err)
			}
			var seen []string
			if !c.linkRefused { // the link carries the legit message, then the relay injects
				seen = append(seen, recv(t, got))
			}
			r.inject()
			deadline := time.After(500 * time.Millisecond)
		collect:
			for {
				select {
				case s := <-got:
					seen = append(seen, s)
				case <-deadline:
					break collect
				}
			}
			evil := strings.Contains(strings.Join(seen, ","), "evil")
			t.Logf("delivered: %v", seen)
			if evil != c.delivered {
				t.Fatalf("injected message delivered: %v, want %v", evil, c.delivered)
			}
			if c.linkRefused && len(seen) > 0 {
				t.Fatalf("a link that should have been refused delivered %v", seen)
			}
			if c.logged != "" {
				waitFor(t, "the refusal in the log", func() bool {
					return strings.Contains(strings.ToLower(p.logA.String()), strings.ToLower(c.logged))
				})
			}
		})
	}
}

// TestForgedSeedGreeting: a seed endpoint that sends a greeting naming a
// node we are linked to, and then fails the handshake, is not taken for
// that node: the node is not sent g_slave (which would make it global) and
// does not become our master.
func TestForgedSeedGreeting(t *testing.T) {
	forger, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // claims to be "victim", then hangs up
		defer wg.Done()
		for {
			c, err := forger.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "aemp;1;victim;hmac_sha3_512;goframe1,json;provider=forger\n%s\n", strings.Repeat("A", 88))
			c.Close()
		}
	}()
	t.Cleanup(func() { forger.Close(); wg.Wait() })
	k := newMeshKit(t)
	victim := k.node("victim", Config{})
	n := k.node("n", Config{Seeds: []string{forger.Addr().String()}, ConnectTimeout: 300 * time.Millisecond})
	n.AddNode("victim", victim.Binds()...)
	port := victim.NewPortFunc(func(*Msg) error { return nil })
	n.Snd(port.ID(), "hello") // n links to victim
	waitFor(t, "the link to the victim", func() bool { return n.mesh.Up("victim") })
	waitFor(t, "the forged greeting", func() bool {
		return strings.Contains(k.logs["n"].String(), "victim already connected")
	})
	time.Sleep(500 * time.Millisecond) // a seed round, and g_slave if it were sent
	if victim.IsGlobal() {
		t.Fatal("the forged greeting made the victim global")
	}
	if strings.Contains(k.logs["victim"].String(), "g_slave") {
		t.Fatal("the victim got g_slave")
	}
}

// TestHalfOpenFlood: 1000 connections that never say anything cost at
// most MaxHandshakes (64) handshake goroutines; the rest wait in the
// accept queue. Once they are gone, a real peer links.
func TestHalfOpenFlood(t *testing.T) {
	p := newNetPair(t, Config{HandshakeTimeout: 2 * time.Second}, Config{})
	before := runtime.NumGoroutine()
	var conns []net.Conn
	for range 1000 {
		c, err := net.Dial("tcp", p.a.Binds()[0])
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond)
	peak := runtime.NumGoroutine() - before
	for _, c := range conns {
		c.Close()
	}
	t.Logf("1000 half-open connections: %d more goroutines", peak)
	if peak > 64*2+8 { // a handshake runs its writer beside it
		t.Fatalf("%d more goroutines for 1000 half-open connections, cap %d handshakes", peak, 64)
	}
	port := p.a.NewPortFunc(func(*Msg) error { return nil })
	r, _ := reasonMonitor(p.b, port.ID())
	p.b.Snd(port.ID(), "after the flood")
	waitFor(t, "a real link after the flood", func() bool { return p.b.mesh.Up("nodeA") })
	select {
	case got := <-r:
		t.Fatalf("the real peer failed: %v", got)
	default:
	}
}

// TestCertNodeRefusesPlainPeers: a node with a certificate (and no
// secret) refuses a peer that does not start TLS, whether its auth line
// says tls_anon or hmac_sha3_512.
func TestCertNodeRefusesPlainPeers(t *testing.T) {
	p := newNetPair(t, Config{Cert: testCert()}, Config{Cert: testCert()})
	for _, method := range []string{"tls_anon", "hmac_sha3_512"} {
		t.Run(method, func(t *testing.T) {
			c, err := net.Dial("tcp", p.a.Binds()[0])
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			nonce, _ := wire.NewNonce()
			fmt.Fprintf(c, "aemp;1;intruder;%s;json;provider=x\n%s\n", method, nonce)
			br := bufio.NewReader(c)
			for range 2 { // the node's greeting
				if _, err := br.ReadString('\n'); err != nil {
					t.Fatal(err)
				}
			}
			fmt.Fprintf(c, "%s;%s;json\n", method, strings.Repeat("0", 128))
			fmt.Fprint(c, `["victim","evil"]`)
			rest, _ := io.ReadAll(br) // the node hangs up; it never starts a data phase
			if bytes.Contains(rest, []byte(`[`)) {
				t.Fatalf("the node answered %q", rest)
			}
		})
	}
	waitFor(t, "two refusals", func() bool {
		return strings.Count(p.logA.String(), "incoming connection refused") >= 2
	})
}
