package handshake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/wire"
)

var hsSecret = []byte("aemp-interop-test-secret-2024")

// hsBundles returns two different self-signed bundles, generated once per
// test binary (RSA key generation is slow under -race).
var hsBundles = sync.OnceValues(func() ([2]*auth.Bundle, error) {
	var out [2]*auth.Bundle
	for i := range out {
		p, err := auth.GenerateSelfSigned("", 0)
		if err != nil {
			return out, err
		}
		if out[i], err = auth.LoadBundle(p); err != nil {
			return out, err
		}
	}
	return out, nil
})

func hsTestBundles(t testing.TB) [2]*auth.Bundle {
	t.Helper()
	b, err := hsBundles()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hsTCPPair returns the two ends of a loopback TCP connection.
func hsTCPPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a := <-ch
	if a.err != nil {
		t.Fatal(a.err)
	}
	t.Cleanup(func() { d.Close(); a.c.Close() })
	return d, a.c
}

func hsPipePair(t testing.TB) (net.Conn, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

var hsTransports = []struct {
	name string
	pair func(testing.TB) (net.Conn, net.Conn)
}{{"tcp", hsTCPPair}, {"pipe", hsPipePair}}

type hsOutcome struct {
	res *Result
	err error
	dur time.Duration
}

// hsHandshakePair runs Handshake on both ends concurrently.
func hsHandshakePair(ctx context.Context, a, b net.Conn, ca, cb *Config) (ra, rb hsOutcome) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		rb.res, rb.err = Run(ctx, b, cb)
		rb.dur = time.Since(start)
	}()
	start := time.Now()
	ra.res, ra.err = Run(ctx, a, ca)
	ra.dur = time.Since(start)
	wg.Wait()
	return ra, rb
}

func hsConfig(id string, framings ...string) *Config {
	return &Config{NodeID: id, Secret: hsSecret, Framings: framings, Timeout: 5 * time.Second}
}

// hsExchangeData checks that the two data-phase connections carry bytes both
// ways (and that no deadline is left on them).
func hsExchangeData(t *testing.T, a, b *Result) {
	t.Helper()
	for _, d := range [][2]*Result{{a, b}, {b, a}} {
		if len(d[1].Buffered) != 0 {
			t.Fatalf("unexpected buffered bytes %q", d[1].Buffered)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := d[0].Conn.Write([]byte(`["","x"]`))
			errc <- err
		}()
		buf := make([]byte, 8)
		if _, err := io.ReadFull(d[1].Conn, buf); err != nil || string(buf) != `["","x"]` {
			t.Fatalf("data phase read %q: %v", buf, err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

func TestHandshakeHMAC(t *testing.T) {
	cases := []struct {
		name       string
		fa, fb     []string
		aSends     string // what A sends = first of B's list that A supports
		bSends     string
		wantMethod string
	}{
		{"json", []string{"json"}, []string{"json"}, "json", "json", auth.MethodHMAC},
		{"goframe1", []string{"goframe1", "json"}, []string{"goframe1", "json"}, "goframe1", "goframe1", auth.MethodHMAC},
		{"default", nil, nil, "json", "json", auth.MethodHMAC},
		{"asymmetric", []string{"json", "cbor"}, []string{"cbor", "json"}, "cbor", "json", auth.MethodHMAC},
		{"go-vs-perl-like", []string{"goframe1", "json"}, []string{"cbor", "json", "storable"}, "json", "json", auth.MethodHMAC},
	}
	for _, tr := range hsTransports {
		for _, c := range cases {
			t.Run(tr.name+"/"+c.name, func(t *testing.T) {
				t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
				a, b := tr.pair(t)
				ra, rb := hsHandshakePair(context.Background(), a, b, hsConfig("nodeA", c.fa...), hsConfig("nodeB/x", c.fb...))
				if ra.err != nil || rb.err != nil {
					t.Fatalf("A: %v\nB: %v", ra.err, rb.err)
				}
				A, B := ra.res, rb.res
				if A.SendFraming != c.aSends || B.RecvFraming != c.aSends || B.SendFraming != c.bSends || A.RecvFraming != c.bSends {
					t.Errorf("framings A %s/%s B %s/%s", A.SendFraming, A.RecvFraming, B.SendFraming, B.RecvFraming)
				}
				if A.AuthMethod != c.wantMethod || B.PeerAuthMethod != c.wantMethod || A.TLS || B.TLS {
					t.Errorf("auth %s/%s tls %v/%v", A.AuthMethod, B.PeerAuthMethod, A.TLS, B.TLS)
				}
				if A.Peer.NodeID != "nodeB/x" || B.Peer.NodeID != "nodeA" {
					t.Errorf("peer IDs %q %q", A.Peer.NodeID, B.Peer.NodeID)
				}
				if A.OurLine1 != B.PeerLine1 || A.OurLine2 != B.PeerLine2 || B.OurLine1 != A.PeerLine1 || B.OurLine2 != A.PeerLine2 {
					t.Error("greeting lines differ between the two views")
				}
				if A.Conn != a || B.Conn != b {
					t.Error("without TLS the data conn must be the raw conn")
				}
				hsExchangeData(t, A, B)
			})
		}
	}
}

func TestHandshakeGreetingContent(t *testing.T) {
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
	a, b := hsTCPPair(t)
	ca := hsConfig("nodeA", "goframe1", "json")
	ca.TLS = hsTestBundles(t)[0]
	ca.Extra = []wire.KV{{Key: "gocredit", Value: "1", HasValue: true}, {Key: "s2"}}
	ca.PeerAddr = "10.0.0.1:4040"
	ra, rb := hsHandshakePair(context.Background(), a, b, ca, hsConfig("nodeB"))
	if ra.err != nil || rb.err != nil {
		t.Fatalf("A: %v\nB: %v", ra.err, rb.err)
	}
	want := "aemp;1;nodeA;tls_sha3_512,hmac_sha3_512,tls_anon;goframe1,json;provider=" + wire.Provider +
		";peeraddr=10.0.0.1:4040;mproto=1;gproto=1;tls=1.0;gocredit=1;s2"
	if ra.res.OurLine1 != want {
		t.Errorf("greeting\n got %s\nwant %s", ra.res.OurLine1, want)
	}
	if len(ra.res.OurLine2) != wire.NonceLen {
		t.Errorf("nonce %q", ra.res.OurLine2)
	}
	// B has no TLS: its greeting advertises only hmac and no tls key, and
	// its default peeraddr is A's address as B sees it.
	g := rb.res.OurLine1
	if !strings.HasPrefix(g, "aemp;1;nodeB;hmac_sha3_512;json;") || strings.Contains(g, "tls=") ||
		!strings.Contains(g, "peeraddr="+b.RemoteAddr().String()) {
		t.Errorf("B greeting %s", g)
	}
	if v, _ := rb.res.Peer.Get("gocredit"); v != "1" {
		t.Errorf("extra key not received: %q", v)
	}
	if ra.res.TLS || ra.res.AuthMethod != auth.MethodHMAC {
		t.Errorf("TLS %v method %s, want plain hmac (peer has no cert)", ra.res.TLS, ra.res.AuthMethod)
	}
}

func TestHandshakeWrongSecret(t *testing.T) {
	for _, tr := range hsTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
			a, b := tr.pair(t)
			cb := hsConfig("nodeB")
			cb.Secret = []byte("another secret")
			ra, rb := hsHandshakePair(context.Background(), a, b, hsConfig("nodeA"), cb)
			if ra.err == nil || rb.err == nil {
				t.Fatalf("wrong secret accepted: A %v, B %v", ra.err, rb.err)
			}
			for name, o := range map[string]hsOutcome{"A": ra, "B": rb} {
				if !errors.Is(o.err, wire.ErrAuthFailed) || !errors.Is(o.err, auth.ErrTokenMismatch) {
					t.Errorf("%s: %v, want token mismatch", name, o.err)
					continue
				}
				var he *Error
				if !errors.As(o.err, &he) || he.NodeID == "" || he.Timeout() {
					t.Errorf("%s: %#v", name, o.err)
				}
				if !strings.Contains(o.err.Error(), "authentication failed: hmac_sha3_512: token mismatch (wrong secret?)") ||
					!strings.HasPrefix(o.err.Error(), "aemp: handshake with ") {
					t.Errorf("%s: message %q", name, o.err)
				}
			}
			if !errors.Is(ra.err, auth.ErrTokenMismatch) && !errors.Is(rb.err, auth.ErrTokenMismatch) {
				t.Error("no side reports the token mismatch")
			}
			if !strings.Contains(ra.err.Error(), "(nodeB)") || !strings.Contains(rb.err.Error(), "(nodeA)") {
				t.Errorf("messages do not name the peer:\n%v\n%v", ra.err, rb.err)
			}
		})
	}
}

func TestHandshakeTLS(t *testing.T) {
	bs := hsTestBundles(t)
	cases := []struct {
		name           string
		setA, setB     func(*Config)
		method         string
		wantA, wantB   error // nil = success
		anyTLSFailures bool
	}{
		{name: "tls_sha3_512", method: auth.MethodTLS},
		{name: "tls-without-secret", method: auth.MethodTLS,
			setA: func(c *Config) { c.Secret = nil }, setB: func(c *Config) { c.Secret = nil }},
		{name: "tls_anon", method: auth.MethodTLSAnon,
			setA: func(c *Config) {
				c.AuthAccept = []string{auth.MethodTLSAnon}
				c.AuthOffer = []string{auth.MethodTLSAnon}
			},
			setB: func(c *Config) {
				c.AuthAccept = []string{auth.MethodTLSAnon}
				c.AuthOffer = []string{auth.MethodTLSAnon}
			}},
		{name: "wrong-certificate", setB: func(c *Config) { c.TLS = bs[1] }, anyTLSFailures: true},
		{name: "mixed-methods",
			setA: func(c *Config) { c.AuthOffer = []string{auth.MethodTLSAnon} },
			setB: func(c *Config) { c.AuthAccept = []string{auth.MethodTLSAnon, auth.MethodTLS} },
			// B accepts tls_anon, A offers only that; A accepts tls_sha3_512
			// first and B offers it — so both succeed with different methods.
			method: ""},
	}
	for _, tr := range hsTransports {
		for _, c := range cases {
			t.Run(tr.name+"/"+c.name, func(t *testing.T) {
				t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
				a, b := tr.pair(t)
				ca, cb := hsConfig("nodeA"), hsConfig("nodeB")
				ca.TLS, cb.TLS = bs[0], bs[0]
				if c.setA != nil {
					c.setA(ca)
				}
				if c.setB != nil {
					c.setB(cb)
				}
				ra, rb := hsHandshakePair(context.Background(), a, b, ca, cb)
				if c.anyTLSFailures {
					if ra.err == nil || rb.err == nil {
						t.Fatalf("wrong certificate accepted: A %v, B %v", ra.err, rb.err)
					}
					if !errors.Is(ra.err, wire.ErrTLSHandshake) && !errors.Is(rb.err, wire.ErrTLSHandshake) {
						t.Errorf("no side reports a TLS failure:\nA: %v\nB: %v", ra.err, rb.err)
					}
					for _, o := range []hsOutcome{ra, rb} {
						if o.dur > 3*time.Second {
							t.Errorf("failure took %v", o.dur)
						}
					}
					return
				}
				if ra.err != nil || rb.err != nil {
					t.Fatalf("A: %v\nB: %v", ra.err, rb.err)
				}
				A, B := ra.res, rb.res
				if !A.TLS || !B.TLS {
					t.Fatal("TLS not active")
				}
				if c.method != "" && (A.AuthMethod != c.method || B.AuthMethod != c.method) {
					t.Errorf("methods %s %s, want %s", A.AuthMethod, B.AuthMethod, c.method)
				}
				if c.name == "mixed-methods" && (A.AuthMethod != auth.MethodTLSAnon || B.AuthMethod != auth.MethodTLS) {
					t.Errorf("methods %s %s", A.AuthMethod, B.AuthMethod)
				}
				ta, ok1 := A.Conn.(*tls.Conn)
				tb, ok2 := B.Conn.(*tls.Conn)
				if !ok1 || !ok2 {
					t.Fatalf("data conns %T %T", A.Conn, B.Conn)
				}
				if ta.ConnectionState().Version < tls.VersionTLS12 || len(tb.ConnectionState().PeerCertificates) == 0 {
					t.Errorf("TLS state %+v", ta.ConnectionState())
				}
				// Exactly one side was the client: the one with the smaller nonce.
				if wire.TLSClient(A.OurLine2, A.PeerLine2) == wire.TLSClient(B.OurLine2, B.PeerLine2) {
					t.Error("both sides took the same TLS role")
				}
				hsExchangeData(t, A, B)
				// (No tls.Conn.Close: on net.Pipe its close_notify would wait
				// for a reader; the raw conns are closed at cleanup.)
			})
		}
	}
}

func TestHandshakeNoCommonAuthTLS(t *testing.T) {
	// B may only send hmac_sha3_512, but A accepts only tls_anon.
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
	a, b := hsTCPPair(t)
	bs := hsTestBundles(t)
	ca, cb := hsConfig("nodeA"), hsConfig("nodeB")
	ca.TLS, cb.TLS = bs[0], bs[0]
	ca.AuthAccept = []string{auth.MethodTLSAnon}
	cb.AuthOffer = []string{auth.MethodHMAC}
	ra, rb := hsHandshakePair(context.Background(), a, b, ca, cb)
	if !errors.Is(rb.err, wire.ErrNoCommonAuth) {
		t.Errorf("B: %v, want ErrNoCommonAuth", rb.err)
	}
	if ra.err == nil {
		t.Error("A succeeded although B gave up")
	}
}

func TestHandshakeSelf(t *testing.T) {
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
	a, b := hsTCPPair(t)
	var hooked []string
	var mu sync.Mutex
	ca := hsConfig("same")
	ca.OnGreeting = func(g *wire.Greeting) error {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, g.NodeID)
		return nil
	}
	ra, rb := hsHandshakePair(context.Background(), a, b, ca, hsConfig("same"))
	for _, o := range []hsOutcome{ra, rb} {
		if !errors.Is(o.err, wire.ErrSelf) || !strings.Contains(o.err.Error(), "I refuse to talk to myself") {
			t.Errorf("err = %v, want ErrSelf", o.err)
		}
	}
	if len(hooked) != 1 || hooked[0] != "same" {
		t.Errorf("OnGreeting not called before the checks: %v", hooked)
	}
}

func TestHandshakeOnGreetingError(t *testing.T) {
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
	a, b := hsTCPPair(t)
	errHook := errors.New("seed says no")
	ca := hsConfig("nodeA")
	ca.OnGreeting = func(*wire.Greeting) error { return errHook }
	ra, rb := hsHandshakePair(context.Background(), a, b, ca, hsConfig("nodeB"))
	if !errors.Is(ra.err, errHook) {
		t.Errorf("A: %v", ra.err)
	}
	if !hsPeerGone(rb.err) {
		t.Errorf("B: %v, want unexpected EOF", rb.err)
	}
}

func TestHandshakeAlreadyConnected(t *testing.T) {
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
	a, b := hsTCPPair(t)
	ca := hsConfig("nodeA")
	var asked string
	ca.IsConnected = func(id string) bool { asked = id; return true }
	ra, rb := hsHandshakePair(context.Background(), a, b, ca, hsConfig("nodeB"))
	if !errors.Is(ra.err, wire.ErrAlreadyConnected) || asked != "nodeB" ||
		!strings.Contains(ra.err.Error(), "nodeB already connected, not connecting again") {
		t.Errorf("A: %v (asked %q)", ra.err, asked)
	}
	if rb.err == nil || rb.dur > 3*time.Second {
		t.Errorf("B: %v after %v", rb.err, rb.dur)
	}
}

// hsScriptedPeer runs fn as the other end of conn on a goroutine that the
// test joins at cleanup.
func hsScriptedPeer(t *testing.T, conn net.Conn, fn func(r *bufio.Reader, w net.Conn)) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close()
		fn(bufio.NewReader(conn), conn)
	}()
	t.Cleanup(func() { conn.Close(); <-done })
}

// hsPeerGone reports whether err says the peer closed or reset the
// connection (a close with unread data makes the kernel send a reset).
func hsPeerGone(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// hsVanish makes the peer disappear: a half-close on TCP (so the kernel sends
// FIN rather than a reset), a full close on other conns.
func hsVanish(w net.Conn) {
	if tc, ok := w.(*net.TCPConn); ok {
		tc.CloseWrite()
		io.Copy(io.Discard, tc)
		return
	}
	w.Close()
}

func hsReadLines(r *bufio.Reader, n int) []string {
	var out []string
	for range n {
		l, err := r.ReadString('\n')
		if err != nil {
			return out
		}
		out = append(out, strings.TrimSuffix(l, "\n"))
	}
	return out
}

const hsPeerGreeting = "aemp;1;fake;hmac_sha3_512,cleartext;json,cbor;provider=test"

func TestHandshakeFaults(t *testing.T) {
	nonce := strings.Repeat("N", wire.NonceLen)
	cases := []struct {
		name    string
		timeout time.Duration
		peer    func(r *bufio.Reader, w net.Conn)
		want    []error
	}{
		{"echo-whole-greeting", 0, func(r *bufio.Reader, w net.Conn) {
			l := hsReadLines(r, 2)
			w.Write([]byte(strings.Join(l, "\n") + "\n"))
			io.Copy(io.Discard, r)
		}, []error{wire.ErrSelf}},
		{"echo-nonce", 0, func(r *bufio.Reader, w net.Conn) {
			l := hsReadLines(r, 2)
			if len(l) == 2 {
				w.Write([]byte(hsPeerGreeting + "\n" + l[1] + "\n"))
			}
			io.Copy(io.Discard, r)
		}, []error{wire.ErrEcho}},
		{"oversized-line", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write(bytes.Repeat([]byte("a"), 3*wire.MaxLine))
		}, []error{wire.ErrLineTooLong}},
		{"oversized-nonce", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte(hsPeerGreeting + "\n" + strings.Repeat("n", wire.MaxLine) + "\n"))
		}, []error{wire.ErrLineTooLong}},
		{"http-garbage", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		}, []error{wire.ErrBadGreeting}},
		{"binary-garbage", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte("\x16\x03\x01\x00\xa5\x01\x00\n"))
		}, []error{wire.ErrBadLine}},
		{"dataconn-protocol", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte("aemp-dataconn;1;fake;hmac_sha3_512;json;dataconn_id=1\n" + nonce + "\n"))
		}, []error{wire.ErrProtocol}},
		{"version-2", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte("aemp;2;fake;hmac_sha3_512;json\n" + nonce + "\n"))
		}, []error{wire.ErrVersion}},
		{"no-common-framing", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte("aemp;1;fake;hmac_sha3_512;storable\n" + nonce + "\n"))
		}, []error{wire.ErrNoCommonFraming}},
		{"no-common-auth", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte("aemp;1;fake;hmac_md6_64_256;json\n" + nonce + "\n"))
		}, []error{wire.ErrNoCommonAuth}},
		{"auth-line-without-framing", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte(hsPeerGreeting + "\n" + nonce + "\nhmac_sha3_512;00\n"))
		}, []error{wire.ErrUnusableFraming}},
		{"cleartext-not-accepted", 0, func(r *bufio.Reader, w net.Conn) {
			go io.Copy(io.Discard, r)
			w.Write([]byte(hsPeerGreeting + "\n" + nonce + "\ncleartext;" + auth.CleartextToken(hsSecret) + ";json\n"))
		}, []error{wire.ErrAuthFailed, auth.ErrMethodNotAccepted}},
		{"stall", 300 * time.Millisecond, func(r *bufio.Reader, w net.Conn) {
			io.Copy(io.Discard, r)
		}, []error{wire.ErrHandshakeTimeout, os.ErrDeadlineExceeded}},
		{"stall-after-greeting", 300 * time.Millisecond, func(r *bufio.Reader, w net.Conn) {
			w.Write([]byte(hsPeerGreeting + "\n"))
			io.Copy(io.Discard, r)
		}, []error{wire.ErrHandshakeTimeout}},
		{"vanish-immediately", 0, func(r *bufio.Reader, w net.Conn) { hsVanish(w) }, []error{io.ErrUnexpectedEOF}},
		{"vanish-mid-handshake", 0, func(r *bufio.Reader, w net.Conn) {
			hsReadLines(r, 2)
			w.Write([]byte(hsPeerGreeting + "\n" + nonce + "\n"))
			hsVanish(w)
		}, []error{io.ErrUnexpectedEOF}},
		{"vanish-mid-line", 0, func(r *bufio.Reader, w net.Conn) {
			hsReadLines(r, 2)
			w.Write([]byte(hsPeerGreeting[:10]))
			hsVanish(w)
		}, []error{io.ErrUnexpectedEOF}},
	}
	for _, tr := range hsTransports {
		for _, c := range cases {
			t.Run(tr.name+"/"+c.name, func(t *testing.T) {
				t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
				ours, theirs := tr.pair(t)
				hsScriptedPeer(t, theirs, c.peer)
				cfg := hsConfig("nodeA")
				if c.timeout > 0 {
					cfg.Timeout = c.timeout
				}
				start := time.Now()
				res, err := Run(context.Background(), ours, cfg)
				took := time.Since(start)
				if res != nil || err == nil {
					t.Fatalf("handshake succeeded: %+v", res)
				}
				for _, w := range c.want {
					if !errors.Is(err, w) {
						t.Errorf("err = %v\nwant %v", err, w)
					}
				}
				var ne net.Error
				if !errors.As(err, &ne) || ne.Timeout() != (c.timeout > 0) {
					t.Errorf("net.Error %v, Timeout() wrong", err)
				}
				if limit := c.timeout + 3*time.Second; took > limit { // generous: the box may be loaded
					t.Errorf("took %v", took)
				}
				// The conn is closed on failure.
				if _, err := ours.Write([]byte("x")); err == nil {
					t.Error("conn still open after a failed handshake")
				}
			})
		}
	}
}

func TestHandshakeContext(t *testing.T) {
	for _, tr := range hsTransports {
		t.Run(tr.name+"/cancel", func(t *testing.T) {
			t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
			ours, theirs := tr.pair(t)
			hsScriptedPeer(t, theirs, func(r *bufio.Reader, w net.Conn) { io.Copy(io.Discard, r) })
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			_, err := Run(ctx, ours, hsConfig("nodeA"))
			if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
				t.Errorf("err = %v after %v", err, time.Since(start))
			}
		})
		t.Run(tr.name+"/deadline", func(t *testing.T) {
			t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
			ours, theirs := tr.pair(t)
			hsScriptedPeer(t, theirs, func(r *bufio.Reader, w net.Conn) { io.Copy(io.Discard, r) })
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			_, err := Run(ctx, ours, hsConfig("nodeA"))
			var he *Error
			if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &he) || !he.Timeout() {
				t.Errorf("err = %v", err)
			}
		})
		t.Run(tr.name+"/already-cancelled", func(t *testing.T) {
			t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
			ours, _ := tr.pair(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := Run(ctx, ours, hsConfig("nodeA")); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// hsPeerAuthScript plays a correct peer by hand and sends extra after its auth
// line in the same write.
func hsPeerAuthScript(t *testing.T, extra []byte, method string) func(r *bufio.Reader, w net.Conn) {
	return func(r *bufio.Reader, w net.Conn) {
		const nonce2 = "cGVlcg"
		l := hsReadLines(r, 2)
		if len(l) != 2 {
			return
		}
		tok, err := auth.Token(method, hsSecret, nil, hsPeerGreeting, nonce2, l[0], l[1])
		if err != nil {
			t.Error(err)
			return
		}
		var out []byte
		out = append(out, hsPeerGreeting+"\n"+nonce2+"\n"...)
		out = append(out, method+";"+tok+";json\n"...)
		out = append(out, extra...)
		w.Write(out)
		io.Copy(io.Discard, r)
	}
}

func TestHandshakeBuffered(t *testing.T) {
	data := []byte(`["","g_global"]["","g_slave",{"'l":{}}]`)
	for _, tr := range hsTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
			ours, theirs := tr.pair(t)
			hsScriptedPeer(t, theirs, hsPeerAuthScript(t, data, auth.MethodHMAC))
			res, err := Run(context.Background(), ours, hsConfig("nodeA", "json"))
			if err != nil {
				t.Fatal(err)
			}
			if res.RecvFraming != "json" || res.PeerAuthMethod != auth.MethodHMAC || res.Peer.NodeID != "fake" {
				t.Errorf("result %+v", res)
			}
			got := append([]byte(nil), res.Buffered...)
			if tr.name == "pipe" && !bytes.Equal(got, data) {
				// net.Pipe delivers one write to one large enough read.
				t.Errorf("Buffered = %q, want %q", got, data)
			}
			rest := make([]byte, len(data)-len(got))
			if _, err := io.ReadFull(res.Conn, rest); err != nil {
				t.Fatal(err)
			}
			if got = append(got, rest...); !bytes.Equal(got, data) {
				t.Errorf("data phase bytes %q, want %q", got, data)
			}
		})
	}
}

func TestHandshakeCleartextAccepted(t *testing.T) {
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
	ours, theirs := hsPipePair(t)
	hsScriptedPeer(t, theirs, hsPeerAuthScript(t, nil, auth.MethodCleartext))
	cfg := hsConfig("nodeA")
	cfg.AuthAccept = []string{auth.MethodHMAC, auth.MethodCleartext}
	res, err := Run(context.Background(), ours, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.PeerAuthMethod != auth.MethodCleartext || res.AuthMethod != auth.MethodHMAC {
		t.Errorf("methods %s/%s", res.AuthMethod, res.PeerAuthMethod)
	}
}

func TestHandshakeConfigErrors(t *testing.T) {
	cases := map[string]*Config{
		"nil":             nil,
		"no node ID":      {Secret: hsSecret},
		"node ID with ;":  {NodeID: "a;b", Secret: hsSecret},
		"node ID with #":  {NodeID: "a#b", Secret: hsSecret},
		"no credentials":  {NodeID: "a"},
		"offer cleartext": {NodeID: "a", Secret: hsSecret, AuthOffer: []string{"cleartext"}},
		"unknown accept":  {NodeID: "a", Secret: hsSecret, AuthAccept: []string{"hmac_md6_64_256"}},
		"reserved extra":  {NodeID: "a", Secret: hsSecret, Extra: []wire.KV{{Key: "provider", Value: "x", HasValue: true}}},
		"bad extra":       {NodeID: "a", Secret: hsSecret, Extra: []wire.KV{{Key: "k", Value: "a\nb", HasValue: true}}},
		"huge extra":      {NodeID: "a", Secret: hsSecret, Extra: []wire.KV{{Key: "k", Value: strings.Repeat("v", wire.MaxLine), HasValue: true}}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
			ours, _ := hsPipePair(t)
			_, err := Run(context.Background(), ours, cfg)
			if !errors.Is(err, wire.ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
			if _, err := ours.Write([]byte("x")); err == nil {
				t.Error("conn not closed")
			}
		})
	}
	// The caller's config is not modified by the defaults.
	cfg := &Config{NodeID: "a", Secret: hsSecret}
	a, b := hsPipePair(t)
	hsHandshakePair(context.Background(), a, b, cfg, hsConfig("b"))
	if cfg.AuthAccept != nil || cfg.AuthOffer != nil || cfg.Framings != nil || cfg.Timeout != 0 {
		t.Errorf("config modified: %+v", cfg)
	}
}

func TestLineReader(t *testing.T) {
	exact := strings.Repeat("x", wire.MaxLine-1)
	r := &hsLineReader{src: strings.NewReader("a\r\nb\n" + exact + "\n" + exact + "x\n")}
	for _, want := range []string{"a", "b", exact} {
		if got, err := r.readLine(); err != nil || got != want {
			t.Fatalf("readLine = %.20q, %v; want %.20q", got, err, want)
		}
	}
	if _, err := r.readLine(); !errors.Is(err, wire.ErrLineTooLong) {
		t.Fatalf("line of MaxLine+1 bytes: %v", err)
	}
	r = &hsLineReader{src: hsOneByteReader{strings.NewReader("ab\ncd")}}
	if l, err := r.readLine(); l != "ab" || err != nil {
		t.Fatal(l, err)
	}
	if _, err := r.readLine(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("EOF mid-line: %v", err)
	}
}

type hsOneByteReader struct{ r io.Reader }

func (o hsOneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// TestHandshakeReplay plays the connecting node C of every recorded session
// with C's exact greeting lines against S's recorded bytes, and checks that
// our driver sends exactly C's recorded auth line, accepts S's, and hands
// back S's data-phase bytes untouched.
func TestHandshakeReplay(t *testing.T) {
	n := 0
	for _, path := range vectors.Sessions() {
		secret, err := vectors.Secret(path)
		if err != nil {
			t.Fatal(err)
		}
		conns, err := vectors.LoadSession(path)
		if err != nil {
			t.Fatal(err)
		}
		raw := vectors.RawOf(path)
		for i, c := range conns {
			t.Run(filepath.Base(path)+"/"+c.S, func(t *testing.T) {
				t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the conns are closed
				s2c, _, err := vectors.Stream(raw, i+1, "s2c")
				if err != nil {
					t.Fatal(err)
				}
				c2s, _, err := vectors.Stream(raw, i+1, "c2s")
				if err != nil {
					t.Fatal(err)
				}
				sHandshake := c.Line("S>C", "greeting1") + "\n" + c.Line("S>C", "greeting2") + "\n" + c.Line("S>C", "auth") + "\n"
				cHandshake := c.Line("C>S", "greeting1") + "\n" + c.Line("C>S", "greeting2") + "\n" + c.Line("C>S", "auth") + "\n"
				if !bytes.HasPrefix(s2c, []byte(sHandshake)) || !bytes.HasPrefix(c2s, []byte(cHandshake)) {
					t.Fatal("raw capture does not start with the transcript's handshake lines")
				}
				sData := s2c[len(sHandshake):]

				ours, theirs := hsTCPPair(t)
				sent := make(chan []byte, 1)
				go func() {
					go theirs.Write(s2c) // all of S's bytes, as fast as possible
					b, _ := io.ReadAll(theirs)
					sent <- b
				}()

				g, err := wire.ParseGreeting([]byte(c.Line("C>S", "greeting1")))
				if err != nil {
					t.Fatal(err)
				}
				cfg := &Config{
					NodeID: c.C, Secret: []byte(secret), AuthAccept: g.Auth, Framings: g.Framings,
					Timeout:   5 * time.Second,
					testLines: &[2]string{c.Line("C>S", "greeting1"), c.Line("C>S", "greeting2")},
				}
				res, err := Run(context.Background(), ours, cfg)
				if err != nil {
					ours.Close()
					<-sent
					t.Fatal(err)
				}
				sAuth, _ := wire.ParseAuthLine([]byte(c.Line("S>C", "auth")))
				cAuth, _ := wire.ParseAuthLine([]byte(c.Line("C>S", "auth")))
				if res.RecvFraming != sAuth.Framing || res.SendFraming != cAuth.Framing || res.Peer.NodeID != c.S ||
					res.AuthMethod != auth.MethodHMAC || res.PeerAuthMethod != auth.MethodHMAC {
					t.Errorf("result: recv %s send %s peer %s", res.RecvFraming, res.SendFraming, res.Peer.NodeID)
				}
				got := append([]byte(nil), res.Buffered...)
				rest := make([]byte, len(sData)-len(got))
				if _, err := io.ReadFull(res.Conn, rest); err != nil {
					t.Fatal(err)
				}
				if got = append(got, rest...); !bytes.Equal(got, sData) {
					t.Errorf("data phase bytes differ (%d vs %d bytes)", len(got), len(sData))
				}
				ours.Close()
				if b := <-sent; string(b) != cHandshake {
					t.Errorf("we sent\n%s\nC sent\n%s", b, cHandshake)
				}
				theirs.Close()
			})
			n++
		}
	}
	if n < 6 {
		t.Fatalf("only %d connections replayed", n)
	}
}

func BenchmarkHandshakeHMAC(b *testing.B) {
	benchHandshake(b, hsConfig("nodeA", "goframe1", "json"), hsConfig("nodeB", "goframe1", "json"))
}

// BenchmarkHandshakeSecretTLS is the handshake between Go nodes by
// default: secret-keyed TLS 1.3 (ephemeral certificates, X25519MLKEM768)
// and the channel-bound tls_hmac_sha3_512 token. Its CPU is what forming a
// mesh with TLS costs per link (docs/performance.md, W5).
func BenchmarkHandshakeSecretTLS(b *testing.B) {
	ca, cb := hsConfig("nodeA", "goframe1", "json"), hsConfig("nodeB", "goframe1", "json")
	ca.SecretTLS, cb.SecretTLS = true, true
	benchHandshake(b, ca, cb)
}

// benchHandshake runs handshakes between ca (dialling) and cb over
// loopback TCP, one pair at a time.
func benchHandshake(b *testing.B, ca, cb *Config) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		accepted := make(chan hsOutcome, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				accepted <- hsOutcome{err: err}
				return
			}
			res, err := Run(ctx, c, cb)
			accepted <- hsOutcome{res: res, err: err}
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		ra, err := Run(ctx, c, ca)
		rb := <-accepted
		if err != nil || rb.err != nil {
			b.Fatal(err, rb.err)
		}
		if ra.SecretTLS != ca.SecretTLS || rb.res.SecretTLS != cb.SecretTLS {
			b.Fatalf("secret-keyed TLS: %v and %v, want %v", ra.SecretTLS, rb.res.SecretTLS, ca.SecretTLS)
		}
		ra.Conn.Close()
		rb.res.Conn.Close()
	}
}

// hsScriptConn lets a scripted peer read through r (which may hold buffered
// bytes) and sends prefix together with its first Write.
type hsScriptConn struct {
	net.Conn
	r      io.Reader
	prefix []byte
}

func (c *hsScriptConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *hsScriptConn) Write(p []byte) (int, error) {
	if c.prefix != nil {
		all := append(c.prefix, p...)
		c.prefix = nil
		if _, err := c.Conn.Write(all); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// hsWrapConn marks the connection Config.WrapTLS made.
type hsWrapConn struct{ net.Conn }

func (c *hsWrapConn) NetConn() net.Conn { return c.Conn }

// hsWrapped reports whether an hsWrapConn is under conn (NetConn methods).
func hsWrapped(conn net.Conn) bool {
	for {
		if _, ok := conn.(*hsWrapConn); ok {
			return true
		}
		u, ok := conn.(interface{ NetConn() net.Conn })
		if !ok {
			return false
		}
		conn = u.NetConn()
	}
}

// TestHandshakeTLSReplay has the peer send its greeting, its nonce and its
// TLS ClientHello in one write, so our line reader holds TLS bytes when TLS
// starts: they must be replayed into the TLS layer, over the connection
// Config.WrapTLS made. Data sent right after
// the peer's auth line (inside TLS) must come back in Buffered.
func TestHandshakeTLSReplay(t *testing.T) {
	const greeting = "aemp;1;fake;tls_sha3_512,hmac_sha3_512;json;tls=1.0"
	const nonce = "+" // smaller than any 88-character nonce: the peer is the TLS client
	data := []byte(`["","g_global"]`)
	b := hsTestBundles(t)[0]
	for _, tr := range hsTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Cleanup(leakcheck.Check(t))
			ours, theirs := tr.pair(t)
			peerErr := make(chan error, 1)
			hsScriptedPeer(t, theirs, func(r *bufio.Reader, w net.Conn) {
				l := hsReadLines(r, 2)
				if len(l) != 2 {
					peerErr <- errors.New("no greeting")
					return
				}
				tc := tls.Client(&hsScriptConn{Conn: w, r: r, prefix: []byte(greeting + "\n" + nonce + "\n")}, b.ClientConfig())
				if err := tc.Handshake(); err != nil {
					peerErr <- err
					return
				}
				line := "tls_sha3_512;" + auth.TLSToken(greeting, nonce, l[0], l[1]) + ";json\n"
				if _, err := tc.Write(append([]byte(line), data...)); err != nil {
					peerErr <- err
					return
				}
				got, err := bufio.NewReader(tc).ReadString('\n')
				if err == nil && !strings.HasPrefix(got, "tls_sha3_512;") {
					err = errors.New("our auth line: " + got)
				}
				peerErr <- err
				io.Copy(io.Discard, tc)
			})
			cfg := hsConfig("nodeA")
			cfg.TLS = b
			cfg.WrapTLS = func(c net.Conn) net.Conn { return &hsWrapConn{c} }
			res, err := Run(context.Background(), ours, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !res.TLS || res.PeerAuthMethod != auth.MethodTLS || res.AuthMethod != auth.MethodTLS {
				t.Errorf("TLS %v, methods %s/%s", res.TLS, res.AuthMethod, res.PeerAuthMethod)
			}
			if !hsWrapped(res.Conn) {
				t.Error("the TLS layer does not run over WrapTLS's connection (replayed bytes dropped the wrapper)")
			}
			if err := <-peerErr; err != nil {
				t.Fatal(err)
			}
			got := append([]byte(nil), res.Buffered...)
			rest := make([]byte, len(data)-len(got))
			if _, err := io.ReadFull(res.Conn, rest); err != nil {
				t.Fatal(err)
			}
			if got = append(got, rest...); !bytes.Equal(got, data) {
				t.Errorf("data %q, want %q", got, data)
			}
		})
	}
}

// Two nodes authenticate each other over an in-memory connection. Each side
// sends with the first framing of the other's list that it supports.
func ExampleRun() {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	secret := []byte("geheim")

	peer := make(chan *Result, 1)
	go func() {
		res, err := Run(context.Background(), b, &Config{
			NodeID: "nodeB", Secret: secret, Framings: []string{"cbor", "json"}})
		if err != nil {
			fmt.Println(err)
		}
		peer <- res
	}()
	res, err := Run(context.Background(), a, &Config{
		NodeID: "nodeA", Secret: secret, Framings: []string{"goframe1", "json"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	other := <-peer
	fmt.Println("A talks to", res.Peer.NodeID, "with", res.AuthMethod)
	fmt.Println("A sends", res.SendFraming, "and receives", res.RecvFraming)
	fmt.Println("B sends", other.SendFraming, "and receives", other.RecvFraming)
	// Output:
	// A talks to nodeB with hmac_sha3_512
	// A sends json and receives json
	// B sends json and receives json
}
