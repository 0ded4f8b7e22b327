package frame

import (
	"encoding/binary"
	"fmt"

	"github.com/aemp-go/aemp/internal/jsonlex"
	"github.com/klauspost/compress/s2"
)

// HeaderLen is the size of a goframe1 header: u32 big-endian payload length
// and one flags byte.
const HeaderLen = 5

// goframe1 flag bits.
const (
	// FlagBatch: the payload is a sequence of messages, each a u32
	// big-endian length followed by that many bytes.
	FlagBatch byte = 1 << 0
	// FlagS2: the payload is an s2 block (klauspost/compress/s2). Applied to
	// the whole payload, before batch decoding.
	FlagS2 byte = 1 << 1
	// FlagCredit marks a control frame of the credit-based flow control
	// between Go nodes: the payload is a u32 big-endian number of bytes the
	// receiver of this frame may send in addition (see AppendCredit). It is
	// not a message and carries no other flag.
	FlagCredit byte = 1 << 2

	flagsKnown = FlagBatch | FlagS2 | FlagCredit
)

// CreditLen is the size of a complete credit frame.
const CreditLen = HeaderLen + 4

// AppendCredit appends a credit frame granting n more bytes.
func AppendCredit(b []byte, n uint32) []byte {
	b = AppendHeader(b, FlagCredit, 4)
	return binary.BigEndian.AppendUint32(b, n)
}

// ParseCredit returns the grant of a credit frame's payload.
func ParseCredit(f Frame) (uint32, error) {
	if f.Flags != FlagCredit || len(f.Payload) != 4 {
		return 0, fmt.Errorf("%w: malformed credit frame", ErrCorrupt)
	}
	return binary.BigEndian.Uint32(f.Payload), nil
}

// Defaults for the limits.
const (
	// DefaultMaxFrame is the default maximum payload size of a frame, of a
	// decompressed payload and of a JSON text.
	DefaultMaxFrame = 1 << 20
	// DefaultCompressThreshold: payloads up to this size are sent
	// uncompressed.
	DefaultCompressThreshold = 4 << 10
	// DefaultMaxDepth is the default maximum nesting depth of a JSON text
	// (the top-level array is level 1); it equals wire.MaxDepth, the
	// deepest nesting the envelope scanner and the decoders accept, so a
	// larger JSONSplitter.MaxDepth lets through texts that package wire
	// then rejects.
	DefaultMaxDepth = jsonlex.MaxDepth
)

// Frame is one parsed goframe1 frame. Payload aliases the parsed buffer.
type Frame struct {
	Flags   byte
	Payload []byte
}

// PutHeader writes a header for a payload of n bytes into h[:HeaderLen].
func PutHeader(h []byte, flags byte, n int) {
	_ = h[4]
	binary.BigEndian.PutUint32(h, uint32(n))
	h[4] = flags
}

// AppendHeader appends the header of a frame with an n-byte payload.
func AppendHeader(b []byte, flags byte, n int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	return append(b, flags)
}

// AppendFrame appends a complete frame holding payload.
func AppendFrame(b []byte, flags byte, payload []byte) []byte {
	b = AppendHeader(b, flags, len(payload))
	return append(b, payload...)
}

// AppendBatchItem appends one message of a batch payload (u32 length and the
// bytes).
func AppendBatchItem(b, msg []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(msg)))
	return append(b, msg...)
}

// Need reports how many bytes the frame starting at b occupies in total
// (header included), or 0 if b does not yet hold a whole header. It checks the
// length against max and the flags, so a caller can size its buffer before
// reading the rest of the frame.
func Need(b []byte, max int) (int, error) {
	if len(b) < HeaderLen {
		return 0, nil
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(max) {
		return 0, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrFrameTooLarge, n, max)
	}
	if f := b[4]; f&^flagsKnown != 0 {
		return 0, fmt.Errorf("%w: 0x%02x", ErrReservedFlags, f)
	}
	return HeaderLen + int(n), nil
}

// Parse parses the frame at the start of b without copying. It returns the
// frame and the number of bytes it occupies; n == 0 with a nil error means b
// does not yet hold the whole frame. The payload length is checked against
// max before anything else, so a hostile length is rejected from the header
// alone.
func Parse(b []byte, max int) (f Frame, n int, err error) {
	n, err = Need(b, max)
	if n == 0 || err != nil || len(b) < n {
		return Frame{}, 0, err
	}
	return Frame{Flags: b[4], Payload: b[HeaderLen:n:n]}, n, nil
}

// Batch iterates over the messages of a FlagBatch payload.
//
//	it := frame.NewBatch(payload)
//	for msg, ok := it.Next(); ok; msg, ok = it.Next() { … }
//	if err := it.Err(); err != nil { … }
type Batch struct {
	rest []byte
	err  error
}

// NewBatch returns an iterator over a batch payload.
func NewBatch(payload []byte) Batch { return Batch{rest: payload} }

// Next returns the next message (aliasing the payload), or ok == false at the
// end or on a malformed item (see Err).
func (it *Batch) Next() (msg []byte, ok bool) {
	if len(it.rest) == 0 || it.err != nil {
		return nil, false
	}
	if len(it.rest) < 4 {
		it.err = fmt.Errorf("%w: truncated batch item header", ErrCorrupt)
		return nil, false
	}
	n := binary.BigEndian.Uint32(it.rest)
	if uint64(n) > uint64(len(it.rest)-4) {
		it.err = fmt.Errorf("%w: batch item of %d bytes, %d left", ErrCorrupt, n, len(it.rest)-4)
		return nil, false
	}
	msg = it.rest[4 : 4+n : 4+n]
	it.rest = it.rest[4+n:]
	return msg, true
}

// Err reports a malformed batch after Next returned false.
func (it *Batch) Err() error { return it.err }

// MaxCompressedLen is the most bytes Compress appends for n bytes of input.
func MaxCompressedLen(n int) int { return s2.MaxEncodedLen(n) }

// Compress appends the s2 block encoding of src to dst.
func Compress(dst, src []byte) []byte {
	need := s2.MaxEncodedLen(len(src))
	if need < 0 {
		panic("frame: payload too large to compress")
	}
	l := len(dst)
	if cap(dst)-l < need {
		nd := make([]byte, l, l+need)
		copy(nd, dst)
		dst = nd
	}
	enc := s2.Encode(dst[l:l+need], src)
	return dst[:l+len(enc)]
}

// DecodedLen returns the decompressed size of an s2 block, checked against
// max, without decoding it.
func DecodedLen(src []byte, max int) (int, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if n > max {
		return 0, fmt.Errorf("%w: decompresses to %d bytes, limit %d", ErrFrameTooLarge, n, max)
	}
	return n, nil
}

// Decompress appends the decoding of the s2 block src to dst. The decoded
// size is checked against max before any allocation.
func Decompress(dst, src []byte, max int) ([]byte, error) {
	n, err := DecodedLen(src, max)
	if err != nil {
		return dst, err
	}
	l := len(dst)
	if cap(dst)-l < n {
		nd := make([]byte, l, l+n)
		copy(nd, dst)
		dst = nd
	}
	out, err := s2.Decode(dst[l:l+n], src)
	if err != nil {
		return dst, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(out) != n {
		return dst, fmt.Errorf("%w: decoded length mismatch", ErrCorrupt)
	}
	return dst[:l+n], nil
}
