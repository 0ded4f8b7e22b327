package jsonlex

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// refRune is Rune by unicode/utf8: the definition Rune must match.
func refRune(b []byte) int {
	if !utf8.FullRune(b) {
		return 0
	}
	if r, n := utf8.DecodeRune(b); r != utf8.RuneError || n > 1 {
		return n
	}
	return -1
}

// samples are byte values at every boundary that matters to UTF-8: ASCII,
// the edges of the continuation range and of each second-byte accept
// range, and lead bytes.
var samples = []byte{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF}

func TestRuneMatchesUTF8(t *testing.T) {
	check := func(b []byte) {
		if got, want := Rune(b), refRune(b); got != want {
			t.Fatalf("Rune(% x) = %d, unicode/utf8 says %d", b, got, want)
		}
	}
	for c := 0x80; c <= 0xFF; c++ {
		check([]byte{byte(c)})
		for b1 := 0; b1 < 256; b1++ {
			check([]byte{byte(c), byte(b1)})
		}
		for _, b1 := range samples {
			for _, b2 := range samples {
				check([]byte{byte(c), byte(b1), b2})
				for _, b3 := range samples {
					check([]byte{byte(c), byte(b1), b2, b3})
					check([]byte{byte(c), byte(b1), b2, b3, 'x'})
				}
			}
		}
	}
}

func TestRuneEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"\xff", -1},             // never valid
		{"\xc0\x80", -1},         // overlong NUL
		{"\xc1\xbf", -1},         // overlong U+007F
		{"\xe0\x80\x80", -1},     // overlong 3-byte
		{"\xe0\x9f\xbf", -1},     // overlong U+07FF
		{"\xf0\x8f\xbf\xbf", -1}, // overlong U+FFFF
		{"\xed\xa0\x80", -1},     // U+D800 encoded in UTF-8
		{"\xed\xbf\xbf", -1},     // U+DFFF encoded in UTF-8
		{"\xed\x9f\xbf", 3},      // U+D7FF
		{"\xee\x80\x80", 3},      // U+E000
		{"\xef\xbf\xbd", 3},      // U+FFFD itself
		{"\xf4\x8f\xbf\xbf", 4},  // U+10FFFF, the largest
		{"\xf4\x90\x80\x80", -1}, // U+110000
		{"\xf5\x80\x80\x80", -1}, // beyond
		{"\xc3", 0},              // truncated 2-byte
		{"\xe6\x97", 0},          // truncated 3-byte
		{"\xf0\x9f\x98", 0},      // truncated 4-byte
		{"\xe6\x97x", -1},        // missing continuation
		{"\xed\xa0", -1},         // surrogate prefix: invalid already
		{"\x80", -1},             // lone continuation byte
		{"é", 2}, {"✓", 3}, {"😀", 4},
	} {
		if got := Rune([]byte(tc.in)); got != tc.want {
			t.Errorf("Rune(% x) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// refSkipPlain is SkipPlain one byte at a time, by unicode/utf8.
func refSkipPlain(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == '"' || c == '\\' || c < 0x20 {
				return i
			}
			i++
			continue
		}
		n := refRune(b[i:])
		if n <= 0 {
			return i
		}
		i += n
	}
	return i
}

func TestSkipPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aZ09 \"\\\x00\x1f\x7f")
	alphabet = append(alphabet, samples...)
	alphabet = append(alphabet, "é✓😀"...)
	for n := 0; n < 20000; n++ {
		b := make([]byte, rng.IntN(40))
		for k := range b {
			b[k] = alphabet[rng.IntN(len(alphabet))]
		}
		for i := 0; i <= len(b); i += 1 + rng.IntN(5) {
			if got, want := SkipPlain(b, i), refSkipPlain(b, i); got != want {
				t.Fatalf("SkipPlain(%q, %d) = %d, want %d", b, i, got, want)
			}
		}
	}
	long := []byte("0123456789abcdefé日本😀0123456789abcdef\"")
	if got := SkipPlain(long, 0); got != len(long)-1 {
		t.Fatalf("SkipPlain stops at %d, want %d", got, len(long)-1)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]int{
		`\"`: 2, `\\`: 2, `\/`: 2, `\b`: 2, `\f`: 2, `\n`: 2, `\r`: 2, `\t`: 2,
		`\u00e9`: 6, `\uD800`: 6, `\udfff`: 6, `\u0000x`: 6,
		`\`: 0, `\u`: 0, `\u00`: 0, `\u00e`: 0,
		`\x`: -1, `\U00e9`: -1, `\u00g9`: -1, `\u0` + "\xff": -1, `\'`: -1, "\\\n": -1,
	} {
		if got := Escape([]byte(in)); got != want {
			t.Errorf("Escape(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestHexVal(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := -1
		switch {
		case c >= '0' && c <= '9':
			want = c - '0'
		case c >= 'a' && c <= 'f':
			want = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			want = c - 'A' + 10
		}
		if got := HexVal(byte(c)); got != want {
			t.Fatalf("HexVal(%q) = %d, want %d", byte(c), got, want)
		}
	}
}

func TestSpecialBytes(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x80 }
	check := func(w [8]byte) {
		x := uint64(0)
		for k := 7; k >= 0; k-- {
			x = x<<8 | uint64(w[k])
		}
		m := SpecialBytes(x)
		first := -1
		for k, c := range w {
			if special(c) {
				first = k
				break
			}
		}
		got := -1
		if m != 0 {
			for k := 0; k < 8; k++ {
				if m>>(8*k+7)&1 == 1 {
					got = k
					break
				}
			}
		}
		if got != first {
			t.Fatalf("SpecialBytes(%q): first flagged byte %d, want %d", w[:], got, first)
		}
	}
	// Every byte value in every position among plain and among special
	// neighbours.
	for _, fill := range []byte{'a', 0x1f, 0x20, '"', '\\', 0x7f, 0x80, 0xff, '!', '#', '[', ']'} {
		for c := 0; c < 256; c++ {
			for pos := 0; pos < 8; pos++ {
				var w [8]byte
				for k := range w {
					w[k] = 'a'
					if k > pos {
						w[k] = fill
					}
				}
				w[pos] = byte(c)
				check(w)
			}
		}
	}
}

// BenchmarkSkipPlain runs SkipPlain over 1 KiB of string content, ASCII
// and mostly non-ASCII.
func BenchmarkSkipPlain(b *testing.B) {
	for _, bc := range []struct{ name, unit string }{
		{"ascii", "0123456789abcdef"},
		{"mixed", "héllo wörld ✓ 日本語テキスト 😀 "},
		{"cjk", "日本語のテキストです"},
	} {
		var text []byte
		for len(text) < 1024 {
			text = append(text, bc.unit...)
		}
		text = append(text, '"')
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if SkipPlain(text, 0) != len(text)-1 {
					b.Fatal("stopped early")
				}
			}
		})
	}
}
