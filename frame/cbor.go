package frame

import (
	"encoding/binary"
	"fmt"
)

// CBORSplitter finds the boundaries of the CBOR items in a byte stream
// (AEMP `cbor` framing, spec §3.11: one item per message, back to back, no
// length prefix and nothing between items) without decoding them. It
// checks well-formedness as RFC 8949 §3 and appendix F define it —
// definite and indefinite lengths, indefinite strings made of definite
// chunks of their own major type, "break" only where an indefinite item
// may end, no reserved additional information (28…30), no two-byte simple
// value below 32 — and that every item is an array. It does not look
// inside strings (a text string with invalid UTF-8 is well-formed; the
// decoders in package wire decide what it means) and gives tags no
// meaning. Arrays, maps and tags count as nesting levels.
//
// It keeps its state between calls, so finding an item costs O(n) however
// the bytes are chunked: a header split across two reads is read again
// (at most 9 bytes), everything else is looked at once. The calling
// protocol is JSONSplitter's: the caller keeps the unconsumed bytes in one
// slice, appends what it reads, passes the whole slice to every Next and
// drops the n bytes Next reports. The zero value is ready to use with the
// default limits. A CBORSplitter is used by one goroutine at a time.
type CBORSplitter struct {
	// MaxSize is the maximum size of one item in bytes (0: DefaultMaxFrame).
	// An item is rejected as soon as its headers say it is larger.
	MaxSize int
	// MaxDepth is the maximum nesting depth (0: DefaultMaxDepth); the
	// message array itself is level 1.
	MaxDepth int

	off   int         // next byte to examine; beyond the slice inside a string
	seen  int         // length of the slice at the end of the last call
	stack []cborLevel // open arrays, maps, tags and indefinite strings
	depth int         // levels in stack that count toward MaxDepth
	err   error       // sticky error
}

// cborLevel is one open container of the item being scanned.
type cborLevel struct {
	left uint64 // definite: items still to come; indefinite map: items seen
	kind uint8
}

// The kinds of open containers.
const (
	lvArray     uint8 = iota // definite array: left items
	lvMap                    // definite map: left keys and values
	lvTag                    // a tag: its one content item
	lvIndefList              // indefinite array, until break
	lvIndefMap               // indefinite map, until break (left counts items)
	lvIndefStr               // indefinite byte string: definite byte string chunks
	lvIndefText              // indefinite text string: definite text string chunks
)

// Reset forgets all state (and a previous error), keeping the limits.
func (s *CBORSplitter) Reset() {
	*s = CBORSplitter{MaxSize: s.MaxSize, MaxDepth: s.MaxDepth, stack: s.stack[:0]}
}

// Pending reports whether the splitter is inside an unfinished item.
func (s *CBORSplitter) Pending() bool { return s.off > 0 }

// Need returns how many bytes the slice must hold at least before the
// next call can make progress: more than its current length while a
// string's contents are still to come (a reader sizes its buffer for
// it), else 0.
func (s *CBORSplitter) Need() int {
	if s.off > s.seen {
		return s.off
	}
	return 0
}

// Next scans b, the unconsumed bytes of the stream. Results:
//
//   - msg != nil: a complete item; msg aliases b, and n = len(msg) bytes
//     are to be consumed.
//   - msg == nil, n == 0, err == nil: more bytes are needed.
//   - err != nil: the stream is malformed (wraps ErrMalformed, ErrNotArray,
//     ErrTooDeep or ErrFrameTooLarge); the error is sticky until Reset.
func (s *CBORSplitter) Next(b []byte) (msg []byte, n int, err error) {
	if s.err != nil {
		return nil, 0, s.err
	}
	if len(b) < s.seen {
		s.err = fmt.Errorf("%w: stream shrank under the splitter", ErrMalformed)
		return nil, 0, s.err
	}
	end, err := s.scan(b)
	if err != nil {
		s.err = err
		return nil, 0, err
	}
	if end > 0 {
		s.off, s.seen = 0, len(b)-end
		return b[:end:end], end, nil
	}
	s.seen = len(b)
	return nil, 0, nil
}

func (s *CBORSplitter) limits() (maxSize, maxDepth int) {
	maxSize, maxDepth = s.MaxSize, s.MaxDepth
	if maxSize <= 0 {
		maxSize = DefaultMaxFrame
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	return maxSize, maxDepth
}

func (s *CBORSplitter) malformed(at int, what string) error {
	return fmt.Errorf("%w: %s at offset %d of item", ErrMalformed, what, at)
}

// scan advances over b[s.off:]; it returns the end of a completed item, or 0.
func (s *CBORSplitter) scan(b []byte) (int, error) {
	maxSize, maxDepth := s.limits()
	for {
		if s.off > maxSize {
			return 0, fmt.Errorf("%w: CBOR item exceeds %d bytes", ErrFrameTooLarge, maxSize)
		}
		if s.off > 0 && len(s.stack) == 0 { // the item is complete once its last string is
			if s.off <= len(b) {
				return s.off, nil
			}
			return 0, nil
		}
		if s.off >= len(b) {
			return 0, nil
		}
		h, ok, err := s.head(b, s.off)
		if err != nil || !ok {
			return 0, err // !ok: the head is split, read it again with more bytes
		}
		s.off += h.len
		done, err := s.item(h, maxSize, maxDepth)
		if err != nil {
			return 0, err
		}
		if done {
			s.itemDone()
		}
	}
}

// cborHead is the head of one item.
type cborHead struct {
	at         int // offset of the head
	len        int // its size
	major, ai  byte
	val        uint64 // its argument (the additional information below 24)
	indefinite bool
}

// head reads and checks the head at b[i] in its context; ok is false if
// it is not complete in b.
func (s *CBORSplitter) head(b []byte, i int) (h cborHead, ok bool, err error) {
	c := b[i]
	h = cborHead{at: i, major: c >> 5, ai: c & 31, len: headLen(c & 31), indefinite: c&31 == 31}
	if h.len == 0 {
		return h, false, s.malformed(i, fmt.Sprintf("reserved additional information %d", h.ai))
	}
	if i+h.len > len(b) {
		return h, false, nil
	}
	h.val = uint64(h.ai)
	switch h.len {
	case 2:
		h.val = uint64(b[i+1])
	case 3:
		h.val = uint64(binary.BigEndian.Uint16(b[i+1:]))
	case 5:
		h.val = uint64(binary.BigEndian.Uint32(b[i+1:]))
	case 9:
		h.val = binary.BigEndian.Uint64(b[i+1:])
	}
	if len(s.stack) == 0 && h.major != 4 {
		if h.indefinite && h.major != 2 && h.major != 3 && h.major != 5 || h.major == 7 && h.ai == 24 && h.val < 32 {
			return h, false, s.malformed(i, "malformed head")
		}
		return h, false, fmt.Errorf("%w (CBOR major type %d)", ErrNotArray, h.major)
	}
	if n := len(s.stack); n > 0 && s.stack[n-1].kind >= lvIndefStr {
		// inside an indefinite string: definite chunks of its type, or break
		want := byte(2)
		if s.stack[n-1].kind == lvIndefText {
			want = 3
		}
		if c != 0xff && (h.major != want || h.indefinite) {
			return h, false, s.malformed(i, "chunk of an indefinite string is not a definite string of its type")
		}
	}
	return h, true, nil
}

// item handles the item whose head is h (s.off is past the head): it
// opens a container, skips a string's contents or takes a scalar; done
// reports a complete item.
func (s *CBORSplitter) item(h cborHead, maxSize, maxDepth int) (done bool, err error) {
	switch h.major {
	case 0, 1:
		if h.indefinite {
			return false, s.malformed(h.at, "indefinite length on an integer")
		}
	case 2, 3:
		if h.indefinite {
			kind := lvIndefStr
			if h.major == 3 {
				kind = lvIndefText
			}
			s.stack = append(s.stack, cborLevel{kind: kind})
			return false, nil
		}
		if h.val > uint64(maxSize) {
			return false, fmt.Errorf("%w: CBOR string of %d bytes, limit %d", ErrFrameTooLarge, h.val, maxSize)
		}
		s.off += int(h.val)
	case 4, 5, 6:
		if h.major == 6 && h.indefinite {
			return false, s.malformed(h.at, "indefinite length on a tag")
		}
		if s.depth >= maxDepth {
			return false, fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxDepth)
		}
		return s.open(h, maxSize)
	case 7:
		if h.indefinite { // break
			return true, s.endIndefinite(h.at)
		}
		if h.ai == 24 && h.val < 32 {
			return false, s.malformed(h.at, fmt.Sprintf("simple value %d in two bytes", h.val))
		}
	}
	return true, nil
}

// open opens an array, a map or a tag; an empty definite container is
// complete at once.
func (s *CBORSplitter) open(h cborHead, maxSize int) (done bool, err error) {
	switch {
	case h.major == 6:
		s.push(lvTag, 1)
		return false, nil
	case h.indefinite:
		kind := lvIndefList
		if h.major == 5 {
			kind = lvIndefMap
		}
		s.push(kind, 0)
		return false, nil
	case h.val > uint64(maxSize):
		return false, fmt.Errorf("%w: CBOR container of %d items, limit %d bytes", ErrFrameTooLarge, h.val, maxSize)
	}
	n := h.val
	if h.major == 5 {
		n *= 2
	}
	if n == 0 {
		return true, nil
	}
	s.push(lvArray+h.major-4, n)
	return false, nil
}

// headLen is the size of an item's head by its additional information
// (0 for the reserved values 28…30).
func headLen(ai byte) int {
	switch {
	case ai < 24, ai == 31:
		return 1
	case ai == 24:
		return 2
	case ai == 25:
		return 3
	case ai == 26:
		return 5
	case ai == 27:
		return 9
	}
	return 0
}

func (s *CBORSplitter) push(kind uint8, left uint64) {
	s.stack = append(s.stack, cborLevel{kind: kind, left: left})
	s.depth++
}

// endIndefinite handles a break at offset i: it closes the innermost
// container, which must be indefinite.
func (s *CBORSplitter) endIndefinite(i int) error {
	n := len(s.stack)
	if n == 0 {
		return s.malformed(i, "break outside an indefinite item")
	}
	top := s.stack[n-1]
	switch top.kind {
	case lvIndefMap:
		if top.left%2 != 0 {
			return s.malformed(i, "break after a map key")
		}
	case lvIndefList, lvIndefStr, lvIndefText:
	default:
		return s.malformed(i, "break inside a definite container")
	}
	s.pop()
	return nil
}

func (s *CBORSplitter) pop() {
	n := len(s.stack) - 1
	if k := s.stack[n].kind; k != lvIndefStr && k != lvIndefText {
		s.depth--
	}
	s.stack = s.stack[:n]
}

// itemDone accounts for a complete item in its container, closing every
// definite container that it completes.
func (s *CBORSplitter) itemDone() {
	for n := len(s.stack); n > 0; n = len(s.stack) {
		top := &s.stack[n-1]
		switch top.kind {
		case lvIndefList, lvIndefStr, lvIndefText:
			return
		case lvIndefMap:
			top.left++
			return
		}
		if top.left--; top.left > 0 {
			return
		}
		s.pop()
	}
}
