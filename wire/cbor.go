package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unsafe"
)

// The CBOR side of envelopes (AEMP's cbor framing, spec §3.11, §8 item 12):
// a message is one CBOR array [local, tag, args…], as CBOR::XS writes it.
// Receiving works as for JSON: ScanCBOR finds the local part and the tag
// and leaves the arguments as raw items in the caller's buffer; an ArgIter
// (ResetCBOR) gives indexed access to them and the DecodeCBOR* functions
// convert one item. The accessors follow the JSON rules of decode.go
// (numbers and numeric strings convert to each other, Perl truthiness),
// with what CBOR carries on top: byte strings (major type 2) are strings
// AND bytes, integers are exact up to 64 bits, floats keep their value.
//
// Byte strings and text strings are treated alike wherever a string is
// wanted (local part, tag, DecodeCBORString): CBOR::XS sends every Perl
// string that is not UTF-8-flagged as a byte string. Tags (major type 6)
// are skipped: the tagged item stands for itself, except bignums (tags 2
// and 3, which are numbers) and the stringref and shared-reference tags
// 25 and 29 (which refer to other items and are refused: CBOR::XS sends
// them only with pack_strings or allow_sharing, which AEMP does not set).

// cborErr is a malformed-CBOR SyntaxError at offset off.
func cborErr(off int, msg string) error { return &SyntaxError{Offset: off, Msg: msg, CBOR: true} }

// cborTrunc is the error of an item that ends early.
func cborTrunc(off int) error {
	return &SyntaxError{Offset: off, Msg: "unexpected end of input", Truncated: true, CBOR: true}
}

// cborHead reads the head of the item at b[i]: its major type, additional
// information, argument (0 for indefinite lengths) and the index after it.
func cborHead(b []byte, i int) (major, ai byte, val uint64, next int, err error) {
	if i >= len(b) {
		return 0, 0, 0, i, cborTrunc(i)
	}
	c := b[i]
	major, ai = c>>5, c&31
	n := 0
	switch {
	case ai < 24:
		return major, ai, uint64(ai), i + 1, nil
	case ai == 31:
		return major, ai, 0, i + 1, nil
	case ai == 24:
		n = 1
	case ai == 25:
		n = 2
	case ai == 26:
		n = 4
	case ai == 27:
		n = 8
	default:
		return 0, 0, 0, i, cborErr(i, "reserved additional information "+strconv.Itoa(int(ai)))
	}
	if len(b)-i-1 < n {
		return 0, 0, 0, len(b), cborTrunc(len(b))
	}
	switch n {
	case 1:
		val = uint64(b[i+1])
		if major == 7 && val < 32 {
			return 0, 0, 0, i, cborErr(i, "simple value below 32 in two bytes")
		}
	case 2:
		val = uint64(binary.BigEndian.Uint16(b[i+1:]))
	case 4:
		val = uint64(binary.BigEndian.Uint32(b[i+1:]))
	case 8:
		val = binary.BigEndian.Uint64(b[i+1:])
	}
	return major, ai, val, i + 1 + n, nil
}

// skipCBOR validates the item starting at b[i] (well-formedness, nesting)
// and returns the index after it. depth is the nesting level of the
// item's container (1 for an element of the message array); arrays,
// maps and tags each add a level, bounded by MaxDepth.
func skipCBOR(b []byte, i, depth int) (int, error) {
	major, ai, val, j, err := cborHead(b, i)
	if err != nil {
		return j, err
	}
	switch major {
	case 0, 1:
		if ai == 31 {
			return i, cborErr(i, "indefinite length on an integer")
		}
		return j, nil
	case 2, 3:
		if ai == 31 {
			return skipChunks(b, i, j, major)
		}
		if val > uint64(len(b)-j) {
			return len(b), cborTrunc(len(b))
		}
		return j + int(val), nil
	case 4, 5:
		if depth >= MaxDepth {
			return i, &depthError{i}
		}
		if ai == 31 {
			k := 0
			for ; ; k++ {
				if j >= len(b) {
					return j, cborTrunc(j)
				}
				if b[j] == 0xff {
					break
				}
				if j, err = skipCBOR(b, j, depth+1); err != nil {
					return j, err
				}
			}
			if major == 5 && k%2 != 0 {
				return j, cborErr(j, "break after a map key")
			}
			return j + 1, nil
		}
		if val > uint64(len(b)-j) { // every item takes a byte at least
			return len(b), cborTrunc(len(b))
		}
		n := int(val)
		if major == 5 {
			n *= 2
		}
		for range n {
			if j, err = skipCBOR(b, j, depth+1); err != nil {
				return j, err
			}
		}
		return j, nil
	case 6:
		if ai == 31 {
			return i, cborErr(i, "indefinite length on a tag")
		}
		if depth >= MaxDepth {
			return i, &depthError{i}
		}
		return skipCBOR(b, j, depth+1)
	}
	if ai == 31 {
		return i, cborErr(i, "break outside an indefinite item")
	}
	return j, nil
}

// skipChunks skips the chunks of an indefinite string whose head is at i
// (chunks from j on) and returns the index after its break.
func skipChunks(b []byte, i, j int, major byte) (int, error) {
	for {
		if j >= len(b) {
			return j, cborTrunc(j)
		}
		if b[j] == 0xff {
			return j + 1, nil
		}
		m, ai, val, k, err := cborHead(b, j)
		if err != nil {
			return k, err
		}
		if m != major || ai == 31 {
			return j, cborErr(j, "chunk of an indefinite string is not a definite string of its type")
		}
		if val > uint64(len(b)-k) {
			return len(b), cborTrunc(len(b))
		}
		j = k + int(val)
	}
}

// untag returns the offset of the first item at or after i that is not a
// tag, and the last tag number seen (-1: none).
func untag(b []byte, i int) (int, int64, error) {
	tag := int64(-1)
	for n := 0; i < len(b) && b[i]>>5 == 6; n++ {
		if n >= MaxDepth {
			return i, tag, &depthError{i}
		}
		_, ai, val, j, err := cborHead(b, i)
		if err != nil {
			return j, tag, err
		}
		if ai == 31 {
			return i, tag, cborErr(i, "indefinite length on a tag")
		}
		tag = int64(min(val, math.MaxInt64))
		i = j
	}
	return i, tag, nil
}

// CBORKindOf returns the kind of the CBOR item in raw, judged by its head
// (tags skipped): integers, floats and bignums are KindNumber, byte and
// text strings KindString, undefined is KindNull. It returns KindNone for
// empty or malformed input and for simple values other than false, true,
// null and undefined.
func CBORKindOf(raw []byte) Kind {
	i, tag, err := untag(raw, 0)
	if err != nil || i >= len(raw) {
		return KindNone
	}
	switch c := raw[i]; c >> 5 {
	case 0, 1:
		return KindNumber
	case 2:
		if tag == 2 || tag == 3 {
			return KindNumber
		}
		return KindString
	case 3:
		return KindString
	case 4:
		return KindArray
	case 5:
		return KindObject
	default:
		switch c {
		case 0xf4, 0xf5:
			return KindBool
		case 0xf6, 0xf7:
			return KindNull
		case 0xf9, 0xfa, 0xfb:
			return KindNumber
		}
	}
	return KindNone
}

// ValidCBOR reports whether b holds exactly one well-formed CBOR item
// nesting at most MaxDepth levels.
func ValidCBOR(b []byte) bool {
	j, err := skipCBOR(b, 0, 0)
	return err == nil && j == len(b)
}

// IsCBOREnvelope reports whether msg is a CBOR message by its first byte:
// an array head (0x80…0x9f), which starts no JSON text and no blob
// envelope.
func IsCBOREnvelope(msg []byte) bool { return len(msg) > 0 && msg[0]>>5 == 4 }

// ScanCBOR scans one complete CBOR message, b exactly one array item. It
// validates the whole item (well-formedness, nesting up to MaxDepth) and
// returns its Envelope (CBOR set): Local and Tag hold the contents of a
// definite byte or text string, zero-copy; for any other local part or tag
// (a number, an indefinite string…) they hold the raw item and
// LocalEscaped/TagEscaped is set, and LocalText/TagText render it the way
// Perl stringifies the value (the integer 42 is "42"). Args is the
// concatenated raw items after the tag and NArgs their number. It does not
// allocate.
func ScanCBOR(b []byte) (Envelope, error) {
	e := Envelope{CBOR: true}
	major, ai, val, j, err := cborHead(b, 0)
	if err != nil {
		return Envelope{}, err
	}
	if major != 4 {
		if k := CBORKindOf(b); k != KindNone {
			return Envelope{}, typeErrNotArray(k)
		}
		return Envelope{}, cborErr(0, "message is not a CBOR array")
	}
	indef := ai == 31
	end := len(b)
	if indef {
		if end < 2 || b[end-1] != 0xff {
			return Envelope{}, cborErr(end, "indefinite message array without its break at the end")
		}
		end--
	}
	left := int64(-1) // items left in a definite array
	if !indef {
		if val > uint64(len(b)) {
			return Envelope{}, cborTrunc(len(b))
		}
		left = int64(val)
	}
	more := func() bool { return left > 0 || left < 0 && j < end }
	if more() {
		if e.Local, e.LocalKind, e.LocalEscaped, j, err = cborHeadElem(b[:end], j); err != nil {
			return Envelope{}, err
		}
		left--
	}
	if more() {
		e.TagRaw = b[j:]
		if e.Tag, e.TagKind, e.TagEscaped, j, err = cborHeadElem(b[:end], j); err != nil {
			return Envelope{}, err
		}
		e.TagRaw = e.TagRaw[:len(e.TagRaw)-(len(b)-j)]
		left--
	}
	start := j
	for more() {
		if j, err = skipCBOR(b[:end], j, 1); err != nil {
			return Envelope{}, err
		}
		e.NArgs++
		left--
	}
	if j != end {
		return Envelope{}, cborErr(j, "data after the message array")
	}
	e.Args = b[start:end:end]
	return e, nil
}

// cborHeadElem scans the local part or the tag at b[i]: the contents of a
// definite string, or the raw item (escaped) for anything else.
func cborHeadElem(b []byte, i int) (text []byte, kind Kind, raw bool, end int, err error) {
	end, err = skipCBOR(b, i, 1)
	if err != nil {
		return nil, 0, false, end, err
	}
	kind = CBORKindOf(b[i:end])
	if c := b[i]; c>>5 == 2 || c>>5 == 3 {
		if _, ai, _, j, _ := cborHead(b, i); ai != 31 {
			return b[j:end:end], KindString, false, end, nil
		}
	}
	switch b[i] {
	case 0xf6, 0xf7:
		return nil, KindNull, false, end, nil
	case 0xf5:
		return perlTrue, KindBool, false, end, nil
	case 0xf4:
		return perlFalse, KindBool, false, end, nil
	}
	return b[i:end:end], kind, true, end, nil
}

// cborText renders a local part or tag that is not a definite string (see
// ScanCBOR) into scratch[:0]: strings assembled, numbers as their decimal
// text, anything else as its JSON text.
func cborText(raw, scratch []byte) []byte {
	out, err := DecodeCBORStringBytes(raw, scratch[:0])
	if err == nil {
		return out
	}
	// an array or map: rare, so the transcoder (which keeps its buffer
	// out of escape analysis's reach) gets its own
	j, err := AppendCBORAsJSON(nil, raw, NonFiniteSubstitute)
	if err != nil {
		return scratch[:0]
	}
	return append(scratch[:0], j...)
}

// ArgAtCBOR returns argument i (0-based) of a list of raw CBOR items such
// as a CBOR Envelope.Args, validating the items up to it.
func ArgAtCBOR(args []byte, i int) ([]byte, error) {
	var it ArgIter
	it.ResetCBOR(args)
	return it.At(i)
}

// CountArgsCBOR validates a list of raw CBOR items and returns their number.
func CountArgsCBOR(args []byte) (int, error) {
	var it ArgIter
	it.ResetCBOR(args)
	return it.Len()
}

// ResetCBOR makes the iterator serve a list of raw CBOR items (a CBOR
// Envelope.Args): items back to back, no separators.
func (it *ArgIter) ResetCBOR(args []byte) {
	*it = ArgIter{args: args, cbor: true}
}

// IsCBOR reports whether the iterator serves CBOR items.
func (it *ArgIter) IsCBOR() bool { return it.cbor }

// atCBOR is At for CBOR items.
func (it *ArgIter) atCBOR(i int) ([]byte, error) {
	k, off := it.start(i)
	args := it.args
	for {
		if off >= len(args) {
			return nil, noArg(i, k)
		}
		it.remember(k, off)
		end, err := skipCBOR(args, off, 1)
		if err != nil {
			return nil, err
		}
		if k == i {
			return args[off:end:end], nil
		}
		off = end
		k++
	}
}

// lenCBOR is Len for CBOR items.
func (it *ArgIter) lenCBOR() (int, error) {
	k, off := it.start(math.MaxInt32)
	args := it.args
	for off < len(args) {
		it.remember(k, off)
		end, err := skipCBOR(args, off, 1)
		if err != nil {
			return k, err
		}
		off = end
		k++
	}
	return k, nil
}

// cborString returns the contents of the string item at raw (tags
// skipped, chunks of an indefinite string appended to scratch), and
// whether it is a text string. ok is false for an item that is not a
// string.
func cborString(raw, scratch []byte) (s []byte, text, ok bool, err error) {
	i, tag, err := untag(raw, 0)
	if err != nil {
		return nil, false, false, err
	}
	major, ai, val, j, err := cborHead(raw, i)
	if err != nil {
		return nil, false, false, err
	}
	if major != 2 && major != 3 || major == 2 && (tag == 2 || tag == 3) || tag == 25 || tag == 29 {
		return nil, false, false, nil
	}
	if ai != 31 {
		if val > uint64(len(raw)-j) {
			return nil, false, false, cborTrunc(len(raw))
		}
		return raw[j : j+int(val) : j+int(val)], major == 3, true, nil
	}
	out := scratch[:0]
	for j < len(raw) && raw[j] != 0xff {
		_, _, val, k, err := cborHead(raw, j)
		if err != nil {
			return nil, false, false, err
		}
		if val > uint64(len(raw)-k) {
			return nil, false, false, cborTrunc(len(raw))
		}
		out = append(out, raw[k:k+int(val)]...)
		j = k + int(val)
	}
	return out, major == 3, true, nil
}

// checkOne validates that raw is exactly one item (as an element of the
// message array).
func checkOne(raw []byte) error { return checkOneAt(raw, 1) }

// checkOneAt validates that raw is exactly one item whose container is at
// nesting level depth.
func checkOneAt(raw []byte, depth int) error {
	end, err := skipCBOR(raw, 0, depth)
	if err != nil {
		return err
	}
	if end != len(raw) {
		return cborErr(end, "data after CBOR item")
	}
	return nil
}

// describe names a CBOR item for error messages.
func describeCBOR(raw []byte) string {
	if len(raw) > 12 {
		return fmt.Sprintf("%x…", raw[:12])
	}
	return fmt.Sprintf("%x", raw)
}

// CBORBytesView returns the contents of a definite byte string item (no
// tags) in place; false for anything else.
func CBORBytesView(raw []byte) ([]byte, bool) {
	if len(raw) == 0 || raw[0]>>5 != 2 {
		return nil, false
	}
	_, ai, val, j, err := cborHead(raw, 0)
	if err != nil || ai == 31 || val != uint64(len(raw)-j) {
		return nil, false
	}
	return raw[j:len(raw):len(raw)], true
}

// TagAndArgs returns the part of the message msg (the bytes e was scanned
// from) that holds the tag and the arguments: the list of raw elements
// from the tag on, for a receiver that keeps the tag as an element. It is
// e.Args when there is no tag.
func TagAndArgs(msg []byte, e *Envelope) []byte {
	if len(e.TagRaw) == 0 {
		return e.Args
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(msg)))
	start := int(uintptr(unsafe.Pointer(unsafe.SliceData(e.TagRaw))) - base)
	end := start + len(e.TagRaw)
	if len(e.Args) > 0 {
		end = int(uintptr(unsafe.Pointer(unsafe.SliceData(e.Args)))-base) + len(e.Args)
	}
	return msg[start:end:end]
}

// TagReencodes reports whether the tag is a string that a relay writes
// back as it came when it encodes it from its text: any JSON string, a
// CBOR string whose encoding by AppendCBORString is byte for byte TagRaw.
func (e *Envelope) TagReencodes() bool {
	if e.TagKind != KindString || e.TagEscaped && e.CBOR {
		return false
	}
	if !e.CBOR {
		return true
	}
	var h [9]byte
	major := byte(2)
	if cborTextString(e.Tag) {
		major = 3
	}
	head := AppendCBORHead(h[:0], major, uint64(len(e.Tag)))
	return len(e.TagRaw) == len(head)+len(e.Tag) && string(e.TagRaw[:len(head)]) == string(head)
}
