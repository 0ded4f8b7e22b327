package wire

import (
	"fmt"
	"math"
	"strconv"
)

// Transcoding between CBOR and JSON, for messages that go on in the other
// framing (a relay, a queued message flushed to a peer of the other kind)
// and for Msg.Raw, which returns JSON.
//
// CBOR → JSON: integers exactly (down to -2^64), floats as AppendFloat
// writes them, byte strings as Perl's JSON::XS writes a byte string
// (AppendBytes: code points U+0000…U+00FF), text strings as JSON strings
// (invalid UTF-8 as U+FFFD), bignums as integer literals, map keys that
// are integers as their decimal text, tags other than bignums dropped
// (their content kept). NaN and ±Inf have no JSON form: NonFinite says
// what happens to them.
//
// JSON → CBOR: strings by the string rule of cbor_encode.go, integer
// literals that CBOR can hold (-2^64 … 2^64-1) as integers, every other
// number as a float (by AppendCBORFloat, which makes 2.0 the integer 2 as
// CBOR::XS does; a literal beyond float64, such as 1e999, is ±Inf, as
// JSON::XS reads it), definite lengths.

// NonFinite says what a CBOR → JSON transcoder does with NaN and ±Inf.
type NonFinite uint8

const (
	// NonFiniteError fails with ErrUnsupportedValue.
	NonFiniteError NonFinite = iota
	// NonFiniteSubstitute writes +Inf as 1e999 and -Inf as -1e999 (JSON
	// numbers that JSON::XS and strconv read back as ±Inf) and NaN as null
	// (which loses it).
	NonFiniteSubstitute
)

// AppendCBORAsJSON appends the JSON form of the CBOR item raw (see the
// rules above). On error it returns b with its original length.
func AppendCBORAsJSON(b, raw []byte, nf NonFinite) ([]byte, error) {
	if err := checkOneAt(raw, 0); err != nil {
		return b, err
	}
	start := len(b)
	b, _, err := cborToJSON(b, raw, 0, nf)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// cborToJSON transcodes the validated item at raw[i].
func cborToJSON(b, raw []byte, i int, nf NonFinite) ([]byte, int, error) {
	i, tag, err := untag(raw, i)
	if err != nil {
		return b, i, err
	}
	if tag == 25 || tag == 29 {
		return b, i, fmt.Errorf("%w: CBOR tag %d", ErrUnsupportedValue, tag)
	}
	major, ai, val, j, _ := cborHead(raw, i)
	switch major {
	case 0:
		return strconv.AppendUint(b, val, 10), j, nil
	case 1:
		return cborNum{neg: true, mag: val}.text(b), j, nil
	case 2, 3:
		end, _ := skipCBOR(raw, i, 1)
		s, text, _, _ := cborString(raw[i:end], nil)
		switch {
		case major == 2 && (tag == 2 || tag == 3):
			return bignum(s, tag == 3).text(b), end, nil
		case text:
			return AppendString(b, string(s)), end, nil
		}
		return AppendBytes(b, s), end, nil
	case 4, 5:
		return cborContainerToJSON(b, raw, major, ai, val, j, nf)
	}
	switch {
	case ai >= 25 && ai <= 27:
		return appendJSONFloat(b, cborFloat(ai, val), nf, j)
	case val == 20:
		return append(b, "false"...), j, nil
	case val == 21:
		return append(b, "true"...), j, nil
	case val == 22, val == 23:
		return append(b, "null"...), j, nil
	}
	return b, j, fmt.Errorf("%w: CBOR simple value %d", ErrUnsupportedValue, val)
}

func appendJSONFloat(b []byte, f float64, nf NonFinite, j int) ([]byte, int, error) {
	if !math.IsNaN(f) && !math.IsInf(f, 0) {
		b, err := AppendFloat(b, f)
		return b, j, err
	}
	if nf == NonFiniteError {
		return b, j, fmt.Errorf("%w: %v has no JSON form", ErrUnsupportedValue, f)
	}
	switch {
	case math.IsInf(f, 1):
		return append(b, "1e999"...), j, nil
	case math.IsInf(f, -1):
		return append(b, "-1e999"...), j, nil
	}
	return append(b, "null"...), j, nil
}

// cborContainerToJSON transcodes an array or map whose head ends at j.
func cborContainerToJSON(b, raw []byte, major, ai byte, val uint64, j int, nf NonFinite) ([]byte, int, error) {
	n := int(val)
	more := func(k int) bool {
		if ai == 31 {
			return raw[j] != 0xff
		}
		return k < n
	}
	open, closer := byte('['), byte(']')
	if major == 5 {
		open, closer = '{', '}'
	}
	b = append(b, open)
	var err error
	for k := 0; more(k); k++ {
		if k > 0 {
			b = append(b, ',')
		}
		if major == 5 {
			if b, j, err = cborKeyToJSON(b, raw, j); err != nil {
				return b, j, err
			}
			b = append(b, ':')
		}
		if b, j, err = cborToJSON(b, raw, j, nf); err != nil {
			return b, j, err
		}
	}
	if ai == 31 {
		j++
	}
	return append(b, closer), j, nil
}

// cborKeyToJSON transcodes a map key: a string, or an integer as its text.
func cborKeyToJSON(b, raw []byte, i int) ([]byte, int, error) {
	end, _ := skipCBOR(raw, i, 1)
	switch CBORKindOf(raw[i:end]) {
	case KindString:
		return cborToJSON(b, raw, i, NonFiniteError)
	case KindNumber:
		if k, _, _ := untag(raw, i); raw[k]>>5 <= 2 { // an integer or a bignum
			return AppendString(b, string(keyText(raw[i:end]))), end, nil
		}
	}
	return b, i, fmt.Errorf("%w: CBOR map key %s is not a string or integer", ErrUnsupportedValue, describeCBOR(raw[i:end]))
}

// AppendJSONAsCBOR appends the CBOR form of the JSON value raw (see the
// rules above); raw is validated first. On error it returns b with its
// original length.
func AppendJSONAsCBOR(b, raw []byte) ([]byte, error) { return appendJSONAsCBOR(b, raw, false) }

// AppendJSONAsCBORText is AppendJSONAsCBOR with every string written as a
// text string (see AppendCBORValueText).
func AppendJSONAsCBORText(b, raw []byte) ([]byte, error) { return appendJSONAsCBOR(b, raw, true) }

func appendJSONAsCBOR(b, raw []byte, text bool) ([]byte, error) {
	t, err := validateValue(raw, 0)
	if err != nil {
		return b, err
	}
	start := len(b)
	b, _, err = jsonToCBOR(b, t, 0, text)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// jsonToCBOR transcodes the validated JSON value at j[i] (no leading
// whitespace) and returns the index after it.
func jsonToCBOR(b, j []byte, i int, text bool) ([]byte, int, error) {
	switch c := j[i]; c {
	case '"':
		end, esc, _ := scanString(j, i+1)
		s := j[i+1 : end-1]
		if !esc {
			major := byte(2)
			if text || cborTextString(s) {
				major = 3
			}
			return append(AppendCBORHead(b, major, uint64(len(s))), s...), end, nil
		}
		mark := len(b)
		b = appendUnescaped(b, s)
		major := byte(2)
		if text || cborTextString(b[mark:]) {
			major = 3
		}
		return insertHead(b, mark, major, len(b)-mark), end, nil
	case '[', '{':
		mark := len(b)
		b = append(b, 0) // the head, if one byte is enough (fillHead)
		k := skipWS(j, i+1)
		closer := byte(']')
		if c == '{' {
			closer = '}'
		}
		n := 0
		var err error
		for j[k] != closer {
			if n > 0 {
				k = skipWS(j, k+1) // past the ','
			}
			if c == '{' {
				if b, k, err = jsonToCBOR(b, j, k, text); err != nil {
					return b, k, err
				}
				k = skipWS(j, skipWS(j, k)+1) // past the ':'
			}
			if b, k, err = jsonToCBOR(b, j, k, text); err != nil {
				return b, k, err
			}
			k = skipWS(j, k)
			n++
		}
		major := byte(4)
		if c == '{' {
			major = 5
		}
		return fillHead(b, mark, major, n), k + 1, nil
	case 't':
		return AppendCBORBool(b, true), i + 4, nil
	case 'f':
		return AppendCBORBool(b, false), i + 5, nil
	case 'n':
		return AppendCBORNull(b), i + 4, nil
	}
	end, _ := scanNumber(j, i)
	return appendJSONNumberAsCBOR(b, j[i:end]), end, nil
}

// insertHead inserts, at b[mark], the head of a string or container of n
// (bytes or items) whose contents already follow mark.
func insertHead(b []byte, mark int, major byte, n int) []byte {
	var h [9]byte
	head := AppendCBORHead(h[:0], major, uint64(n))
	body := len(b) - mark
	b = append(b, head...) // room
	copy(b[mark+len(head):], b[mark:mark+body])
	copy(b[mark:], head)
	return b
}

// fillHead writes the head of a container of n items at b[mark], where one
// byte was reserved for it before the items; a longer head moves the
// items (only containers of 24 items or more).
func fillHead(b []byte, mark int, major byte, n int) []byte {
	var h [9]byte
	head := AppendCBORHead(h[:0], major, uint64(n))
	if len(head) == 1 {
		b[mark] = head[0]
		return b
	}
	body := len(b) - mark - 1
	b = append(b, head[1:]...)
	copy(b[mark+len(head):], b[mark+1:mark+1+body])
	copy(b[mark:], head)
	return b
}

// appendJSONNumberAsCBOR appends a validated JSON number literal.
func appendJSONNumberAsCBOR(b, num []byte) []byte {
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
		case !neg:
			return AppendCBORHead(b, 0, mag)
		case mag == 0:
			return append(b, 0)
		default:
			return AppendCBORHead(b, 1, mag-1)
		}
		if neg && st == intOverflow && string(num) == "-18446744073709551616" {
			return AppendCBORHead(b, 1, math.MaxUint64)
		}
	}
	f, _ := strconv.ParseFloat(string(num), 64) // ±Inf beyond float64, as JSON::XS
	return AppendCBORFloat(b, f)
}
