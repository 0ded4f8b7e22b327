package aemp

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// AnyEvent::MP's bind specs (spec §1.7) become listen addresses.
func TestListenAddrs(t *testing.T) {
	host := hostname()
	for spec, want := range map[string][]string{
		"127.0.0.1:4040":        {"127.0.0.1:4040"},
		"*:4040":                {":4040"},
		"*:*":                   {":0"},
		"*":                     {":0"},
		"4040":                  {net.JoinHostPort(host, "4040")},
		"":                      {net.JoinHostPort(host, "0")},
		"10.0.0.9:*":            {"10.0.0.9:0"},
		"10.0.0.9":              {"10.0.0.9:0"},
		"[::1]:*":               {"[::1]:0"},
		"::1":                   {"[::1]:0"},
		"*:4040, 10.0.0.9:4041": {":4040", "10.0.0.9:4041"},
	} {
		got, err := listenAddrs([]string{spec})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("listenAddrs(%q) = %q, %v; want %q", spec, got, err, want)
		}
	}
	for _, bad := range []string{"host:port", "*:99999", "a:b:c", "[::1"} {
		if c := (Config{Binds: []string{bad}}); !errors.Is(c.Validate(), ErrConfig) {
			t.Errorf("bind %q accepted", bad)
		}
	}
}

// A node bound to "*:*" listens on every interface with a free port,
// publishes interface addresses (never the wildcard) in 'l, and is
// reachable.
func TestWildcardBind(t *testing.T) {
	k := newMeshKit(t)
	g := k.node("wild", Config{Binds: []string{"*:*"}, Global: true})
	binds := g.Binds()
	if len(binds) != 1 {
		t.Fatalf("binds %q", binds)
	}
	host, port, _ := net.SplitHostPort(binds[0])
	if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() || port == "0" {
		t.Fatalf("bound to %s, want the wildcard address with a port", binds[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := g.DBFamily(ctx, "'l")
	if err != nil {
		t.Fatal(err)
	}
	published, _ := l["wild"].([]any)
	if len(published) == 0 {
		t.Fatalf("'l of the node: %v", l)
	}
	for _, a := range published {
		h, p, err := net.SplitHostPort(a.(string))
		if ip := net.ParseIP(h); err != nil || ip == nil || ip.IsUnspecified() || p != port {
			t.Errorf("published %v", a)
		}
	}
	c := k.node("client", Config{Nodes: map[string][]string{"wild": {net.JoinHostPort("127.0.0.1", port)}}})
	if r, err := c.Call(ctx, "wild", "time"); err != nil {
		t.Fatalf("call to the wildcard node: %#v, %v", r, err)
	}
}

// AuthOffer reaches the handshake: a node that may offer only a method it
// cannot use (tls_sha3_512 without a certificate) links to nobody; the
// same pair links with the default offer. cleartext is never offered.
func TestAuthOffer(t *testing.T) {
	for _, bad := range [][]string{{"cleartext"}, {"bogus"}} {
		if c := (Config{AuthOffer: bad}); !errors.Is(c.Validate(), ErrConfig) {
			t.Errorf("AuthOffer %q accepted", bad)
		}
	}
	ctx := timeout(t, 5*time.Second)
	p := newNetPair(t, Config{}, Config{AuthOffer: []string{"tls_sha3_512"}, ConnectTimeout: 300 * time.Millisecond})
	if _, err := p.b.Call(ctx, p.a.NodePort(), "time"); !errors.Is(err, ErrDied) {
		t.Fatalf("call with nothing to offer: %v", err)
	}
	if log := p.logB.String(); !strings.Contains(log, "offer") {
		t.Errorf("log does not say why:\n%s", log)
	}
	p = newNetPair(t, Config{}, Config{AuthOffer: []string{"tls_sha3_512", "hmac_sha3_512"}})
	if _, err := p.b.Call(ctx, p.a.NodePort(), "time"); err != nil {
		t.Fatalf("call with hmac_sha3_512 offered: %v", err)
	}
}
