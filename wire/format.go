package wire

import "fmt"

// Format is an envelope encoding a link asks its senders for.
type Format uint8

// The envelope formats.
const (
	// FormatJSON is the JSON envelope [local, tag, args…]: what AEMP's
	// json framing carries, and goframe1 to a peer without blobs.
	FormatJSON Format = iota
	// FormatBlobs is a blob envelope when the message has byte-string
	// arguments (else the JSON envelope): goframe1 to a Go node that
	// announced blobs.
	FormatBlobs
	// FormatCBOR is the CBOR envelope, one CBOR array [local, tag,
	// args…] as CBOR::XS writes it (cbor_encode.go): what AEMP's cbor
	// framing carries.
	FormatCBOR
	// FormatMixed is any of the three, each message in the encoding it
	// has: a message received as CBOR (or built with elements of one) as a
	// CBOR envelope, exact; any other as FormatBlobs. It is goframe1 to a
	// Go node that announced both blobs and cbor (greeting key "cbor",
	// value CBORVersion), and the queue of a peer whose link is not up
	// (converted when the link comes up, ConvertEnvelope). A goframe1
	// payload that starts with a CBOR array head (0x80…0x9f) is a CBOR
	// envelope: no JSON text or blob envelope starts so.
	FormatMixed
)

// CBORVersion is the value of the greeting key "cbor" of a Go node that
// accepts CBOR envelopes in goframe1 frames.
const CBORVersion = "1"

// String returns "json", "blobs", "cbor" or "mixed".
func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatBlobs:
		return "blobs"
	case FormatCBOR:
		return "cbor"
	case FormatMixed:
		return "mixed"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// TakesBlobs reports whether a link of format f takes blob envelopes.
func (f Format) TakesBlobs() bool { return f == FormatBlobs || f == FormatMixed }

// Takes reports whether a link of format f takes an envelope encoded as
// from (EnvelopeFormat).
func (f Format) Takes(from Format) bool {
	switch f {
	case FormatMixed:
		return true
	case FormatBlobs:
		return from == FormatBlobs || from == FormatJSON
	}
	return from == f
}

// EnvelopeFormat tells how the encoded envelope env is encoded, by its
// first byte: FormatBlobs for a blob envelope, FormatCBOR for a CBOR
// array, else FormatJSON.
func EnvelopeFormat(env []byte) Format {
	switch {
	case IsBlobEnvelope(env):
		return FormatBlobs
	case IsCBOREnvelope(env):
		return FormatCBOR
	}
	return FormatJSON
}

// ConvertEnvelope appends the envelope env (in any of the three
// encodings) in the encoding a link with format f takes: unchanged when
// it takes it already (f.Takes), else transcoded (cbor_json.go; blobs
// become strings in JSON and byte strings in CBOR). nf says what happens
// to NaN and ±Inf going to JSON.
func ConvertEnvelope(b, env []byte, f Format, nf NonFinite) ([]byte, error) {
	from := EnvelopeFormat(env)
	switch {
	case f.Takes(from):
		return append(b, env...), nil
	case f == FormatCBOR:
		return appendEnvelopeAsCBOR(b, env)
	case from == FormatBlobs:
		return BlobEnvelopeToJSON(b, env)
	}
	return AppendCBOREnvelopeAsJSON(b, env, nf)
}

// AppendCBOREnvelopeAsJSON appends the JSON envelope of the CBOR message
// msg, every element transcoded (AppendCBORAsJSON).
func AppendCBOREnvelopeAsJSON(b, msg []byte, nf NonFinite) ([]byte, error) {
	if _, err := ScanCBOR(msg); err != nil {
		return b, err
	}
	return AppendCBORAsJSON(b, msg, nf)
}

// appendEnvelopeAsCBOR appends the CBOR envelope of a JSON or blob
// envelope: the elements transcoded (AppendJSONAsCBOR), blobs as byte
// strings.
func appendEnvelopeAsCBOR(b, env []byte) ([]byte, error) {
	var bs Blobs
	text := env
	if IsBlobEnvelope(env) {
		var err error
		if text, bs, err = SplitBlobEnvelope(env); err != nil {
			return b, err
		}
	}
	t := trimWS(text)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		_, err := ScanEnvelope(text)
		return b, err
	}
	var it ArgIter
	it.Reset(trimWS(t[1 : len(t)-1]))
	n, err := it.Len()
	if err != nil {
		return b, err
	}
	start := len(b)
	b = AppendCBORArrayHead(b, n)
	for k := range n {
		if d, ok := bs.Get(k - 2); k >= 2 && ok {
			b = AppendCBORBytes(b, d)
			continue
		}
		raw, _ := it.At(k)
		if b, err = AppendJSONAsCBOR(b, raw); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}
