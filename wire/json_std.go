package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// The encoding/json backend: what appendJSON and decodeJSON run on
// platforms without sonic's native path (json_nosonic.go), and the reference
// the sonic backend is tested against everywhere (TestJSONBackends). It
// keeps the sonic backend's contract and output: no HTML escaping, no
// trailing newline, invalid UTF-8 replaced by \ufffd, sonic's spelling of
// the string escapes (matchSonicEscapes); numbers decoded into
// interface-typed places become json.Number, decoded strings never alias
// raw. What still differs, all of it equal once decoded: encoding/json
// sorts map keys (sonic keeps Go's random order) and compacts the output
// of MarshalJSON methods (sonic keeps it as it is). And sonic also encodes
// maps with bool or float keys, which encoding/json refuses.

// appendStdJSON encodes v with encoding/json, appending to b.
func appendStdJSON(b []byte, v any) ([]byte, error) {
	start := len(b)
	w := bytes.NewBuffer(b)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return b[:start], fmt.Errorf("%w: %T: %w", ErrUnsupportedValue, v, err)
	}
	b = w.Bytes()
	b = b[:len(b)-1] // Encode's newline
	if !utf8.Valid(b[start:]) {
		fixed := fixUTF8(nil, b[start:])
		b = append(b[:start], fixed...)
	}
	if bytes.IndexByte(b[start:], '\\') >= 0 {
		fixed := matchSonicEscapes(b[start:])
		b = append(b[:start], fixed...)
	}
	return b, nil
}

// matchSonicEscapes returns a copy of the JSON text b with the string
// escapes in which encoding/json and sonic differ spelt as sonic does: \b
// and \f become \u0008 and \u000c, \u2028 and \u2029 the characters
// themselves (sonic escapes them only for HTML). Escapes are read pairwise,
// so an escaped backslash never starts one.
func matchSonicEscapes(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 == len(b) {
			out = append(out, c)
			continue
		}
		switch n := b[i+1]; {
		case n == 'b':
			out = append(out, `\u0008`...)
		case n == 'f':
			out = append(out, `\u000c`...)
		case n == 'u' && i+6 <= len(b) && string(b[i+2:i+5]) == "202" && (b[i+5] == '8' || b[i+5] == '9'):
			out = utf8.AppendRune(out, 0x2028+rune(b[i+5]-'8'))
			i += 4
		default:
			out = append(out, c, n)
		}
		i++
	}
	return out
}

// decodeStdJSON decodes raw (one validated JSON value) into v with
// encoding/json.
func decodeStdJSON(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	return d.Decode(v)
}
