package wire

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"unicode/utf8"
)

// CBOR encoding (append-style), following CBOR::XS 1.86 as recorded from
// Perl nodes (internal/vectors, session-cbor-only), so that a Perl peer
// decodes what it would have sent itself:
//
//   - integers: the shortest head (major type 0 or 1);
//   - floats: a non-negative integral float up to 4294967295 is written as
//     that integer (and -0.0 as 0: CBOR::XS tests nv == (U32)nv), a float
//     that float32 holds exactly (±Inf too) as f32, anything else as f64
//     with its bits as they are (NaN payloads kept);
//   - strings: a Go string that is valid UTF-8 and not pure ASCII is a
//     text string (major type 3), any other — pure ASCII, or not valid
//     UTF-8 — a byte string (major type 2). This is what Perl does: its
//     ASCII strings are not UTF-8-flagged, so CBOR::XS sends them as byte
//     strings, and bytes that are not UTF-8 can only be bytes. Map keys
//     follow the same rule;
//   - []byte: a byte string; nil, true, false: f6, f5, f4;
//   - no tags, definite lengths only.
//
// Values off the fast path (structs, other maps and slices, Marshalers)
// are encoded as their JSON form (AppendValue: sonic, json tags) and
// transcoded (AppendJSONAsCBOR), so both framings give them one meaning.

// AppendCBORHead appends the shortest head of major type major (0…7)
// with argument n.
func AppendCBORHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

// AppendCBORArrayHead appends the head of an array of n items.
func AppendCBORArrayHead(b []byte, n int) []byte { return AppendCBORHead(b, 4, uint64(n)) }

// AppendCBOREnvelopeHead appends the start of a message of n elements in
// all (local part, tag and n-2 arguments): the array head, local and tag.
func AppendCBOREnvelopeHead(b []byte, n int, local, tag string) []byte {
	b = AppendCBORArrayHead(b, n)
	b = AppendCBORString(b, local)
	return AppendCBORString(b, tag)
}

// cborTextString reports whether s goes out as a text string (see the
// rules above): valid UTF-8 with at least one byte above 0x7f.
func cborTextString[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return utf8.Valid([]byte(s[i:]))
		}
	}
	return false
}

// AppendCBORString appends s as a byte string if it is pure ASCII or not
// valid UTF-8, else as a text string (see the rules above).
func AppendCBORString(b []byte, s string) []byte {
	major := byte(2)
	if cborTextString(s) {
		major = 3
	}
	return append(AppendCBORHead(b, major, uint64(len(s))), s...)
}

// AppendCBORText appends s as a text string, whatever it holds.
func AppendCBORText(b []byte, s string) []byte {
	return append(AppendCBORHead(b, 3, uint64(len(s))), s...)
}

// AppendCBORBytes appends p as a byte string.
func AppendCBORBytes(b []byte, p []byte) []byte {
	return append(AppendCBORHead(b, 2, uint64(len(p))), p...)
}

// AppendCBORInt appends a signed integer.
func AppendCBORInt(b []byte, v int64) []byte {
	if v < 0 {
		return AppendCBORHead(b, 1, uint64(-1-v))
	}
	return AppendCBORHead(b, 0, uint64(v))
}

// AppendCBORUint appends an unsigned integer.
func AppendCBORUint(b []byte, v uint64) []byte { return AppendCBORHead(b, 0, v) }

// AppendCBORBool appends true (f5) or false (f4).
func AppendCBORBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xf5)
	}
	return append(b, 0xf4)
}

// AppendCBORNull appends null (f6).
func AppendCBORNull(b []byte) []byte { return append(b, 0xf6) }

// AppendCBORFloat appends f as CBOR::XS does (see the rules above).
func AppendCBORFloat(b []byte, f float64) []byte {
	if f >= 0 && f <= math.MaxUint32 && f == math.Trunc(f) {
		return AppendCBORHead(b, 0, uint64(f))
	}
	if float64(float32(f)) == f || math.IsInf(f, 0) {
		return binary.BigEndian.AppendUint32(append(b, 0xfa), math.Float32bits(float32(f)))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xfb), math.Float64bits(f))
}

// AppendCBORValue appends the CBOR encoding of v (see the rules above). On
// error (a value that cannot be encoded, nesting beyond MaxDepth) it
// returns b with its original length.
func AppendCBORValue(b []byte, v any) ([]byte, error) { return appendCBORTop(b, v, false) }

// AppendCBORValueText is AppendCBORValue with every string (and map key)
// written as a text string: for a Go receiver (wire.FormatMixed), which
// decodes text strings as strings and byte strings as []byte, so that the
// Go types survive.
func AppendCBORValueText(b []byte, v any) ([]byte, error) { return appendCBORTop(b, v, true) }

func appendCBORTop(b []byte, v any, text bool) ([]byte, error) {
	start := len(b)
	b, err := appendCBORValue(b, v, 0, text)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// appendCBORStr appends a string by the rule of the encoding: Perl's, or
// always text.
func appendCBORStr(b []byte, s string, text bool) []byte {
	if text {
		return AppendCBORText(b, s)
	}
	return AppendCBORString(b, s)
}

// appendCBORValue encodes v whose container is at nesting level depth.
func appendCBORValue(b []byte, v any, depth int, text bool) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return AppendCBORNull(b), nil
	case string:
		return appendCBORStr(b, x, text), nil
	case []byte:
		if x == nil {
			return AppendCBORNull(b), nil
		}
		return AppendCBORBytes(b, x), nil
	case bool:
		return AppendCBORBool(b, x), nil
	case int:
		return AppendCBORInt(b, int64(x)), nil
	case int64:
		return AppendCBORInt(b, x), nil
	case int32:
		return AppendCBORInt(b, int64(x)), nil
	case int16:
		return AppendCBORInt(b, int64(x)), nil
	case int8:
		return AppendCBORInt(b, int64(x)), nil
	case uint:
		return AppendCBORUint(b, uint64(x)), nil
	case uint64:
		return AppendCBORUint(b, x), nil
	case uint32:
		return AppendCBORUint(b, uint64(x)), nil
	case uint16:
		return AppendCBORUint(b, uint64(x)), nil
	case uint8:
		return AppendCBORUint(b, uint64(x)), nil
	case float64:
		return AppendCBORFloat(b, x), nil
	case float32:
		return AppendCBORFloat(b, float64(x)), nil
	case Raw:
		if x == nil {
			return AppendCBORNull(b), nil
		}
		return appendJSONAsCBOR(b, x, text)
	case json.RawMessage:
		if x == nil {
			return AppendCBORNull(b), nil
		}
		return appendJSONAsCBOR(b, x, text)
	case json.Number:
		return appendJSONAsCBOR(b, []byte(x), text)
	case []any:
		return appendCBORList(b, x, depth, text)
	case []string:
		if x == nil {
			return AppendCBORNull(b), nil
		}
		b = AppendCBORArrayHead(b, len(x))
		for _, s := range x {
			b = appendCBORStr(b, s, text)
		}
		return b, nil
	case map[string]any:
		return appendCBORMap(b, x, depth, text)
	case map[string]string:
		if x == nil {
			return AppendCBORNull(b), nil
		}
		b = AppendCBORHead(b, 5, uint64(len(x)))
		for k, s := range x {
			b = appendCBORStr(appendCBORStr(b, k, text), s, text)
		}
		return b, nil
	case json.Marshaler:
	case error:
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return AppendCBORNull(b), nil
		}
		return appendCBORStr(b, x.Error(), text), nil
	}
	// everything else by way of its JSON form
	j, err := appendValue(nil, v, depth)
	if err != nil {
		return b, err
	}
	return appendJSONAsCBOR(b, j, text)
}

func appendCBORList(b []byte, x []any, depth int, text bool) ([]byte, error) {
	if x == nil {
		return AppendCBORNull(b), nil
	}
	if depth >= MaxDepth {
		return b, &depthError{len(b)}
	}
	b = AppendCBORArrayHead(b, len(x))
	var err error
	for _, e := range x {
		if b, err = appendCBORValue(b, e, depth+1, text); err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendCBORMap(b []byte, x map[string]any, depth int, text bool) ([]byte, error) {
	if x == nil {
		return AppendCBORNull(b), nil
	}
	if depth >= MaxDepth {
		return b, &depthError{len(b)}
	}
	b = AppendCBORHead(b, 5, uint64(len(x)))
	var err error
	for k, e := range x {
		b = appendCBORStr(b, k, text)
		if b, err = appendCBORValue(b, e, depth+1, text); err != nil {
			return b, err
		}
	}
	return b, nil
}
