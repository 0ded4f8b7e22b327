package main

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"encoding/pem"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp"
	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/internal/leakcheck"
)

func TestGenSecret(t *testing.T) {
	e := newEnv(t)
	secret := regexp.MustCompile(`^"[0-9A-Za-z]{180}"$`)
	e.ok("gensecret")
	first := e.get("secret")
	e.ok("gensecret")
	second := e.get("secret")
	if !secret.MatchString(first) || !secret.MatchString(second) {
		t.Fatalf("secrets %s, %s: want 180 characters of 0-9A-Za-z", first, second)
	}
	if first == second {
		t.Error("two gensecret calls gave the same secret")
	}
	e.ok("profile", "p", "gensecret")
	if p := e.get("profile", "p", "secret"); !secret.MatchString(p) || p == second {
		t.Errorf("profile secret %s", p)
	}
}

// cert returns the PEM bundle gencert stored at the top level.
func (e *env) cert() []byte {
	e.t.Helper()
	s, ok := e.parsed().Get("cert").Str()
	if !ok {
		e.t.Fatalf("no cert in\n%s", e.file())
	}
	return []byte(s)
}

// gencert makes what Perl's aemp stores from openssl req: certificate
// first, then the unencrypted key; RSA-2048, CN=AnyEvent::MP, a CA for
// itself, ten years.
func TestGenCertBundle(t *testing.T) {
	e := newEnv(t)
	e.ok("gencert")
	pemText := e.cert()
	var types []string
	for rest := pemText; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		types = append(types, b.Type)
	}
	if strings.Join(types, ",") != "CERTIFICATE,PRIVATE KEY" {
		t.Errorf("PEM blocks %q, want the certificate then the PKCS#8 key", types)
	}
	b, err := auth.LoadBundle(pemText)
	if err != nil {
		t.Fatal(err)
	}
	leaf := b.Leaf()
	if leaf.Subject.CommonName != "AnyEvent::MP" || !leaf.IsCA {
		t.Errorf("subject %q, CA %v", leaf.Subject, leaf.IsCA)
	}
	if k, ok := leaf.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Errorf("key %T, want RSA-2048", leaf.PublicKey)
	}
	if years := time.Until(leaf.NotAfter).Hours() / 24 / 365; years < 9.9 || years > 10.1 {
		t.Errorf("valid for %.1f years, want 10", years)
	}
	e.ok("gencert")
	if string(e.cert()) == string(pemText) {
		t.Error("two gencert calls gave the same bundle")
	}
}

// Two Go nodes configured from the file gencert wrote (read with
// aemp.ReadConfigFile, as a node would) link over TLS and exchange a
// message.
func TestGenCertNodesLink(t *testing.T) {
	e := newEnv(t)
	e.ok("gencert", "profile", "a", "nodeid", "nodeA", "binds", "127.0.0.1:0",
		"profile", "b", "nodeid", "nodeB", "binds", "127.0.0.1:0")
	defer leakcheck.Check(t)()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(profile string) *aemp.Node {
		cfg, err := aemp.ReadConfigFile(e.rc, profile)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Cert == "" || cfg.Secret != "" {
			t.Fatalf("profile %s: cert %d bytes, secret %q", profile, len(cfg.Cert), cfg.Secret)
		}
		cfg.Logger = quiet
		n, err := aemp.NewNode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a := start("a")
	defer a.Close()
	b := start("b")
	defer b.Close()
	got := make(chan int64, 1)
	port := a.NewPort().Rcv("hi", func(m *aemp.Msg) error {
		n, err := m.Int(1)
		got <- n
		return err
	})
	if err := b.AddNode(a.ID(), a.Binds()...); err != nil {
		t.Fatal(err)
	}
	if err := b.Snd(port.ID(), "hi", 42); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != 42 {
			t.Errorf("got %d", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message over the TLS link")
	}
}

// OpenSSL, which Perl nodes use through AnyEvent::TLS, accepts the
// bundle: as a CA for itself, for both the client and the server purpose,
// and in a handshake with a Go node's TLS configuration in which each side
// verifies the other's certificate against the bundle.
func TestGenCertOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	e := newEnv(t)
	e.ok("gencert")
	pemText := e.cert()
	bundleFile := filepath.Join(e.home, "bundle.pem")
	if err := os.WriteFile(bundleFile, pemText, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, purpose := range []string{"sslclient", "sslserver"} {
		out, err := exec.Command(openssl, "verify", "-CAfile", bundleFile, "-purpose", purpose, bundleFile).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": OK") {
			t.Errorf("openssl verify -purpose %s: %v\n%s", purpose, err, out)
		}
	}

	defer leakcheck.Check(t)()
	b, err := auth.LoadBundle(pemText)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", b.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		served <- c.(*tls.Conn).Handshake() // requires and verifies the client's certificate
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := exec.CommandContext(ctx, openssl, "s_client", "-connect", ln.Addr().String(),
		"-cert", bundleFile, "-key", bundleFile, "-CAfile", bundleFile, "-verify_return_error", "-brief")
	client.Stdin = strings.NewReader("")
	out, err := client.CombinedOutput()
	if err != nil {
		t.Errorf("openssl s_client: %v\n%s", err, out)
	}
	ln.Close() // ends an Accept that never got a connection
	if err := <-served; err != nil {
		t.Errorf("Go server handshake with openssl: %v\n%s", err, out)
	}
}

func TestSetCert(t *testing.T) {
	e := newEnv(t)
	bundle, err := auth.GenerateSelfSigned("", 0)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.home, "node.pem")
	os.WriteFile(file, bundle, 0o600)
	e.ok("profile", "p", "setcert", file)
	if got, _ := e.parsed().Get("profile").Get("p").Get("cert").Str(); got != string(bundle) {
		t.Errorf("stored cert differs from the file")
	}
	e.ok("cert", file) // the alias, at the top level
	if string(e.cert()) != string(bundle) {
		t.Error("alias cert")
	}

	// A PEM file Go nodes cannot use (no key) is stored with a warning.
	certOnly := bundle[:strings.Index(string(bundle), "-----BEGIN PRIVATE KEY")]
	os.WriteFile(file, certOnly, 0o600)
	r := e.run("setcert", file)
	if r.code != 0 || r.stdout != "" || !strings.HasPrefix(r.stderr, "aemp: warning: setcert:") {
		t.Errorf("certificate without key: %+v", r)
	}

	orig := e.file()
	os.WriteFile(file, []byte("not pem at all"), 0o600)
	e.fails(exitFailure, "setcert", file)
	e.fails(exitFailure, "setcert", filepath.Join(e.home, "missing.pem"))
	e.fails(exitUsage, "setcert")
	e.ok("delcert")
	if e.get("cert") != "<none>" {
		t.Error("delcert")
	}
	if e.get("profile", "p", "cert") == "<none>" || orig == e.file() {
		t.Error("delcert at the top level changed the profile, or nothing")
	}
}
