package wire

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"

	"github.com/fxamacker/cbor/v2"
)

// Decoding CBOR into generic values (DecodeCBORAny) and into arbitrary Go
// types (DecodeCBOR, through fxamacker/cbor).

// DecodeCBORAny decodes any CBOR item into nil (null, undefined), bool,
// int64, uint64 (integers above MaxInt64), float64 (floats of every
// width, and integers below MinInt64, as Perl reads them), json.Number
// (bignums beyond 64 bits, exact), string (text strings, and byte strings
// of ASCII text: Perl's ordinary strings), []byte (other byte strings, so
// that a value sent on keeps its type), []any or
// map[string]any (keys: byte and text strings as strings, integers as
// their decimal text; others are ErrType; duplicate keys: the last wins).
// Other simple values, and the tags 25 and 29, are ErrType.
func DecodeCBORAny(raw []byte) (any, error) {
	if err := checkOne(raw); err != nil {
		return nil, err
	}
	v, _, err := cborAny(raw, 0, false)
	return v, err
}

// DecodeCBORAnyText is DecodeCBORAny with byte strings decoded as strings,
// as Perl sees them: for values that the node itself interprets (kill
// reasons, the global database), where a Perl string is a string whichever
// major type CBOR::XS gave it.
func DecodeCBORAnyText(raw []byte) (any, error) {
	if err := checkOne(raw); err != nil {
		return nil, err
	}
	v, _, err := cborAny(raw, 0, true)
	return v, err
}

// cborAny decodes the validated item at b[i] and returns the index after it.
func cborAny(b []byte, i int, text bool) (any, int, error) {
	i, tag, err := untag(b, i)
	if err != nil {
		return nil, i, err
	}
	if tag == 25 || tag == 29 {
		return nil, i, typeErrTag(tag)
	}
	major, ai, val, j, _ := cborHead(b, i)
	switch major {
	case 0:
		if val > math.MaxInt64 {
			return val, j, nil
		}
		return int64(val), j, nil
	case 1:
		if val > math.MaxInt64 {
			return -1 - float64(val), j, nil
		}
		return -1 - int64(val), j, nil
	case 2, 3:
		end, _ := skipCBOR(b, i, 1)
		s, isText, _, _ := cborString(b[i:end], nil)
		switch {
		case major == 2 && (tag == 2 || tag == 3):
			return bignumAny(bignum(s, tag == 3)), end, nil
		case isText || text || isASCII(s):
			// An ASCII byte string is how CBOR::XS sends every ordinary Perl
			// string (no UTF-8 flag): a string, as over JSON. It goes back
			// as a byte string (the encoder's rule for ASCII), so a value
			// sent on keeps its major type.
			return string(s), end, nil
		}
		return append([]byte{}, s...), end, nil
	case 4, 5:
		return cborContainer(b, major, ai, val, j, text)
	}
	switch {
	case ai >= 25 && ai <= 27:
		return cborFloat(ai, val), j, nil
	case val == 20, val == 21:
		return val == 21, j, nil
	case val == 22, val == 23:
		return nil, j, nil
	}
	return nil, j, typeErr("a value", KindNone)
}

// bignumAny is a bignum as DecodeCBORAny returns it: int64 or uint64 when
// it fits, else json.Number.
func bignumAny(n cborNum) any {
	if n.big != nil {
		return json.Number(n.text(nil))
	}
	neg, mag, _ := n.integral("")
	switch {
	case !neg && mag > math.MaxInt64:
		return mag
	case !neg:
		return int64(mag)
	case mag <= 1<<63:
		return -int64(mag)
	}
	return json.Number(n.text(nil))
}

// cborContainer decodes an array or map whose head (argument val) ends
// at j.
func cborContainer(b []byte, major, ai byte, val uint64, j int, text bool) (any, int, error) {
	n := int(val)
	more := func(k int) bool {
		if ai == 31 {
			return b[j] != 0xff
		}
		return k < n
	}
	var err error
	if major == 4 {
		var stack [16]any
		elems := stack[:0]
		for k := 0; more(k); k++ {
			var v any
			if v, j, err = cborAny(b, j, text); err != nil {
				return nil, j, err
			}
			elems = append(elems, v)
		}
		if ai == 31 {
			j++
		}
		return append(make([]any, 0, len(elems)), elems...), j, nil
	}
	out := make(map[string]any)
	for k := 0; more(k); k++ {
		var key, v any
		start := j
		if key, j, err = cborAny(b, j, true); err != nil {
			return nil, j, err
		}
		var ks string
		switch x := key.(type) {
		case string:
			ks = x
		case []byte:
			ks = string(x)
		case int64, uint64, json.Number:
			ks = string(keyText(b[start:j]))
		default:
			return nil, j, typeErr("a string or integer map key", CBORKindOf(b[start:j]))
		}
		if v, j, err = cborAny(b, j, text); err != nil {
			return nil, j, err
		}
		out[ks] = v
	}
	if ai == 31 {
		j++
	}
	return out, j, nil
}

// keyText is the text of a string or number item (DecodeCBORString's
// result), or nil.
func keyText(raw []byte) []byte {
	s, err := DecodeCBORStringBytes(raw, nil)
	if err != nil {
		return nil
	}
	return s
}

// cborMode decodes CBOR into arbitrary Go types (DecodeCBOR's fallback),
// by the rules of DecodeCBORAny where fxamacker/cbor lets us: byte
// strings into string fields and byte-string map keys and field names
// (Perl's hash keys arrive as byte strings), maps into map[string]any,
// integers into interface values as int64 (or big.Int beyond), tags other
// than bignums ignored, no UTF-8 check. Struct fields match `cbor` and
// then `json` tags, as fxamacker does.
var cborMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		MaxNestedLevels:      MaxDepth + 16,
		MaxArrayElements:     math.MaxInt32,
		MaxMapPairs:          math.MaxInt32,
		IntDec:               cbor.IntDecConvertSignedOrBigInt,
		MapKeyByteString:     cbor.MapKeyByteStringAllowed,
		DefaultMapType:       reflect.TypeOf(map[string]any(nil)),
		UTF8:                 cbor.UTF8DecodeInvalid,
		ByteStringToString:   cbor.ByteStringToStringAllowed,
		FieldNameByteString:  cbor.FieldNameByteStringAllowed,
		UnrecognizedTagToAny: cbor.UnrecognizedTagContentToAny,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// DecodeCBOR decodes one CBOR item into v, a non-nil pointer, like
// Decode does for JSON: common targets take a fast path with the
// semantics of the typed decoders (*string, *[]byte, *bool, every
// *int/*uint kind, *float64, *float32, *any, *[]any, *map[string]any);
// *Raw and *json.RawMessage get the item as JSON (AppendCBORAsJSON, NaN
// and ±Inf refused); everything else goes through fxamacker/cbor (see
// cborMode for its options).
func DecodeCBOR(raw []byte, v any) error {
	switch p := v.(type) {
	case *string:
		return set(p, DecodeCBORString, raw)
	case *[]byte:
		return set(p, DecodeCBORBytes, raw)
	case *bool:
		return set(p, DecodeCBORBool, raw)
	case *int64:
		return set(p, DecodeCBORInt, raw)
	case *uint64:
		return set(p, DecodeCBORUint, raw)
	case *float64:
		return set(p, DecodeCBORFloat, raw)
	case *int, *int8, *int16, *int32, *uint, *uint8, *uint16, *uint32, *float32:
		return decodeCBORNumber(raw, v)
	case *any:
		return set(p, DecodeCBORAny, raw)
	case *[]any:
		return decodeCBORInto(raw, p, KindArray)
	case *map[string]any:
		return decodeCBORInto(raw, p, KindObject)
	case *Raw:
		return setJSON(raw, (*[]byte)(p))
	case *json.RawMessage:
		return setJSON(raw, (*[]byte)(p))
	}
	if err := checkOne(raw); err != nil {
		return err
	}
	if err := cborMode.Unmarshal(raw, v); err != nil {
		return &decodeError{err}
	}
	return nil
}

func set[T any](p *T, dec func([]byte) (T, error), raw []byte) error {
	x, err := dec(raw)
	if err == nil {
		*p = x
	}
	return err
}

func setJSON(raw []byte, p *[]byte) error {
	if err := checkOne(raw); err != nil {
		return err
	}
	b, err := AppendCBORAsJSON(nil, raw, NonFiniteError)
	if err == nil {
		*p = b
	}
	return err
}

// decodeCBORNumber stores into the smaller integer kinds and float32 by
// way of their JSON text, with Decode's range checks.
func decodeCBORNumber(raw []byte, v any) error {
	var scratch [64]byte
	n, s, kind, ok, err := cborNumber(raw, scratch[:0])
	if err != nil {
		return err
	}
	if !ok {
		return typeErr("number", kind)
	}
	text := s
	if text == nil {
		if n.isFloat && (math.IsNaN(n.f) || math.IsInf(n.f, 0)) {
			return rangeErr(reflect.TypeOf(v).Elem().String(), n.text(nil))
		}
		text = n.text(scratch[:0])
		if n.isFloat {
			text = strconv.AppendFloat(scratch[:0], n.f, 'g', -1, 64)
		}
	} else {
		text = AppendString(nil, string(s)) // a numeric string, as Decode takes it
	}
	return Decode(text, v)
}

func decodeCBORInto[T []any | map[string]any](raw []byte, p *T, want Kind) error {
	x, err := DecodeCBORAny(raw)
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
		return typeErr(want.String(), CBORKindOf(raw))
	}
	*p = t
	return nil
}

// isASCII reports whether s holds only 7-bit bytes.
func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
