package wire_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/wire"
)

// handshakeSeeds returns every recorded handshake line of the given kinds
// from all session transcripts, plus the lines of auth-vectors.json.
func handshakeSeeds(f *testing.F, kinds ...string) []string {
	var out []string
	for _, conns := range recordedConns(f) {
		for _, c := range conns {
			for _, dir := range []string{"C>S", "S>C"} {
				for _, k := range kinds {
					out = append(out, c.Line(dir, k))
				}
			}
		}
	}
	vs, err := vectors.LoadAuthVectors()
	if err != nil {
		f.Fatal(err)
	}
	for _, v := range vs {
		for _, k := range kinds {
			switch k {
			case "greeting1":
				out = append(out, v.LGreeting1, v.RGreeting1)
			case "greeting2":
				out = append(out, v.LGreeting2, v.RGreeting2)
			case "auth":
				for _, l := range []string{v.AuthLineSentHMAC, v.AuthLineSentTLS, v.AuthLineCleartext, v.CapturedFromLocal, v.CapturedFromRemote} {
					if l != "" {
						out = append(out, strings.TrimSuffix(l, "\n"))
					}
				}
			}
		}
	}
	return out
}

func FuzzGreeting(f *testing.F) {
	for _, s := range handshakeSeeds(f, "greeting1") {
		f.Add([]byte(s))
	}
	f.Add([]byte("aemp;1;n;a,,b;;k;=v;x=%3B%25%2;y=%"))
	pad := "aemp;1;n;hmac_sha3_512;json;p=%41"
	f.Add([]byte(pad + strings.Repeat("x", wire.MaxLine-1-len(pad))))
	f.Fuzz(func(t *testing.T, line []byte) {
		g, err := wire.ParseGreeting(line)
		if err != nil {
			return
		}
		enc := wire.AppendGreeting(nil, g)
		g2, err := wire.ParseGreeting(enc)
		if len(enc) > wire.MaxLine-1 {
			// Escaping "%" as "%25" can push a line at the limit over it.
			if !errors.Is(err, wire.ErrLineTooLong) {
				t.Fatalf("re-parse of %d-byte line: %v", len(enc), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", enc, line, err)
		}
		if !reflect.DeepEqual(g, g2) {
			t.Fatalf("round trip changed the greeting:\n%#v\n%#v", g, g2)
		}
		if enc2 := wire.AppendGreeting(nil, g2); string(enc2) != string(enc) {
			t.Fatalf("encoding not stable: %q vs %q", enc, enc2)
		}
		_ = g.WantsTLS()
		_ = wire.CheckPeer(g, "me")
	})
}

func FuzzAuthLine(f *testing.F) {
	for _, s := range handshakeSeeds(f, "auth") {
		f.Add([]byte(s))
	}
	f.Add([]byte("tls_anon;;json;k=v"))
	f.Fuzz(func(t *testing.T, line []byte) {
		a, err := wire.ParseAuthLine(line)
		if err != nil {
			return
		}
		enc := wire.AppendAuthLine(nil, a)
		a2, err := wire.ParseAuthLine(enc)
		if err != nil || a2 != a {
			t.Fatalf("round trip of %q: %+v, %v (was %+v)", line, a2, err, a)
		}
	})
}
