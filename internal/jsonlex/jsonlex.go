// Package jsonlex holds the byte-level rules of the JSON grammar that
// package frame (the json framing's stream splitter) and package wire (the
// envelope scanner, the argument iterator and the decoders) share, so that
// both accept exactly the same texts: what may appear inside a string
// (valid UTF-8, no control characters, escapes introduced by a backslash),
// the whitespace between tokens, the hex digits of a \u escape and the
// nesting limit. The grammar as a whole is documented in package wire
// (section "JSON grammar" of its package documentation).
//
// Everything here is a pure function over byte slices, safe for concurrent
// use.
package jsonlex

import (
	"encoding/binary"
	"math/bits"
)

// MaxDepth is the default and largest nesting depth of arrays and objects
// (the top-level array counts as level 1): JSON::XS's and CBOR::XS's
// default.
const MaxDepth = 512

// IsSpace reports whether c is JSON whitespace (space, tab, LF, CR).
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// HexVal returns the value of the hex digit c, or -1 if c is none.
func HexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// SkipPlain returns the index of the first byte at or after i that is not
// plain string content: a '"', a '\\', a control character (< 0x20), or the
// first byte of a UTF-8 sequence that is invalid or incomplete within b
// (tell which with Rune). Every byte from i up to the result is valid string
// content: ASCII or complete, valid UTF-8 sequences. It returns len(b) if
// the content runs to the end of b.
func SkipPlain(b []byte, i int) int {
	for i < len(b) {
		// ASCII, 8 bytes at a time, up to the first byte that needs a look.
		for i+8 <= len(b) {
			if m := SpecialBytes(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(b) {
			return i
		}
		if c := b[i]; c < 0x80 {
			if c == '"' || c == '\\' || c < 0x20 {
				return i
			}
			i++
			continue
		}
		if i = skipUTF8(b, i); i < len(b) && b[i] >= 0x80 {
			return i // invalid or incomplete
		}
	}
	return i
}

// skipUTF8 skips the run of valid multi-byte sequences at b[i] and returns
// the index of the first ASCII byte or of a sequence that is invalid or
// incomplete within b. The 2-byte sequences and the 3-byte ones whose
// continuation bytes are unrestricted (lead E1–EC, EE, EF: most of the
// BMP) are checked inline; Rune does the rest.
func skipUTF8(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		switch {
		case c < 0x80:
			return i
		case c >= 0xE1 && c <= 0xEF && c != 0xED && i+2 < len(b) && b[i+1]&0xC0 == 0x80 && b[i+2]&0xC0 == 0x80:
			i += 3
		case c >= 0xC2 && c <= 0xDF && i+1 < len(b) && b[i+1]&0xC0 == 0x80:
			i += 2
		default:
			n := Rune(b[i:])
			if n <= 0 {
				return i
			}
			i += n
		}
	}
	return i
}

// Accept ranges of the second byte of a multi-byte sequence (RFC 3629 §4):
// they exclude overlong forms (E0 80–9F, F0 80–8F), UTF-16 surrogates
// (ED A0–BF) and code points above U+10FFFF (F4 90–BF).
var ranges = [5]struct{ lo, hi byte }{
	{0x80, 0xBF},
	{0xA0, 0xBF},
	{0x80, 0x9F},
	{0x90, 0xBF},
	{0x80, 0x8F},
}

// lead describes each possible first byte: the length of its sequence in the
// low nibble (0: not a valid lead byte — ASCII, a continuation byte, C0, C1,
// F5–FF) and the accept range of the second byte in the high nibble.
var lead = func() (t [256]uint8) {
	for c := 0xC2; c <= 0xDF; c++ {
		t[c] = 2
	}
	for c := 0xE0; c <= 0xEF; c++ {
		t[c] = 3
	}
	t[0xE0] = 3 | 1<<4
	t[0xED] = 3 | 2<<4
	for c := 0xF0; c <= 0xF4; c++ {
		t[c] = 4
	}
	t[0xF0] = 4 | 3<<4
	t[0xF4] = 4 | 4<<4
	return t
}()

// Rune checks the UTF-8 sequence at the start of b (whose first byte is at
// least 0x80) by the rules of RFC 3629, as unicode/utf8 does: it returns the
// sequence's length (2, 3 or 4) if it encodes a Unicode scalar value, 0 if b
// ends before the sequence is complete but what is there could still become
// valid (a stream reader waits for more bytes), and -1 if it is invalid
// whatever follows: a continuation byte or C0, C1, F5–FF as first byte, an
// overlong form, a UTF-16 surrogate (ED A0 80 …), a code point above
// U+10FFFF, or a missing continuation byte.
func Rune(b []byte) int {
	x := lead[b[0]]
	n := int(x & 7)
	if n == 0 {
		return -1
	}
	if len(b) < n {
		return truncated(b, x)
	}
	if r := ranges[x>>4]; b[1] < r.lo || b[1] > r.hi {
		return -1
	}
	if n >= 3 && b[2]&0xC0 != 0x80 || n == 4 && b[3]&0xC0 != 0x80 {
		return -1
	}
	return n
}

// truncated is Rune for an incomplete sequence (len(b) < its length): 0 if
// the bytes present are a valid prefix, -1 otherwise.
func truncated(b []byte, x uint8) int {
	if len(b) >= 2 {
		if r := ranges[x>>4]; b[1] < r.lo || b[1] > r.hi {
			return -1
		}
	}
	if len(b) >= 3 && b[2]&0xC0 != 0x80 {
		return -1
	}
	return 0
}

// SpecialBytes returns, for the 8 bytes of x (a little-endian load), a mask
// with the high bit set in the bytes that need attention inside a JSON
// string: '"', '\\', control characters and bytes >= 0x80. The lowest set
// bit is exact (borrows only cause false positives above a true one), so
// TrailingZeros64(m)/8 is the index of the first such byte. The encoder of
// package wire uses it to find what it must escape.
func SpecialBytes(x uint64) uint64 {
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return ((x-lsb*0x20)&^x | (q-lsb)&^q | (s-lsb)&^s | x) & msb
}

// Escape checks the escape sequence at the start of b (b[0] == '\\'): it
// returns its length (2, or 6 for \uXXXX), 0 if b ends before the escape is
// complete but what is there could still become valid, and -1 if it is
// invalid. A \u escape is checked for form only: a lone UTF-16 surrogate
// (\ud800) is accepted, as encoding/json accepts it (decoders turn it into
// U+FFFD).
func Escape(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		for k := 2; k < 6; k++ {
			if k >= len(b) {
				return 0
			}
			if HexVal(b[k]) < 0 {
				return -1
			}
		}
		return 6
	}
	return -1
}
