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

// appendEnvelope appends the JSON envelope [local, tag, args…] of m.
func appendEnvelope(b []byte, local string, m *Msg) ([]byte, error) {
	b = wire.AppendEnvelopeHead(b, local, m.tag)
	if m.isRemote() { // relaying a received message: its arguments are JSON already
		if raw := m.raw(); len(raw) > 0 {
			b = append(b, ',')
			b = append(b, raw...)
		}
		return append(b, ']'), nil
	}
	var err error
	for i := 0; i < int(m.n); i++ {
		b = append(b, ',')
		if b, err = encodeLocal(b, m.arg(i)); err != nil {
			return b, fmt.Errorf("aemp: message %q argument %d: %w", truncate(m.tag, 30), i+1, err)
		}
	}
	return append(b, ']'), nil
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
func (m *Msg) argRaw(i int) ([]byte, error) {
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
