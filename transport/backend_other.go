//go:build !unix

package transport

import "errors"

// initTryWrite leaves tryWrite off: without a raw socket write (windows,
// wasm) every write goes through the writer goroutine.
func (s *stdIO) initTryWrite() {}

// canRawWrite: no non-blocking socket write here (WrapTLS makes none).
const canRawWrite = false

// writeOnce is never called without a raw socket write.
func writeOnce(int, []byte) (int, error) { return 0, errNoRawWrite }

var errNoRawWrite = errors.New("transport: no non-blocking socket write on this platform")
