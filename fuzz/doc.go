// Package fuzz holds the cross-package fuzz drivers of the module (the
// Fuzz* functions in its _test.go files) and the small references they
// compare the library with: the JSON grammar predicate (ValidMessage), an
// independent goframe1 stream parser (ParseGoStream) and a net.Conn whose
// reads return chosen chunk sizes (ChunkConn). Per-package fuzz targets
// live beside the code they test; README.md says what each driver checks
// and how to run it for hours.
//
// Nothing here is used by the library; the package exists for its tests.
package fuzz
