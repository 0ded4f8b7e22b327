package wire

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/aemp-go/aemp/internal/jsonlex"
)

// Encoding (append-style). Output is compact JSON in valid UTF-8 (the
// text of Raw values and of MarshalJSON methods is validated but keeps its
// inner whitespace), never HTML-escaped, with map keys in Go's (random)
// iteration order — Perl does not care. Choices:
//
//   - string: JSON-escaped; invalid UTF-8 bytes become U+FFFD (as
//     encoding/json does), so a Perl peer never receives text its
//     JSON::XS decoder would reject.
//   - []byte: a Perl byte string: a JSON string in which each byte is the
//     code point U+0000–U+00FF (Latin-1, spec §8 item 13), not base64.
//     DecodeBytes is the inverse. This applies to []byte on the fast path
//     (top level, inside []any and map[string]any); values encoded by
//     the JSON backend follow encoding/json (base64 for []byte fields).
//   - floats: shortest text that round-trips (strconv 'g'-style, with the
//     exponent form outside [1e-6, 1e21)); an integral float keeps a ".0"
//     (2.0, not 2) so that a Go receiver's DecodeAny sees a float64 again
//     (Perl reads either as the number 2). NaN and ±Inf are
//     ErrUnsupportedValue: JSON cannot carry them.
//   - error: the string err.Error() (kill reasons are strings), unless the
//     value implements json.Marshaler; a typed nil pointer is null.
//   - Raw and json.RawMessage: appended as is after validation (invalid
//     JSON would desynchronise a Perl peer's stream); json.Number: as a
//     number literal after validation.
//   - Fast path without reflection for nil, string, []byte, bool, every
//     int/uint kind, float32/64, []any, []string, []int, []int64,
//     []float64, map[string]any, map[string]string, Raw, json.RawMessage,
//     json.Number, error; everything else goes through the JSON backend:
//     sonic where its native path exists (amd64, arm64: encoder.EncodeInto,
//     straight into the buffer), encoding/json elsewhere (json_sonic.go,
//     json_std.go); invalid UTF-8 in its output is replaced by \ufffd
//     afterwards.
//
// Values passed as `any` are boxed by the caller (Go allocates when boxing
// a non-constant number ≥ 256, a string or a float that escapes; the JSON
// backend makes them escape). The encoders themselves do not allocate
// beyond growing b; AppendEnvelopeHead plus the typed Append* functions
// avoid boxing entirely.

// Raw is a pre-encoded JSON value (for instance an argument taken from a
// received message). AppendValue validates it and appends it verbatim.
type Raw []byte

// MarshalJSON returns r itself, so that Raw also works inside values
// encoded by the JSON backend or encoding/json. A nil Raw is null.
func (r Raw) MarshalJSON() ([]byte, error) {
	if r == nil {
		return []byte("null"), nil
	}
	return r, nil
}

// AppendEnvelope appends the message [local, tag, args…] to b. On error
// (an argument that cannot be encoded) it returns b with its original
// length and the error.
func AppendEnvelope(b []byte, local, tag string, args ...any) ([]byte, error) {
	return appendEnvelopeArgs(b, local, tag, args)
}

// appendEnvelopeArgs is AppendEnvelope with the arguments as a slice.
func appendEnvelopeArgs(b []byte, local, tag string, args []any) ([]byte, error) {
	start := len(b)
	b = AppendEnvelopeHead(b, local, tag)
	var err error
	for _, a := range args {
		b = append(b, ',')
		if b, err = appendValue(b, a, 1); err != nil {
			return b[:start], err
		}
	}
	return append(b, ']'), nil
}

// AppendEnvelopeHead appends the start of a message, `["local","tag"`,
// for callers that append the arguments themselves with the typed
// encoders (each preceded by a ',') and close the message with ']':
//
//	b = wire.AppendEnvelopeHead(b, "port", "tag")
//	b = wire.AppendInt(append(b, ','), n)
//	b = append(b, ']')
//
// This path never boxes a value and never allocates beyond growing b.
func AppendEnvelopeHead(b []byte, local, tag string) []byte {
	b = append(b, '[')
	b = AppendString(b, local)
	b = append(b, ',')
	return AppendString(b, tag)
}

// AppendValue appends the JSON encoding of v to b (see the rules above).
// On error it returns b with its original length.
func AppendValue(b []byte, v any) ([]byte, error) {
	start := len(b)
	b, err := appendValue(b, v, 0)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// appendValue encodes v whose container is at nesting level depth.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return AppendString(b, x), nil
	case []byte:
		return AppendBytes(b, x), nil
	case bool:
		return AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uintptr:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case float64:
		return AppendFloat(b, x)
	case float32:
		return appendFloat32(b, x)
	case Raw:
		if x == nil {
			return append(b, "null"...), nil
		}
		return appendRaw(b, x, depth)
	case json.RawMessage:
		if x == nil {
			return append(b, "null"...), nil
		}
		return appendRaw(b, x, depth)
	case json.Number:
		return appendNumber(b, x)
	case []any:
		return appendAnyList(b, x, depth)
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, s)
		}
		return append(b, ']'), nil
	case []int:
		return appendInts(b, x), nil
	case []int64:
		return appendInts(b, x), nil
	case []float64:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		var err error
		for i, f := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = AppendFloat(b, f); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		return appendAnyMap(b, x, depth)
	case map[string]string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '{')
		first := true
		for k, s := range x {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = AppendString(b, k)
			b = append(b, ':')
			b = AppendString(b, s)
		}
		return append(b, '}'), nil
	case json.Marshaler:
		return appendJSON(b, v)
	case error:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return append(b, "null"...), nil // a typed nil error
		}
		return AppendString(b, x.Error()), nil
	}
	return appendJSON(b, v)
}

func appendInts[T int | int64](b []byte, x []T) []byte {
	if x == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range x {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

func appendAnyList(b []byte, x []any, depth int) ([]byte, error) {
	if x == nil {
		return append(b, "null"...), nil
	}
	if depth >= MaxDepth {
		return b, &depthError{len(b)}
	}
	b = append(b, '[')
	var err error
	for i, e := range x {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendValue(b, e, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendAnyMap(b []byte, x map[string]any, depth int) ([]byte, error) {
	if x == nil {
		return append(b, "null"...), nil
	}
	if depth >= MaxDepth {
		return b, &depthError{len(b)}
	}
	b = append(b, '{')
	first := true
	var err error
	for k, e := range x {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = AppendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, e, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendRaw(b, raw []byte, depth int) ([]byte, error) {
	t, err := validateValue(raw, depth)
	if err != nil {
		return b, fmt.Errorf("%w: Raw value: %w", ErrUnsupportedValue, err)
	}
	return append(b, t...), nil
}

// fixUTF8 appends src to dst with every invalid UTF-8 byte replaced by
// the JSON escape \ufffd (valid inside JSON strings, the only place such
// bytes can occur in encoder output).
func fixUTF8(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, src[i:i+size]...)
		}
		i += size
	}
	return dst
}

// AppendNull appends null.
func AppendNull(b []byte) []byte { return append(b, "null"...) }

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// AppendInt appends a signed integer.
func AppendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// AppendUint appends an unsigned integer.
func AppendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// AppendFloat appends the shortest JSON number that parses back to f;
// integral values keep a ".0" (see the rules above). NaN and ±Inf fail
// with ErrUnsupportedValue (b is returned unchanged).
func AppendFloat(b []byte, f float64) ([]byte, error) {
	return appendFloat(b, f, 64)
}

// appendFloat32 is AppendFloat for a float32: the shortest text that
// parses back to the same float32.
func appendFloat32(b []byte, f float32) ([]byte, error) {
	return appendFloat(b, float64(f), 32)
}

func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%w: %v", ErrUnsupportedValue, f)
	}
	abs := math.Abs(f)
	fmtc := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
		bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		fmtc = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, fmtc, -1, bits)
	if fmtc == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b, nil
	}
	for _, c := range b[start:] {
		if c == '.' {
			return b, nil
		}
	}
	return append(b, '.', '0'), nil
}

// appendNumber appends a json.Number after checking that it is a valid
// JSON number literal (ErrUnsupportedValue otherwise).
func appendNumber(b []byte, n json.Number) ([]byte, error) {
	s := unsafe.Slice(unsafe.StringData(string(n)), len(n))
	if len(s) == 0 {
		return b, fmt.Errorf("%w: empty json.Number", ErrUnsupportedValue)
	}
	if end, err := scanNumber(s, 0); err != nil || end != len(s) {
		return b, fmt.Errorf("%w: invalid json.Number %q", ErrUnsupportedValue, string(n))
	}
	return append(b, n...), nil
}

// stringEscapes[c] is the escape for ASCII byte c, or 0 when c is copied as is.
var stringEscapes = func() (t [utf8.RuneSelf]byte) {
	for c := 0; c < 0x20; c++ {
		t[c] = 'u'
	}
	t['"'], t['\\'] = '"', '\\'
	t['\b'], t['\f'], t['\n'], t['\r'], t['\t'] = 'b', 'f', 'n', 'r', 't'
	return t
}()

const jsonHexDigits = "0123456789abcdef"

func appendEscapedASCII(b []byte, c byte) []byte {
	e := stringEscapes[c]
	if e != 'u' {
		return append(b, '\\', e)
	}
	return append(b, '\\', 'u', '0', '0', jsonHexDigits[c>>4], jsonHexDigits[c&0xF])
}

// AppendString appends s as a JSON string. '"', '\\' and control
// characters are escaped (\n, \t… or \u00XX); everything else, including
// '/', '<', '>', '&', U+2028 and U+2029, is copied. Invalid UTF-8 bytes
// become U+FFFD.
func AppendString(b []byte, s string) []byte {
	i := plainPrefix(s)
	if i == len(s) { // the common case: port names, tags, identifiers
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return appendStringEscaped(b, s, i)
}

// plainPrefix returns len(s) when s is ASCII without anything a JSON string
// escapes ('"', '\\', control characters), else an index at or before the
// first byte that needs a look, so that the escaping encoder need not scan
// the plain bytes before it again. It reads 8 bytes at a time, the last 8
// overlapping what came before.
func plainPrefix(s string) int {
	n := len(s)
	if n < 8 {
		for i := 0; i < n; i++ {
			if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
				return i
			}
		}
		return n
	}
	p := unsafe.Slice(unsafe.StringData(s), n)
	for i := 0; i+8 <= n; i += 8 {
		if jsonlex.SpecialBytes(binary.LittleEndian.Uint64(p[i:])) != 0 {
			return i
		}
	}
	if n%8 != 0 && jsonlex.SpecialBytes(binary.LittleEndian.Uint64(p[n-8:])) != 0 {
		return n - 8
	}
	return n
}

// appendStringEscaped is AppendString for a string that needs escapes or
// holds non-ASCII text; s[:from] is known to be plain.
func appendStringEscaped(b []byte, s string, from int) []byte {
	b = append(b, '"')
	start, i := 0, from
	for i < len(s) {
		for i+8 <= len(s) {
			if m := jsonlex.SpecialBytes(binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if stringEscapes[c] == 0 {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscapedASCII(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendBytes appends p as a JSON string of Latin-1 code points: byte c
// becomes U+00cc (bytes >= 0x80 take two bytes of UTF-8), as Perl sends a
// byte string. DecodeBytes is the inverse.
func AppendBytes(b []byte, p []byte) []byte {
	b = append(b, '"')
	start, i := 0, 0
	for i < len(p) {
		for i+8 <= len(p) {
			if m := jsonlex.SpecialBytes(binary.LittleEndian.Uint64(p[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(p) {
			break
		}
		c := p[i]
		if c < utf8.RuneSelf && stringEscapes[c] == 0 {
			i++
			continue
		}
		b = append(b, p[start:i]...)
		if c < utf8.RuneSelf {
			b = appendEscapedASCII(b, c)
		} else {
			b = append(b, 0xC0|c>>6, 0x80|c&0x3F)
		}
		i++
		start = i
	}
	b = append(b, p[start:]...)
	return append(b, '"')
}
