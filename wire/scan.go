package wire

import (
	"errors"
	"fmt"
	"math"

	"github.com/aemp-go/aemp/internal/jsonlex"
)

// MaxDepth is the deepest nesting of arrays and objects the scanner,
// the decoders and the encoder accept; the message array itself counts
// as level 1. Deeper input fails with ErrTooDeep. It is JSON::XS's and
// CBOR::XS's default, so whatever a Perl node sends by default is accepted
// (session-big-deep carries 301 levels), and it equals
// frame.DefaultMaxDepth, the json framing splitter's default limit.
const MaxDepth = jsonlex.MaxDepth

// Kind is the JSON kind of a value, as told by its first byte.
type Kind uint8

// The JSON kinds. KindNone stands for "no value" (an absent tag, an empty
// or malformed input).
const (
	KindNone Kind = iota
	KindNull
	KindBool
	KindNumber
	KindString
	KindArray
	KindObject
)

var kindNames = [...]string{"nothing", "null", "boolean", "number", "string", "array", "object"}

// String returns the kind's name ("null", "string", …).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + fmt.Sprint(uint8(k)) + ")"
}

// KindOf returns the kind of the JSON value in raw, judged by its first
// non-whitespace byte only (it does not validate the rest). It returns
// KindNone for empty input or a byte that starts no JSON value.
func KindOf(raw []byte) Kind {
	i := skipWS(raw, 0)
	if i >= len(raw) {
		return KindNone
	}
	switch c := raw[i]; c {
	case '"':
		return KindString
	case '[':
		return KindArray
	case '{':
		return KindObject
	case 't', 'f':
		return KindBool
	case 'n':
		return KindNull
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return KindNumber
		}
		return KindNone
	}
}

// skipWS returns the index of the first byte at or after i that is not
// JSON whitespace (space, tab, LF, CR).
func skipWS(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return i
		}
		i++
	}
	return i
}

// isWS reports whether c is JSON whitespace.
func isWS(c byte) bool { return jsonlex.IsSpace(c) }

// trimWS removes JSON whitespace from both ends of b.
func trimWS(b []byte) []byte {
	i := skipWS(b, 0)
	j := len(b)
	for j > i {
		c := b[j-1]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		j--
	}
	return b[i:j]
}

// scanString validates a JSON string whose opening quote is at b[i-1]
// and returns the index after its closing quote and whether it contains
// escapes. The content rules are those of the package documentation
// ("JSON grammar"), shared with package frame through internal/jsonlex:
// control characters and invalid UTF-8 are errors (as in JSON::XS); \u
// escapes are checked for form only (a lone surrogate is accepted and
// decodes to U+FFFD).
func scanString(b []byte, i int) (int, bool, error) {
	esc := false
	for {
		i = jsonlex.SkipPlain(b, i)
		if i >= len(b) {
			return i, esc, truncErr(i)
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			switch n := jsonlex.Escape(b[i:]); {
			case n > 0:
				i += n
			case n == 0:
				return len(b), esc, truncErr(len(b))
			case i+1 < len(b) && b[i+1] == 'u':
				return i, esc, syntaxErr(i, "invalid \\u escape")
			default:
				return i, esc, syntaxErr(i, fmt.Sprintf("invalid escape \\%c", b[i+1]))
			}
		case c < 0x20:
			return i, esc, syntaxErr(i, "control character in string")
		default: // a byte >= 0x80 that SkipPlain did not take
			if jsonlex.Rune(b[i:]) == 0 {
				return len(b), esc, truncErr(len(b))
			}
			return i, esc, syntaxErr(i, "invalid UTF-8 in string")
		}
	}
}

func jsonDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber validates a JSON number starting at b[i] and returns the
// index after it. Leading zeros, a lone '-', a missing fraction or
// exponent digit are errors.
func scanNumber(b []byte, i int) (int, error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	if j >= len(b) {
		return j, truncErr(j)
	}
	switch c := b[j]; {
	case c == '0':
		j++
		if j < len(b) && jsonDigit(b[j]) {
			return j, syntaxErr(j, "leading zero in number")
		}
	case c >= '1' && c <= '9':
		j++
		for j < len(b) && jsonDigit(b[j]) {
			j++
		}
	default:
		return j, syntaxErr(j, "invalid number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) {
			return j, truncErr(j)
		}
		if !jsonDigit(b[j]) {
			return j, syntaxErr(j, "missing digits after decimal point")
		}
		for j < len(b) && jsonDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) {
			return j, truncErr(j)
		}
		if !jsonDigit(b[j]) {
			return j, syntaxErr(j, "missing digits in exponent")
		}
		for j < len(b) && jsonDigit(b[j]) {
			j++
		}
	}
	return j, nil
}

// scanLiteral checks that b[i:] starts with lit ("true", "false", "null").
func scanLiteral(b []byte, i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(b) {
			return i + k, truncErr(i + k)
		}
		if b[i+k] != lit[k] {
			return i + k, syntaxErr(i+k, "invalid literal (want "+lit+")")
		}
	}
	return i + len(lit), nil
}

// scanKey validates an object key and the colon after it; b[i] must be
// the key's opening quote. It returns the index of the value.
func scanKey(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, truncErr(i)
	}
	if b[i] != '"' {
		return i, syntaxErr(i, "object key must be a string")
	}
	j, _, err := scanString(b, i+1)
	if err != nil {
		return j, err
	}
	j = skipWS(b, j)
	if j >= len(b) {
		return j, truncErr(j)
	}
	if b[j] != ':' {
		return j, syntaxErr(j, "expected ':' after object key")
	}
	return skipWS(b, j+1), nil
}

// skipValue validates the JSON value starting exactly at b[i] (no leading
// whitespace) and returns the index after it. depth is the nesting level
// of the value's container (0 for a top-level value, 1 for an element of
// the message array). It does not recurse; nesting is bounded by MaxDepth.
func skipValue(b []byte, i, depth int) (int, error) {
	var objs [MaxDepth/64 + 1]uint64 // bit d set: level d is an object
	d := 0
	var err error
	for {
		// A value is expected at b[i].
		if i >= len(b) {
			return i, truncErr(i)
		}
		switch c := b[i]; c {
		case '"':
			if i, _, err = scanString(b, i+1); err != nil {
				return i, err
			}
		case '[', '{':
			if depth+d >= MaxDepth {
				return i, &depthError{i}
			}
			if c == '{' {
				objs[d>>6] |= 1 << (d & 63)
			} else {
				objs[d>>6] &^= 1 << (d & 63)
			}
			d++
			i = skipWS(b, i+1)
			if i >= len(b) {
				return i, truncErr(i)
			}
			if c == '[' {
				if b[i] != ']' {
					continue
				}
				i++
				d--
			} else {
				if b[i] != '}' {
					if i, err = scanKey(b, i); err != nil {
						return i, err
					}
					continue
				}
				i++
				d--
			}
		case 't':
			if i, err = scanLiteral(b, i, "true"); err != nil {
				return i, err
			}
		case 'f':
			if i, err = scanLiteral(b, i, "false"); err != nil {
				return i, err
			}
		case 'n':
			if i, err = scanLiteral(b, i, "null"); err != nil {
				return i, err
			}
		default:
			if c != '-' && !jsonDigit(c) {
				return i, syntaxErr(i, fmt.Sprintf("invalid character %q looking for a value", c))
			}
			if i, err = scanNumber(b, i); err != nil {
				return i, err
			}
		}
		// A value ended at i: close containers or move to the next element.
		for {
			if d == 0 {
				return i, nil
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, truncErr(i)
			}
			top := d - 1
			isObj := objs[top>>6]>>(top&63)&1 == 1
			c := b[i]
			if c == ',' {
				i = skipWS(b, i+1)
				if isObj {
					if i, err = scanKey(b, i); err != nil {
						return i, err
					}
				}
				break
			}
			if (isObj && c == '}') || (!isObj && c == ']') {
				i++
				d--
				continue
			}
			if isObj {
				return i, syntaxErr(i, "expected ',' or '}' in object")
			}
			return i, syntaxErr(i, "expected ',' or ']' in array")
		}
	}
}

// Valid reports whether b holds exactly one valid JSON value (surrounding
// whitespace allowed) by the grammar of the package documentation:
// RFC 8259 syntax, valid UTF-8 text, nesting up to MaxDepth.
func Valid(b []byte) bool {
	i := skipWS(b, 0)
	j, err := skipValue(b, i, 0)
	return err == nil && skipWS(b, j) == len(b)
}

// validateValue checks that raw is exactly one JSON value (whitespace
// around it allowed) and returns it trimmed.
func validateValue(raw []byte, depth int) ([]byte, error) {
	i := skipWS(raw, 0)
	j, err := skipValue(raw, i, depth)
	if err != nil {
		return nil, err
	}
	if k := skipWS(raw, j); k != len(raw) {
		return nil, syntaxErr(k, "data after JSON value")
	}
	return raw[i:j], nil
}

// NextValue splits the first value off a comma-separated list of JSON
// values such as Envelope.Args: raw is the value's exact text, rest the
// list after the comma that follows it (empty after the last value). The
// value is validated as an element of the message array (nesting limit
// MaxDepth-1). An empty (or all-whitespace) list yields ErrNoArg; a comma
// at the end of the list or a missing comma is an ErrSyntax.
//
//	for len(args) > 0 {
//		raw, args, err = wire.NextValue(args)
//		…
//	}
func NextValue(list []byte) (raw, rest []byte, err error) {
	i := skipWS(list, 0)
	if i >= len(list) {
		return nil, nil, ErrNoArg
	}
	j, err := skipValue(list, i, 1)
	if err != nil {
		return nil, nil, err
	}
	next, err := afterElem(list, j)
	if err != nil {
		return nil, nil, err
	}
	return list[i:j], list[next:], nil
}

// afterElem moves past the separator after a list element ending at j:
// it returns len(list) at the end of the list or the start of the next
// element.
func afterElem(list []byte, j int) (int, error) {
	k := skipWS(list, j)
	if k >= len(list) {
		return len(list), nil
	}
	if list[k] != ',' {
		return k, syntaxErr(k, "expected ',' between values")
	}
	k = skipWS(list, k+1)
	if k >= len(list) {
		return k, syntaxErr(k, "comma after last value")
	}
	return k, nil
}

func noArg(i, n int) error {
	return fmt.Errorf("%w: index %d, message has %d arguments", ErrNoArg, i, n)
}

// ArgAt returns the raw text of argument i (0-based) of a list such as
// Envelope.Args, validating the arguments up to and including it. It is
// O(position); use an ArgIter for repeated access.
func ArgAt(args []byte, i int) ([]byte, error) {
	if i < 0 {
		return nil, noArg(i, 0)
	}
	for k := 0; ; k++ {
		raw, rest, err := NextValue(args)
		if err != nil {
			if errors.Is(err, ErrNoArg) {
				return nil, noArg(i, k)
			}
			return nil, err
		}
		if k == i {
			return raw, nil
		}
		args = rest
	}
}

// CountArgs validates a list such as Envelope.Args and returns the number
// of values in it.
func CountArgs(args []byte) (int, error) {
	n := 0
	for {
		i := skipWS(args, 0)
		if i >= len(args) {
			return n, nil
		}
		_, rest, err := NextValue(args)
		if err != nil {
			return n, err
		}
		n++
		args = rest
	}
}

// argCache is how many argument offsets an ArgIter keeps inline.
const argCache = 8

// ArgIter gives indexed access to the arguments of one message (a list
// such as Envelope.Args) and remembers where arguments start, so that
// accessing them in order costs O(len(args)) in total. It keeps the
// start offsets of the first 8 arguments inline plus the furthest
// position reached, and allocates nothing (except for an error). The zero
// value is an empty list; Reset points it at a message's arguments. An
// ArgIter is not safe for concurrent use (a message is handled by one
// goroutine at a time).
type ArgIter struct {
	args   []byte
	starts [argCache]uint32 // starts[k]: offset of argument k, valid for k < known
	known  uint8
	farIdx int32  // index (>= 8) of the furthest argument whose start is known
	farOff uint32 // its offset; 0 while no such argument is known
	cbor   bool   // the list holds CBOR items (ResetCBOR), not JSON
}

// Reset makes the iterator serve args (usually Envelope.Args).
func (it *ArgIter) Reset(args []byte) {
	*it = ArgIter{args: args}
}

// Args returns the argument list the iterator serves.
func (it *ArgIter) Args() []byte { return it.args }

// start returns the best known starting point at or before argument i.
func (it *ArgIter) start(i int) (k, off int) {
	if it.known == 0 {
		if it.cbor {
			return 0, 0
		}
		return 0, skipWS(it.args, 0)
	}
	k = min(i, int(it.known)-1)
	off = int(it.starts[k])
	if it.farOff != 0 && int(it.farIdx) > k && int(it.farIdx) <= i {
		k, off = int(it.farIdx), int(it.farOff)
	}
	return k, off
}

func (it *ArgIter) remember(k, off int) {
	if uint64(off) > math.MaxUint32 || k > math.MaxInt32 {
		return
	}
	if k < argCache && k == int(it.known) {
		it.starts[k] = uint32(off)
		it.known++
	}
	if k >= argCache && k > int(it.farIdx) {
		it.farIdx, it.farOff = int32(k), uint32(off)
	}
}

// At returns the raw text of argument i (0-based). It fails with ErrNoArg
// past the end of the list and with ErrSyntax/ErrTooDeep on malformed
// input (arguments before i are validated on the way).
func (it *ArgIter) At(i int) ([]byte, error) {
	if i < 0 {
		return nil, noArg(i, 0)
	}
	if it.cbor {
		return it.atCBOR(i)
	}
	off, err := it.seek(i)
	if err != nil {
		return nil, err
	}
	end, err := skipValue(it.args, off, 1)
	if err != nil {
		return nil, err
	}
	return it.args[off:end], nil
}

// seek returns the offset of JSON argument i (i >= 0), validating the
// arguments before it.
func (it *ArgIter) seek(i int) (int, error) {
	k, off := it.start(i)
	args := it.args
	for {
		if off >= len(args) {
			return 0, noArg(i, k)
		}
		it.remember(k, off)
		if k == i {
			return off, nil
		}
		end, err := skipValue(args, off, 1)
		if err != nil {
			return 0, err
		}
		if off, err = afterElem(args, end); err != nil {
			return 0, err
		}
		k++
	}
}

// Int is At and DecodeInt for the common case, without At's full scan of
// the value: JSON argument i is a plain integer of at most 18 digits (no
// fraction, exponent or leading zero; plainInt, DecodeInt's shortcut)
// followed by a separator or the end of the list. ok is false for anything
// else, and the caller takes At and DecodeInt, which give the result or
// the error for it.
func (it *ArgIter) Int(i int) (v int64, ok bool) {
	if i < 0 || it.cbor {
		return 0, false
	}
	off, err := it.seek(i)
	if err != nil {
		return 0, false
	}
	args := it.args
	j := off
	if args[j] == '-' {
		j++
	}
	for j < len(args) && args[j]-'0' <= 9 {
		j++
	}
	if j < len(args) && args[j] != ',' && !isWS(args[j]) {
		return 0, false
	}
	neg, mag, ok := plainInt(args[off:j])
	if !ok {
		return 0, false
	}
	// the integer is validated: where the next argument starts saves the
	// next call's skip (the usual reading goes left to right)
	if next, err := afterElem(args, j); err == nil && next < len(args) {
		it.remember(i+1, next)
	}
	if neg {
		return -int64(mag), true
	}
	return int64(mag), true
}

// Len returns the number of arguments, validating those not yet seen.
func (it *ArgIter) Len() (int, error) {
	if it.cbor {
		return it.lenCBOR()
	}
	k, off := it.start(math.MaxInt32)
	args := it.args
	for off < len(args) {
		it.remember(k, off)
		end, err := skipValue(args, off, 1)
		if err != nil {
			return k, err
		}
		if off, err = afterElem(args, end); err != nil {
			return k, err
		}
		k++
	}
	return k, nil
}
