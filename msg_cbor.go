package aemp

import (
	"math"

	"github.com/aemp-go/aemp/wire"
)

// The cbor framing toward Perl nodes (wire.FormatCBOR): local messages
// encoded by CBOR::XS's conventions (wire/cbor_encode.go), received ones
// relayed with their raw items copied when they came as CBOR and
// transcoded when they came as JSON, and the other way round.

// appendCBOR appends a local message as a CBOR envelope: its strings by
// Perl's rule (wire.AppendCBORString), or as text strings for a Go
// receiver (text).
func (m *Msg) appendCBOR(b []byte, local string, text bool) ([]byte, error) {
	sh := m.shift()
	b = wire.AppendCBORArrayHead(b, int(m.n)+2-sh)
	b = wire.AppendCBORString(b, local)
	if sh == 0 {
		b = cborStr(b, m.tag, text)
	}
	var err error
	for i := 0; i < int(m.n); i++ {
		if b, err = m.encodeArgCBOR(b, i, text); err != nil {
			return b, m.wrap(i+1-sh, err)
		}
	}
	return b, nil
}

func cborStr(b []byte, s string, text bool) []byte {
	if text {
		return wire.AppendCBORText(b, s)
	}
	return wire.AppendCBORString(b, s)
}

// encodeArgCBOR appends the CBOR form of stored value i of a local message.
func (m *Msg) encodeArgCBOR(b []byte, i int, text bool) ([]byte, error) {
	v := m.arg(i)
	switch v.k {
	case kNil:
		return wire.AppendCBORNull(b), nil
	case kInt:
		return wire.AppendCBORInt(b, int64(v.n)), nil
	case kUint:
		return wire.AppendCBORUint(b, v.n), nil
	case kFloat:
		return wire.AppendCBORFloat(b, math.Float64frombits(v.n)), nil
	case kBool:
		return wire.AppendCBORBool(b, v.n != 0), nil
	case kString:
		return cborStr(b, v.s, text), nil
	case kBytes:
		return wire.AppendCBORBytes(b, bytesOf(v.s)), nil
	case kRawCBOR:
		return append(b, v.rawBytes()...), nil
	case kRawJSON:
		if text {
			return wire.AppendJSONAsCBORText(b, v.rawBytes())
		}
		return wire.AppendJSONAsCBOR(b, v.rawBytes())
	}
	x := v.x
	switch y := x.(type) {
	case PortID:
		return cborStr(b, string(y), text), nil
	case Reason:
		x = []any(y)
	}
	if text {
		return wire.AppendCBORValueText(b, x)
	}
	return wire.AppendCBORValue(b, x)
}

// appendRelayedCBOR appends a received message for a cbor link: its CBOR
// items as they came, or its JSON elements transcoded (blobs as byte
// strings).
func appendRelayedCBOR(b []byte, local string, m *Msg) ([]byte, error) {
	n, err := m.argCount() // validates every item
	if err != nil {
		return b, err
	}
	sh := m.shift()
	b = wire.AppendCBORArrayHead(b, n+2-sh)
	b = wire.AppendCBORString(b, local)
	if sh == 0 {
		b = wire.AppendCBORString(b, m.tag)
	}
	if m.isCBOR() {
		return append(b, m.raw()...), nil
	}
	var it wire.ArgIter
	it.Reset(m.raw())
	for k := range n {
		if d, ok := m.blob(k - sh); ok {
			b = wire.AppendCBORBytes(b, d)
			continue
		}
		raw, err := it.At(k)
		if err != nil {
			return b, err
		}
		if b, err = wire.AppendJSONAsCBOR(b, raw); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendCBORRelayedJSON appends a message received as CBOR for a JSON (or
// blobs) link, every item transcoded (wire.AppendCBORAsJSON).
func appendCBORRelayedJSON(b []byte, local string, m *Msg, nf wire.NonFinite) ([]byte, error) {
	if m.tagElem() {
		b = wire.AppendString(append(b, '['), local)
	} else {
		b = wire.AppendEnvelopeHead(b, local, m.tag)
	}
	var it wire.ArgIter
	it.ResetCBOR(m.raw())
	n, err := it.Len()
	if err != nil {
		return b, err
	}
	for k := range n {
		raw, _ := it.At(k)
		if b, err = wire.AppendCBORAsJSON(append(b, ','), raw, nf); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// carriesCBOR reports whether m has elements that came as CBOR (which may
// hold NaN or ±Inf, which JSON cannot carry).
func (m *Msg) carriesCBOR() bool {
	if m.isRemote() {
		return m.isCBOR()
	}
	for i := 0; i < int(m.n); i++ {
		if m.kindOf(i) == kRawCBOR {
			return true
		}
	}
	return false
}
