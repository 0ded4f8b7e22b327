package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/leakcheck"
)

// testPEM returns two different self-signed bundles, generated once.
var testPEM = sync.OnceValues(func() ([2][]byte, error) {
	var out [2][]byte
	for i := range out {
		p, err := GenerateSelfSigned("", 0)
		if err != nil {
			return out, err
		}
		out[i] = p
	}
	return out, nil
})

func pems(t *testing.T) [2][]byte {
	t.Helper()
	p, err := testPEM()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func blocks(t *testing.T, p []byte) (cert, key *pem.Block) {
	t.Helper()
	for rest := p; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return
		}
		if b.Type == "CERTIFICATE" {
			cert = b
		} else {
			key = b
		}
	}
}

func TestGenerateSelfSigned(t *testing.T) {
	p := pems(t)[0]
	if !strings.HasPrefix(string(p), "-----BEGIN CERTIFICATE-----") || !strings.Contains(string(p), "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("want certificate then key:\n%s", p)
	}
	b, err := LoadBundle(p)
	if err != nil {
		t.Fatal(err)
	}
	leaf := b.Leaf()
	if leaf.Subject.CommonName != DefaultCN || !leaf.IsCA {
		t.Errorf("subject %v, CA %v", leaf.Subject, leaf.IsCA)
	}
	if pk, ok := leaf.PublicKey.(interface{ Size() int }); !ok || pk.Size() != 256 {
		t.Errorf("want RSA-2048, got %T", leaf.PublicKey)
	}
	if d := time.Until(leaf.NotAfter); d < DefaultValidity-2*time.Hour || d > DefaultValidity {
		t.Errorf("validity ends in %v", d)
	}
}

func TestLoadBundleForms(t *testing.T) {
	p := pems(t)
	cert, key := blocks(t, p[0])
	otherCert, _ := blocks(t, p[1])
	enc := pem.EncodeToMemory

	// key first, then cert, plus an extra CA
	if b, err := LoadBundle(append(append(enc(key), enc(cert)...), enc(otherCert)...)); err != nil {
		t.Errorf("key first: %v", err)
	} else if _, err := b.Leaf().Verify(x509.VerifyOptions{Roots: b.pool}); err != nil {
		t.Errorf("own cert not in pool: %v", err)
	}

	// PKCS#1 RSA key
	k, err := x509.ParsePKCS8PrivateKey(key.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(mustRSA(t, k))}
	if _, err := LoadBundle(append(enc(cert), enc(pkcs1)...)); err != nil {
		t.Errorf("PKCS#1: %v", err)
	}

	// EC key in SEC1 form
	ecPEM := ecBundle(t)
	if _, err := LoadBundle(ecPEM); err != nil {
		t.Errorf("EC: %v", err)
	}

	bad := map[string][]byte{
		"no key":       enc(cert),
		"no cert":      enc(key),
		"empty":        nil,
		"wrong key":    append(enc(otherCert), enc(key)...),
		"two keys":     append(append(enc(cert), enc(key)...), enc(key)...),
		"encrypted":    append(enc(cert), enc(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})...),
		"legacy crypt": append(enc(cert), enc(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}})...),
	}
	for name, text := range bad {
		if _, err := LoadBundle(text); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func mustRSA(t *testing.T, k any) *rsa.PrivateKey {
	t.Helper()
	r, ok := k.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("%T is not RSA", k)
	}
	return r
}

func ecBundle(t testing.TB) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ec"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)
}

// tlsPair runs a TLS handshake over net.Pipe between a client with bundle
// c and a server with bundle s and returns both errors.
func tlsPair(t *testing.T, c, s *Bundle) (cerr, serr error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	a.SetDeadline(time.Now().Add(5 * time.Second))
	b.SetDeadline(time.Now().Add(5 * time.Second))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv := tls.Server(b, s.ServerConfig())
		serr = srv.Handshake()
		if serr == nil {
			// TLS 1.3: the client learns of a rejected certificate only
			// when it reads.
			_, serr = srv.Write([]byte{1})
		}
		b.Close()
	}()
	cl := tls.Client(a, c.ClientConfig())
	cerr = cl.Handshake()
	if cerr == nil {
		var one [1]byte
		_, cerr = cl.Read(one[:])
	}
	a.Close()
	wg.Wait()
	return cerr, serr
}

func TestBundleTLS(t *testing.T) {
	defer leakcheck.Check(t)()
	p := pems(t)
	b1, err := LoadBundle(p[0])
	if err != nil {
		t.Fatal(err)
	}
	b2, err := LoadBundle(p[1])
	if err != nil {
		t.Fatal(err)
	}
	if cerr, serr := tlsPair(t, b1, b1); cerr != nil || serr != nil {
		t.Fatalf("same bundle: client %v, server %v", cerr, serr)
	}
	if cerr, serr := tlsPair(t, b1, b2); cerr == nil || serr == nil {
		t.Errorf("different bundles accepted: client %v, server %v", cerr, serr)
	}
	// A bundle that trusts both certificates accepts either peer, and the
	// peer that trusts only its own still refuses.
	cert2, _ := blocks(t, p[1])
	both, err := LoadBundle(append(append([]byte{}, p[0]...), pem.EncodeToMemory(cert2)...))
	if err != nil {
		t.Fatal(err)
	}
	if cerr, serr := tlsPair(t, both, b1); cerr != nil || serr != nil {
		t.Errorf("bundle with both certs as client of b1: client %v, server %v", cerr, serr)
	}
	if cerr, _ := tlsPair(t, b2, both); cerr == nil {
		t.Error("b2 accepted a server certificate it does not trust")
	}
	cfg := b1.ClientConfig()
	if cfg.MinVersion != tls.VersionTLS12 || !cfg.InsecureSkipVerify || cfg.VerifyPeerCertificate == nil || len(cfg.Certificates) != 1 {
		t.Errorf("client config %+v", cfg)
	}
	scfg := b1.ServerConfig()
	if scfg.MinVersion != tls.VersionTLS12 || scfg.ClientAuth != tls.RequireAndVerifyClientCert || scfg.ClientCAs == nil {
		t.Errorf("server config %+v", scfg)
	}
	if err := b1.verifyPeer(nil, nil); err == nil {
		t.Error("empty chain accepted")
	}
}
