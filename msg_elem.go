package aemp

import (
	"unsafe"

	"github.com/aemp-go/aemp/wire"
)

// Messages built from the elements of another, each element kept as it
// was encoded: the exact pass-through of echo handlers and of the node
// protocol's relays and replies.

// AppendElem appends element i of src to m exactly as it is: an element of
// a message from another node keeps its encoding (its JSON text, its CBOR
// item, or the bytes of a blob), so that on a link of the same encoding
// it goes out byte for byte — major types, widths and NaN bits of CBOR
// included — and on any other it is transcoded as a relay is (see
// [Node.SndMsg]); an element of a local message is appended as its value.
// Element 0 (the tag) may be appended too, as any other.
//
// The element is not copied: it aliases src's network buffer, so m must
// be sent (SndMsg encodes it for another node at once, and copies it for a
// local port) or cloned ([Msg.Clone]) before src's handler returns. m is
// a message being built (NewMsg); it fails like src's accessors if
// element i does not exist or is malformed.
func (m *Msg) AppendElem(src *Msg, i int) error {
	if b, ok := src.blob(i - 1); ok {
		m.appendValue(blobValue(b))
		m.flags |= msgBorrowed
		return nil
	}
	if src.stored(i) {
		raw, err := src.argRaw(i)
		if err != nil {
			return src.wrap(i, err)
		}
		k := kRawJSON
		if src.isCBOR() {
			k = kRawCBOR
		}
		m.appendValue(value{k: k, s: unsafe.String(unsafe.SliceData(raw), len(raw))})
		m.flags |= msgBorrowed
		return nil
	}
	v, err := src.local(i)
	if err != nil {
		return src.wrap(i, err)
	}
	if src.flags&msgBorrowed != 0 {
		m.flags |= msgBorrowed
	}
	m.appendValue(v)
	return nil
}

// elemsMsg returns a message whose elements are src's from element k on,
// each kept as it was (AppendElem), the first as the tag; call settleTag
// once it is complete.
func elemsMsg(src *Msg, k int) (*Msg, error) {
	out := &Msg{flags: msgTagElem}
	for i, n := k, src.Len(); i < n; i++ {
		if err := out.AppendElem(src, i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// settleTag finishes a message built element by element with its tag
// stored as element 0 (msgTagElem): a plain local string becomes the tag
// as usual; anything else stays an element, with its text (as Perl
// stringifies it) as the tag handlers match.
func (m *Msg) settleTag() {
	if !m.tagElem() {
		return
	}
	if m.n == 0 {
		m.flags &^= msgTagElem
		m.tag = ""
		return
	}
	v := m.arg(0)
	if s, ok := plainString(v); ok {
		v = value{k: kString, s: s}
	}
	if v.k != kString {
		m.tag, _ = v.toString() // null and containers: ""
		return
	}
	vals := make([]value, m.n-1)
	for i := range vals {
		vals[i] = m.arg(i + 1)
	}
	borrowed := m.flags & msgBorrowed
	*m = Msg{tag: v.s, flags: borrowed}
	for _, x := range vals {
		m.appendValue(x)
	}
}

// plainString returns a raw element that is a string which encoding its
// text gives back exactly (any JSON string; a CBOR string that
// AppendCBORString writes byte for byte), as a string of its own.
func plainString(v value) (string, bool) {
	raw := v.rawBytes()
	switch v.k {
	case kRawJSON:
		if wire.KindOf(raw) == wire.KindString {
			s, err := wire.DecodeString(raw)
			return s, err == nil
		}
	case kRawCBOR:
		if wire.CBORKindOf(raw) == wire.KindString {
			s, err := wire.DecodeCBORString(raw)
			return s, err == nil && string(wire.AppendCBORString(nil, s)) == string(raw)
		}
	}
	return "", false
}

// textValues is Values with CBOR byte strings as strings: for what the
// node interprets itself (kill reasons, the global database), where a Perl
// string is a string whichever major type CBOR::XS gave it.
func (m *Msg) textValues() ([]any, error) {
	if !m.isCBOR() {
		return m.Values()
	}
	n, err := m.argCount()
	if err != nil {
		return nil, m.wrap(1, wrapType(err))
	}
	vals := make([]any, n+1-m.shift())
	for i := range vals {
		if !m.stored(i) {
			vals[i] = m.tag
			continue
		}
		raw, err := m.argRaw(i)
		if err != nil {
			return nil, m.wrap(i, err)
		}
		if vals[i], err = wire.DecodeCBORAnyText(raw); err != nil {
			return nil, m.wrap(i, wrapType(err))
		}
	}
	return vals, nil
}
