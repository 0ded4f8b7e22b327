package aemp

// TEMPORARY: JSON via encoding/json until package wire's envelope decoder
// lands; replaced in the transport integration.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

func rawArgs(raw []byte) ([]json.RawMessage, error) {
	var a []json.RawMessage
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&a); err != nil {
		return nil, err
	}
	return a, nil
}

func remoteRaw(raw []byte, i int) ([]byte, error) {
	a, err := rawArgs(raw)
	if err != nil {
		return nil, err
	}
	if i >= len(a) {
		return nil, ErrIndex
	}
	return a[i], nil
}
func remoteCount(raw []byte) (int, error) { a, err := rawArgs(raw); return len(a), err }
func remoteAny(raw []byte, i int) (any, error) {
	r, err := remoteRaw(raw, i)
	if err != nil {
		return nil, err
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(r))
	d.UseNumber()
	err = d.Decode(&v)
	return v, err
}
func remoteValue(raw []byte, i int) (value, error) {
	v, err := remoteAny(raw, i)
	if n, ok := v.(json.Number); ok {
		if x, e := n.Int64(); e == nil {
			return value{k: kInt, n: uint64(x)}, nil
		}
		f, _ := n.Float64()
		return valueOf(f), nil
	}
	return valueOf(v), err
}
func remoteInt(raw []byte, i int) (int64, error) {
	v, err := remoteValue(raw, i)
	if err != nil {
		return 0, err
	}
	return v.toInt()
}
func remoteFloat(raw []byte, i int) (float64, error) {
	v, err := remoteValue(raw, i)
	if err != nil {
		return 0, err
	}
	return v.toFloat()
}
func remoteString(raw []byte, i int) (string, error) {
	v, err := remoteValue(raw, i)
	if err != nil {
		return "", err
	}
	return v.toString()
}
func remoteBool(raw []byte, i int) (bool, error) {
	v, err := remoteValue(raw, i)
	if err != nil {
		return false, err
	}
	return v.toBool()
}
func remoteBytes(raw []byte, i int) ([]byte, error) {
	v, err := remoteValue(raw, i)
	if err != nil {
		return nil, err
	}
	return v.toBytes()
}
func remoteDecode(raw []byte, i int, dst any) error {
	r, err := remoteRaw(raw, i)
	if err != nil {
		return err
	}
	return json.Unmarshal(r, dst)
}
func encodeLocal(b []byte, v value) ([]byte, error) {
	out, err := json.Marshal(v.iface())
	return append(b, out...), err
}
func decodeLocal(v value, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: Decode needs a non-nil pointer, got %T", ErrType, dst)
	}
	x := v.iface()
	if x != nil && reflect.TypeOf(x) == rv.Elem().Type() {
		rv.Elem().Set(reflect.ValueOf(x))
		return nil
	}
	b, err := encodeLocal(nil, v)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%w: %v", ErrType, err)
	}
	return nil
}
