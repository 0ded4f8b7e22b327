package wire

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Blob envelopes: an extension between Go nodes that carries byte-string
// arguments as raw bytes instead of JSON strings of code points
// U+0000…U+00FF. It is used only on goframe1 links whose peer announced
// it in its greeting (key "blobs", value BlobsVersion); Perl nodes never
// see it. A blob envelope is one goframe1 message payload:
//
//	0x01                  BlobMagic (a JSON text never starts with it)
//	u32 big-endian        n, the length of the JSON envelope text
//	n bytes               the JSON envelope [local, tag, args…]; each
//	                      argument carried as a blob is null in it
//	u16 big-endian        k, the number of blobs (at least 1)
//	k × (u32, u32)        big-endian: the argument's index (0 = the first
//	                      argument after the tag), strictly increasing, and
//	                      the blob's length
//	the blobs' bytes      concatenated in table order, and nothing after
//
// On the wire a blob stands for the JSON string of the same bytes (see
// AppendBytes): that is what a node sends on when it relays the message to
// a peer that does not take blobs. A Go receiver knows it was a []byte.

// BlobMagic is the first byte of a blob envelope.
const BlobMagic byte = 0x01

// BlobsVersion is the value of the greeting key "blobs" of a node that
// accepts blob envelopes.
const BlobsVersion = "1"

// blobHeadLen is the size of the magic and the JSON length.
const blobHeadLen = 5

// maxBlobs bounds the table (u16 count).
const maxBlobs = 1<<16 - 1

// IsBlobEnvelope reports whether msg is a blob envelope (by its first byte;
// SplitBlobEnvelope checks the rest).
func IsBlobEnvelope(msg []byte) bool { return len(msg) > 0 && msg[0] == BlobMagic }

// BeginBlobEnvelope appends the head of a blob envelope; append the JSON
// envelope next, then call EndBlobJSON with the returned mark.
func BeginBlobEnvelope(b []byte) (out []byte, mark int) {
	b = append(b, BlobMagic, 0, 0, 0, 0)
	return b, len(b)
}

// EndBlobJSON fills in the length of the JSON text appended since
// BeginBlobEnvelope returned mark, and appends the blob count k. Append k
// table entries with AppendBlobEntry, then the blobs' bytes.
func EndBlobJSON(b []byte, mark, k int) ([]byte, error) {
	n := len(b) - mark
	if k < 1 || k > maxBlobs {
		return b, fmt.Errorf("%w: %d blobs in one message (1…%d)", ErrRange, k, maxBlobs)
	}
	if uint64(n) > 1<<32-1 {
		return b, fmt.Errorf("%w: envelope of %d bytes", ErrRange, n)
	}
	binary.BigEndian.PutUint32(b[mark-4:], uint32(n))
	return binary.BigEndian.AppendUint16(b, uint16(k)), nil
}

// AppendBlobEntry appends one table entry: argument index arg, n bytes.
func AppendBlobEntry(b []byte, arg, n int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(arg))
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// Blobs is the validated blob section of a blob envelope: the table and
// the data after it. The zero value has no blobs.
type Blobs []byte

// SplitBlobEnvelope splits a blob envelope into its JSON envelope text and
// its blob section, checking the structure: lengths, a non-empty table with
// strictly increasing argument indexes, and blob lengths that add up to
// exactly the bytes that follow. It does not look inside the JSON text.
func SplitBlobEnvelope(msg []byte) (text []byte, blobs Blobs, err error) {
	if len(msg) < blobHeadLen || msg[0] != BlobMagic {
		return nil, nil, fmt.Errorf("%w: not a blob envelope", ErrSyntax)
	}
	n := binary.BigEndian.Uint32(msg[1:])
	rest := msg[blobHeadLen:]
	if uint64(n) > uint64(len(rest)) {
		return nil, nil, fmt.Errorf("%w: blob envelope: JSON length %d beyond the %d bytes left", ErrSyntax, n, len(rest))
	}
	text, rest = rest[:n], rest[n:]
	if len(rest) < 2 {
		return nil, nil, fmt.Errorf("%w: blob envelope: no blob table", ErrSyntax)
	}
	k := int(binary.BigEndian.Uint16(rest))
	if k == 0 {
		return nil, nil, fmt.Errorf("%w: blob envelope: empty blob table", ErrSyntax)
	}
	if len(rest)-2 < 8*k {
		return nil, nil, fmt.Errorf("%w: blob envelope: table of %d entries truncated", ErrSyntax, k)
	}
	data := uint64(len(rest) - 2 - 8*k)
	var sum uint64
	prev := int64(-1)
	for i := range k {
		e := rest[2+8*i:]
		arg := int64(binary.BigEndian.Uint32(e))
		if arg <= prev {
			return nil, nil, fmt.Errorf("%w: blob envelope: argument indexes not increasing (%d after %d)", ErrSyntax, arg, prev)
		}
		prev = arg
		sum += uint64(binary.BigEndian.Uint32(e[4:]))
	}
	if sum != data {
		return nil, nil, fmt.Errorf("%w: blob envelope: blobs add up to %d bytes, %d follow the table", ErrSyntax, sum, data)
	}
	return text, Blobs(rest), nil
}

// Len is the number of blobs.
func (bs Blobs) Len() int {
	if len(bs) < 2 {
		return 0
	}
	return int(binary.BigEndian.Uint16(bs))
}

// At returns the argument index and bytes of blob j (0 ≤ j < Len()).
func (bs Blobs) At(j int) (arg int, data []byte) {
	k := bs.Len()
	off := 2 + 8*k
	for i := range j {
		off += int(binary.BigEndian.Uint32(bs[2+8*i+4:]))
	}
	e := bs[2+8*j:]
	n := int(binary.BigEndian.Uint32(e[4:]))
	return int(binary.BigEndian.Uint32(e)), bs[off : off+n : off+n]
}

// Mask returns a bit set of the arguments carried as blobs: bit a for
// argument a < 63, and bit 63 for any argument from 63 on. An argument
// whose bit is clear is not a blob, without the walk of Get.
func (bs Blobs) Mask() uint64 {
	var mask uint64
	for i := range bs.Len() {
		a := binary.BigEndian.Uint32(bs[2+8*i:])
		mask |= 1 << min(a, 63)
	}
	return mask
}

// Get returns the bytes of argument arg when it is carried as a blob.
func (bs Blobs) Get(arg int) ([]byte, bool) {
	k := bs.Len()
	off := 2 + 8*k
	for i := range k {
		e := bs[2+8*i:]
		a := int(binary.BigEndian.Uint32(e))
		n := int(binary.BigEndian.Uint32(e[4:]))
		if a == arg {
			return bs[off : off+n : off+n], true
		}
		if a > arg {
			break
		}
		off += n
	}
	return nil, false
}

// BlobEnvelopeToJSON appends the JSON envelope that the blob envelope msg
// stands for: every blob becomes the JSON string of its bytes
// (AppendBytes), everything else is copied as it is. A node uses it for
// messages it encoded as blob envelopes before it knew that the peer does
// not take them.
func BlobEnvelopeToJSON(b, msg []byte) ([]byte, error) {
	text, bs, err := SplitBlobEnvelope(msg)
	if err != nil {
		return b, err
	}
	env, err := ScanHead(text)
	if err != nil {
		return b, err
	}
	if len(env.Args) == 0 {
		return append(b, text...), nil
	}
	start := int(uintptr(unsafe.Pointer(unsafe.SliceData(env.Args))) - uintptr(unsafe.Pointer(unsafe.SliceData(text))))
	b = append(b, text[:start]...)
	if b, err = AppendArgsWithBlobs(b, env.Args, bs); err != nil {
		return b, err
	}
	return append(b, text[start+len(env.Args):]...), nil // "]" and what follows it
}

// AppendArgsWithBlobs appends the argument list args (Envelope.Args of a
// blob envelope) with every argument that bs carries as a blob replaced by
// the JSON string of its bytes (AppendBytes).
func AppendArgsWithBlobs(b, args []byte, bs Blobs) ([]byte, error) {
	return AppendElemsWithBlobs(b, args, bs, 0)
}

// AppendElemsWithBlobs is AppendArgsWithBlobs for a list whose first skip
// elements are not arguments (a tag kept with them): the element k is
// argument k-skip of the blob table.
func AppendElemsWithBlobs(b, elems []byte, bs Blobs, skip int) ([]byte, error) {
	var it ArgIter
	it.Reset(elems)
	n, err := it.Len()
	if err != nil {
		return b, err
	}
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if d, ok := bs.Get(i - skip); i >= skip && ok {
			b = AppendBytes(b, d)
			continue
		}
		a, err := it.At(i)
		if err != nil {
			return b, err
		}
		b = append(b, a...)
	}
	return b, nil
}
