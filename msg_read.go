package aemp

import (
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/wire"
)

// Reading a message: the accessors of elements, the same for local
// messages (Go values) and for messages from other nodes (decoded from
// their JSON text or CBOR items when asked).

// Tag returns the message's first element as a string. A message from
// another node whose first element is not a string has its text form as tag
// (the number 1 matches tag "1", as in Perl).
func (m *Msg) Tag() string { return m.tag }

// Len is the number of elements including the tag. For a malformed
// message from another node it counts the elements up to the first bad one
// (Values and the accessors report the error).
func (m *Msg) Len() int {
	if m.isRemote() {
		n, _ := m.argCount()
		return n + 1 - m.shift()
	}
	return int(m.n) + 1 - m.shift()
}

// Port returns the port whose handler is running with this message (the
// "port context", $SELF in Perl); nil outside a handler.
func (m *Msg) Port() *Port { return m.port }

// From returns the ID of the node the message came from (this node for local
// messages).
func (m *Msg) From() string {
	if rn := m.src(); rn != nil {
		return rn.id
	}
	if m.port != nil {
		return m.port.node.id
	}
	return ""
}

func (m *Msg) local(i int) (value, error) {
	if i == 0 && !m.tagElem() {
		return value{k: kString, s: m.tag}, nil
	}
	if s := m.slot(i); i < 0 || s >= int(m.n) {
		return value{}, fmt.Errorf("%w: element %d of a message with %d", ErrIndex, i, int(m.n)+1-m.shift())
	} else {
		return m.arg(s), nil
	}
}

// stored reports whether element i of a remote message is one of its raw
// items (not the tag kept in m.tag).
func (m *Msg) stored(i int) bool { return m.isRemote() && m.slot(i) >= 0 }

func (m *Msg) wrap(i int, err error) error {
	return fmt.Errorf("aemp: message %q element %d: %w", truncate(m.tag, 30), i, err)
}

// Int returns element i as an int64. Integers, integral floats and numeric
// strings convert; anything else, or an integer out of range, is an error
// wrapping [ErrType].
func (m *Msg) Int(i int) (int64, error) {
	if j := i - 1; j >= 0 && j < inlineArgs && j < int(m.n) && m.flags == 0 {
		// the common cases, without building a value
		if k, n := m.kinds[j], m.inl[j].n; k == kInt || k == kUint && n <= math.MaxInt64 {
			return int64(n), nil
		}
	}
	if v, ok := m.remoteInt(i); ok {
		return v, nil
	}
	return element(m, i, wire.DecodeInt, wire.DecodeCBORInt, value.toInt)
}

// remoteInt reads element i of a remote JSON message while its handler
// runs, when it is a plain integer (wire.ArgIter.Int); ok is false
// otherwise, and element gives the value or the error.
func (m *Msg) remoteInt(i int) (int64, bool) {
	if m.flags&^msgBlobs != msgRemote || i < 1 {
		return 0, false
	}
	if _, blob := m.blob(i - 1); blob {
		return 0, false
	}
	if it := m.iter(); it != nil {
		return it.Int(i - 1)
	}
	return 0, false
}

// Uint returns element i as a uint64, by the rules of Int: negative
// values and values above MaxUint64 are an error wrapping [ErrType].
func (m *Msg) Uint(i int) (uint64, error) {
	if v, ok := m.remoteInt(i); ok && v >= 0 {
		return uint64(v), nil
	}
	return element(m, i, wire.DecodeUint, wire.DecodeCBORUint, value.toUint)
}

// Float returns element i as a float64 (numbers and numeric strings).
func (m *Msg) Float(i int) (float64, error) {
	return element(m, i, wire.DecodeFloat, wire.DecodeCBORFloat, value.toFloat)
}

// String returns element i as a string (numbers give their decimal text).
// The result is always a copy that stays valid after the handler returns.
func (m *Msg) String(i int) (string, error) {
	if j := i - 1; j >= 0 && j < inlineArgs && j < int(m.n) && m.kinds[j] == kString && m.flags == 0 {
		return m.inl[j].s, nil
	}
	return element(m, i, wire.DecodeString, wire.DecodeCBORString, value.toString)
}

// Bool returns element i with Perl's truthiness: false, null, 0, "" and "0"
// are false, other numbers and strings true.
func (m *Msg) Bool(i int) (bool, error) {
	return element(m, i, wire.DecodeBool, wire.DecodeCBORBool, value.toBool)
}

// Bytes returns element i as bytes. Over the AEMP JSON framing bytes travel
// as a string of code points U+0000…U+00FF (as Perl byte strings do); over
// the cbor framing a byte string is its bytes, and a text string converts
// as over JSON.
// Between Go nodes a []byte sent with [Msg.AppendBytes] (or given to Snd)
// travels as raw bytes and converts exactly as the local []byte would:
// String returns its bytes unchanged, Value a []byte. For a message from
// another node the result is a copy that stays valid after the handler
// returns; a local []byte is returned as is (not copied). See
// [Msg.BytesView] for reading large bytes without a copy.
func (m *Msg) Bytes(i int) ([]byte, error) {
	if j := i - 1; j >= 0 && j < inlineArgs && j < int(m.n) && m.flags == 0 && m.kinds[j] == kBytes {
		return bytesOf(m.inl[j].s), nil
	}
	if b, ok := m.blob(i - 1); ok {
		return append([]byte{}, b...), nil
	}
	return element(m, i, wire.DecodeBytes, wire.DecodeCBORBytes, value.toBytes)
}

// BytesView is Bytes without the copy where the bytes can be read in
// place: for a []byte another Go node sent with [Msg.AppendBytes] it
// returns the bytes inside the network buffer, which is valid only while
// the handler runs (like [Msg.Raw]; [Msg.Clone] the message to keep it).
// The same holds for a byte string that came over the cbor framing. In
// every other case it returns what Bytes does.
func (m *Msg) BytesView(i int) ([]byte, error) {
	if b, ok := m.blob(i - 1); ok {
		return b, nil
	}
	if m.isCBOR() && m.stored(i) {
		if raw, err := m.argRaw(i); err == nil {
			if b, ok := wire.CBORBytesView(raw); ok {
				return b, nil
			}
		}
	}
	return m.Bytes(i)
}

// Value returns element i as a generic Go value: nil, bool, int64, uint64
// (above MaxInt64), float64, string, []any, map[string]any (remote
// messages), or the Go value that was sent (local messages; scalars
// normalised to int64, uint64, float64). A []byte another Go node sent
// with [Msg.AppendBytes] is a []byte (a copy), and so is a CBOR byte
// string (wire.DecodeCBORAny), so that a message built from values keeps
// the major types of what it echoes.
func (m *Msg) Value(i int) (any, error) {
	if b, ok := m.blob(i - 1); ok {
		return append([]byte{}, b...), nil
	}
	if m.stored(i) {
		v, err := remoteArg(m, i, wire.DecodeAny, wire.DecodeCBORAny)
		if err != nil {
			return nil, m.wrap(i, err)
		}
		return v, nil
	}
	v, err := m.local(i)
	if err == nil && v.isRaw() {
		var x any
		if x, err = v.decodeRaw(); err == nil {
			return x, nil
		}
	}
	if err != nil {
		return nil, m.wrap(i, err)
	}
	return v.iface(), nil
}

// Decode stores element i into the value pointed to by dst, which may be of
// any type encoding/json could decode into. For a local element of the
// same type as *dst it is a plain assignment; otherwise the element is
// converted through its JSON form, exactly as if it had come from another
// node.
func (m *Msg) Decode(i int, dst any) error {
	if b, ok := m.blob(i - 1); ok { // as the local []byte it was sent as, copied
		c := append([]byte{}, b...)
		if err := decodeLocal(value{k: kBytes, s: unsafe.String(unsafe.SliceData(c), len(c))}, dst); err != nil {
			return m.wrap(i, err)
		}
		return nil
	}
	if m.stored(i) {
		raw, err := m.argRaw(i)
		if err == nil {
			dec := wire.Decode
			if m.isCBOR() {
				dec = wire.DecodeCBOR
			}
			if err = dec(raw, dst); err != nil {
				err = fmt.Errorf("%w: %w", ErrType, err)
			}
		}
		if err != nil {
			return m.wrap(i, err)
		}
		return nil
	}
	v, err := m.local(i)
	if err == nil {
		err = decodeLocal(v, dst)
	}
	if err != nil {
		return m.wrap(i, err)
	}
	return nil
}

// Scan decodes the arguments (elements 1, 2, …) into dst in order, like
// database/sql's Row.Scan: m.Scan(&a, &b) is m.Decode(1, &a) then
// m.Decode(2, &b). Fewer elements than destinations is an error.
func (m *Msg) Scan(dst ...any) error {
	for k, d := range dst {
		if err := m.Decode(k+1, d); err != nil {
			return err
		}
	}
	return nil
}

// Values returns all elements, tag first, as generic Go values (see
// [Msg.Value]).
func (m *Msg) Values() ([]any, error) {
	n := int(m.n) + 1 - m.shift()
	if m.isRemote() {
		c, err := m.argCount()
		if err != nil {
			return nil, m.wrap(1, fmt.Errorf("%w: %w", ErrType, err))
		}
		n = c + 1 - m.shift()
	}
	out := make([]any, n)
	first := 1
	if m.tagElem() {
		first = 0
	} else {
		out[0] = m.tag
	}
	for i := first; i < n; i++ {
		v, err := m.Value(i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Raw returns element i of a remote message as raw JSON text, without
// decoding. It aliases the network buffer: valid only during the handler
// unless the message was cloned. For local messages it encodes the value,
// and an element that came over the cbor framing is transcoded to JSON (a
// new slice; NaN and ±Inf, which JSON cannot carry, are an error wrapping
// ErrType). [Msg.AppendElem] copies an element in its own encoding.
func (m *Msg) Raw(i int) ([]byte, error) {
	if m.stored(i) {
		raw, err := m.argRaw(i)
		if err != nil || !m.isCBOR() {
			return raw, err
		}
		j, err := wire.AppendCBORAsJSON(nil, raw, wire.NonFiniteError)
		if err != nil {
			return nil, m.wrap(i, fmt.Errorf("%w: %w", ErrType, err))
		}
		return j, nil
	}
	v, err := m.local(i)
	if err != nil {
		return nil, m.wrap(i, err)
	}
	if b, err := encodeLocal(nil, v, wire.NonFiniteError); err != nil {
		return nil, m.wrap(i, fmt.Errorf("%w: %w", ErrType, err))
	} else {
		return b, nil
	}
}

// Clone returns a copy of the message that stays valid after the handler
// returns (remote arguments are copied out of the network buffer).
func (m *Msg) Clone() *Msg {
	c := *m
	c.port = nil
	if m.more != nil {
		c.more = append([]value(nil), m.more...)
	}
	if m.isRemote() {
		c.inl[0].s = strings.Clone(m.inl[0].s)
		c.inl[0].x = nil
		c.inl[2].s = strings.Clone(m.inl[2].s)
	}
	if m.flags&msgBorrowed != 0 {
		c.flags &^= msgBorrowed
		for i := 0; i < int(c.n); i++ {
			if k := c.kindOf(i); k == kBytes || k == kRawJSON || k == kRawCBOR {
				if i < inlineArgs {
					c.inl[i].s = strings.Clone(c.inl[i].s)
				} else {
					c.more[i-inlineArgs].s = strings.Clone(c.more[i-inlineArgs].s)
				}
			}
		}
	}
	return &c
}

// element converts element i: a remote argument with the wire decoder of
// its encoding (JSON or CBOR), a local value (or the tag) with its
// conversion; errors name the element.
func element[T any](m *Msg, i int, remote, remoteCBOR func([]byte) (T, error), local func(value) (T, error)) (T, error) {
	var v T
	var err error
	if b, ok := m.blob(i - 1); ok {
		v, err = local(blobValue(b)) // a []byte from a Go node converts as a local one
	} else if m.stored(i) {
		v, err = remoteArg(m, i, remote, remoteCBOR)
	} else {
		var x value
		if x, err = m.local(i); err == nil {
			v, err = local(x)
		}
	}
	if err != nil {
		var zero T
		return zero, m.wrap(i, err)
	}
	return v, nil
}

// remoteArg decodes element i of a remote message, not a blob (the caller
// has checked), with the decoder of its encoding.
func remoteArg[T any](m *Msg, i int, dec, decCBOR func([]byte) (T, error)) (T, error) {
	raw, err := m.storedRaw(i)
	if err != nil {
		var zero T
		return zero, err
	}
	if m.isCBOR() {
		dec = decCBOR
	}
	v, err := dec(raw)
	if err != nil {
		return v, fmt.Errorf("%w: %w", ErrType, err)
	}
	return v, nil
}

// release gives back the network buffer of a remote message. The argument
// text is cleared with it, so a message can never read a recycled buffer.
func (m *Msg) release() {
	if b := m.detachBuf(); b != nil {
		b.Release()
	}
}

// detachBuf is release without the Release: it returns the buffer whose
// reference the caller now holds (nil for none).
func (m *Msg) detachBuf() *pool.Buf {
	if !m.isRemote() {
		return nil
	}
	b := m.buf()
	if b != nil {
		m.inl[0].x = nil
		m.inl[0].s = ""
		m.inl[2].s = ""
		m.flags &^= msgBlobs
	}
	return b
}

// GoString renders the message for debugging, e.g. ["tag",1,"x"].
func (m *Msg) GoString() string {
	vals, err := m.Values()
	if err != nil {
		return fmt.Sprintf("[%q <undecodable: %v>]", m.tag, err)
	}
	// (a CBOR byte string shows as the JSON string Perl would send for it)
	var sb strings.Builder
	sb.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			sb.WriteByte(',')
		}
		b, err := encodeLocal(nil, valueOf(v), wire.NonFiniteSubstitute)
		if err != nil {
			fmt.Fprintf(&sb, "%v", v)
		} else {
			sb.Write(b)
		}
	}
	sb.WriteByte(']')
	return sb.String()
}
