package wire_test

import (
	"errors"
	"testing"

	"github.com/aemp-go/aemp/wire"
)

var perlAccept = []string{"tls_sha3_512", "hmac_sha3_512", "tls_anon", "cleartext"}

func TestChooseAuth(t *testing.T) {
	offer := []string{"tls_sha3_512", "hmac_sha3_512"}
	cases := []struct {
		peer, ours []string
		tls        bool
		want       string
	}{
		{perlAccept, offer, false, "hmac_sha3_512"},
		{perlAccept, offer, true, "tls_sha3_512"},
		{perlAccept, []string{"tls_anon", "hmac_sha3_512"}, true, "hmac_sha3_512"}, // peer's order wins
		{[]string{"tls_anon", "tls_sha3_512"}, []string{"tls_sha3_512", "tls_anon"}, true, "tls_anon"},
		{[]string{"hmac_sha3_512", "tls_sha3_512"}, offer, true, "hmac_sha3_512"},
		{[]string{"cleartext"}, []string{"cleartext"}, false, "cleartext"},
	}
	for _, c := range cases {
		got, err := wire.ChooseAuth(c.peer, c.ours, c.tls)
		if err != nil || got != c.want {
			t.Errorf("ChooseAuth(%v, %v, %v) = %q, %v; want %q", c.peer, c.ours, c.tls, got, err, c.want)
		}
	}
	for _, c := range []struct {
		peer, ours []string
		tls        bool
	}{
		{[]string{"tls_sha3_512", "tls_anon"}, offer, false},
		{[]string{"hmac_md6_64_256"}, offer, true},
		{nil, offer, true},
		{perlAccept, nil, true},
	} {
		if got, err := wire.ChooseAuth(c.peer, c.ours, c.tls); !errors.Is(err, wire.ErrNoCommonAuth) {
			t.Errorf("ChooseAuth(%v, %v, %v) = %q, %v; want ErrNoCommonAuth", c.peer, c.ours, c.tls, got, err)
		}
	}
}

func TestChooseFraming(t *testing.T) {
	cases := []struct {
		peer, ours []string
		want       string
	}{
		{[]string{"cbor", "json", "storable"}, []string{"goframe1", "json"}, "json"},
		{[]string{"goframe1", "json"}, []string{"json", "goframe1"}, "goframe1"},
		{[]string{"json", "cbor"}, []string{"cbor", "json"}, "json"},
	}
	for _, c := range cases {
		got, err := wire.ChooseFraming(c.peer, c.ours)
		if err != nil || got != c.want {
			t.Errorf("ChooseFraming(%v, %v) = %q, %v; want %q", c.peer, c.ours, got, err, c.want)
		}
	}
	if _, err := wire.ChooseFraming([]string{"storable"}, []string{"json"}); !errors.Is(err, wire.ErrNoCommonFraming) {
		t.Errorf("no common framing: %v", err)
	}
}

// TestNegotiationRecorded replays the choices of every recorded connection:
// each side's auth method and send framing follow from the two greetings.
func TestNegotiationRecorded(t *testing.T) {
	for path, conns := range recordedConns(t) {
		for i, c := range conns {
			for _, dir := range [][2]string{{"C>S", "S>C"}, {"S>C", "C>S"}} {
				own, _ := wire.ParseGreeting([]byte(c.Line(dir[0], "greeting1")))
				peer, _ := wire.ParseGreeting([]byte(c.Line(dir[1], "greeting1")))
				sent, _ := wire.ParseAuthLine([]byte(c.Line(dir[0], "auth")))
				// Perl's default auth_offer; no TLS in the recordings.
				m, err := wire.ChooseAuth(peer.Auth, []string{"tls_sha3_512", "hmac_sha3_512"}, false)
				if err != nil || m != sent.Method {
					t.Errorf("%s conn %d %s: auth %q, %v; sent %q", path, i, dir[0], m, err, sent.Method)
				}
				f, err := wire.ChooseFraming(peer.Framings, own.Framings)
				if err != nil || f != sent.Framing {
					t.Errorf("%s conn %d %s: framing %q, %v; sent %q", path, i, dir[0], f, err, sent.Framing)
				}
			}
			// Exactly one side would be the TLS client.
			c2, s2 := c.Line("C>S", "greeting2"), c.Line("S>C", "greeting2")
			if wire.TLSClient(c2, s2) == wire.TLSClient(s2, c2) {
				t.Errorf("%s conn %d: TLS roles not complementary", path, i)
			}
		}
	}
}

func TestCheckEcho(t *testing.T) {
	if err := wire.CheckEcho("a", "n1", "b", "n2"); err != nil {
		t.Fatal(err)
	}
	if err := wire.CheckEcho("a", "n1", "a", "n1"); !errors.Is(err, wire.ErrEcho) {
		t.Errorf("reflected pair: %v", err)
	}
	if err := wire.CheckEcho("a", "n1", "b", "n1"); !errors.Is(err, wire.ErrEcho) {
		t.Errorf("reflected nonce: %v", err)
	}
	if err := wire.CheckEcho("a", "", "b", ""); !errors.Is(err, wire.ErrEcho) {
		t.Errorf("empty nonces: %v", err)
	}
}

func TestCheckPeer(t *testing.T) {
	g := func(proto, ver, id string) wire.Greeting {
		return wire.Greeting{Protocol: proto, Version: ver, NodeID: id}
	}
	cases := []struct {
		g    wire.Greeting
		want error
	}{
		{g("aemp", "1", "b"), nil},
		{g("aemp", "1.0", "b"), nil},
		{g("aemp", "01", "b"), nil},
		{g("aemp-dataconn", "1", "b"), wire.ErrProtocol},
		{g("AEMP", "1", "b"), wire.ErrProtocol},
		{g("aemp", "0", "b"), wire.ErrVersion},
		{g("aemp", "2", "b"), wire.ErrVersion},
		{g("aemp", "one", "b"), wire.ErrVersion},
		{g("aemp", "", "b"), wire.ErrVersion},
		{g("aemp", "1", "me"), wire.ErrSelf},
		{g("aemp-dataconn", "1", "me"), wire.ErrProtocol}, // protocol is checked first
	}
	for _, c := range cases {
		err := wire.CheckPeer(c.g, "me")
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%+v: err = %v, want %v", c.g, err, c.want)
		}
	}
	if err := wire.CheckPeer(g("aemp", "1", "me"), "me"); err.Error() != "I refuse to talk to myself (peer announced our node ID \"me\")" {
		t.Errorf("self message: %q", err)
	}
}

func TestTLSClient(t *testing.T) {
	// Text comparison, not octets: "+" (0x2b) < "A" although base64 '+'
	// encodes 62 and 'A' 0.
	if !wire.TLSClient("+AAA", "AAAA") || wire.TLSClient("AAAA", "+AAA") {
		t.Error("nonce text comparison wrong")
	}
}
