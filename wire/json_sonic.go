//go:build (amd64 || arm64) && !go1.28

package wire

// The JSON backend for values outside the fast paths, where sonic has its
// native (JIT and SIMD) path: amd64 and arm64 on the Go versions it knows.
// The build constraint is sonic v1.15.5's own (its sonic.go) for this
// module's Go versions; json_nosonic.go covers every other platform, which
// never imports sonic (it does not build on 32-bit targets). Should sonic
// still compile its encoding/json fallback here (a Go version it does not
// know yet), its own report (sonic.APIKind, encoder.EnableFallback) says so
// at compile time and this module's encoding/json backend (json_std.go)
// runs instead of sonic's fallback, whose options differ.

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/encoder"
)

// sonicNative is sonic's own report that its native path is built in.
const sonicNative = sonic.APIKind == sonic.UseSonicJSON && !encoder.EnableFallback

// jsonBackend names the JSON backend appendJSON and decodeJSON use.
func jsonBackend() string {
	if sonicNative {
		return "sonic"
	}
	return "encoding/json"
}

// sonicOpts: no HTML escaping, no key sorting, no newline.
const sonicOpts = encoder.NoEncoderNewline

// sonicBufs recycles the *[]byte that encoder.EncodeInto needs, so that
// handing it the caller's buffer does not allocate a slice header.
var sonicBufs = sync.Pool{New: func() any { return new([]byte) }}

// appendJSON encodes v with sonic straight into b.
func appendJSON(b []byte, v any) ([]byte, error) {
	if !sonicNative {
		return appendStdJSON(b, v)
	}
	start := len(b)
	h := sonicBufs.Get().(*[]byte)
	*h = b
	err := encoder.EncodeInto(h, v, sonicOpts)
	b = *h
	*h = nil
	sonicBufs.Put(h)
	if err != nil {
		return b[:start], fmt.Errorf("%w: %T: %w", ErrUnsupportedValue, v, err)
	}
	if !utf8.Valid(b[start:]) {
		fixed := fixUTF8(nil, b[start:])
		b = append(b[:start], fixed...)
	}
	return b, nil
}

// sonicAPI decodes into arbitrary Go types. UseNumber: numbers stored into
// interface-typed places (any fields, []any, map[string]any inside a
// struct) become json.Number, so integers keep their precision; CopyString:
// strings never alias the (pooled) read buffer.
var sonicAPI = sonic.Config{UseNumber: true, CopyString: true}.Froze()

// decodeJSON decodes raw (one validated JSON value) into v with sonic.
func decodeJSON(raw []byte, v any) error {
	if !sonicNative {
		return decodeStdJSON(raw, v)
	}
	return sonicAPI.Unmarshal(raw, v)
}
