package slot

import "testing"

// Of is the same for a key as a string and as bytes, stays in range, and
// tells apart names of one length that share their end but not their
// middle.
func TestOf(t *testing.T) {
	for _, k := range []string{"", "a", "ab", "abc", "node-17", "k3f9Qa7Lw2", "host1.example.com"} {
		s, b := Of(k, 64), Of([]byte(k), 64)
		if s != b || s < 0 || s >= 64 {
			t.Errorf("Of(%q) = %d as a string, %d as bytes (size 64)", k, s, b)
		}
	}
	seen := map[int]bool{}
	keys := []string{"node-3a.lan", "node-4a.lan", "node-5a.lan", "node-6a.lan"} // the middle byte (index 5) differs
	for _, k := range keys {
		seen[Of(k, 64)] = true
	}
	if len(seen) != len(keys) {
		t.Errorf("%q take %d slots of 64, want %d", keys, len(seen), len(keys))
	}
}
