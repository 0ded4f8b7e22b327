package mesh

import (
	"testing"
	"time"

	"github.com/aemp-go/aemp/frame"
)

// peerStats returns n's snapshot of peer id (the zero value if unknown).
func (n *node) peerStats(id string) PeerStats {
	for _, s := range n.Stats(nil) {
		if s.ID == id {
			return s
		}
	}
	return PeerStats{}
}

// Stats counts what went over a link on both sides, keeps counting over a
// reconnect, and tells why the previous link ended.
func TestPeerStats(t *testing.T) {
	leakFree(t)
	net := newMemNet()
	a := start(t, net, "A", Config{})
	b := start(t, net, "B", Config{})
	a.AddNode("B", b.Binds()...)
	before := time.Now()
	for i := range 100 {
		a.send(t, "B", "m", i)
	}
	waitFor(t, "100 messages", func() bool { return len(b.rec.peer("A").messages()) == 100 })
	// Written and read: the byte counts agree once nothing is queued.
	waitFor(t, "the bytes read", func() bool {
		sa, sb := a.peerStats("B"), b.peerStats("A")
		return sa.Queued == 0 && sa.BytesOut > 0 && sa.BytesOut == sb.BytesIn && sb.MsgsIn == 100
	})
	sa, sb := a.peerStats("B"), b.peerStats("A")
	if !sa.Up || sa.MsgsOut != 100 || sa.MsgsIn != 0 || sa.Links != 1 || sa.LastError != "" {
		t.Errorf("A's view of B: %+v", sa)
	}
	if !sb.Up || sb.MsgsIn != 100 || sb.MsgsOut != 0 || sb.BytesOut != 0 || sb.Links != 1 {
		t.Errorf("B's view of A: %+v", sb)
	}
	if sa.SendFraming != frame.NameGo || sa.RecvFraming != frame.NameGo || sa.Auth != "hmac_sha3_512" ||
		sa.PeerAuth != "hmac_sha3_512" || sa.TLS || sa.Since.Before(before) || sa.Since.After(time.Now()) {
		t.Errorf("A's link to B: %+v", sa)
	}

	net.Cut()
	waitFor(t, "the link down", func() bool { return !a.peerStats("B").Up && !b.peerStats("A").Up })
	down := a.peerStats("B")
	if down.LastError == "" || down.SendFraming != "" || !down.Since.IsZero() || down.MsgsOut != 100 {
		t.Errorf("A's view of B after the cut: %+v", down)
	}
	for i := range 10 {
		a.send(t, "B", "again", i)
	}
	waitFor(t, "110 messages", func() bool { return len(b.rec.peer("A").messages()) == 110 })
	sa = a.peerStats("B")
	if !sa.Up || sa.Links != 2 || sa.MsgsOut != 110 || sa.LastError != down.LastError {
		t.Errorf("A's view of B after the reconnect: %+v", sa)
	}
	waitFor(t, "B's count", func() bool { return b.peerStats("A").MsgsIn == 110 })
}

// A peer whose link is not up reports what waits for it.
func TestPeerStatsQueued(t *testing.T) {
	leakFree(t)
	net := newMemNet()
	a := start(t, net, "A", Config{ConnectTimeout: 200 * time.Millisecond})
	a.AddNode("B", "nowhere") // nothing listens there
	a.send(t, "B", "m", 1)
	s := a.peerStats("B")
	if s.Up || s.Queued == 0 && s.LastError == "" {
		t.Errorf("a queued message: %+v", s)
	}
	waitFor(t, "the attempt to fail", func() bool { return a.peerStats("B").LastError != "" })
	if s := a.peerStats("B"); s.Queued != 0 || s.Links != 0 || s.Connecting {
		t.Errorf("after the failed attempt: %+v", s)
	}
}
