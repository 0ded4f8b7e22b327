//go:build !((amd64 || arm64) && !go1.28)

package wire

// Platforms without sonic's native path (32-bit and other arches, Go
// versions sonic does not know): the JSON backend is encoding/json
// (json_std.go), and sonic is not imported at all. See json_sonic.go.

// jsonBackend names the JSON backend appendJSON and decodeJSON use.
func jsonBackend() string { return "encoding/json" }

// appendJSON encodes v with encoding/json straight into b.
func appendJSON(b []byte, v any) ([]byte, error) { return appendStdJSON(b, v) }

// decodeJSON decodes raw (one validated JSON value) into v with
// encoding/json.
func decodeJSON(raw []byte, v any) error { return decodeStdJSON(raw, v) }
