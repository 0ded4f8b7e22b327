package fuzz

import (
	"encoding/binary"
	"errors"

	"github.com/aemp-go/aemp/wire"
	"github.com/klauspost/compress/s2"
)

// End says how a reference parse of a whole inbound stream ended.
type End int

const (
	// Clean: the stream ends at a message boundary (only whitespace after
	// the last JSON text).
	Clean End = iota
	// Truncated: the stream ends inside a frame or JSON text.
	Truncated
	// Malformed: the stream holds a frame or text the link must refuse;
	// nothing from it or after it is delivered.
	Malformed
)

// String names the end.
func (e End) String() string {
	switch e {
	case Clean:
		return "clean"
	case Truncated:
		return "truncated"
	}
	return "malformed"
}

// Parsed is the result of a reference parse: the messages a link must
// deliver, in order, the credit grants the stream carries, the bytes of
// the well-formed goframe1 data frames (what credit flow control counts),
// how the stream ended, and for a truncated stream the length of the
// unfinished part.
type Parsed struct {
	Msgs      [][]byte
	Grants    []uint32
	DataBytes int
	End       End
	Partial   int
}

// goframe1 header layout and flag bits, written down again here (not taken
// from package frame) so that the reference shares no code with the link.
const (
	headerLen  = 5
	flagBatch  = 1 << 0
	flagS2     = 1 << 1
	flagCredit = 1 << 2
)

// ParseGoStream parses a whole goframe1 stream in one piece, by the rules
// the link's reader applies (package frame's documentation): a frame whose
// length exceeds maxFrame or that has a reserved flag bit is refused from
// its header alone; a credit frame (only with credit flow control, exactly
// the credit flag and a 4-byte payload) carries a grant and no message; an
// s2 payload must decode to at most maxFrame bytes; a batch payload must be
// a whole sequence of u32-length-prefixed items. A malformed frame delivers
// nothing, not even the batch items before the bad one.
func ParseGoStream(stream []byte, maxFrame int, credit bool) Parsed {
	var p Parsed
	for i := 0; ; {
		rest := stream[i:]
		if len(rest) == 0 {
			return p
		}
		if len(rest) < headerLen {
			p.End, p.Partial = Truncated, len(rest)
			return p
		}
		n := binary.BigEndian.Uint32(rest)
		flags := rest[4]
		if uint64(n) > uint64(maxFrame) || flags&^(flagBatch|flagS2|flagCredit) != 0 {
			p.End = Malformed
			return p
		}
		if len(rest) < headerLen+int(n) {
			p.End, p.Partial = Truncated, len(rest)
			return p
		}
		payload := rest[headerLen : headerLen+int(n)]
		i += headerLen + int(n)
		if flags&flagCredit != 0 {
			if !credit || flags != flagCredit || n != 4 {
				p.End = Malformed
				return p
			}
			p.Grants = append(p.Grants, binary.BigEndian.Uint32(payload))
			continue
		}
		msgs, err := framePayload(payload, flags, maxFrame)
		if err != nil {
			p.End = Malformed
			return p
		}
		p.Msgs = append(p.Msgs, msgs...)
		p.DataBytes += headerLen + int(n)
	}
}

var errRefCorrupt = errors.New("corrupt")

// framePayload returns the messages of one data frame's payload.
func framePayload(payload []byte, flags byte, maxFrame int) ([][]byte, error) {
	if flags&flagS2 != 0 {
		n, err := s2.DecodedLen(payload)
		if err != nil || n > maxFrame {
			return nil, errRefCorrupt
		}
		d, err := s2.Decode(nil, payload)
		if err != nil || len(d) != n {
			return nil, errRefCorrupt
		}
		payload = d
	}
	if flags&flagBatch == 0 {
		return [][]byte{payload}, nil
	}
	var msgs [][]byte
	for len(payload) > 0 {
		if len(payload) < 4 {
			return nil, errRefCorrupt
		}
		n := binary.BigEndian.Uint32(payload)
		if uint64(n) > uint64(len(payload)-4) {
			return nil, errRefCorrupt
		}
		msgs = append(msgs, payload[4:4+n])
		payload = payload[4+n:]
	}
	return msgs, nil
}

// ParseJSONStream parses a whole json-framing stream in one piece with
// package wire's stream scanner (ScanNextEnvelope, independent of the
// frame package's splitter that the link uses): back-to-back JSON texts,
// each a message by the grammar of package wire, at most maxFrame bytes
// long.
func ParseJSONStream(stream []byte, maxFrame int) Parsed {
	var p Parsed
	for i := 0; ; {
		rest := stream[i:]
		start := 0
		for start < len(rest) && isBlank(rest[start]) {
			start++
		}
		if start == len(rest) {
			return p
		}
		_, n, err := wire.ScanNextEnvelope(rest)
		switch {
		case errors.Is(err, wire.ErrTruncated):
			p.End, p.Partial = Truncated, len(rest)-start
			return p
		case err != nil, n-start > maxFrame:
			p.End = Malformed
			return p
		}
		p.Msgs = append(p.Msgs, rest[start:n])
		i += n
	}
}

// isBlank reports whether c is JSON whitespace.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
