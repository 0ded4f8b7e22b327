package mesh

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Known answers through its slot cache exactly as the peer table does:
// with many more peers than slots (so slots are shared and overwritten),
// every known node gives its own peer, in any order, and a node without a
// peer gives nil even when its slot holds another node's.
func TestKnownCache(t *testing.T) {
	leakFree(t)
	a := start(t, newMemNet(), "A", Config{})
	peers := make(map[string]*Peer)
	for i := range 4 * peerCacheSize {
		id := fmt.Sprintf("node-%d", i)
		peers[id] = a.Peer(id)
	}
	ids := make([]string, 0, len(peers))
	for id := range peers {
		ids = append(ids, id)
	}
	for range 20 {
		rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		for _, id := range ids {
			if got := a.Known(id); got != peers[id] {
				t.Fatalf("Known(%s) = %v, want its peer %p", id, got, peers[id])
			}
		}
		for i := range 2 * peerCacheSize {
			if id := fmt.Sprintf("none-%d", i); a.Known(id) != nil {
				t.Fatalf("Known(%s): a peer for a node that has none", id)
			}
		}
	}
}
