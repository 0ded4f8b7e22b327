package auth

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/wire"
)

// TestAuthVectors runs every vector of auth-vectors.json.
func TestAuthVectors(t *testing.T) {
	vs, err := vectors.LoadAuthVectors()
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) < 6 {
		t.Fatalf("only %d vectors", len(vs))
	}
	captured := 0
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			secret := []byte(v.Secret)
			if CleartextToken(secret) != v.SecretHex || v.CleartextAccepted != v.SecretHex {
				t.Errorf("cleartext token %q, want %q", CleartextToken(secret), v.CleartextAccepted)
			}
			l1, l2, r1, r2 := v.LGreeting1, v.LGreeting2, v.RGreeting1, v.RGreeting2
			if got := string(message(l1, l2, r1, r2)); got != v.LocalHMACInput {
				t.Errorf("local input %q\nwant %q", got, v.LocalHMACInput)
			}
			if got := string(message(r1, r2, l1, l2)); got != v.RemoteHMACInput {
				t.Errorf("remote input %q\nwant %q", got, v.RemoteHMACInput)
			}
			check := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s:\n got %s\nwant %s", what, got, want)
				}
			}
			check("hmac sent", HMACToken(secret, l1, l2, r1, r2), v.HMACSent)
			check("hmac expected", HMACToken(secret, r1, r2, l1, l2), v.HMACExpected)
			check("tls sent", TLSToken(l1, l2, r1, r2), v.TLSSent)
			check("tls expected", TLSToken(r1, r2, l1, l2), v.TLSExpected)

			line := func(method string) string {
				tok, err := Token(method, secret, nil, l1, l2, r1, r2)
				if err != nil {
					t.Fatal(err)
				}
				return string(wire.AppendAuthLine(nil, wire.AuthLine{Method: method, Token: tok, Framing: v.Framing})) + "\n"
			}
			check("hmac auth line", line(MethodHMAC), v.AuthLineSentHMAC)
			check("tls auth line", line(MethodTLS), v.AuthLineSentTLS)
			check("cleartext auth line", line(MethodCleartext), v.AuthLineCleartext)

			// The remote side's view: it verifies what we send.
			remote := Params{Accept: []string{MethodHMAC, MethodTLS, MethodCleartext}, Secret: secret, TLS: true,
				Local1: r1, Local2: r2, Remote1: l1, Remote2: l2}
			for _, m := range []string{MethodHMAC, MethodTLS, MethodCleartext} {
				tok, _ := Token(m, secret, nil, l1, l2, r1, r2)
				if err := Verify(m, tok, remote); err != nil {
					t.Errorf("remote verifies our %s: %v", m, err)
				}
			}

			if v.CapturedFromLocal != "" {
				captured++
				check("captured local line", v.CapturedFromLocal, v.AuthLineSentHMAC)
				a, err := wire.ParseAuthLine([]byte(strings.TrimSuffix(v.CapturedFromRemote, "\n")))
				if err != nil {
					t.Fatal(err)
				}
				check("captured remote token", a.Token, v.HMACExpected)
				local := Params{Accept: []string{MethodHMAC}, Secret: secret, Local1: l1, Local2: l2, Remote1: r1, Remote2: r2}
				if err := Verify(a.Method, a.Token, local); err != nil {
					t.Errorf("captured remote line not accepted: %v", err)
				}
			}
		})
	}
	if captured < 2 {
		t.Errorf("%d captured vectors, want 2", captured)
	}
}

// TestSpecVectors checks §3.15 of the spec.
func TestSpecVectors(t *testing.T) {
	const (
		l1 = "aemp;1;nodeA;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;cbor,json,storable;provider=AE-2.02;peeraddr=127.0.0.1:4040;mproto=1;gproto=1"
		l2 = "QUJD"
		r1 = "aemp;1;nodeB;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;json;provider=Go-0.1;peeraddr=127.0.0.1:50000"
		r2 = "REVG"
	)
	cases := []struct{ what, got, want string }{
		{"geheim sent", HMACToken([]byte("geheim"), l1, l2, r1, r2),
			"01b8b913b3f1f9f32a8decd681e9e435452bde80ad456fabd015e641ddf588b46c886c3ea9a7ac7bd85330c57c5da20ca757531d58562a1c5a39fb70adf61cc8"},
		{"geheim expected", HMACToken([]byte("geheim"), r1, r2, l1, l2),
			"36aad1aa66e9c66d4008eb0d53ff2bf1250e38478950bd5528a6bdc1a1044846ce44f0d7a7dab8c7991947ef05740775d22079be931e516cbacbdcd65065ad1e"},
		{"long sent", HMACToken([]byte(strings.Repeat("x", 100)), l1, l2, r1, r2),
			"ee36069438ed18d08f60f1a299517fd0d5646edc86268bd8b5f1e1d536f9fd2a9c3c4d1e511f96385521043d3b8e7cdf538f1360911c01b1ad9d6ab24f41ea28"},
		{"long expected", HMACToken([]byte(strings.Repeat("x", 100)), r1, r2, l1, l2),
			"2c50380ae45ccb9078a1d250d7945504561cf39ac0b7ea37a73b3b4e4d6c3d9f4abab6f3f07061c23231ba2b3b6486ea09ca50a817b163b1e9b8de55cd3cdf34"},
		{"tls sent", TLSToken(l1, l2, r1, r2),
			"fed14ac513c57d5ba3bc0c32b48f39a89f21b6db8cd13f5768211baf3c937700522441753beea3e0ed756c31c47f54a2a5b47afede97e8697b132a2e861d1ca7"},
		{"cleartext", CleartextToken([]byte("geheim")), "67656865696d"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.what, c.got, c.want)
		}
	}
	// nodeA picks json towards nodeB; nodeB picks the first of nodeA's list it supports.
	if f, _ := wire.ChooseFraming([]string{"json"}, []string{"cbor", "json", "storable"}); f != "json" {
		t.Errorf("nodeA framing %q", f)
	}
	if got := string(wire.AppendAuthLine(nil, wire.AuthLine{Method: MethodHMAC, Token: cases[0].got, Framing: "json"})); got !=
		"hmac_sha3_512;01b8b913b3f1f9f32a8decd681e9e435452bde80ad456fabd015e641ddf588b46c886c3ea9a7ac7bd85330c57c5da20ca757531d58562a1c5a39fb70adf61cc8;json" {
		t.Errorf("auth line %s", got)
	}
}

func TestHMACBlockSize(t *testing.T) {
	if bs := hmac.New(newSHA3, nil).BlockSize(); bs != 72 {
		t.Fatalf("HMAC block size %d, want 72", bs)
	}
}

// TestSessionsReplay checks, at the level of pure functions, that both
// sides of every recorded connection would have produced exactly the auth
// line they sent and accepted the other's.
func TestSessionsReplay(t *testing.T) {
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
		for i, c := range conns {
			for _, d := range [][2]string{{"C>S", "S>C"}, {"S>C", "C>S"}} {
				own1, own2 := c.Line(d[0], "greeting1"), c.Line(d[0], "greeting2")
				peer1, peer2 := c.Line(d[1], "greeting1"), c.Line(d[1], "greeting2")
				og, err1 := wire.ParseGreeting([]byte(own1))
				pg, err2 := wire.ParseGreeting([]byte(peer1))
				if err := errors.Join(err1, err2, wire.CheckPeer(pg, og.NodeID), wire.CheckEcho(own1, own2, peer1, peer2)); err != nil {
					t.Fatalf("%s conn %d: %v", path, i, err)
				}
				method, err := wire.ChooseAuth(pg.Auth, []string{MethodTLS, MethodHMAC}, false)
				if err != nil {
					t.Fatal(err)
				}
				framing, err := wire.ChooseFraming(pg.Framings, og.Framings)
				if err != nil {
					t.Fatal(err)
				}
				tok, err := Token(method, []byte(secret), nil, own1, own2, peer1, peer2)
				if err != nil {
					t.Fatal(err)
				}
				got := string(wire.AppendAuthLine(nil, wire.AuthLine{Method: method, Token: tok, Framing: framing}))
				if want := c.Line(d[0], "auth"); got != want {
					t.Errorf("%s conn %d %s auth line:\n got %s\nwant %s", path, i, d[0], got, want)
				}
				peerAuth, err := wire.ParseAuthLine([]byte(c.Line(d[1], "auth")))
				if err != nil {
					t.Fatal(err)
				}
				p := Params{Accept: og.Auth, Secret: []byte(secret), Local1: own1, Local2: own2, Remote1: peer1, Remote2: peer2}
				if err := Verify(peerAuth.Method, peerAuth.Token, p); err != nil {
					t.Errorf("%s conn %d %s: peer's line refused: %v", path, i, d[0], err)
				}
				p.Secret = []byte(secret + "x")
				if err := Verify(peerAuth.Method, peerAuth.Token, p); !errors.Is(err, ErrTokenMismatch) {
					t.Errorf("wrong secret accepted: %v", err)
				}
				n++
			}
		}
	}
	if n < 12 {
		t.Fatalf("only %d sides replayed", n)
	}
}

func TestToken(t *testing.T) {
	if _, err := Token(MethodHMAC, nil, nil, "a", "b", "c", "d"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("hmac without secret: %v", err)
	}
	if _, err := Token("hmac_md6_64_256", []byte("s"), nil, "a", "b", "c", "d"); !errors.Is(err, ErrUnknownMethod) {
		t.Errorf("md6: %v", err)
	}
	if tok, err := Token(MethodTLSAnon, nil, nil, "a", "b", "c", "d"); tok != "" || err != nil {
		t.Errorf("tls_anon: %q %v", tok, err)
	}
}

// The token nodeA of spec §3.15 sends, and how nodeB checks it.
func ExampleHMACToken() {
	const (
		l1 = "aemp;1;nodeA;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;cbor,json,storable;provider=AE-2.02;peeraddr=127.0.0.1:4040;mproto=1;gproto=1"
		r1 = "aemp;1;nodeB;tls_sha3_512,hmac_sha3_512,tls_anon,cleartext;json;provider=Go-0.1;peeraddr=127.0.0.1:50000"
	)
	secret := []byte("geheim")
	tok := HMACToken(secret, l1, "QUJD", r1, "REVG") // nodeA's lines first
	fmt.Println(tok[:32])

	// nodeB: its own lines are Local, nodeA's Remote.
	err := Verify(MethodHMAC, tok, Params{Accept: []string{MethodHMAC}, Secret: secret,
		Local1: r1, Local2: "REVG", Remote1: l1, Remote2: "QUJD"})
	fmt.Println(err)
	// Output:
	// 01b8b913b3f1f9f32a8decd681e9e435
	// <nil>
}
