package frame

import (
	"fmt"

	"github.com/aemp-go/aemp/internal/jsonlex"
)

// JSONSplitter finds the boundaries of the top-level JSON texts in a byte
// stream (AEMP `json` framing, spec §3.11) without decoding them. It validates
// the full JSON grammar as it goes — the grammar documented in package
// [github.com/aemp-go/aemp/wire] ("JSON grammar"), which its scanner and
// decoders apply too: the texts it returns are exactly those for which
// encoding/json.Valid and utf8.Valid hold, with an array at the top level
// and at most MaxDepth levels of nesting. It keeps its scanning state between
// calls, and so costs O(n) in the stream length no matter how the bytes are
// chunked.
//
// The caller keeps the unconsumed bytes in one slice, appends newly read
// bytes at its end and passes the whole slice to every call of Next; the
// bytes before the first unconsumed one may move (the caller may copy the
// slice into a larger buffer), only their content must stay the same. The
// zero value is ready to use with the default limits. A JSONSplitter is used
// by one goroutine at a time.
type JSONSplitter struct {
	// MaxSize is the maximum size of one JSON text in bytes (0: DefaultMaxFrame).
	// A text is rejected as soon as the scanned part exceeds it.
	MaxSize int
	// MaxDepth is the maximum nesting depth (0: DefaultMaxDepth).
	MaxDepth int

	off   int    // bytes of the unconsumed slice already scanned
	start int    // offset of the current text's '[' (valid when state != stTop)
	state uint8  // scanner state
	key   bool   // the string being scanned is an object key
	n     uint8  // literal bytes matched
	lit   string // literal being matched (true, false, null)
	stack []byte // open containers, '[' or '{'
	err   error  // sticky error
}

const (
	stTop          uint8 = iota // between texts
	stValue                     // a value must follow (after ',' in an array or ':')
	stValueOrClose              // after '[': a value or ']'
	stKeyOrClose                // after '{': a key or '}'
	stKey                       // after ',' in an object: a key
	stColon                     // after a key
	stAfter                     // after a value: ',' or a closer
	stString                    // inside a string
	stLiteral                   // inside true/false/null
	stNumMinus                  // after '-'
	stNumZero                   // after a leading 0
	stNumInt                    // in the integer digits
	stNumDot                    // after '.'
	stNumFrac                   // in the fraction digits
	stNumE                      // after 'e'
	stNumESign                  // after 'e+' / 'e-'
	stNumExp                    // in the exponent digits
)

// Reset forgets all state (and a previous error), keeping the limits.
func (s *JSONSplitter) Reset() {
	*s = JSONSplitter{MaxSize: s.MaxSize, MaxDepth: s.MaxDepth, stack: s.stack[:0]}
}

// Pending reports whether the splitter is inside an unfinished text.
func (s *JSONSplitter) Pending() bool { return s.state != stTop }

// Next scans b, the unconsumed bytes of the stream. Results:
//
//   - msg != nil: a complete text; msg aliases b, and n counts the bytes to
//     consume (the text and any whitespace before it).
//   - msg == nil, n > 0: n bytes of whitespace may be dropped; the rest of b
//     has been scanned, more bytes are needed.
//   - msg == nil, n == 0, err == nil: more bytes are needed.
//   - err != nil: the stream is malformed (wraps ErrSyntax, ErrNotArray,
//     ErrTooDeep or ErrFrameTooLarge); the error is sticky until Reset.
func (s *JSONSplitter) Next(b []byte) (msg []byte, n int, err error) {
	if s.err != nil {
		return nil, 0, s.err
	}
	if s.off > len(b) {
		s.err = fmt.Errorf("%w: stream shrank under the splitter", ErrSyntax)
		return nil, 0, s.err
	}
	end, err := s.scan(b)
	if err != nil {
		s.err = err
		return nil, 0, err
	}
	maxSize := s.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxFrame
	}
	if end > 0 {
		if end-s.start > maxSize {
			s.err = fmt.Errorf("%w: JSON text of %d bytes, limit %d", ErrFrameTooLarge, end-s.start, maxSize)
			return nil, 0, s.err
		}
		msg = b[s.start:end:end]
		s.off, s.start = 0, 0
		return msg, end, nil
	}
	if s.state == stTop {
		n, s.off = s.off, 0
		return nil, n, nil
	}
	if s.off-s.start > maxSize {
		s.err = fmt.Errorf("%w: JSON text exceeds %d bytes", ErrFrameTooLarge, maxSize)
		return nil, 0, s.err
	}
	if s.start > 0 {
		n = s.start
		s.off -= n
		s.start = 0
	}
	return nil, n, nil
}

func (s *JSONSplitter) syntax(c byte, at int) error {
	return fmt.Errorf("%w: unexpected byte 0x%02x at offset %d of text", ErrSyntax, c, at-s.start)
}

// scan advances the state machine over b[s.off:]; it returns the end offset
// of a completed text, or 0.
func (s *JSONSplitter) scan(b []byte) (int, error) {
	i := s.off
	for i < len(b) {
		c := b[i]
		switch s.state {
		case stTop:
			if jsonlex.IsSpace(c) {
				i++
				continue
			}
			if c != '[' {
				if c == '{' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n' {
					return 0, fmt.Errorf("%w (starts with %q)", ErrNotArray, c)
				}
				return 0, fmt.Errorf("%w: unexpected byte 0x%02x between texts", ErrSyntax, c)
			}
			s.start = i
			s.stack = s.stack[:0]
			if err := s.push('['); err != nil {
				return 0, err
			}
			s.state = stValueOrClose
			i++
		case stValue, stValueOrClose:
			if jsonlex.IsSpace(c) {
				i++
				continue
			}
			if c == ']' && s.state == stValueOrClose {
				if end := s.pop(i); end > 0 {
					return end, nil
				}
				i++
				continue
			}
			if err := s.beginValue(c, i); err != nil {
				return 0, err
			}
			i++
		case stKeyOrClose, stKey:
			if jsonlex.IsSpace(c) {
				i++
				continue
			}
			if c == '}' && s.state == stKeyOrClose {
				if end := s.pop(i); end > 0 {
					return end, nil
				}
				i++
				continue
			}
			if c != '"' {
				return 0, s.syntax(c, i)
			}
			s.state, s.key = stString, true
			i++
		case stColon:
			if jsonlex.IsSpace(c) {
				i++
				continue
			}
			if c != ':' {
				return 0, s.syntax(c, i)
			}
			s.state = stValue
			i++
		case stAfter:
			if jsonlex.IsSpace(c) {
				i++
				continue
			}
			top := s.stack[len(s.stack)-1]
			switch {
			case c == ',' && top == '[':
				s.state = stValue
			case c == ',' && top == '{':
				s.state = stKey
			case (c == ']' && top == '[') || (c == '}' && top == '{'):
				if end := s.pop(i); end > 0 {
					return end, nil
				}
			default:
				return 0, s.syntax(c, i)
			}
			i++
		case stString:
			// Plain content, escapes and UTF-8 sequences by the shared
			// rules (internal/jsonlex). An escape or a UTF-8 sequence cut
			// by the end of b is left unscanned until more bytes arrive:
			// b keeps them, so the splitter needs no state for it.
			if i = jsonlex.SkipPlain(b, i); i == len(b) {
				continue
			}
			switch c = b[i]; {
			case c == '"':
				if s.key {
					s.state = stColon
				} else {
					s.state = stAfter
				}
				i++
			case c == '\\':
				n := jsonlex.Escape(b[i:])
				if n == 0 {
					s.off = i
					return 0, nil
				}
				if n < 0 {
					return 0, s.syntax(c, i)
				}
				i += n
			case c < 0x20:
				return 0, s.syntax(c, i)
			default:
				if jsonlex.Rune(b[i:]) == 0 {
					s.off = i
					return 0, nil
				}
				return 0, fmt.Errorf("%w: invalid UTF-8 at offset %d of text", ErrSyntax, i-s.start)
			}
		case stLiteral:
			if c != s.lit[s.n] {
				return 0, s.syntax(c, i)
			}
			if s.n++; int(s.n) == len(s.lit) {
				s.state = stAfter
			}
			i++
		default: // numbers
			if s.state == stNumInt || s.state == stNumFrac || s.state == stNumExp {
				for i < len(b) && isDigit(b[i]) {
					i++
				}
				if i == len(b) {
					continue
				}
				c = b[i]
			}
			next, ok := numStep(s.state, c)
			if !ok {
				if !numCanEnd(s.state) {
					return 0, s.syntax(c, i)
				}
				s.state = stAfter // re-examine c as the byte after the value
				continue
			}
			s.state = next
			i++
		}
	}
	s.off = i
	return 0, nil
}

func (s *JSONSplitter) push(kind byte) error {
	maxDepth := s.MaxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if len(s.stack) >= maxDepth {
		return fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxDepth)
	}
	s.stack = append(s.stack, kind)
	return nil
}

// pop closes the innermost container at offset i; it returns the end of the
// text when the top-level array closed, else 0.
func (s *JSONSplitter) pop(i int) int {
	s.stack = s.stack[:len(s.stack)-1]
	if len(s.stack) == 0 {
		s.state = stTop
		return i + 1
	}
	s.state = stAfter
	return 0
}

func (s *JSONSplitter) beginValue(c byte, i int) error {
	switch {
	case c == '[' || c == '{':
		if err := s.push(c); err != nil {
			return err
		}
		if c == '[' {
			s.state = stValueOrClose
		} else {
			s.state = stKeyOrClose
		}
	case c == '"':
		s.state, s.key = stString, false
	case c == '-':
		s.state = stNumMinus
	case c == '0':
		s.state = stNumZero
	case c >= '1' && c <= '9':
		s.state = stNumInt
	case c == 't':
		s.state, s.lit, s.n = stLiteral, "true", 1
	case c == 'f':
		s.state, s.lit, s.n = stLiteral, "false", 1
	case c == 'n':
		s.state, s.lit, s.n = stLiteral, "null", 1
	default:
		return s.syntax(c, i)
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func numStep(st uint8, c byte) (uint8, bool) {
	switch st {
	case stNumMinus:
		if c == '0' {
			return stNumZero, true
		}
		if c >= '1' && c <= '9' {
			return stNumInt, true
		}
	case stNumZero, stNumInt:
		if st == stNumInt && isDigit(c) {
			return stNumInt, true
		}
		if c == '.' {
			return stNumDot, true
		}
		if c == 'e' || c == 'E' {
			return stNumE, true
		}
	case stNumDot, stNumFrac:
		if isDigit(c) {
			return stNumFrac, true
		}
		if st == stNumFrac && (c == 'e' || c == 'E') {
			return stNumE, true
		}
	case stNumE:
		if c == '+' || c == '-' {
			return stNumESign, true
		}
		if isDigit(c) {
			return stNumExp, true
		}
	case stNumESign, stNumExp:
		if isDigit(c) {
			return stNumExp, true
		}
	}
	return st, false
}

func numCanEnd(st uint8) bool {
	return st == stNumZero || st == stNumInt || st == stNumFrac || st == stNumExp
}
