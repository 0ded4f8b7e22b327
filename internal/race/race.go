//go:build race

// Package race reports whether the race detector is on. Allocation counts
// are not meaningful under it (instrumentation allocates), so allocation
// tests run in a separate non-race pass (make test does both).
package race

// Enabled is true when built with -race.
const Enabled = true
