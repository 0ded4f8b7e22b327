package fuzz

import (
	"testing"

	"github.com/aemp-go/aemp/internal/vectors"
)

// maxSeed bounds the size of a seed taken from the recordings: the fuzzer
// mutates seeds, and a 2 MiB one (session-big-deep) would slow every run.
const maxSeed = 64 << 10

// recordedMessages returns the JSON text of every data-phase message of
// every recorded session, both directions, without duplicates (for CBOR
// sessions the recording's JSON view).
func recordedMessages(f *testing.F) []string {
	f.Helper()
	seen := map[string]bool{}
	var out []string
	for _, conns := range loadAll(f) {
		for _, c := range conns {
			for _, dir := range []string{"C>S", "S>C"} {
				for _, m := range c.Messages(dir) {
					if len(m.JSON) <= maxSeed && !seen[m.JSON] {
						seen[m.JSON] = true
						out = append(out, m.JSON)
					}
				}
			}
		}
	}
	return out
}

// loadAll loads every recorded session.
func loadAll(f *testing.F) map[string][]*vectors.Connection {
	f.Helper()
	all, err := vectors.LoadAll()
	if err != nil {
		f.Fatal(err)
	}
	return all
}
