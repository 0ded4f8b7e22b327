package handshake

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/internal/leakcheck"
	"github.com/aemp-go/aemp/wire"
)

func stlsConfig(id string) *Config {
	c := hsConfig(id, "goframe1", "json")
	c.SecretTLS = true
	return c
}

// Two nodes that both ask for secret-keyed TLS run it: TLS 1.3, the bound
// token, data flowing inside TLS. If only one asks, they fall back to
// plain hmac_sha3_512 (as with a Perl peer).
func TestSecretTLS(t *testing.T) {
	defer leakcheck.Check(t)()
	ctx := context.Background()
	a, b := hsTCPPair(t)
	ra, rb := hsHandshakePair(ctx, a, b, stlsConfig("nodeA"), stlsConfig("nodeB"))
	if ra.err != nil || rb.err != nil {
		t.Fatal(ra.err, rb.err)
	}
	for _, r := range []*Result{ra.res, rb.res} {
		if !r.TLS || !r.SecretTLS || r.AuthMethod != auth.MethodHMACTLS || r.PeerAuthMethod != auth.MethodHMACTLS {
			t.Fatalf("TLS %v secret %v methods %s/%s", r.TLS, r.SecretTLS, r.AuthMethod, r.PeerAuthMethod)
		}
		if v := r.Conn.(*tls.Conn).ConnectionState().Version; v != tls.VersionTLS13 {
			t.Fatalf("TLS version %x", v)
		}
	}
	hsExchangeData(t, ra.res, rb.res)
	ra.res.Conn.Close()
	rb.res.Conn.Close()

	a, b = hsTCPPair(t)
	ra, rb = hsHandshakePair(ctx, a, b, stlsConfig("nodeA"), hsConfig("nodeB", "json"))
	if ra.err != nil || rb.err != nil {
		t.Fatal(ra.err, rb.err)
	}
	if ra.res.TLS || ra.res.AuthMethod != auth.MethodHMAC {
		t.Fatalf("with a peer without it: TLS %v, method %s", ra.res.TLS, ra.res.AuthMethod)
	}
	ra.res.Conn.Close()
	rb.res.Conn.Close()
}

// RequireTLS refuses a peer that offers no TLS, before any token is sent.
func TestRequireTLS(t *testing.T) {
	defer leakcheck.Check(t)()
	a, b := hsTCPPair(t)
	ca := stlsConfig("nodeA")
	ca.RequireTLS = true
	ra, rb := hsHandshakePair(context.Background(), a, b, ca, hsConfig("nodeB", "json"))
	if !errors.Is(ra.err, wire.ErrNoTLS) {
		t.Fatalf("requiring side: %v, want ErrNoTLS", ra.err)
	}
	if rb.err == nil {
		t.Fatal("the plain peer got through")
	}
	// With secret TLS on both sides it is satisfied.
	a, b = hsTCPPair(t)
	ra, rb = hsHandshakePair(context.Background(), a, b, ca, stlsConfig("nodeB"))
	if ra.err != nil || rb.err != nil {
		t.Fatal(ra.err, rb.err)
	}
	ra.res.Conn.Close()
	rb.res.Conn.Close()
}

// mitm sits between a and b: it forwards their greeting lines (editing
// them with edit), then — when tls — runs a TLS session of its own with
// each side (it can: the certificates are ephemeral and unverified) and
// forwards the auth lines from one session into the other, else forwards
// the auth lines as they are. It knows no secret.
func mitm(a, b net.Conn, tls bool, edit func(string) string) {
	ra, rb := bufio.NewReader(a), bufio.NewReader(b)
	line := func(r *bufio.Reader) string { s, _ := r.ReadString('\n'); return strings.TrimSuffix(s, "\n") }
	var a1, a2, b1, b2 string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a1, a2 = line(ra), line(ra) }()
	go func() { defer wg.Done(); b1, b2 = line(rb), line(rb) }()
	wg.Wait()
	a1, b1 = edit(a1), edit(b1)
	wg.Add(2) // written before any TLS record: TCP takes these few bytes at once
	go func() { defer wg.Done(); b.Write([]byte(a1 + "\n" + a2 + "\n")) }()
	go func() { defer wg.Done(); a.Write([]byte(b1 + "\n" + b2 + "\n")) }()
	wg.Wait()
	var ca, cb net.Conn = a, b
	var la, lb *bufio.Reader = ra, rb
	if tls {
		// a compares its nonce with b's (as relayed): the relay takes the
		// other role with each.
		ta := tlsWith(a, !wire.TLSClient(a2, b2))
		tb := tlsWith(b, !wire.TLSClient(b2, a2))
		ca, cb = ta, tb
		la, lb = bufio.NewReader(ta), bufio.NewReader(tb)
	}
	wg.Add(2)
	go func() { defer wg.Done(); cb.Write([]byte(line(la) + "\n")) }()
	go func() { defer wg.Done(); ca.Write([]byte(line(lb) + "\n")) }()
	wg.Wait()
}

func tlsWith(c net.Conn, client bool) *tls.Conn {
	cfg, _ := auth.EphemeralConfig(client)
	if client {
		return tls.Client(c, cfg)
	}
	return tls.Server(c, cfg)
}

// A relay that terminates TLS with each side (so both TLS handshakes
// succeed) cannot make the tokens fit: each is bound to its own TLS
// channel. A relay that strips stls=1 from the greetings (a downgrade to
// plain hmac) changes the lines the tokens cover. Both handshakes fail
// on both sides.
func TestSecretTLSRelayRefused(t *testing.T) {
	defer leakcheck.Check(t)()
	for _, c := range []struct {
		name string
		tls  bool
		edit func(string) string
	}{
		{"terminating-relay", true, func(s string) string { return s }},
		{"downgrade", false, func(s string) string { return strings.Replace(s, ";stls=1", "", 1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, ma := hsTCPPair(t)
			mb, b := hsTCPPair(t)
			done := make(chan struct{})
			go func() { defer close(done); mitm(ma, mb, c.tls, c.edit) }()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			var ra, rb hsOutcome
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); rb.res, rb.err = Run(ctx, b, stlsConfig("nodeB")) }()
			ra.res, ra.err = Run(ctx, a, stlsConfig("nodeA"))
			wg.Wait()
			ma.Close()
			mb.Close()
			<-done
			for _, r := range []hsOutcome{ra, rb} {
				if r.err == nil {
					r.res.Conn.Close()
					t.Fatal("a handshake through the relay succeeded")
				}
				if !errors.Is(r.err, wire.ErrAuthFailed) && !errors.Is(r.err, wire.ErrTLSHandshake) {
					t.Logf("failed with %v", r.err)
				}
			}
			if !errors.Is(ra.err, auth.ErrTokenMismatch) && !errors.Is(rb.err, auth.ErrTokenMismatch) {
				t.Fatalf("neither side saw a token mismatch: %v / %v", ra.err, rb.err)
			}
		})
	}
}
