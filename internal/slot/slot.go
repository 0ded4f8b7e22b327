// Package slot picks the slot of a small direct-mapped cache for a string
// key: a hash of its length and three of its bytes (the last two and the
// middle one), cheap enough for a lookup per message. Keys that agree on
// those share a slot, so a cache compares the key itself on a hit. The
// middle byte tells apart names of one length that share their last two
// bytes.
package slot

// Of returns the slot of key in a cache of size slots (size > 0).
func Of[S string | []byte](key S, size int) int {
	h := uint(len(key))
	if n := len(key); n > 0 {
		h = h*31 + uint(key[n-1])
		h = h*31 + uint(key[n/2])
		if n > 1 {
			h = h*31 + uint(key[n-2])
		}
	}
	return int(h % uint(size))
}
