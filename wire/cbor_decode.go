package wire

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// Typed decoders over one raw CBOR item (an argument from an ArgIter in
// CBOR mode). They follow the rules of the JSON decoders in decode.go —
// same conversions, same error sentinels — on CBOR's types: an integer is
// exact (never through float64), a float converts to an integer only when
// it is integral, byte and text strings are strings (numeric strings
// convert to numbers), DecodeCBORBool is Perl truthiness.

// cborNum is a number item: an integer (neg, mag: the value is mag, or
// -1-mag when neg), a float, or a bignum too large for 64 bits.
type cborNum struct {
	isFloat bool
	neg     bool
	mag     uint64
	f       float64
	big     *big.Int // a bignum beyond 64 bits (tags 2 and 3)
}

// cborNumber reads raw as a number: an integer, a float, a bignum, or a
// numeric byte or text string (str reports the latter, with its text).
// kind is the item's kind, for type errors; ok is false if it is none of
// these.
func cborNumber(raw []byte, scratch []byte) (n cborNum, str []byte, kind Kind, ok bool, err error) {
	if err := checkOne(raw); err != nil {
		return n, nil, KindNone, false, err
	}
	i, tag, _ := untag(raw, 0)
	major, ai, val, j, _ := cborHead(raw, i)
	kind = CBORKindOf(raw)
	switch {
	case tag == 25 || tag == 29: // references to other items: refused
		return n, nil, KindNone, false, nil
	case major == 0:
		return cborNum{mag: val}, nil, kind, true, nil
	case major == 1:
		return cborNum{neg: true, mag: val}, nil, kind, true, nil
	case major == 2 && (tag == 2 || tag == 3):
		s, _, _, _ := cborString(raw[i:], scratch)
		return bignum(s, tag == 3), nil, kind, true, nil
	case major == 2 || major == 3:
		s, _, _, _ := cborString(raw[i:], scratch)
		return n, s, kind, true, nil
	case major == 7 && ai >= 25 && ai <= 27:
		return cborNum{isFloat: true, f: cborFloat(ai, val)}, nil, kind, true, nil
	}
	_ = j
	return n, nil, kind, false, nil
}

// cborFloat converts the argument of a float head.
func cborFloat(ai byte, val uint64) float64 {
	switch ai {
	case 25:
		return halfFloat(uint16(val))
	case 26:
		return float64(math.Float32frombits(uint32(val)))
	}
	return math.Float64frombits(val)
}

// halfFloat converts an IEEE 754 half-precision float (f16).
func halfFloat(h uint16) float64 {
	exp, frac := int(h>>10&0x1f), float64(h&0x3ff)
	var f float64
	switch exp {
	case 0:
		f = math.Ldexp(frac, -24) // subnormal
	case 31:
		f = math.Inf(1)
		if frac != 0 {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(1024+frac, exp-25)
	}
	if h&0x8000 != 0 {
		f = -f
	}
	return f
}

// bignum is the value of a bignum's big-endian magnitude bytes (tag 3:
// -1-n).
func bignum(b []byte, neg bool) cborNum {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) <= 8 {
		var x [8]byte
		copy(x[8-len(b):], b)
		return cborNum{neg: neg, mag: binary.BigEndian.Uint64(x[:])}
	}
	z := new(big.Int).SetBytes(b)
	if neg {
		z.Neg(z).Sub(z, big.NewInt(1))
	}
	return cborNum{big: z}
}

// text returns the number's decimal text (integers exactly; floats as
// Perl would print them, see formatFloat).
func (n cborNum) text(b []byte) []byte {
	switch {
	case n.big != nil:
		return n.big.Append(b, 10)
	case n.isFloat:
		return formatFloat(b, n.f)
	case n.neg:
		if n.mag == math.MaxUint64 {
			return append(b, "-18446744073709551616"...)
		}
		return strconv.AppendUint(append(b, '-'), n.mag+1, 10)
	}
	return strconv.AppendUint(b, n.mag, 10)
}

// formatFloat appends f as text: the shortest decimal that reads back as
// f, as AppendFloat writes it but without the ".0" of an integral value
// (1796114235.683005, 3, 1e+300: what JSON::XS writes for such a value,
// so a number's text is the same whichever framing brought it), and
// Perl's "Inf", "-Inf" and "NaN".
func formatFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	start := len(b)
	b, _ = AppendFloat(b, f)
	if n := len(b); n-start > 2 && b[n-2] == '.' && b[n-1] == '0' {
		b = b[:n-2]
	}
	return b
}

// intFromText converts validated numeric text (numericString) to an
// integer's sign and magnitude, with DecodeInt's errors.
func intFromText(t []byte, target string) (neg bool, mag uint64, err error) {
	neg, mag, st := intMagnitude(t)
	switch st {
	case intNotIntegral:
		return false, 0, notIntegral(t)
	case intOverflow:
		return false, 0, rangeErr(target, t)
	}
	return neg, mag, nil
}

// numericText checks that s (a string's contents) is numeric as decode.go
// defines it and returns it trimmed.
func numericText(s []byte) ([]byte, error) {
	t := trimWS(s)
	if !numericString(t) {
		return nil, &numStringError{string(s)}
	}
	return t, nil
}

// DecodeCBORInt decodes an integer: an integer item within int64, an
// integral float, a bignum or a numeric string (as DecodeInt).
func DecodeCBORInt(raw []byte) (int64, error) {
	if len(raw) == 1 && raw[0] < 0x38 { // -24…23
		if raw[0] < 0x18 {
			return int64(raw[0]), nil
		}
		if raw[0] >= 0x20 {
			return -1 - int64(raw[0]-0x20), nil
		}
	}
	n, neg, mag, err := cborIntegral(raw, "integer", "int64")
	if err != nil {
		return 0, err
	}
	switch {
	case !neg && mag > math.MaxInt64, neg && mag > 1<<63:
		return 0, rangeErr("int64", n.text(nil))
	case neg:
		return -int64(mag), nil
	}
	return int64(mag), nil
}

// cborIntegral reads the integer of DecodeCBORInt and DecodeCBORUint (want
// names it in a type error, target in a range error): its sign and
// magnitude (not the CBOR -1-n form), and the number itself for the text
// of a range error, also when it came from a numeric string.
func cborIntegral(raw []byte, want, target string) (n cborNum, neg bool, mag uint64, err error) {
	var scratch [64]byte
	n, s, kind, ok, err := cborNumber(raw, scratch[:0])
	if err != nil {
		return n, false, 0, err
	}
	if !ok {
		return n, false, 0, typeErr(want, kind)
	}
	if s == nil {
		neg, mag, err = n.integral(target)
		return n, neg, mag, err
	}
	t, err := numericText(s)
	if err != nil {
		return n, false, 0, err
	}
	if neg, mag, err = intFromText(t, target); err != nil {
		return n, false, 0, err
	}
	n = cborNum{neg: neg, mag: mag}
	if neg {
		n.mag--
	}
	return n, neg, mag, nil
}

// integral returns the number as sign and magnitude (not the CBOR -1-n
// form), or an error if it is not an integer or beyond 64 bits.
func (n cborNum) integral(target string) (neg bool, mag uint64, err error) {
	switch {
	case n.big != nil:
		return false, 0, rangeErr(target, n.text(nil))
	case n.isFloat:
		f := n.f
		if math.IsNaN(f) || f != math.Trunc(f) && !math.IsInf(f, 0) {
			return false, 0, notIntegral(n.text(nil))
		}
		if math.Abs(f) >= 1<<64 {
			return false, 0, rangeErr(target, n.text(nil))
		}
		if f < 0 {
			return true, uint64(-f), nil
		}
		return false, uint64(f), nil
	case n.neg:
		if n.mag == math.MaxUint64 {
			return false, 0, rangeErr(target, n.text(nil))
		}
		return true, n.mag + 1, nil
	}
	return false, n.mag, nil
}

// DecodeCBORUint decodes a non-negative integer (see DecodeCBORInt).
func DecodeCBORUint(raw []byte) (uint64, error) {
	if len(raw) == 1 && raw[0] < 0x18 {
		return uint64(raw[0]), nil
	}
	n, neg, mag, err := cborIntegral(raw, "unsigned integer", "uint64")
	if err != nil {
		return 0, err
	}
	if neg && mag != 0 {
		return 0, rangeErr("uint64", n.text(nil))
	}
	return mag, nil
}

// DecodeCBORFloat decodes a number or a numeric string to float64. NaN
// and ±Inf are values like any other (CBOR carries them).
func DecodeCBORFloat(raw []byte) (float64, error) {
	var scratch [64]byte
	n, s, kind, ok, err := cborNumber(raw, scratch[:0])
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, typeErr("number", kind)
	}
	if s != nil {
		t, err := numericText(s)
		if err != nil {
			return 0, err
		}
		f, ok := parseFloat(t)
		if !ok {
			return 0, rangeErr("float64", t)
		}
		return f, nil
	}
	return n.float(), nil
}

func (n cborNum) float() float64 {
	switch {
	case n.big != nil:
		f, _ := new(big.Float).SetInt(n.big).Float64()
		return f
	case n.isFloat:
		return n.f
	case n.neg:
		return -1 - float64(n.mag)
	}
	return float64(n.mag)
}

// DecodeCBORStringBytes returns the contents of a byte or text string
// (zero-copy for a definite one, assembled into scratch for an indefinite
// one), or a number's decimal text in scratch. Other kinds are ErrType.
// The contents of a byte string are returned as they are (they need not
// be UTF-8).
func DecodeCBORStringBytes(raw, scratch []byte) ([]byte, error) {
	if err := checkOne(raw); err != nil {
		return nil, err
	}
	s, _, ok, err := cborString(raw, scratch)
	if err != nil || ok {
		return s, err
	}
	n, _, kind, ok, err := cborNumber(raw, scratch)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, typeErr("string", kind)
	}
	return n.text(scratch[:0]), nil
}

// DecodeCBORString decodes a byte or text string into a new Go string (a
// byte string's bytes as they are), or a number into its text.
func DecodeCBORString(raw []byte) (string, error) {
	var scratch [64]byte
	s, err := DecodeCBORStringBytes(raw, scratch[:0])
	if err != nil {
		return "", err
	}
	return string(s), nil
}

// DecodeCBORBool decodes with Perl truthiness: false, null, undefined, 0,
// 0.0, "" and "0" are false, other numbers and strings true. Arrays and
// maps are ErrType.
func DecodeCBORBool(raw []byte) (bool, error) {
	if len(raw) == 1 {
		switch raw[0] {
		case 0xf5:
			return true, nil
		case 0xf4, 0xf6, 0xf7, 0x00:
			return false, nil
		}
	}
	var scratch [8]byte
	n, s, kind, ok, err := cborNumber(raw, scratch[:0])
	switch {
	case err != nil:
		return false, err
	case !ok && (kind == KindBool || kind == KindNull):
		i, _, _ := untag(raw, 0)
		return raw[i] == 0xf5, nil
	case !ok:
		return false, typeErr("boolean", kind)
	case s != nil:
		return !(len(s) == 0 || len(s) == 1 && s[0] == '0'), nil
	case n.big != nil:
		return true, nil
	case n.isFloat:
		return n.f != 0, nil
	}
	return n.neg || n.mag != 0, nil
}

// DecodeCBORBytes decodes a byte string into its bytes (a new slice); a
// text string converts as in DecodeBytes (each code point U+0000…U+00FF
// one byte, anything above ErrRange), as Perl would use it as bytes.
// Other kinds are ErrType.
func DecodeCBORBytes(raw []byte) ([]byte, error) {
	if err := checkOne(raw); err != nil {
		return nil, err
	}
	s, text, ok, err := cborString(raw, nil)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, typeErr("string", CBORKindOf(raw))
	}
	if !text {
		return append([]byte{}, s...), nil
	}
	return latin1(s)
}

// latin1 maps the code points of UTF-8 text to bytes (U+0000…U+00FF);
// invalid UTF-8 bytes are kept as they are.
func latin1(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, c)
			i++
			continue
		}
		if r > 0xFF {
			return nil, rangeErr("a byte (code point above U+00FF)", s[i:i+size])
		}
		out = append(out, byte(r))
		i += size
	}
	return out, nil
}

// typeErrTag: a tag this package does not resolve.
func typeErrTag(tag int64) error {
	return &kindError{want: "a value (CBOR tag " + strconv.FormatInt(tag, 10) + " is not supported)", found: KindNone}
}
