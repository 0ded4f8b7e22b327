package wire_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/internal/vectors"
	"github.com/aemp-go/aemp/wire"
)

func TestParseAuthLineRecorded(t *testing.T) {
	for path, conns := range recordedConns(t) {
		for i, c := range conns {
			for _, dir := range []string{"C>S", "S>C"} {
				line := c.Line(dir, "auth")
				a, err := wire.ParseAuthLine([]byte(line))
				if err != nil {
					t.Fatalf("%s conn %d %s: %v", path, i, dir, err)
				}
				if a.Method != "hmac_sha3_512" || len(a.Token) != 128 || (a.Framing != "json" && a.Framing != "cbor") {
					t.Errorf("%s conn %d %s: %+v", path, i, dir, a)
				}
				if got := string(wire.AppendAuthLine(nil, a)); got != line {
					t.Errorf("round trip: %s != %s", got, line)
				}
			}
		}
	}
}

func TestParseAuthLineVectors(t *testing.T) {
	vs, err := vectors.LoadAuthVectors()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		for _, l := range []string{v.AuthLineSentHMAC, v.AuthLineSentTLS, v.AuthLineCleartext, v.CapturedFromLocal, v.CapturedFromRemote} {
			if l == "" {
				continue
			}
			body, ok := strings.CutSuffix(l, "\n")
			if !ok {
				t.Fatalf("%s: auth line without LF: %q", v.Name, l)
			}
			a, err := wire.ParseAuthLine([]byte(body))
			if err != nil {
				t.Fatalf("%s: %v", v.Name, err)
			}
			if a.Framing != v.Framing {
				t.Errorf("%s: framing %q, want %q", v.Name, a.Framing, v.Framing)
			}
			if got := string(wire.AppendAuthLine(nil, a)) + "\n"; got != l {
				t.Errorf("%s: round trip %q != %q", v.Name, got, l)
			}
		}
	}
}

func TestParseAuthLineCases(t *testing.T) {
	a, err := wire.ParseAuthLine([]byte("tls_anon;;json;future=1;x"))
	if err != nil || a != (wire.AuthLine{Method: "tls_anon", Framing: "json"}) {
		t.Fatalf("extra fields: %+v %v", a, err)
	}
	errs := []struct {
		line string
		want error
	}{
		{"hmac_sha3_512;abcd", wire.ErrUnusableFraming},
		{"hmac_sha3_512;abcd;", wire.ErrUnusableFraming},
		{"hmac_sha3_512", wire.ErrBadAuthLine},
		{";abcd;json", wire.ErrBadAuthLine},
		{"", wire.ErrBadAuthLine},
		{"hmac_sha3_512;ab\rcd;json", wire.ErrBadLine},
		{"hmac_sha3_512;" + strings.Repeat("a", wire.MaxLine) + ";json", wire.ErrLineTooLong},
	}
	for _, c := range errs {
		if _, err := wire.ParseAuthLine([]byte(c.line)); !errors.Is(err, c.want) {
			t.Errorf("%.40q: err = %v, want %v", c.line, err, c.want)
		}
	}
}
