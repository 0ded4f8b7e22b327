package wire

// The message envelope (spec §1.4, §1.5, §3.11, §8 items 10–16).
//
// A data-phase message is one JSON array
//
//	[<local part of the destination port>, <tag>, <arg 0>, <arg 1>, …]
//
// Between Go nodes the same text travels inside length-prefixed frames
// (package frame); towards Perl nodes it is a back-to-back JSON stream.
// Sending appends the envelope straight into an outbound buffer
// (AppendEnvelope, encode.go). Receiving scans only as much as routing
// needs (ScanEnvelope): the local part and the tag are located, the
// arguments are validated but left as raw text in the read buffer and
// decoded on demand (ArgIter, Decode*, decode.go). Nothing returned by the
// scanner is a copy: it all points into the caller's buffer.
//
// Receive-side rules (what a Perl 2.02 node accepts):
//   - The top-level value must be an array (ErrNotArray otherwise).
//   - `[]` has no local part and no tag: it goes to the node port and is a
//     keep-alive; so are `[""]` and `["",""]`.
//   - A null local part is the node port's "" (Perl traces print null).
//   - Local part and tag are compared as Perl stringifies them: a number
//     is its literal text ("1" matches the number 1; JSON::XS sends
//     integers without a fraction, so the one difference — Perl would
//     turn 1.0 into "1", we keep "1.0" — does not occur in practice),
//     true is "1", false is "0", null is "". An array or object keeps its raw JSON text and
//     its Kind so that the caller can refuse it (in Perl it stringifies to
//     "ARRAY(0x…)", which matches no port and no tag).
//   - Strings are validated (escapes, control characters, UTF-8: invalid
//     UTF-8 is rejected, as JSON::XS does).

// Envelope is the scanned form of one message. All slices point into the
// scanned buffer (or, for boolean local parts and tags, into shared
// constants): they are valid as long as the buffer is and must be treated
// as read-only.
type Envelope struct {
	// Local is the local part of the destination port: the contents of
	// the JSON string between its quotes, still escaped if LocalEscaped
	// (use LocalText to unescape). Empty for null and for `[]`. For other
	// kinds see the rules above and LocalKind.
	Local []byte
	// Tag is the first message element (the tag) in the same form as
	// Local; empty when the message has no tag (TagKind == KindNone).
	Tag []byte
	// Args is the text of the remaining elements without the surrounding
	// brackets: a comma-separated list of JSON values that starts with
	// the first argument's first byte and ends with the last argument's
	// last byte (inner whitespace is kept). It is empty when there are no
	// arguments. Every argument in it has been validated. Iterate with an
	// ArgIter, NextValue or ArgAt.
	Args []byte
	// NArgs is the number of values in Args.
	NArgs int
	// LocalKind and TagKind tell what JSON kind the local part and the
	// tag were (KindNone: absent).
	LocalKind, TagKind Kind
	// LocalEscaped and TagEscaped report that Local or Tag contains JSON
	// escapes and must be unescaped (LocalText, TagText) before use. In a
	// CBOR envelope they report that Local or Tag is the raw item of
	// something other than a definite string, which LocalText and TagText
	// render as text.
	LocalEscaped, TagEscaped bool
	// TagRaw is the tag element exactly as it was encoded (a JSON value's
	// text, or a CBOR item); empty when there is no tag.
	TagRaw []byte
	// CBOR reports that the envelope was scanned from CBOR (ScanCBOR):
	// Args is then a list of raw CBOR items (ArgIter.ResetCBOR).
	CBOR bool
}

// The routing texts of true and false (shared, capacity-limited so that an
// append copies; like every Envelope slice they must not be written to).
var (
	perlTrue  = []byte("1")[:1:1]
	perlFalse = []byte("0")[:1:1]
)

// LocalText returns the local part unescaped. Without escapes it returns
// Local itself (zero-copy); otherwise it unescapes into scratch[:0],
// growing it (allocating) only if it is too small.
func (e *Envelope) LocalText(scratch []byte) []byte {
	if !e.LocalEscaped {
		return e.Local
	}
	if e.CBOR {
		return cborText(e.Local, scratch)
	}
	return appendUnescaped(scratch[:0], e.Local)
}

// TagText returns the tag unescaped, like LocalText.
func (e *Envelope) TagText(scratch []byte) []byte {
	if !e.TagEscaped {
		return e.Tag
	}
	if e.CBOR {
		return cborText(e.Tag, scratch)
	}
	return appendUnescaped(scratch[:0], e.Tag)
}

// IsKeepAlive reports whether the message carries nothing: `[]`, `[""]`,
// `["",""]` (or null in either place) — a keep-alive for the node port
// that Perl ignores.
func (e *Envelope) IsKeepAlive() bool {
	return len(e.Local) == 0 && e.LocalKind != KindArray && e.LocalKind != KindObject &&
		len(e.Tag) == 0 && (e.TagKind == KindNone || e.TagKind == KindNull || e.TagKind == KindString) &&
		e.NArgs == 0
}

// ScanEnvelope scans one complete message: b must hold exactly one JSON
// array, optionally surrounded by whitespace (the contents of one frame).
// It validates the whole text (syntax, UTF-8, depth) but decodes nothing
// beyond locating the local part, the tag and the arguments. It does not
// allocate on success.
func ScanEnvelope(b []byte) (Envelope, error) {
	e, n, err := ScanNextEnvelope(b)
	if err != nil {
		return Envelope{}, err
	}
	if k := skipWS(b, n); k != len(b) {
		return Envelope{}, syntaxErr(k, "data after message")
	}
	return e, nil
}

// ScanHead scans one complete message like ScanEnvelope, but validates
// only the local part, the tag and the array's brackets: Args is the rest
// of the array, left unvalidated, and NArgs is -1. The argument accessors
// (ArgAt, ArgIter, CountArgs, the Decode functions) validate what they
// touch, so malformed arguments surface as errors when a handler reads
// them. It is for the receive path, where most handlers read a few
// arguments once; a JSON text from the json framing's splitter has been
// validated already. It does not allocate on success.
func ScanHead(b []byte) (Envelope, error) {
	var e Envelope
	err := ScanHeadInto(&e, b)
	return e, err
}

// ScanHeadInto is ScanHead into *e, which it overwrites (the zero
// Envelope on error): the receive path's form, without copying the
// Envelope out.
func ScanHeadInto(e *Envelope, b []byte) error { return ScanHeadMemo(e, b, nil) }

// HeadMemo remembers the head of the last envelope ScanHeadMemo scanned
// (its bytes from '[' through the tag, when the envelope starts with '['
// and both the local part and the tag are strings, at most headMemoMax
// bytes in all), so that an envelope that starts with the same bytes does
// not scan them again: the same bytes scan the same way. The zero value
// is ready for use; it is not safe for concurrent use.
type HeadMemo struct {
	head             []byte // b[:n] of the remembered envelope, n = len(head)
	ls, le, ts, te   int    // Local = b[ls:le], Tag = b[ts:te]
	tagStart         int    // TagRaw = b[tagStart:n]
	lescaped, tescap bool
}

// headMemoMax bounds the head a HeadMemo keeps.
const headMemoMax = 256

// ScanHeadMemo is ScanHeadInto that reuses what m remembers of the
// previous envelope's head, and remembers this one's; m may be nil.
func ScanHeadMemo(e *Envelope, b []byte, m *HeadMemo) error {
	*e = Envelope{}
	if err := scanHeadInto(e, b, m); err != nil {
		*e = Envelope{}
		return err
	}
	return nil
}

func scanHeadInto(e *Envelope, b []byte, m *HeadMemo) error {
	end := len(b)
	for end > 0 && isWS(b[end-1]) {
		end--
	}
	i := skipWS(b, 0)
	if i >= end {
		return truncErr(i)
	}
	if b[i] != '[' {
		if k := KindOf(b[i:]); k != KindNone {
			return typeErrNotArray(k)
		}
		return syntaxErr(i, "message does not start with '['")
	}
	if b[end-1] != ']' || end-1 == i {
		return syntaxErr(end-1, "message does not end with ']'")
	}
	b = b[:end] // the closing ']' is the last byte
	var err error
	if m != nil && i == 0 && len(m.head) > 0 && len(m.head) < end && string(b[:len(m.head)]) == string(m.head) {
		n := len(m.head)
		e.Local, e.LocalKind, e.LocalEscaped = b[m.ls:m.le], KindString, m.lescaped
		e.Tag, e.TagKind, e.TagEscaped = b[m.ts:m.te], KindString, m.tescap
		e.TagRaw = b[m.tagStart:n:n]
		i = n
	} else {
		start := i
		i = skipWS(b, i+1)
		if b[i] == ']' && i == end-1 {
			return nil
		}
		localStart := i
		if e.Local, e.LocalKind, e.LocalEscaped, i, err = scanHead(b, i); err != nil {
			return err
		}
		localEnd := i
		if i, err = afterHead(b, i); err != nil {
			return err
		}
		if b[i] == ']' {
			return checkEnd(b, i)
		}
		tagStart := i
		if e.Tag, e.TagKind, e.TagEscaped, i, err = scanHead(b, i); err != nil {
			return err
		}
		e.TagRaw = b[tagStart:i:i]
		m.remember(b, start, localStart, localEnd, tagStart, i, e)
	}
	if i, err = afterHead(b, i); err != nil {
		return err
	}
	if b[i] == ']' {
		return checkEnd(b, i)
	}
	e.Args = trimWS(b[i : end-1])
	e.NArgs = -1
	return nil
}

// remember keeps b[:n] as the head just scanned into e: the local part's
// JSON text at b[localStart:localEnd], the tag's at b[tagStart:n]; only
// when it qualifies (see HeadMemo).
func (m *HeadMemo) remember(b []byte, start, localStart, localEnd, tagStart, n int, e *Envelope) {
	if m == nil {
		return
	}
	if start != 0 || n > headMemoMax || e.LocalKind != KindString || e.TagKind != KindString {
		m.head = m.head[:0]
		return
	}
	m.head = append(m.head[:0], b[:n]...)
	m.ls, m.le = localStart+1, localEnd-1 // inside the quotes, as scanHead returns it
	m.ts, m.te = tagStart+1, n-1
	m.tagStart = tagStart
	m.lescaped, m.tescap = e.LocalEscaped, e.TagEscaped
}

// checkEnd reports an error unless the ']' at i is the last byte of b.
func checkEnd(b []byte, i int) error {
	if i != len(b)-1 {
		return syntaxErr(i+1, "data after message")
	}
	return nil
}

// ScanNextEnvelope scans the message at the start of b (after optional
// whitespace) and returns it with the number of bytes it used, for
// reading the back-to-back JSON stream of the Perl json framing. An
// incomplete message yields an error matching ErrTruncated (read more and
// retry); any other error means the stream is corrupt. Input that holds
// only whitespace is ErrTruncated too.
func ScanNextEnvelope(b []byte) (Envelope, int, error) {
	var e Envelope
	i := skipWS(b, 0)
	if i >= len(b) {
		return e, 0, truncErr(i)
	}
	if b[i] != '[' {
		if k := KindOf(b[i:]); k != KindNone {
			return e, 0, typeErrNotArray(k)
		}
		return e, 0, syntaxErr(i, "message does not start with '['")
	}
	i = skipWS(b, i+1)
	if i >= len(b) {
		return e, 0, truncErr(i)
	}
	if b[i] == ']' {
		return e, i + 1, nil
	}
	var err error
	// local part
	if e.Local, e.LocalKind, e.LocalEscaped, i, err = scanHead(b, i); err != nil {
		return Envelope{}, 0, err
	}
	if i, err = afterHead(b, i); err != nil {
		return Envelope{}, 0, err
	}
	if b[i] == ']' {
		return e, i + 1, nil
	}
	// tag
	tagStart := i
	if e.Tag, e.TagKind, e.TagEscaped, i, err = scanHead(b, i); err != nil {
		return Envelope{}, 0, err
	}
	e.TagRaw = b[tagStart:i:i]
	if i, err = afterHead(b, i); err != nil {
		return Envelope{}, 0, err
	}
	if b[i] == ']' {
		return e, i + 1, nil
	}
	// arguments
	start := i
	for {
		end, err := skipValue(b, i, 1)
		if err != nil {
			return Envelope{}, 0, err
		}
		e.NArgs++
		if i, err = afterHead(b, end); err != nil {
			return Envelope{}, 0, err
		}
		if b[i] == ']' {
			e.Args = b[start:end]
			return e, i + 1, nil
		}
	}
}

// afterHead handles the separator after an element of the message array
// that ended at i: it returns the index of the next element or of the
// closing ']'.
func afterHead(b []byte, i int) (int, error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return i, truncErr(i)
	}
	switch b[i] {
	case ']':
		return i, nil
	case ',':
		i = skipWS(b, i+1)
		if i >= len(b) {
			return i, truncErr(i)
		}
		if b[i] == ']' {
			return i, syntaxErr(i, "comma before ']'")
		}
		return i, nil
	}
	return i, syntaxErr(i, "expected ',' or ']' in message array")
}

// scanHead scans the local part or the tag at b[i] and returns its routing
// text (see the rules above), kind, escape flag and the index after it.
func scanHead(b []byte, i int) (text []byte, kind Kind, escaped bool, end int, err error) {
	switch c := b[i]; c {
	case '"':
		end, escaped, err = scanString(b, i+1)
		if err != nil {
			return nil, 0, false, end, err
		}
		return b[i+1 : end-1], KindString, escaped, end, nil
	case 'n':
		end, err = scanLiteral(b, i, "null")
		return nil, KindNull, false, end, err
	case 't':
		end, err = scanLiteral(b, i, "true")
		return perlTrue, KindBool, false, end, err
	case 'f':
		end, err = scanLiteral(b, i, "false")
		return perlFalse, KindBool, false, end, err
	case '[', '{':
		end, err = skipValue(b, i, 1)
		kind = KindArray
		if c == '{' {
			kind = KindObject
		}
		return b[i:end], kind, false, end, err
	default:
		if c != '-' && !jsonDigit(c) {
			return nil, 0, false, i, syntaxErr(i, "invalid character looking for a value")
		}
		end, err = scanNumber(b, i)
		return b[i:end], KindNumber, false, end, err
	}
}
