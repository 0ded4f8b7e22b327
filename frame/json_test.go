package frame

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aemp-go/aemp/internal/vectors"
)

// splitter is what JSONSplitter and CBORSplitter have in common.
type splitter interface {
	Next(b []byte) (msg []byte, n int, err error)
	Pending() bool
}

// splitAll feeds chunks to a splitter the way a reader does and returns the
// texts found.
func splitAll(s splitter, chunks [][]byte) ([]string, error) {
	var pending []byte
	var out []string
	for _, c := range chunks {
		pending = append(pending, c...)
		for {
			msg, n, err := s.Next(pending)
			if err != nil {
				return out, err
			}
			if n == 0 {
				break
			}
			if msg != nil {
				out = append(out, string(msg))
			}
			pending = pending[n:]
		}
	}
	if s.Pending() || len(bytes.TrimSpace(pending)) > 0 {
		return out, errors.New("unfinished text at end of stream")
	}
	return out, nil
}

func bytewise(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

// dataPhase drops the three handshake lines of a recorded stream.
func dataPhase(tb testing.TB, all []byte, chunks [][]byte) ([]byte, [][]byte) {
	tb.Helper()
	skip := 0
	for i := 0; i < 3; i++ {
		j := bytes.IndexByte(all[skip:], '\n')
		if j < 0 {
			tb.Fatal("stream has no handshake")
		}
		skip += j + 1
	}
	data := all[skip:]
	var out [][]byte
	for _, c := range chunks {
		if skip >= len(c) {
			skip -= len(c)
			continue
		}
		out = append(out, c[skip:])
		skip = 0
	}
	return data, out
}

func TestJSONSplitterRecorded(t *testing.T) {
	for _, name := range []string{"session-ping-json", "session-raw-python-json"} {
		conns, err := vectors.LoadSession(vectors.Path(name + ".txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []struct{ raw, txt string }{{"s2c", "S>C"}, {"c2s", "C>S"}} {
			all, chunks, err := vectors.Stream(name+".raw.jsonl", 1, d.raw)
			if err != nil {
				t.Fatal(err)
			}
			data, chunks := dataPhase(t, all, chunks)
			var want []string
			for _, r := range conns[0].Messages(d.txt) {
				want = append(want, string(r.Wire))
			}
			if len(want) == 0 {
				t.Fatalf("%s %s: no messages in transcript", name, d.txt)
			}
			for mode, cs := range map[string][][]byte{"recorded": chunks, "bytewise": bytewise(data), "oneshot": {data}} {
				var s JSONSplitter
				got, err := splitAll(&s, cs)
				if err != nil {
					t.Fatalf("%s %s %s: %v", name, d.raw, mode, err)
				}
				if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
					t.Fatalf("%s %s %s:\n got %q\nwant %q", name, d.raw, mode, got, want)
				}
			}
		}
	}
}

func TestJSONSplitterCases(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		err  error
	}{
		{"[..]", nil, ErrSyntax},
		{"[1]\n  [2]\r\n[3][4]", []string{"[1]", "[2]", "[3]", "[4]"}, nil},
		{"[1],[2]", []string{"[1]"}, ErrSyntax},
		{"[1]x", []string{"[1]"}, ErrSyntax},
		{`{"a":1}`, nil, ErrNotArray},
		{`"s"`, nil, ErrNotArray},
		{`12`, nil, ErrNotArray},
		{`[]`, []string{"[]"}, nil},
		{` [ "a\"]" , {"k" : [true,false,null,-0.5e+3,0,1E9]}, "\u00e9\n" ] `, []string{`[ "a\"]" , {"k" : [true,false,null,-0.5e+3,0,1E9]}, "\u00e9\n" ]`}, nil},
		{`[01]`, nil, ErrSyntax},
		{`[1.]`, nil, ErrSyntax},
		{`[-]`, nil, ErrSyntax},
		{`[1,]`, nil, ErrSyntax},
		{`[tru]`, nil, ErrSyntax},
		{`[{"a"}]`, nil, ErrSyntax},
		{`[{"a":1,}]`, nil, ErrSyntax},
		{`[{1:1}]`, nil, ErrSyntax},
		{`[}`, nil, ErrSyntax},
		{`[{]}`, nil, ErrSyntax},
		{"[\"\x01\"]", nil, ErrSyntax},
		{`["\x"]`, nil, ErrSyntax},
		{`["\u12G4"]`, nil, ErrSyntax},
		{strings.Repeat("[", DefaultMaxDepth) + strings.Repeat("]", DefaultMaxDepth), []string{strings.Repeat("[", DefaultMaxDepth) + strings.Repeat("]", DefaultMaxDepth)}, nil},
		{strings.Repeat("[", DefaultMaxDepth+1) + strings.Repeat("]", DefaultMaxDepth+1), nil, ErrTooDeep},
	} {
		for _, mode := range []string{"oneshot", "bytewise"} {
			var s JSONSplitter
			cs := [][]byte{[]byte(c.in)}
			if mode == "bytewise" {
				cs = bytewise([]byte(c.in))
			}
			got, err := splitAll(&s, cs)
			if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
				t.Errorf("%q %s: err %v, want %v", c.in, mode, err, c.err)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("%q %s: got %q want %q", c.in, mode, got, c.want)
			}
			for _, g := range got {
				if !json.Valid([]byte(g)) {
					t.Errorf("%q: emitted invalid %q", c.in, g)
				}
			}
		}
	}
}

func TestJSONSplitterMaxSize(t *testing.T) {
	s := JSONSplitter{MaxSize: 100}
	b := []byte(`["` + strings.Repeat("x", 99))
	if _, _, err := s.Next(b[:50]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Next(b); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("want ErrFrameTooLarge as soon as the text exceeds the limit, got %v", err)
	}
	s = JSONSplitter{MaxSize: 10}
	if _, _, err := s.Next([]byte(`["12345678"]`)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("complete oversized text: %v", err)
	}
	s = JSONSplitter{MaxSize: 10}
	if m, _, err := s.Next([]byte(`["123456"]`)); err != nil || len(m) != 10 {
		t.Fatalf("text of exactly MaxSize: %q %v", m, err)
	}
}

// TestJSONSplitterLinear: a 1 MiB text fed one byte at a time must be scanned
// in linear time.
func TestJSONSplitterLinear(t *testing.T) {
	msg := []byte(`["port","tag","` + strings.Repeat("abc\\\"", 1<<20/5-8) + `",[1,2,{"k":null}]]`)
	var s JSONSplitter
	start := time.Now()
	for i := 1; i <= len(msg); i++ {
		m, n, err := s.Next(msg[:i])
		if err != nil {
			t.Fatal(err)
		}
		if i < len(msg) && n != 0 {
			t.Fatalf("early result at %d", i)
		}
		if i == len(msg) && !bytes.Equal(m, msg) {
			t.Fatal("wrong text")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("1 MiB bytewise took %v (quadratic?)", d)
	}
}

func BenchmarkJSONSplitter(b *testing.B) {
	all, _, err := vectors.Stream("session-ping-json.raw.jsonl", 1, "c2s")
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for n := 0; n < 3; n++ {
		i += bytes.IndexByte(all[i:], '\n') + 1
	}
	data := all[i:]
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var s JSONSplitter
	for b.Loop() {
		rest := data
		for len(rest) > 0 {
			_, n, err := s.Next(rest)
			if err != nil || n == 0 {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
}

// BenchmarkJSONSplitterUTF8 splits messages whose strings are mostly
// non-ASCII text (Latin, CJK, emoji), the case the UTF-8 check costs most.
func BenchmarkJSONSplitterUTF8(b *testing.B) {
	text := strings.Repeat("héllo wörld ✓ 日本語テキスト 😀 ", 16)
	var data []byte
	for i := 0; i < 16; i++ {
		data = append(data, `["9q3J9HyJQb","say",`...)
		data = append(data, '"')
		data = append(data, text...)
		data = append(data, `",1,{"k":"`...)
		data = append(data, "日本語 ✓ wörld"...)
		data = append(data, "\"}]\n"...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var s JSONSplitter
	for b.Loop() {
		rest := data
		for len(rest) > 0 {
			_, n, err := s.Next(rest)
			if err != nil || n == 0 {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
	}
}
