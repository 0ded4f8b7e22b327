package wire_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/wire"
)

// recordedConns loads every connection of every session transcript.
func recordedConns(t testing.TB) map[string][]*vectors.Connection {
	t.Helper()
	out, err := vectors.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseGreetingRecorded(t *testing.T) {
	n := 0
	for path, conns := range recordedConns(t) {
		for i, c := range conns {
			for dir, id := range map[string]string{"C>S": c.C, "S>C": c.S} {
				line := c.Line(dir, "greeting1")
				g, err := wire.ParseGreeting([]byte(line))
				if err != nil {
					t.Fatalf("%s conn %d %s: %v", path, i, dir, err)
				}
				if g.Protocol != "aemp" || g.Version != "1" || g.NodeID != id {
					t.Errorf("%s conn %d %s: got %q %q %q", path, i, dir, g.Protocol, g.Version, g.NodeID)
				}
				if !slices.Contains(g.Auth, "hmac_sha3_512") || len(g.Framings) == 0 {
					t.Errorf("%s: auth %v framings %v", line, g.Auth, g.Framings)
				}
				if !strings.HasPrefix(id, "pyraw") {
					for _, k := range []string{"mproto", "gproto"} {
						if v, ok := g.Get(k); !ok || v != "1" {
							t.Errorf("%s: %s = %q, %v", line, k, v, ok)
						}
					}
				}
				if v, ok := g.Get("peeraddr"); !ok || !strings.HasPrefix(v, "127.0.0.1:") {
					t.Errorf("%s: peeraddr = %q", line, v)
				}
				if g.WantsTLS() {
					t.Errorf("%s: no tls key was sent", line)
				}
				if err := wire.CheckPeer(g, "someone-else"); err != nil {
					t.Errorf("%s: %v", line, err)
				}
				if err := g.Validate(); err != nil {
					t.Errorf("%s: Validate: %v", line, err)
				}
				if got := string(wire.AppendGreeting(nil, g)); got != line {
					t.Errorf("round trip:\n got %s\nwant %s", got, line)
				}
				n++
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d greetings checked", n)
	}
}

func TestParseGreetingSpecExample(t *testing.T) {
	line := "aemp;1;myhost/Xy3kP9aQzL;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;cbor,json,storable;provider=AE-2.02;peeraddr=10.0.0.5:40312;mproto=1;gproto=1;tls=1.0"
	g, err := wire.ParseGreeting([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := wire.Greeting{
		Protocol: "aemp", Version: "1", NodeID: "myhost/Xy3kP9aQzL",
		Auth:     []string{"tls_sha3_512", "hmac_sha3_512", "tls_anon", "cleartext"},
		Framings: []string{"cbor", "json", "storable"},
	}
	if g.Protocol != want.Protocol || g.Version != want.Version || g.NodeID != want.NodeID ||
		!slices.Equal(g.Auth, want.Auth) || !slices.Equal(g.Framings, want.Framings) {
		t.Fatalf("got %+v", g)
	}
	if len(g.KV) != 5 || g.KV[4] != (wire.KV{Key: "tls", Value: "1.0", HasValue: true}) {
		t.Fatalf("KV = %+v", g.KV)
	}
	if !g.WantsTLS() {
		t.Error("tls=1.0 not recognised")
	}
}

func TestParseGreetingFields(t *testing.T) {
	g, err := wire.ParseGreeting([]byte("aemp;1.0;n/1;hmac_sha3_512;json;flag;x=a=b;unknown=;e=50%25%3b%3Bx%41;flag=2"))
	if err != nil {
		t.Fatal(err)
	}
	wantKV := []wire.KV{
		{Key: "flag"},
		{Key: "x", Value: "a=b", HasValue: true},
		{Key: "unknown", Value: "", HasValue: true},
		{Key: "e", Value: "50%;;x%41", HasValue: true},
		{Key: "flag", Value: "2", HasValue: true},
	}
	if !slices.Equal(g.KV, wantKV) {
		t.Fatalf("KV = %+v\nwant %+v", g.KV, wantKV)
	}
	if v, ok := g.Get("flag"); !ok || v != "2" {
		t.Errorf("Get(flag) = %q, %v; want the last occurrence", v, ok)
	}
	if v, ok := g.Get("x"); !ok || v != "a=b" {
		t.Errorf("Get(x) = %q, %v", v, ok)
	}
	if _, ok := g.Get("missing"); ok {
		t.Error("Get(missing) reported present")
	}
	if err := wire.CheckPeer(g, "me"); err != nil {
		t.Errorf("version 1.0: %v", err)
	}
	// Escaping on the way out, and back.
	out := string(wire.AppendGreeting(nil, g))
	if want := "aemp;1.0;n/1;hmac_sha3_512;json;flag;x=a=b;unknown=;e=50%25%3b%3bx%2541;flag=2"; out != want {
		t.Errorf("Append = %s\nwant     %s", out, want)
	}
	g2, err := wire.ParseGreeting([]byte(out))
	if err != nil || !slices.Equal(g2.KV, g.KV) {
		t.Errorf("re-parse: %v %+v", err, g2.KV)
	}
}

func TestParseGreetingEmptyLists(t *testing.T) {
	g, err := wire.ParseGreeting([]byte("aemp;1;n;;a,,b,"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Auth != nil || !slices.Equal(g.Framings, []string{"a", "b"}) {
		t.Fatalf("auth %#v framings %#v", g.Auth, g.Framings)
	}
}

func TestParseGreetingErrors(t *testing.T) {
	long := "aemp;1;n;hmac_sha3_512;json;pad=" + strings.Repeat("x", wire.MaxLine)
	cases := []struct {
		line string
		want error
	}{
		{"", wire.ErrBadGreeting},
		{"aemp;1;n;hmac_sha3_512", wire.ErrBadGreeting},
		{"aemp;1;;hmac_sha3_512;json", wire.ErrBadGreeting},
		{"GET / HTTP/1.1", wire.ErrBadGreeting},
		{"aemp;1;n;hmac_sha3_512;json\r", wire.ErrBadLine},
		{"aemp;1;n\n;hmac_sha3_512;json", wire.ErrBadLine},
		{"aemp;1;n;hmac_sha3_512;json;k=\x00", wire.ErrBadLine},
		{long, wire.ErrLineTooLong},
	}
	for _, c := range cases {
		if _, err := wire.ParseGreeting([]byte(c.line)); !errors.Is(err, c.want) {
			t.Errorf("%.40q: err = %v, want %v", c.line, err, c.want)
		}
	}
}

func TestGreetingLengthLimit(t *testing.T) {
	base := "aemp;1;n;hmac_sha3_512;json;pad="
	ok := base + strings.Repeat("x", wire.MaxLine-1-len(base)) // 4095 bytes + LF = MaxLine
	if _, err := wire.ParseGreeting([]byte(ok)); err != nil {
		t.Errorf("line of MaxLine-1 bytes: %v", err)
	}
	if _, err := wire.ParseGreeting([]byte(ok + "x")); !errors.Is(err, wire.ErrLineTooLong) {
		t.Errorf("line of MaxLine bytes: %v", err)
	}
	g, _ := wire.ParseGreeting([]byte(ok))
	if err := g.Validate(); err != nil {
		t.Errorf("Validate at the limit: %v", err)
	}
	g.KV[0].Value += "x"
	if err := g.Validate(); !errors.Is(err, wire.ErrLineTooLong) {
		t.Errorf("Validate over the limit: %v", err)
	}
}

func TestWantsTLS(t *testing.T) {
	for v, want := range map[string]bool{"1.0": true, "1": true, "1.9": true, "0": false, "2.0": false, "": false, "yes": false} {
		g := wire.Greeting{KV: []wire.KV{{Key: "tls", Value: v, HasValue: true}}}
		if got := g.WantsTLS(); got != want {
			t.Errorf("tls=%q: %v, want %v", v, got, want)
		}
	}
	if (&wire.Greeting{KV: []wire.KV{{Key: "tls"}}}).WantsTLS() {
		t.Error("tls without value counted as TLS")
	}
}

func TestGreetingValidate(t *testing.T) {
	good := wire.Greeting{Protocol: "aemp", Version: "1", NodeID: "a/b", Auth: []string{"hmac_sha3_512"}, Framings: []string{"json"},
		KV: []wire.KV{{Key: "v", Value: "semi;colon%", HasValue: true}, {Key: "flag"}}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(g *wire.Greeting){
		func(g *wire.Greeting) { g.NodeID = "" },
		func(g *wire.Greeting) { g.NodeID = "a;b" },
		func(g *wire.Greeting) { g.Version = "1\n" },
		func(g *wire.Greeting) { g.Auth = []string{"a,b"} },
		func(g *wire.Greeting) { g.Framings = []string{""} },
		func(g *wire.Greeting) { g.KV = []wire.KV{{Key: "a=b", Value: "x", HasValue: true}} },
		func(g *wire.Greeting) { g.KV = []wire.KV{{Key: "", HasValue: true}} },
		func(g *wire.Greeting) { g.KV = []wire.KV{{Key: "k", Value: "x\r", HasValue: true}} },
		func(g *wire.Greeting) { g.KV = []wire.KV{{Key: "k", Value: "x"}} },
	}
	for i, mutate := range bad {
		g := good
		g.KV = slices.Clone(good.KV)
		mutate(&g)
		if err := g.Validate(); !errors.Is(err, wire.ErrBadGreeting) {
			t.Errorf("case %d: err = %v", i, err)
		}
	}
}

func TestNewNonce(t *testing.T) {
	a, err := wire.NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := wire.NewNonce()
	if len(a) != wire.NonceLen || a == b {
		t.Fatalf("nonces %q %q", a, b)
	}
	raw, err := base64.RawStdEncoding.Strict().DecodeString(a)
	if err != nil || len(raw) != 66 { // 66 random octets, as Perl 2.02 sends
		t.Fatalf("decode: %d bytes, %v", len(raw), err)
	}
	if strings.ContainsAny(a, "=\r\n") {
		t.Fatalf("nonce %q has padding or line break", a)
	}
	if err := wire.CheckNonce([]byte(a)); err != nil {
		t.Fatal(err)
	}
	if err := wire.CheckNonce([]byte("ab\rc")); !errors.Is(err, wire.ErrBadLine) {
		t.Fatalf("CR in nonce: %v", err)
	}
}
