package wire

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/aemp-go/aemp/internal/jsonlex"
)

// utf8Cases: the grammar's UTF-8 edge cases (internal/jsonlex).
var utf8Cases = jsonlex.UTF8EdgeCases

// TestUTF8EdgeCases puts each case in the local part, the tag and an
// argument: ScanEnvelope, ScanHead with the argument accessors, Valid and
// the decoders all accept it exactly when it is valid UTF-8.
func TestUTF8EdgeCases(t *testing.T) {
	for _, c := range utf8Cases {
		q := `"` + c.S + `"`
		for _, msg := range []string{
			`[` + q + `,"t",1]`,
			`["b",` + q + `,1]`,
			`["b","t",` + q + `]`, // the case that once passed the splitter and ScanHead
			`["b","t",1,{` + q + `:[` + q + `]}]`,
		} {
			valid := utf8.ValidString(msg)
			ok := func(what string, err error) {
				t.Helper()
				if valid && err != nil || !valid && !errors.Is(err, ErrSyntax) {
					t.Errorf("%s: %s(%q) = %v, valid UTF-8 %v", c.Name, what, msg, err, valid)
				}
			}
			_, err := ScanEnvelope([]byte(msg))
			ok("ScanEnvelope", err)
			_, _, err = ScanNextEnvelope([]byte(msg))
			ok("ScanNextEnvelope", err)
			e, err := ScanHead([]byte(msg))
			if err == nil {
				var it ArgIter
				it.Reset(e.Args)
				_, err = it.Len()
			}
			ok("ScanHead+ArgIter.Len", err)
			_, err = DecodeAny([]byte(msg))
			ok("DecodeAny", err)
			if Valid([]byte(msg)) != valid {
				t.Errorf("%s: Valid(%q) = %v", c.Name, msg, !valid)
			}
		}
		if _, err := DecodeString([]byte(q)); utf8.ValidString(q) != (err == nil) {
			t.Errorf("%s: DecodeString(%q) = %v", c.Name, q, err)
		}
	}
}

// TestTruncatedUTF8IsTruncated: a stream cut inside a multi-byte sequence
// is ErrTruncated (read more), not a plain syntax error.
func TestTruncatedUTF8IsTruncated(t *testing.T) {
	for _, in := range []string{"[\"\xc3", "[\"\xe6\x97", "[\"\xf0\x9f\x98", `["\u00`, `["\`} {
		if _, _, err := ScanNextEnvelope([]byte(in)); !errors.Is(err, ErrTruncated) {
			t.Errorf("ScanNextEnvelope(%q) = %v, want ErrTruncated", in, err)
		}
	}
	for _, in := range []string{"[\"\xed\xa0", "[\"\xe0\x80", "[\"\xf4\x90"} {
		if _, _, err := ScanNextEnvelope([]byte(in)); err == nil || errors.Is(err, ErrTruncated) {
			t.Errorf("ScanNextEnvelope(%q) = %v, want a syntax error that is not ErrTruncated", in, err)
		}
	}
}
