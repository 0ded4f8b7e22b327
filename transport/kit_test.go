package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aemp-go/aemp/pool"
)

// recorder is a Handler that copies every message (or keeps the buffers
// when hold is set) and records the close reason.
type recorder struct {
	mu      sync.Mutex
	msgs    [][]byte
	held    []*pool.Buf
	hold    bool
	n       atomic.Int64
	bytes   atomic.Int64
	closes  atomic.Int32
	reason  error
	closed  chan struct{}
	onMsg   func(msg []byte) // optional, called on the reader goroutine
	discard bool             // count only
}

func newRecorder() *recorder { return &recorder{closed: make(chan struct{})} }

func (r *recorder) OnMessage(buf *pool.Buf, msg []byte) {
	if r.onMsg != nil {
		r.onMsg(msg)
	}
	r.bytes.Add(int64(len(msg)))
	if r.discard {
		r.n.Add(1)
		return
	}
	r.mu.Lock()
	if r.hold {
		buf.Retain()
		r.held = append(r.held, buf)
		r.msgs = append(r.msgs, msg)
	} else {
		r.msgs = append(r.msgs, append([]byte(nil), msg...))
	}
	r.mu.Unlock()
	r.n.Add(1)
}

func (r *recorder) OnClose(err error) {
	r.mu.Lock()
	r.reason = err
	r.mu.Unlock()
	if r.closes.Add(1) == 1 {
		close(r.closed)
	}
}

func (r *recorder) releaseHeld() {
	r.mu.Lock()
	held := r.held
	r.held = nil
	r.hold = false
	r.mu.Unlock()
	for _, b := range held {
		b.Release()
	}
}

func (r *recorder) waitClosed(t testing.TB) error {
	t.Helper()
	select {
	case <-r.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// tcpPair returns both ends of a loopback TCP connection made with Dial and
// Listen.
func tcpPair(t testing.TB, cfg Config) (client, server net.Conn) {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		ch <- c
	}()
	client, err = Dial(t.Context(), ln.Addr().String(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	server = <-ch
	if server == nil {
		t.Fatal("accept failed")
	}
	return client, server
}

// pair is two links over one connection.
type pair struct {
	a, b   *Link
	ra, rb *recorder
}

func (p *pair) close() {
	p.a.Close()
	p.b.Close()
}

func newPair(t testing.TB, ca, cb net.Conn, aSend, bSend string, cfgA, cfgB Config, ra, rb *recorder) *pair {
	t.Helper()
	a, err := NewLink(ca, nil, aSend, bSend, ra, cfgA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLink(cb, nil, bSend, aSend, rb, cfgB)
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	return &pair{a: a, b: b, ra: ra, rb: rb}
}

func linkPair(t testing.TB, aSend, bSend string, cfg Config) *pair {
	t.Helper()
	ca, cb := tcpPair(t, cfg)
	return newPair(t, ca, cb, aSend, bSend, cfg, cfg, newRecorder(), newRecorder())
}

// tlsPair returns both ends of a TLS connection with a throwaway
// self-signed certificate, handshake done; wrap runs it over WrapTLS, as
// the mesh does.
func tlsPair(t testing.TB, wrap bool) (client, server net.Conn) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "aemp-test"},
		DNSNames:     []string{"aemp-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	rc, rs := tcpPair(t, Config{})
	if wrap {
		rc, rs = WrapTLS(rc), WrapTLS(rs)
	}
	sc := tls.Server(rs, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	cc := tls.Client(rc, &tls.Config{RootCAs: roots, ServerName: "aemp-test"})
	errc := make(chan error, 1)
	go func() { errc <- sc.Handshake() }()
	if err := cc.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return cc, sc
}

// floodUntilPaused sends n messages of 1 KiB from p.a in the background
// while rb holds what it receives, and fails the test unless b's reader
// stops: the received count must stay put for 100 ms before all of them
// arrived.
func floodUntilPaused(t *testing.T, p *pair, rb *recorder, n int64) {
	t.Helper()
	msg := bigMsg(1, 1000)
	go func() {
		for i := int64(0); i < n; i++ {
			if err := p.a.Send(msg); err != nil {
				return
			}
		}
	}()
	waitFor(t, "some messages", func() bool { return rb.n.Load() > 10 })
	var last int64 = -1
	for stable := 0; stable < 5; {
		time.Sleep(20 * time.Millisecond)
		if c := rb.n.Load(); c == last {
			stable++
		} else {
			last, stable = c, 0
		}
	}
	if last >= n {
		t.Fatal("reader never paused")
	}
}
