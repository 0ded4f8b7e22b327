package aemp

import (
	"fmt"
	"math"
	"reflect"

	"github.com/aemp-go/aemp/wire"
)

// Encoding of messages for the network and decoding of received ones,
// through package wire. Both use the same JSON form, so a local value and
// the same value received from another node convert alike.

// appendEnvelope appends the envelope [local, tag, args…] of m in the
// format f the link takes: CBOR for a cbor link; with blobs (the peer takes
// blob envelopes) a message with byte-string arguments as a blob
// envelope, its bytes copied raw; otherwise JSON text. To a Go node that
// takes CBOR envelopes (FormatMixed), a message with elements that came as
// CBOR goes as CBOR: exact, with the Go strings of a local one as text
// strings, so that the receiver gets strings back. nf says what happens to
// NaN and ±Inf from CBOR elements going to JSON. hc (nil for none) keeps
// the last JSON head encoded; its owner serialises the calls.
func appendEnvelope(b []byte, local string, m *Msg, f wire.Format, nf wire.NonFinite, hc *headCache) ([]byte, error) {
	switch {
	case f == wire.FormatMixed && m.carriesCBOR() && m.isRemote():
		return appendRelayed(b, local, m, wire.FormatCBOR, nf)
	case f == wire.FormatMixed && m.carriesCBOR():
		return m.appendCBOR(b, local, true)
	case m.isRemote():
		return appendRelayed(b, local, m, f, nf)
	case f == wire.FormatCBOR:
		return m.appendCBOR(b, local, false)
	}
	return m.appendJSON(b, local, f.TakesBlobs(), nf, hc)
}

// appendJSON appends a local message as a JSON envelope, or as a blob
// envelope when blobs and it has byte-string arguments.
func (m *Msg) appendJSON(b []byte, local string, blobs bool, nf wire.NonFinite, hc *headCache) ([]byte, error) {
	sh := m.shift() // a tag element is never a blob
	k := 0
	if blobs {
		for i := sh; i < int(m.n); i++ {
			if m.kindOf(i) == kBytes {
				k++
			}
		}
	}
	var mark int
	if k > 0 {
		b, mark = wire.BeginBlobEnvelope(b)
	}
	if sh == 0 {
		b = hc.appendHead(b, local, m.tag)
	} else {
		b = wire.AppendString(append(b, '['), local)
	}
	var err error
	for i := 0; i < int(m.n); i++ {
		b = append(b, ',')
		if k > 0 && i >= sh && m.kindOf(i) == kBytes {
			b = wire.AppendNull(b)
			continue
		}
		if b, err = m.encodeArg(b, i, nf); err != nil {
			return b, fmt.Errorf("aemp: message %q argument %d: %w", truncate(m.tag, 30), i+1-sh, err)
		}
	}
	b = append(b, ']')
	if k == 0 {
		return b, nil
	}
	if b, err = wire.EndBlobJSON(b, mark, k); err != nil {
		return b, fmt.Errorf("aemp: message %q: %w", truncate(m.tag, 30), err)
	}
	for i := sh; i < int(m.n); i++ {
		if m.kindOf(i) == kBytes {
			b = wire.AppendBlobEntry(b, i-sh, len(m.bytesArg(i)))
		}
	}
	for i := sh; i < int(m.n); i++ {
		if m.kindOf(i) == kBytes {
			b = append(b, m.bytesArg(i)...)
		}
	}
	return b, nil
}

// appendRelayed appends the envelope of a received message sent on: its
// raw elements copied when the link takes their encoding (a blob envelope
// as it came when the peer takes blob envelopes), else transcoded (blobs
// into JSON strings or CBOR byte strings).
func appendRelayed(b []byte, local string, m *Msg, f wire.Format, nf wire.NonFinite) ([]byte, error) {
	var err error
	switch {
	case f == wire.FormatCBOR:
		b, err = appendRelayedCBOR(b, local, m)
	case m.isCBOR():
		b, err = appendCBORRelayedJSON(b, local, m, nf)
	default:
		b, err = appendRelayedJSON(b, local, m, f.TakesBlobs())
	}
	if err != nil {
		return b, fmt.Errorf("aemp: relaying message %q: %w", truncate(m.tag, 30), err)
	}
	return b, nil
}

// appendRelayedJSON appends a received JSON (or blob) envelope for a JSON
// or blobs link.
func appendRelayedJSON(b []byte, local string, m *Msg, blobs bool) ([]byte, error) {
	bs := m.blobs()
	var mark int
	if blobs && bs != nil {
		b, mark = wire.BeginBlobEnvelope(b)
	}
	if m.tagElem() {
		b = wire.AppendString(append(b, '['), local)
	} else {
		b = wire.AppendEnvelopeHead(b, local, m.tag)
	}
	raw := m.raw()
	switch {
	case len(raw) == 0:
	case bs == nil || blobs:
		b = append(b, ',')
		b = append(b, raw...)
	default:
		var err error
		if b, err = wire.AppendElemsWithBlobs(append(b, ','), raw, bs, m.shift()); err != nil {
			return b, err
		}
	}
	b = append(b, ']')
	if !blobs || bs == nil {
		return b, nil
	}
	b, err := wire.EndBlobJSON(b, mark, bs.Len())
	if err != nil {
		return b, err
	}
	return append(b, bs[2:]...), nil // the table (after its count) and the data, as received
}

// encodeArg appends the JSON form of stored value i (0-based) of a local
// message. The scalar kinds are encoded from the slot in place: copying the
// slot into a value first costs a store-forwarding stall.
func (m *Msg) encodeArg(b []byte, i int, nf wire.NonFinite) ([]byte, error) {
	if i >= inlineArgs {
		return encodeLocal(b, m.more[i-inlineArgs], nf)
	}
	sv := &m.inl[i]
	switch m.kinds[i] {
	case kInt:
		return wire.AppendInt(b, int64(sv.n)), nil
	case kUint:
		return wire.AppendUint(b, sv.n), nil
	case kString:
		return wire.AppendString(b, sv.s), nil
	case kBytes:
		return wire.AppendBytes(b, bytesOf(sv.s)), nil
	}
	return encodeLocal(b, m.arg(i), nf)
}

// encodeLocal appends the JSON form of one local value (nf: see
// appendEnvelope).
func encodeLocal(b []byte, v value, nf wire.NonFinite) ([]byte, error) {
	switch v.k {
	case kNil:
		return wire.AppendNull(b), nil
	case kInt:
		return wire.AppendInt(b, int64(v.n)), nil
	case kUint:
		return wire.AppendUint(b, v.n), nil
	case kFloat:
		return wire.AppendFloat(b, math.Float64frombits(v.n))
	case kBool:
		return wire.AppendBool(b, v.n != 0), nil
	case kString:
		return wire.AppendString(b, v.s), nil
	case kBytes:
		return wire.AppendBytes(b, bytesOf(v.s)), nil
	case kRawJSON:
		return append(b, v.rawBytes()...), nil
	case kRawCBOR:
		return wire.AppendCBORAsJSON(b, v.rawBytes(), nf)
	}
	switch x := v.x.(type) {
	case PortID:
		return wire.AppendString(b, string(x)), nil
	case Reason:
		return wire.AppendValue(b, []any(x))
	}
	return wire.AppendValue(b, v.x)
}

// decodeLocal stores a local value into dst: a plain assignment when the
// types match, otherwise through the value's JSON form.
func decodeLocal(v value, dst any) error {
	switch v.k {
	case kRawJSON:
		return wrapType(wire.Decode(v.rawBytes(), dst))
	case kRawCBOR:
		return wrapType(wire.DecodeCBOR(v.rawBytes(), dst))
	}
	switch d := dst.(type) {
	case *int64:
		x, err := v.toInt()
		*d = x
		return err
	case *int:
		x, err := v.toInt()
		if err == nil && int64(int(x)) != x {
			err = fmt.Errorf("%w: %d overflows int", ErrType, x)
		}
		*d = int(x)
		return err
	case *float64:
		x, err := v.toFloat()
		*d = x
		return err
	case *string:
		x, err := v.toString()
		*d = x
		return err
	case *bool:
		x, err := v.toBool()
		*d = x
		return err
	case *any:
		*d = v.iface()
		return nil
	case *PortID:
		x, err := v.toString()
		*d = PortID(x)
		return err
	}
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: Decode needs a non-nil pointer, got %T", ErrType, dst)
	}
	if x := v.iface(); x != nil && reflect.TypeOf(x).AssignableTo(rv.Elem().Type()) {
		rv.Elem().Set(reflect.ValueOf(x))
		return nil
	}
	b, err := encodeLocal(nil, v, wire.NonFiniteError)
	if err != nil {
		return err
	}
	if err := wire.Decode(b, dst); err != nil {
		return fmt.Errorf("%w: %w", ErrType, err)
	}
	return nil
}

// iter returns the port's argument index for m while m's handler runs (it
// remembers where the arguments start, so reading them in order is
// linear), or nil for a message outside its handler (a Clone).
func (m *Msg) iter() *wire.ArgIter {
	args := m.raw()
	if p := m.port; p != nil && len(args) > 0 && p.argsBase == &args[0] {
		return &p.args
	}
	return nil
}

// wrapType wraps a wire decoding error with ErrType.
func wrapType(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %w", ErrType, err)
	}
	return nil
}

// resetArgs points the port's argument index at m's arguments.
func (m *Msg) resetArgs(it *wire.ArgIter, raw []byte) {
	if m.isCBOR() {
		it.ResetCBOR(raw)
	} else {
		it.Reset(raw)
	}
}

// argRaw returns element i of a remote message as it was encoded (its
// JSON text or CBOR item). An argument that came as a blob is returned as
// the JSON string it stands for on the wire (a new slice): that is what
// Raw and a relay to a peer without blobs need (the typed accessors
// convert blobs as local []byte values before they get here).
func (m *Msg) argRaw(i int) ([]byte, error) {
	if b, ok := m.blob(i - 1); ok {
		return wire.AppendBytes(nil, b), nil
	}
	return m.storedRaw(i)
}

// storedRaw is argRaw for an element that is not a blob (the caller has
// checked): its text or CBOR item.
func (m *Msg) storedRaw(i int) ([]byte, error) {
	var raw []byte
	var err error
	s := m.slot(i)
	switch it := m.iter(); {
	case it != nil:
		raw, err = it.At(s)
	case m.isCBOR():
		raw, err = wire.ArgAtCBOR(m.raw(), s)
	default:
		raw, err = wire.ArgAt(m.raw(), s)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIndex, err)
	}
	return raw, nil
}

// argCount returns the number of raw items of a remote message (its
// arguments, and its tag when that is stored with them).
func (m *Msg) argCount() (int, error) {
	if it := m.iter(); it != nil {
		return it.Len()
	}
	if m.isCBOR() {
		return wire.CountArgsCBOR(m.raw())
	}
	return wire.CountArgs(m.raw())
}
