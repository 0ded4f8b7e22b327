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

// appendEnvelope appends the envelope [local, tag, args…] of m. With blobs
// (the peer takes blob envelopes) a message with byte-string arguments is
// encoded as a blob envelope, its bytes copied raw; otherwise, and for
// every other message, as JSON text.
func appendEnvelope(b []byte, local string, m *Msg, f wire.Format) ([]byte, error) {
	blobs := f == wire.FormatBlobs
	if m.isRemote() {
		return appendRelayed(b, local, m, blobs)
	}
	k := 0
	if blobs {
		for i := 0; i < int(m.n); i++ {
			if m.kindOf(i) == kBytes {
				k++
			}
		}
	}
	var mark int
	if k > 0 {
		b, mark = wire.BeginBlobEnvelope(b)
	}
	b = wire.AppendEnvelopeHead(b, local, m.tag)
	var err error
	for i := 0; i < int(m.n); i++ {
		b = append(b, ',')
		if k > 0 && m.kindOf(i) == kBytes {
			b = wire.AppendNull(b)
			continue
		}
		if b, err = m.encodeArg(b, i); err != nil {
			return b, fmt.Errorf("aemp: message %q argument %d: %w", truncate(m.tag, 30), i+1, err)
		}
	}
	b = append(b, ']')
	if k == 0 {
		return b, nil
	}
	if b, err = wire.EndBlobJSON(b, mark, k); err != nil {
		return b, fmt.Errorf("aemp: message %q: %w", truncate(m.tag, 30), err)
	}
	for i := 0; i < int(m.n); i++ {
		if m.kindOf(i) == kBytes {
			b = wire.AppendBlobEntry(b, i, len(m.bytesArg(i)))
		}
	}
	for i := 0; i < int(m.n); i++ {
		if m.kindOf(i) == kBytes {
			b = append(b, m.bytesArg(i)...)
		}
	}
	return b, nil
}

// appendRelayed appends the envelope of a received message sent on (its
// arguments are encoded already): a blob envelope goes out as it came when
// the peer takes blob envelopes, or with its blobs turned into JSON strings
// when it does not.
func appendRelayed(b []byte, local string, m *Msg, blobs bool) ([]byte, error) {
	bs := m.blobs()
	var mark int
	if blobs && bs != nil {
		b, mark = wire.BeginBlobEnvelope(b)
	}
	b = wire.AppendEnvelopeHead(b, local, m.tag)
	raw := m.raw()
	switch {
	case len(raw) == 0:
	case bs == nil || blobs:
		b = append(b, ',')
		b = append(b, raw...)
	default:
		var err error
		if b, err = wire.AppendArgsWithBlobs(append(b, ','), raw, bs); err != nil {
			return b, fmt.Errorf("aemp: relaying message %q: %w", truncate(m.tag, 30), err)
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

// encodeArg appends the JSON form of argument i (0-based) of a local
// message. The scalar kinds are encoded from the slot in place: copying the
// slot into a value first costs a store-forwarding stall.
func (m *Msg) encodeArg(b []byte, i int) ([]byte, error) {
	if i >= inlineArgs {
		return encodeLocal(b, m.more[i-inlineArgs])
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
	return encodeLocal(b, m.arg(i))
}

// encodeLocal appends the JSON form of one local value.
func encodeLocal(b []byte, v value) ([]byte, error) {
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
	b, err := encodeLocal(nil, v)
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

// argRaw returns the JSON text of argument i (0-based) of a remote message.
// An argument that came as a blob is returned as the JSON string it stands
// for on the wire (a new slice): that is what Raw and a relay to a peer
// without blobs need (the typed accessors convert blobs as local []byte
// values before they get here).
func (m *Msg) argRaw(i int) ([]byte, error) {
	if b, ok := m.blob(i); ok {
		return wire.AppendBytes(nil, b), nil
	}
	var raw []byte
	var err error
	if it := m.iter(); it != nil {
		raw, err = it.At(i)
	} else {
		raw, err = wire.ArgAt(m.raw(), i)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIndex, err)
	}
	return raw, nil
}

// argCount returns the number of arguments of a remote message.
func (m *Msg) argCount() (int, error) {
	if it := m.iter(); it != nil {
		return it.Len()
	}
	return wire.CountArgs(m.raw())
}
