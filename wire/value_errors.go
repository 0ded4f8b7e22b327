package wire

import (
	"errors"
	"strconv"
)

// Sentinel errors of the message envelope and its values (the data phase).
// Functions in envelope.go, scan.go, encode.go and decode.go return errors
// that wrap one of these; match them with [errors.Is].
var (
	// ErrSyntax: the bytes are not valid JSON (as JSON::XS would reject
	// them): a stray or missing comma, a bad escape, a control character
	// or invalid UTF-8 inside a string, a malformed number, trailing data…
	// — or not well-formed CBOR (RFC 8949 appendix F) where CBOR is read.
	// Every *SyntaxError matches it.
	ErrSyntax = errors.New("invalid JSON")
	// ErrTruncated: the input ends in the middle of a JSON value. It is
	// also an ErrSyntax; a stream reader (the Perl json framing) takes it
	// as "read more bytes", a length-delimited frame as a syntax error.
	ErrTruncated = errors.New("truncated JSON")
	// ErrTooDeep: arrays/objects nest deeper than MaxDepth (in input or in
	// a value to encode).
	ErrTooDeep = errors.New("JSON nesting too deep")
	// ErrNotArray: the top-level value of a message is not an array.
	ErrNotArray = errors.New("message is not a JSON array")
	// ErrType: a value has a JSON kind the decoder cannot convert (the
	// error text names the kind found).
	ErrType = errors.New("wrong JSON type")
	// ErrRange: a number does not fit the requested Go type (never
	// silently truncated), or a string holds a code point above U+00FF
	// where bytes are expected.
	ErrRange = errors.New("value out of range")
	// ErrUnsupportedValue: a value cannot be encoded as JSON (NaN, ±Inf,
	// an invalid json.Number, a type the JSON backend refuses).
	ErrUnsupportedValue = errors.New("value cannot be encoded as JSON")
	// ErrNoArg: an argument index is past the end of the argument list.
	ErrNoArg = errors.New("no such argument")
)

// SyntaxError describes malformed JSON. It matches ErrSyntax, and also
// ErrTruncated when the input ended early.
type SyntaxError struct {
	Offset    int    // byte offset of the problem in the scanned input
	Msg       string // what was wrong
	Truncated bool   // the input ended inside a value
	CBOR      bool   // the input was CBOR, not JSON
}

// Error implements error.
func (e *SyntaxError) Error() string {
	if e.CBOR {
		return "malformed CBOR at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
	}
	return "invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Is reports whether target is ErrSyntax (always) or ErrTruncated (when
// the input ended early).
func (e *SyntaxError) Is(target error) bool {
	return target == ErrSyntax || (e.Truncated && target == ErrTruncated)
}

func syntaxErr(off int, msg string) error { return &SyntaxError{Offset: off, Msg: msg} }

func truncErr(off int) error {
	return &SyntaxError{Offset: off, Msg: "unexpected end of input", Truncated: true}
}

// kindError is returned when a value has the wrong JSON kind.
type kindError struct {
	want  string
	found Kind
}

func (e *kindError) Error() string {
	return "wrong JSON type: want " + e.want + ", found " + e.found.String()
}
func (e *kindError) Unwrap() error { return ErrType }

func typeErr(want string, found Kind) error { return &kindError{want: want, found: found} }

// rangeError is returned when a number or code point does not fit.
type rangeError struct {
	want string
	text string
}

func (e *rangeError) Error() string {
	return "value out of range: " + strconv.Quote(e.text) + " does not fit " + e.want
}
func (e *rangeError) Unwrap() error { return ErrRange }

func rangeErr(want string, text []byte) error {
	if len(text) > 64 {
		text = append(text[:61:61], "..."...)
	}
	return &rangeError{want: want, text: string(text)}
}

// notIntegralError: DecodeInt/DecodeUint on a number with a fraction.
type notIntegralError struct{ s string }

func notIntegral(num []byte) error { return &notIntegralError{string(num)} }

func (e *notIntegralError) Error() string {
	return "wrong JSON type: want integer, found non-integral number " + e.s
}
func (e *notIntegralError) Unwrap() error { return ErrType }

// numStringError: a string that is not numeric where a number is wanted.
type numStringError struct{ s string }

func (e *numStringError) Error() string {
	return "wrong JSON type: want number, found non-numeric string " + strconv.Quote(e.s)
}
func (e *numStringError) Unwrap() error { return ErrType }

// decodeError wraps a type mismatch reported by the JSON backend.
type decodeError struct{ err error }

func (e *decodeError) Error() string   { return "wrong JSON type: " + e.err.Error() }
func (e *decodeError) Unwrap() []error { return []error{ErrType, e.err} }

// notArrayError: the top-level value of a message is not an array.
type notArrayError struct{ k Kind }

func typeErrNotArray(k Kind) error { return &notArrayError{k} }

func (e *notArrayError) Error() string {
	return "message is not a JSON array (found " + e.k.String() + ")"
}
func (e *notArrayError) Unwrap() error { return ErrNotArray }

// depthError: nesting beyond MaxDepth.
type depthError struct{ off int }

func (e *depthError) Error() string {
	return "JSON nesting too deep (more than " + strconv.Itoa(MaxDepth) + " levels) at offset " + strconv.Itoa(e.off)
}
func (e *depthError) Unwrap() error { return ErrTooDeep }
