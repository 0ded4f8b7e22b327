//go:build !((amd64 || arm64) && !go1.28)

package wire

// sonicBench: no sonic on this platform, so no sonic benchmarks.
var sonicBench *benchCodec
