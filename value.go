package aemp

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/aemp-go/aemp/wire"
)

// kind is the storage class of one message element held by value.
type kind uint8

const (
	kNil kind = iota
	kInt
	kUint
	kFloat
	kBool
	kString
	kBytes // a []byte kept unboxed in s (aliasing the caller's slice, not copied)
	kAny   // any other Go value, kept in x
	// An element of a received message copied as it was encoded
	// (Msg.AppendElem): its raw JSON text or CBOR item in s, aliasing the
	// received message's network buffer until the message is copied
	// (msgBorrowed).
	kRawJSON
	kRawCBOR
)

// value is one message element of a local message. Scalars are stored
// unboxed, so building a message from ints, floats, bools and strings does
// not allocate.
type value struct {
	k kind
	n uint64 // int64 / uint64 / float64 bits / bool
	s string
	x any
}

// valueOf converts a Go value without allocating for scalars.
func valueOf(a any) value {
	switch x := a.(type) {
	case nil:
		return value{}
	case string:
		return value{k: kString, s: x}
	case int:
		return value{k: kInt, n: uint64(x)}
	case int64:
		return value{k: kInt, n: uint64(x)}
	case int32:
		return value{k: kInt, n: uint64(x)}
	case int16:
		return value{k: kInt, n: uint64(x)}
	case int8:
		return value{k: kInt, n: uint64(x)}
	case uint:
		return value{k: kUint, n: uint64(x)}
	case uint64:
		return value{k: kUint, n: x}
	case uint32:
		return value{k: kUint, n: uint64(x)}
	case uint16:
		return value{k: kUint, n: uint64(x)}
	case uint8:
		return value{k: kUint, n: uint64(x)}
	case float64:
		return value{k: kFloat, n: math.Float64bits(x)}
	case float32:
		return value{k: kFloat, n: math.Float64bits(float64(x))}
	case bool:
		if x {
			return value{k: kBool, n: 1}
		}
		return value{k: kBool}
	case []byte:
		return value{k: kBytes, s: unsafe.String(unsafe.SliceData(x), len(x))}
	}
	return value{k: kAny, x: a}
}

// iface returns the element as a Go value (scalars as int64, uint64,
// float64, bool, string).
func (v value) iface() any {
	switch v.k {
	case kInt:
		return int64(v.n)
	case kUint:
		return v.n
	case kFloat:
		return math.Float64frombits(v.n)
	case kBool:
		return v.n != 0
	case kString:
		return v.s
	case kBytes:
		return bytesOf(v.s)
	case kAny:
		return v.x
	case kRawJSON, kRawCBOR:
		x, _ := v.decodeRaw()
		return x
	}
	return nil
}

// isRaw reports whether v is an element kept as it was encoded.
func (v value) isRaw() bool { return v.k == kRawJSON || v.k == kRawCBOR }

// rawBytes is the encoded element of a raw value.
func (v value) rawBytes() []byte { return bytesOf(v.s) }

// decodeRaw decodes a raw element as a received one (Msg.Value).
func (v value) decodeRaw() (any, error) {
	return rawConv(v, wire.DecodeAny, wire.DecodeCBORAny)
}

// rawConv converts a raw element with the decoder of its encoding.
func rawConv[T any](v value, dj, dc func([]byte) (T, error)) (T, error) {
	dec := dj
	if v.k == kRawCBOR {
		dec = dc
	}
	x, err := dec(v.rawBytes())
	if err != nil {
		return x, fmt.Errorf("%w: %w", ErrType, err)
	}
	return x, nil
}

// bytesOf returns the []byte stored (unboxed) in a kBytes value.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func (v value) kindName() string {
	switch v.k {
	case kNil:
		return "null"
	case kInt, kUint:
		return "integer"
	case kFloat:
		return "float"
	case kBool:
		return "bool"
	case kString:
		return "string"
	case kBytes:
		return "bytes"
	case kRawJSON, kRawCBOR:
		return "element"
	}
	return fmt.Sprintf("%T", v.x)
}

// The conversions below follow the same rules as decoding a remote message
// (package wire), so a handler sees the same result whether its message came
// from a goroutine or over the network: numbers and numeric strings convert
// to each other (Perl sends numbers as strings), integers never go through
// float64, and a float converts to an integer only when it is integral.

func (v value) toInt() (int64, error) {
	if v.isRaw() {
		return rawConv(v, wire.DecodeInt, wire.DecodeCBORInt)
	}
	switch v.k {
	case kInt:
		return int64(v.n), nil
	case kUint:
		if v.n > math.MaxInt64 {
			return 0, fmt.Errorf("%w: %d overflows int64", ErrType, v.n)
		}
		return int64(v.n), nil
	case kFloat:
		f := math.Float64frombits(v.n)
		if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return 0, fmt.Errorf("%w: %v is not an int64", ErrType, f)
		}
		return int64(f), nil
	case kString:
		if i, err := strconv.ParseInt(v.s, 10, 64); err == nil {
			return i, nil
		}
		return 0, fmt.Errorf("%w: string %q is not an integer", ErrType, truncate(v.s, 40))
	}
	return 0, fmt.Errorf("%w: %s is not an integer", ErrType, v.kindName())
}

func (v value) toUint() (uint64, error) {
	if v.isRaw() {
		return rawConv(v, wire.DecodeUint, wire.DecodeCBORUint)
	}
	switch v.k {
	case kUint:
		return v.n, nil
	case kInt:
		if int64(v.n) < 0 {
			return 0, fmt.Errorf("%w: %d is negative", ErrType, int64(v.n))
		}
		return v.n, nil
	case kFloat:
		f := math.Float64frombits(v.n)
		if f != math.Trunc(f) || f < 0 || f >= 1<<64 {
			return 0, fmt.Errorf("%w: %v is not a uint64", ErrType, f)
		}
		return uint64(f), nil
	case kString:
		if u, err := strconv.ParseUint(v.s, 10, 64); err == nil {
			return u, nil
		}
		return 0, fmt.Errorf("%w: string %q is not an unsigned integer", ErrType, truncate(v.s, 40))
	}
	return 0, fmt.Errorf("%w: %s is not an integer", ErrType, v.kindName())
}

func (v value) toFloat() (float64, error) {
	if v.isRaw() {
		return rawConv(v, wire.DecodeFloat, wire.DecodeCBORFloat)
	}
	switch v.k {
	case kInt:
		return float64(int64(v.n)), nil
	case kUint:
		return float64(v.n), nil
	case kFloat:
		return math.Float64frombits(v.n), nil
	case kString:
		if f, err := strconv.ParseFloat(v.s, 64); err == nil {
			return f, nil
		}
		return 0, fmt.Errorf("%w: string %q is not a number", ErrType, truncate(v.s, 40))
	}
	return 0, fmt.Errorf("%w: %s is not a number", ErrType, v.kindName())
}

func (v value) toString() (string, error) {
	if v.isRaw() {
		return rawConv(v, wire.DecodeString, wire.DecodeCBORString)
	}
	switch v.k {
	case kString:
		return v.s, nil
	case kBytes:
		return string(bytesOf(v.s)), nil
	case kInt:
		return strconv.FormatInt(int64(v.n), 10), nil
	case kUint:
		return strconv.FormatUint(v.n, 10), nil
	case kFloat:
		return strconv.FormatFloat(math.Float64frombits(v.n), 'g', -1, 64), nil
	case kAny:
		switch x := v.x.(type) {
		case []byte:
			return string(x), nil
		case PortID:
			return string(x), nil
		}
	}
	return "", fmt.Errorf("%w: %s is not a string", ErrType, v.kindName())
}

// toBool applies Perl truthiness: null, 0, "" and "0" are false.
func (v value) toBool() (bool, error) {
	if v.isRaw() {
		return rawConv(v, wire.DecodeBool, wire.DecodeCBORBool)
	}
	switch v.k {
	case kNil:
		return false, nil
	case kBool, kInt, kUint:
		return v.n != 0, nil
	case kFloat:
		return math.Float64frombits(v.n) != 0, nil
	case kString:
		return v.s != "" && v.s != "0", nil
	case kAny:
		if v.x == nil {
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: %s is not a boolean", ErrType, v.kindName())
}

func (v value) toBytes() ([]byte, error) {
	if v.isRaw() {
		return rawConv(v, wire.DecodeBytes, wire.DecodeCBORBytes)
	}
	switch v.k {
	case kString:
		return []byte(v.s), nil
	case kBytes:
		return bytesOf(v.s), nil
	case kNil:
		return nil, nil
	case kAny:
		if b, ok := v.x.([]byte); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: %s is not bytes", ErrType, v.kindName())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
