package wire

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/aemp-go/aemp/internal/jsonlex"
)

// Typed decoders over one raw JSON value (an argument from ArgIter.At,
// ArgAt or NextValue). Each validates its input and fails with an error
// wrapping ErrType (naming the JSON kind found), ErrRange or ErrSyntax;
// surrounding whitespace is ignored.
//
// Leniency follows Perl, whose scalars leak their string/number history
// onto the wire (spec §8 item 11): numeric strings ("42", " 4.5 ", "+7")
// are accepted wherever a number is wanted, numbers wherever a string is
// wanted, and DecodeBool uses Perl truthiness. Integers never pass through
// float64: DecodeInt and Decode into an integer type work on the decimal
// text, so 2.0, 1e3 and "1E2" are accepted exactly, while 2.5 is ErrType
// and anything outside the target range is ErrRange — never a silent
// truncation.

// DecodeInt decodes an integer: a JSON number or a numeric string whose
// value is integral (2.0 and 1e3 are integers; 2.5 is not) and within
// int64. null, booleans, arrays and objects are ErrType.
func DecodeInt(raw []byte) (int64, error) {
	if neg, mag, ok := plainInt(raw); ok { // at most 18 digits: no overflow
		if neg {
			return -int64(mag), nil
		}
		return int64(mag), nil
	}
	return scanInt(raw)
}

// scanInt is DecodeInt through the full number scanner (every input the
// plainInt shortcut does not take).
func scanInt(raw []byte) (int64, error) {
	var scratch [64]byte
	num, neg, mag, err := integer(raw, scratch[:0], "integer", "int64")
	switch {
	case err != nil:
		return 0, err
	case !neg && mag > math.MaxInt64, neg && mag > 1<<63:
		return 0, rangeErr("int64", num)
	case neg:
		return -int64(mag), nil // for mag == 1<<63 this is MinInt64
	}
	return int64(mag), nil
}

// plainInt parses the common case of an integer argument without the
// general number scanner: an optional '-' and 1…18 digits without a
// leading zero, nothing else (ok is false for anything else, which the
// full path then decodes or rejects).
func plainInt(raw []byte) (neg bool, mag uint64, ok bool) {
	b := raw
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 || b[0] == '0' && len(b) > 1 {
		return false, 0, false
	}
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return false, 0, false
		}
		mag = mag*10 + uint64(d)
	}
	return neg, mag, true
}

// integer reads raw (a number or a numeric string) as an integral value:
// its text, sign and magnitude. what names the expected kind in a type
// error, target the Go type in a range error.
func integer(raw, scratch []byte, what, target string) (num []byte, neg bool, mag uint64, err error) {
	num, kind, err := numberText(raw, scratch)
	if err != nil {
		return nil, false, 0, err
	}
	if kind != KindNumber && kind != KindString {
		return nil, false, 0, typeErr(what, kind)
	}
	neg, mag, st := intMagnitude(num)
	switch st {
	case intNotIntegral:
		return nil, false, 0, notIntegral(num)
	case intOverflow:
		return nil, false, 0, rangeErr(target, num)
	}
	return num, neg, mag, nil
}

// DecodeUint decodes a non-negative integer (see DecodeInt); negative
// values (other than -0) and values above MaxUint64 are ErrRange.
func DecodeUint(raw []byte) (uint64, error) {
	if neg, mag, ok := plainInt(raw); ok && (!neg || mag == 0) {
		return mag, nil
	}
	return scanUint(raw)
}

// scanUint is DecodeUint through the full number scanner.
func scanUint(raw []byte) (uint64, error) {
	var scratch [64]byte
	num, neg, mag, err := integer(raw, scratch[:0], "unsigned integer", "uint64")
	switch {
	case err != nil:
		return 0, err
	case neg && mag != 0:
		return 0, rangeErr("uint64", num)
	}
	return mag, nil
}

// DecodeFloat decodes a number or a numeric string to the nearest
// float64. Magnitudes beyond float64 (1e999) are ErrRange; values below
// the smallest denormal become 0.
func DecodeFloat(raw []byte) (float64, error) {
	var scratch [64]byte
	num, kind, err := numberText(raw, scratch[:0])
	if err != nil {
		return 0, err
	}
	if kind != KindNumber && kind != KindString {
		return 0, typeErr("number", kind)
	}
	f, ok := parseFloat(num)
	if !ok {
		return 0, rangeErr("float64", num)
	}
	return f, nil
}

// DecodeString decodes a string into a new Go string (a safe copy that
// does not refer to raw). A number is accepted and yields its literal
// text (Perl stringifies it the same way for integers). Other kinds are
// ErrType.
func DecodeString(raw []byte) (string, error) {
	s, esc, err := stringContent(raw)
	if err != nil {
		return "", err
	}
	if !esc {
		return string(s), nil
	}
	buf := appendUnescaped(make([]byte, 0, len(s)), s)
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// decodeStringBytes decodes a string (or a number's literal text, as
// DecodeString) without copying when it has no escapes: the result then
// points into raw. Otherwise it unescapes into scratch[:0], allocating
// only if scratch is too small. The result is valid UTF-8.
func decodeStringBytes(raw, scratch []byte) ([]byte, error) {
	s, esc, err := stringContent(raw)
	if err != nil {
		return nil, err
	}
	if !esc {
		return s, nil
	}
	return appendUnescaped(scratch[:0], s), nil
}

// DecodeBool decodes with Perl truthiness: true/false; null, the numbers
// equal to 0 (0, -0, 0.0, 0e5), "" and "0" are false; every other number
// or string is true ("0.0" and "false" are true, as in Perl). Arrays and
// objects are ErrType.
func DecodeBool(raw []byte) (bool, error) {
	raw = trimWS(raw)
	switch KindOf(raw) {
	case KindBool, KindNull:
		if _, err := validateValue(raw, 1); err != nil {
			return false, err
		}
		return raw[0] == 't', nil
	case KindNumber:
		if err := wholeNumber(raw); err != nil {
			return false, err
		}
		for _, c := range raw {
			if c == 'e' || c == 'E' {
				break
			}
			if c >= '1' && c <= '9' {
				return true, nil
			}
		}
		return false, nil
	case KindString:
		var scratch [8]byte
		s, err := decodeStringBytes(raw, scratch[:0])
		if err != nil {
			return false, err
		}
		return !(len(s) == 0 || (len(s) == 1 && s[0] == '0')), nil
	case KindNone:
		if len(raw) == 0 {
			return false, typeErr("boolean", KindNone)
		}
		_, err := validateValue(raw, 1)
		return false, err
	default:
		if _, err := validateValue(raw, 1); err != nil {
			return false, err
		}
		return false, typeErr("boolean", KindOf(raw))
	}
}

// DecodeBytes decodes a string sent by AppendBytes (or a Perl byte
// string): each code point U+0000–U+00FF becomes one byte (Latin-1).
// A code point above U+00FF is ErrRange. The result is a new slice.
func DecodeBytes(raw []byte) ([]byte, error) {
	raw = trimWS(raw)
	if k := KindOf(raw); k != KindString {
		if len(raw) == 0 {
			return nil, typeErr("string", k)
		}
		if _, err := validateValue(raw, 1); err != nil {
			return nil, err
		}
		return nil, typeErr("string", k)
	}
	s, err := decodeStringBytes(raw, nil)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r > 0xFF {
			return nil, rangeErr("a byte (code point above U+00FF)", s[i:i+size])
		}
		out = append(out, byte(r))
		i += size
	}
	return out, nil
}

// DecodeAny decodes any JSON value into nil, bool, int64 (integer literals
// within int64), uint64 (integer literals above MaxInt64 up to
// MaxUint64), json.Number (integer literals beyond that, and numbers too
// large for float64: precision is never lost), float64 (literals with a
// fraction or exponent, even when integral: 2.0 stays a float64, which is
// how AppendFloat marks integral floats), string, []any or
// map[string]any (duplicate keys: the last wins). Strings are copies.
func DecodeAny(raw []byte) (any, error) {
	i := skipWS(raw, 0)
	v, j, err := parseAny(raw, i, 1)
	if err != nil {
		return nil, err
	}
	if k := skipWS(raw, j); k != len(raw) {
		return nil, syntaxErr(k, "data after JSON value")
	}
	return v, nil
}

// Decode decodes raw into v, which must be a non-nil pointer. Common
// targets take a fast path with the semantics of the typed decoders:
// *string, *[]byte (Latin-1, as DecodeBytes), *bool (Perl truthiness),
// every *int/*uint kind (range-checked), *float64, *float32, *any,
// *[]any and *map[string]any (as DecodeAny), *Raw and *json.RawMessage
// (a copy of the text). Everything else goes through the JSON backend
// (sonic's native path on amd64 and arm64, encoding/json elsewhere; see
// json_sonic.go) after the text has been validated here, with these
// rules: numbers reaching an interface inside the target become
// json.Number, []byte fields expect base64 (encoding/json rules; the
// Latin-1 mapping applies to top-level *[]byte only), numeric strings
// are not accepted for numeric struct fields unless tagged ",string".
func Decode(raw []byte, v any) error {
	switch p := v.(type) {
	case *string:
		s, err := DecodeString(raw)
		if err == nil {
			*p = s
		}
		return err
	case *[]byte:
		s, err := DecodeBytes(raw)
		if err == nil {
			*p = s
		}
		return err
	case *bool:
		x, err := DecodeBool(raw)
		if err == nil {
			*p = x
		}
		return err
	case *int:
		return decodeSigned(raw, p, math.MinInt, math.MaxInt, "int")
	case *int8:
		return decodeSigned(raw, p, math.MinInt8, math.MaxInt8, "int8")
	case *int16:
		return decodeSigned(raw, p, math.MinInt16, math.MaxInt16, "int16")
	case *int32:
		return decodeSigned(raw, p, math.MinInt32, math.MaxInt32, "int32")
	case *int64:
		return decodeSigned(raw, p, math.MinInt64, math.MaxInt64, "int64")
	case *uint:
		return decodeUnsigned(raw, p, math.MaxUint, "uint")
	case *uint8:
		return decodeUnsigned(raw, p, math.MaxUint8, "uint8")
	case *uint16:
		return decodeUnsigned(raw, p, math.MaxUint16, "uint16")
	case *uint32:
		return decodeUnsigned(raw, p, math.MaxUint32, "uint32")
	case *uint64:
		return decodeUnsigned(raw, p, math.MaxUint64, "uint64")
	case *float64:
		f, err := DecodeFloat(raw)
		if err == nil {
			*p = f
		}
		return err
	case *float32:
		f, err := DecodeFloat(raw)
		if err != nil {
			return err
		}
		if math.Abs(f) > math.MaxFloat32 {
			return rangeErr("float32", trimWS(raw))
		}
		*p = float32(f)
		return nil
	case *any:
		x, err := DecodeAny(raw)
		if err == nil {
			*p = x
		}
		return err
	case *[]any:
		return decodeInto(raw, p, KindArray)
	case *map[string]any:
		return decodeInto(raw, p, KindObject)
	case *Raw:
		t, err := validateValue(raw, 0)
		if err == nil {
			*p = append(Raw(nil), t...)
		}
		return err
	case *json.RawMessage:
		t, err := validateValue(raw, 0)
		if err == nil {
			*p = append(json.RawMessage(nil), t...)
		}
		return err
	}
	if _, err := validateValue(raw, 0); err != nil {
		return err
	}
	if err := decodeJSON(raw, v); err != nil {
		return &decodeError{err}
	}
	return nil
}

func decodeInto[T []any | map[string]any](raw []byte, p *T, want Kind) error {
	x, err := DecodeAny(raw)
	if err != nil {
		return err
	}
	if x == nil {
		var zero T
		*p = zero
		return nil
	}
	t, ok := x.(T)
	if !ok {
		return typeErr(want.String(), KindOf(raw))
	}
	*p = t
	return nil
}

func decodeSigned[T int | int8 | int16 | int32 | int64](raw []byte, p *T, lo, hi int64, name string) error {
	x, err := DecodeInt(raw)
	if err != nil {
		return err
	}
	if x < lo || x > hi {
		return rangeErr(name, trimWS(raw))
	}
	*p = T(x)
	return nil
}

func decodeUnsigned[T uint | uint8 | uint16 | uint32 | uint64](raw []byte, p *T, hi uint64, name string) error {
	x, err := DecodeUint(raw)
	if err != nil {
		return err
	}
	if x > hi {
		return rangeErr(name, trimWS(raw))
	}
	*p = T(x)
	return nil
}

// stringContent validates that raw is one JSON string (or number) and
// returns its contents between the quotes (a number: its text) and
// whether they contain escapes.
func stringContent(raw []byte) ([]byte, bool, error) {
	raw = trimWS(raw)
	switch k := KindOf(raw); k {
	case KindString:
		end, esc, err := scanString(raw, 1)
		if err != nil {
			return nil, false, err
		}
		if end != len(raw) {
			return nil, false, syntaxErr(end, "data after JSON value")
		}
		return raw[1 : end-1], esc, nil
	case KindNumber:
		if err := wholeNumber(raw); err != nil {
			return nil, false, err
		}
		return raw, false, nil
	default:
		if len(raw) > 0 {
			if _, err := validateValue(raw, 1); err != nil {
				return nil, false, err
			}
		}
		return nil, false, typeErr("string", k)
	}
}

// wholeNumber checks that raw is exactly one JSON number literal.
func wholeNumber(raw []byte) error {
	end, err := scanNumber(raw, 0)
	if err != nil {
		return err
	}
	if end != len(raw) {
		return syntaxErr(end, "data after JSON value")
	}
	return nil
}

// numberText returns the numeric text of raw: a JSON number literal as is,
// or the contents of a numeric string, trimmed of ASCII whitespace, with
// an optional leading '+' and leading zeros allowed. kind is the JSON
// kind of raw; for kinds other than number and string, err is only set
// if raw is malformed.
func numberText(raw, scratch []byte) (num []byte, kind Kind, err error) {
	raw = trimWS(raw)
	kind = KindOf(raw)
	switch kind {
	case KindNumber:
		if err := wholeNumber(raw); err != nil {
			return nil, kind, err
		}
		return raw, kind, nil
	case KindString:
		s, err := decodeStringBytes(raw, scratch)
		if err != nil {
			return nil, kind, err
		}
		s = trimWS(s)
		if !numericString(s) {
			return nil, kind, &numStringError{string(s)}
		}
		return s, kind, nil
	case KindNone:
		if len(raw) == 0 {
			return nil, kind, nil
		}
	}
	_, err = validateValue(raw, 1)
	return nil, kind, err
}

// numericString reports whether s is [+-]?digits(.digits)?([eE][+-]?digits)?
// (leading zeros allowed).
func numericString(s []byte) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := i
	for i < len(s) && jsonDigit(s[i]) {
		i++
	}
	if i == d {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d = i
		for i < len(s) && jsonDigit(s[i]) {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d = i
		for i < len(s) && jsonDigit(s[i]) {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

const (
	intOK = iota
	intNotIntegral
	intOverflow
)

// intMagnitude computes the exact value of a validated numeric text
// ([+-]?digits(.digits)?(e[+-]?digits)?) as sign and magnitude, or
// reports that it is not an integer or exceeds uint64.
func intMagnitude(num []byte) (neg bool, mag uint64, status int) {
	i := 0
	if num[0] == '-' || num[0] == '+' {
		neg = num[0] == '-'
		i = 1
	}
	// Fast path: plain digits.
	j := i
	for j < len(num) && jsonDigit(num[j]) {
		d := uint64(num[j] - '0')
		if mag > (math.MaxUint64-d)/10 {
			break
		}
		mag = mag*10 + d
		j++
	}
	if j == len(num) {
		return neg, mag, intOK
	}
	// General path: digits D = int ++ frac, value = D × 10^e.
	mag = 0
	intStart := i
	for i < len(num) && jsonDigit(num[i]) {
		i++
	}
	intDigits := num[intStart:i]
	var frac []byte
	if i < len(num) && num[i] == '.' {
		i++
		fs := i
		for i < len(num) && jsonDigit(num[i]) {
			i++
		}
		frac = num[fs:i]
	}
	exp := 0
	if i < len(num) && (num[i] == 'e' || num[i] == 'E') {
		i++
		eneg := false
		if i < len(num) && (num[i] == '+' || num[i] == '-') {
			eneg = num[i] == '-'
			i++
		}
		for ; i < len(num); i++ {
			if exp < 1e7 {
				exp = exp*10 + int(num[i]-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	n := len(intDigits) + len(frac)
	at := func(k int) byte {
		if k < len(intDigits) {
			return intDigits[k]
		}
		return frac[k-len(intDigits)]
	}
	lo, hi := 0, n
	for lo < n && at(lo) == '0' {
		lo++
	}
	if lo == n {
		return neg, 0, intOK
	}
	for at(hi-1) == '0' {
		hi--
	}
	e := exp - len(frac) + (n - hi)
	if e < 0 {
		return neg, 0, intNotIntegral
	}
	if hi-lo+e > 20 {
		return neg, 0, intOverflow
	}
	for k := lo; k < hi; k++ {
		d := uint64(at(k) - '0')
		if mag > (math.MaxUint64-d)/10 {
			return neg, 0, intOverflow
		}
		mag = mag*10 + d
	}
	for ; e > 0; e-- {
		if mag > math.MaxUint64/10 {
			return neg, 0, intOverflow
		}
		mag *= 10
	}
	return neg, mag, intOK
}

// parseFloat converts validated numeric text; ok is false when the value
// overflows float64.
func parseFloat(num []byte) (float64, bool) {
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(num), len(num)), 64)
	if err != nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return 0, false
	}
	return f, true
}

// parseAny is the recursive decoder behind DecodeAny; depth is the level
// of the value being parsed (1 at the top).
func parseAny(b []byte, i, depth int) (any, int, error) {
	if i >= len(b) {
		return nil, i, truncErr(i)
	}
	switch c := b[i]; c {
	case '"':
		end, esc, err := scanString(b, i+1)
		if err != nil {
			return nil, end, err
		}
		s := b[i+1 : end-1]
		if !esc {
			return string(s), end, nil
		}
		buf := appendUnescaped(make([]byte, 0, len(s)), s)
		return unsafe.String(unsafe.SliceData(buf), len(buf)), end, nil
	case '[':
		if depth > MaxDepth {
			return nil, i, &depthError{i}
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return []any{}, i + 1, nil
		}
		// Collect into a stack buffer, then allocate the result once at
		// its exact size.
		var stack [16]any
		elems := stack[:0]
		for {
			v, j, err := parseAny(b, i, depth+1)
			if err != nil {
				return nil, j, err
			}
			elems = append(elems, v)
			if i, err = afterContainerElem(b, j, ']'); err != nil {
				return nil, i, err
			}
			if b[i] == ']' {
				out := make([]any, len(elems))
				copy(out, elems)
				return out, i + 1, nil
			}
		}
	case '{':
		if depth > MaxDepth {
			return nil, i, &depthError{i}
		}
		out := map[string]any{}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return out, i + 1, nil
		}
		for {
			if i >= len(b) {
				return nil, i, truncErr(i)
			}
			if b[i] != '"' {
				return nil, i, syntaxErr(i, "object key must be a string")
			}
			k, j, err := parseAny(b, i, depth+1)
			if err != nil {
				return nil, j, err
			}
			j = skipWS(b, j)
			if j >= len(b) {
				return nil, j, truncErr(j)
			}
			if b[j] != ':' {
				return nil, j, syntaxErr(j, "expected ':' after object key")
			}
			v, j, err := parseAny(b, skipWS(b, j+1), depth+1)
			if err != nil {
				return nil, j, err
			}
			out[k.(string)] = v
			if i, err = afterContainerElem(b, j, '}'); err != nil {
				return nil, i, err
			}
			if b[i] == '}' {
				return out, i + 1, nil
			}
		}
	case 't':
		end, err := scanLiteral(b, i, "true")
		return true, end, err
	case 'f':
		end, err := scanLiteral(b, i, "false")
		return false, end, err
	case 'n':
		end, err := scanLiteral(b, i, "null")
		return nil, end, err
	default:
		if c != '-' && !jsonDigit(c) {
			return nil, i, syntaxErr(i, "invalid character looking for a value")
		}
		end, err := scanNumber(b, i)
		if err != nil {
			return nil, end, err
		}
		return numberAny(b[i:end]), end, nil
	}
}

// afterContainerElem handles the separator after an element ending at j
// inside an array or object closed by closer. It returns the index of the
// closer or of the next element.
func afterContainerElem(b []byte, j int, closer byte) (int, error) {
	j = skipWS(b, j)
	if j >= len(b) {
		return j, truncErr(j)
	}
	switch b[j] {
	case closer:
		return j, nil
	case ',':
		j = skipWS(b, j+1)
		if j >= len(b) {
			return j, truncErr(j)
		}
		if b[j] == closer {
			return j, syntaxErr(j, "comma before closing bracket")
		}
		return j, nil
	}
	return j, syntaxErr(j, "expected ',' or closing bracket")
}

// numberAny converts a validated JSON number literal for DecodeAny.
func numberAny(num []byte) any {
	isInt := true
	for _, c := range num {
		if c == '.' || c == 'e' || c == 'E' {
			isInt = false
			break
		}
	}
	if isInt {
		neg, mag, st := intMagnitude(num)
		switch {
		case st != intOK:
		case !neg && mag <= math.MaxInt64:
			return int64(mag)
		case !neg:
			return mag
		case mag <= 1<<63:
			return -int64(mag)
		}
		return json.Number(num)
	}
	if f, ok := parseFloat(num); ok {
		return f
	}
	return json.Number(num)
}

// appendUnescaped appends the unescaped form of validated JSON string
// contents s (without quotes) to dst. A lone UTF-16 surrogate becomes
// U+FFFD.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != '\\' {
			j++
		}
		dst = append(dst, s[i:j]...)
		if j+1 >= len(s) {
			return dst
		}
		switch c := s[j+1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := unescapeU(s[j:])
			dst = utf8.AppendRune(dst, r)
			i = j + n
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		i = j + 2
	}
	return dst
}

// unescapeU decodes a \uXXXX escape (and a following low surrogate) at the
// start of s, returning the rune and the bytes used.
func unescapeU(s []byte) (rune, int) {
	r := hex4(s[2:])
	if r < 0 {
		return utf8.RuneError, len(s)
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if r < 0xDC00 && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if r2 := hex4(s[8:]); r2 >= 0xDC00 && r2 <= 0xDFFF {
			return utf16.DecodeRune(r, r2), 12
		}
	}
	return utf8.RuneError, 6
}

func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		v := jsonlex.HexVal(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | rune(v)
	}
	return r
}
