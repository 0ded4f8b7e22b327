package wire

import (
	"bytes"
	"testing"
)

// FuzzCBORMessage: whatever a peer sends as a CBOR message, the head
// scanner, the argument iterator, every decoder and both transcoders
// return without panicking; a message ScanCBOR accepts has as many
// arguments as the iterator finds; and for a value JSON can carry, the
// CBOR → JSON → CBOR round trip is stable: the CBOR it gives goes to JSON
// and back to the same bytes.
func FuzzCBORMessage(f *testing.F) {
	for _, r := range recordedCBORMessages(f) {
		f.Add(r.Wire)
	}
	for _, s := range []string{"80", "9f 5f 41 61 40 ff 7f 61 61 ff ff", "83 41 78 18 2a 41 78", "82 c2 49 010000000000000000 d819 00",
		"84 40 40 fa7fc00000 a2 01 02 41 61 f7", "83 40 40 bf 5f 41 61 ff 9f f5 f4 ff ff"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		e, err := ScanCBOR(msg)
		if err == nil {
			e.LocalText(nil)
			e.TagText(nil)
			var it ArgIter
			it.ResetCBOR(e.Args)
			n, err := it.Len()
			if err != nil || n != e.NArgs {
				t.Fatalf("ScanCBOR accepted %x with %d args; the iterator finds %d, %v", msg, e.NArgs, n, err)
			}
			for i := range n {
				raw, err := it.At(i)
				if err != nil {
					t.Fatal(err)
				}
				decodeAll(raw)
			}
		}
		decodeAll(msg)
		j1, err := AppendCBORAsJSON(nil, msg, NonFiniteError)
		if err != nil {
			return
		}
		if !Valid(j1) {
			t.Fatalf("%x transcoded to invalid JSON %q", msg, j1)
		}
		c1, err := AppendJSONAsCBOR(nil, j1)
		if err != nil {
			t.Fatalf("%q (from %x) back to CBOR: %v", j1, msg, err)
		}
		// c1 is CBOR as this package writes it: from here on the trip is exact
		// (the first may turn a float CBOR::XS would have sent as an integer
		// into that integer)
		j2, err := AppendCBORAsJSON(nil, c1, NonFiniteError)
		if err != nil {
			t.Fatalf("%x (from %q) to JSON: %v", c1, j1, err)
		}
		c2, err := AppendJSONAsCBOR(nil, j2)
		if err != nil || !bytes.Equal(c1, c2) {
			t.Fatalf("round trip of %x: %x then %x, %v", msg, c1, c2, err)
		}
		if j3, err := AppendCBORAsJSON(nil, c2, NonFiniteError); err != nil || !bytes.Equal(j2, j3) {
			t.Fatalf("round trip of %x: %s then %s, %v", msg, j2, j3, err)
		}
	})
}

func decodeAll(raw []byte) {
	DecodeCBORInt(raw)
	DecodeCBORUint(raw)
	DecodeCBORFloat(raw)
	DecodeCBORString(raw)
	DecodeCBORBool(raw)
	DecodeCBORBytes(raw)
	DecodeCBORAny(raw)
	CBORKindOf(raw)
	var v any
	DecodeCBOR(raw, &v)
	var s struct {
		A []int
		B string `json:"b"`
	}
	DecodeCBOR(raw, &s)
	var i8 int8
	DecodeCBOR(raw, &i8)
	AppendCBORAsJSON(nil, raw, NonFiniteSubstitute)
}
