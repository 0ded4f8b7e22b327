package frame

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/aemp-go/aemp/internal/jsonlex"
)

// utf8Cases: the grammar's UTF-8 edge cases (internal/jsonlex).
var utf8Cases = jsonlex.UTF8EdgeCases

func TestJSONSplitterUTF8(t *testing.T) {
	for _, c := range utf8Cases {
		msg := `["b","t","` + c.S + `"]`
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
				t.Errorf("%s %s: valid %q split as %q, %v", c.Name, mode, msg, got, err)
			case !valid && !errors.Is(err, ErrSyntax):
				t.Errorf("%s %s: invalid UTF-8 %q split as %q, %v; want ErrSyntax", c.Name, mode, msg, got, err)
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
