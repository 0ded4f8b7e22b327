package wire

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// utf8Cases are strings at the edges of UTF-8 validity (the same table as
// package frame's TestJSONSplitterUTF8): a message carrying one of them
// must be accepted exactly when it is valid UTF-8.
var utf8Cases = []struct{ name, s string }{
	{"invalid byte FF", "\xff"},
	{"invalid byte FE", "\xfe"},
	{"lone continuation", "\x80"},
	{"overlong slash C0 AF", "\xc0\xaf"},
	{"overlong C1 BF", "\xc1\xbf"},
	{"overlong 3-byte E0 80 AF", "\xe0\x80\xaf"},
	{"overlong 4-byte F0 80 80 AF", "\xf0\x80\x80\xaf"},
	{"overlong U+FFFF F0 8F BF BF", "\xf0\x8f\xbf\xbf"},
	{"surrogate U+D800 ED A0 80", "\xed\xa0\x80"},
	{"surrogate U+DFFF ED BF BF", "\xed\xbf\xbf"},
	{"surrogate pair in UTF-8", "\xed\xa0\xbd\xed\xb8\x80"},
	{"U+D7FF", "\xed\x9f\xbf"},
	{"U+E000", "\xee\x80\x80"},
	{"U+FFFD", "\xef\xbf\xbd"},
	{"U+10FFFF", "\xf4\x8f\xbf\xbf"},
	{"U+110000", "\xf4\x90\x80\x80"},
	{"F5 lead", "\xf5\x80\x80\x80"},
	{"FF in 4-byte", "\xf0\x9f\x98\xff"},
	{"truncated 2-byte", "\xc3"},
	{"truncated 3-byte", "\xe6\x97"},
	{"truncated 4-byte", "\xf0\x9f\x98"},
	{"truncated then ASCII", "\xe6\x97x"},
	{"valid mix", "héllo ✓ 日本 😀"},
	{"lone surrogate escape", `\ud800`},
	{"escaped pair", `\ud83d\ude00`},
}

// TestUTF8EdgeCases puts each case in the local part, the tag and an
// argument: ScanEnvelope, ScanHead with the argument accessors, Valid and
// the decoders all accept it exactly when it is valid UTF-8.
func TestUTF8EdgeCases(t *testing.T) {
	for _, c := range utf8Cases {
		q := `"` + c.s + `"`
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
					t.Errorf("%s: %s(%q) = %v, valid UTF-8 %v", c.name, what, msg, err, valid)
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
				t.Errorf("%s: Valid(%q) = %v", c.name, msg, !valid)
			}
		}
		if _, err := DecodeString([]byte(q)); utf8.ValidString(q) != (err == nil) {
			t.Errorf("%s: DecodeString(%q) = %v", c.name, q, err)
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
