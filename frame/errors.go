package frame

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them;
// match with errors.Is.
var (
	// ErrFrameTooLarge: a frame, a decompressed payload or a JSON text is
	// larger than the configured maximum.
	ErrFrameTooLarge = errors.New("frame: message too large")
	// ErrReservedFlags: a goframe1 header has a flag bit set that this
	// version does not define.
	ErrReservedFlags = errors.New("frame: reserved flag bits set")
	// ErrCorrupt: a batch or compressed payload is malformed.
	ErrCorrupt = errors.New("frame: corrupt payload")
	// ErrSyntax: the JSON stream is not a sequence of valid JSON texts
	// (this includes commas or other bytes between texts).
	ErrSyntax = errors.New("frame: JSON syntax error")
	// ErrNotArray: a top-level JSON text or CBOR item is not an array
	// (AEMP messages are always arrays).
	ErrNotArray = errors.New("frame: top-level value is not an array")
	// ErrTooDeep: a JSON text or CBOR item nests deeper than the configured
	// maximum.
	ErrTooDeep = errors.New("frame: nesting too deep")
	// ErrMalformed: the CBOR stream is not a sequence of well-formed items
	// (RFC 8949 appendix F).
	ErrMalformed = errors.New("frame: malformed CBOR")
)
