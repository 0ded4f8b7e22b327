package frame

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// utf8Cases are strings of the message ["b","t",<s>] at the edges of UTF-8
// validity; the splitter must accept exactly those that are valid UTF-8
// (the grammar of package wire, "JSON grammar").
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

func TestJSONSplitterUTF8(t *testing.T) {
	for _, c := range utf8Cases {
		msg := `["b","t","` + c.s + `"]`
		valid := utf8.ValidString(msg)
		for _, mode := range []string{"oneshot", "bytewise"} {
			var s JSONSplitter
			cs := [][]byte{[]byte(msg)}
			if mode == "bytewise" {
				cs = bytewise([]byte(msg))
			}
			got, err := splitAll(&s, cs)
			switch {
			case valid && (err != nil || len(got) != 1 || got[0] != msg):
				t.Errorf("%s %s: valid %q split as %q, %v", c.name, mode, msg, got, err)
			case !valid && !errors.Is(err, ErrSyntax):
				t.Errorf("%s %s: invalid UTF-8 %q split as %q, %v; want ErrSyntax", c.name, mode, msg, got, err)
			}
		}
	}
}

// TestJSONSplitterUTF8AcrossChunks cuts a stream inside each multi-byte
// sequence and inside escapes: the splitter waits for the rest instead of
// failing, whatever the cut.
func TestJSONSplitterUTF8AcrossChunks(t *testing.T) {
	msg := []byte(`["é","✓","😀","\u00e9\n\"","\ud800"]`)
	for cut := 1; cut < len(msg); cut++ {
		var s JSONSplitter
		got, err := splitAll(&s, [][]byte{msg[:cut], msg[cut:]})
		if err != nil || len(got) != 1 || got[0] != string(msg) {
			t.Fatalf("cut at %d: %q, %v", cut, got, err)
		}
	}
	var s JSONSplitter
	if m, n, err := s.Next([]byte("[\"a\",\"\xf0\x9f")); m != nil || n != 0 || err != nil || !s.Pending() {
		t.Fatalf("truncated sequence at the end: %q %d %v", m, n, err)
	}
	if _, _, err := s.Next([]byte("[\"a\",\"\xf0\x9f\"]")); !errors.Is(err, ErrSyntax) {
		t.Fatalf("truncated sequence then a quote: %v", err)
	}
}
