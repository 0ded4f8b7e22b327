//go:build !unix

package transport

// initTryWrite leaves tryWrite off: without a raw socket write (windows,
// wasm) every write goes through the writer goroutine.
func (s *stdIO) initTryWrite() {}
