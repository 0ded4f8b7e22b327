package mesh

import (
	"slices"
	"strings"
	"time"

	"github.com/aemp-go/aemp/transport"
	"github.com/aemp-go/aemp/transport/handshake"
)

// PeerStats is a snapshot of the mesh's relation to one node: its link (or
// the lack of one), the traffic over every link it had, and why the last
// one ended.
type PeerStats struct {
	ID         string
	Up         bool // a link is established
	Connecting bool // a connection attempt is under way

	// What the current link runs with (empty while it is down): the
	// framings each way, the auth methods (ours, the peer's) and TLS.
	SendFraming, RecvFraming string
	Auth, PeerAuth           string
	TLS                      bool
	Since                    time.Time // when the current link came up

	// Traffic over every link to the node so far, the current one
	// included: bytes read and written (frame headers included), messages
	// delivered to the handler and committed.
	BytesIn, BytesOut uint64
	MsgsIn, MsgsOut   uint64

	// Queued is the bytes waiting to go to the node: committed to the link
	// and not yet written, or queued while it connects.
	Queued int

	// Links is the number of links established to the node (reconnects
	// are Links-1). LastError is the reason text of the last link that
	// went down or the last connection attempt that failed ("" if none).
	Links     uint64
	LastError string
}

// peerStats is what a Peer keeps for Stats, guarded by Peer.mu.
type peerStats struct {
	links   uint64
	lastErr string
	since   time.Time
	res     struct {
		sendFraming, recvFraming, auth, peerAuth string
		tls                                      bool
	}
	past transport.Stats // the traffic of the links that closed, summed
}

// up records a link established with the handshake's result.
func (s *peerStats) up(res *handshake.Result) {
	s.links++
	s.since = time.Now()
	s.res.sendFraming, s.res.recvFraming = res.SendFraming, res.RecvFraming
	s.res.auth, s.res.peerAuth, s.res.tls = res.AuthMethod, res.PeerAuthMethod, res.TLS
}

// down records the end of link l (its goroutines have stopped: its
// counters are final) and its reason.
func (s *peerStats) down(l *transport.Link, text string) {
	st := l.Stats()
	s.past.BytesIn += st.BytesIn
	s.past.BytesOut += st.BytesOut
	s.past.MsgsIn += st.MsgsIn
	s.past.MsgsOut += st.MsgsOut
	s.lastErr = text
	s.since = time.Time{}
}

// failed records a connection attempt that failed.
func (s *peerStats) failed(text string) { s.lastErr = text }

// Stats returns a snapshot of the peer. It takes the peer's lock and the
// link's, each briefly.
func (p *Peer) Stats() PeerStats {
	p.mu.Lock()
	l := p.link
	s := PeerStats{
		ID:         p.id,
		Up:         l != nil,
		Connecting: p.connecting,
		BytesIn:    p.st.past.BytesIn,
		BytesOut:   p.st.past.BytesOut,
		MsgsIn:     p.st.past.MsgsIn,
		MsgsOut:    p.st.past.MsgsOut,
		Links:      p.st.links,
		LastError:  p.st.lastErr,
	}
	if l != nil {
		r := &p.st.res
		s.SendFraming, s.RecvFraming, s.Auth, s.PeerAuth, s.TLS = r.sendFraming, r.recvFraming, r.auth, r.peerAuth, r.tls
		s.Since = p.st.since
	} else {
		s.Queued = p.pend.bytes()
	}
	p.mu.Unlock()
	if l != nil {
		// Outside the peer's lock: if the link closes meanwhile, its
		// counters are added to past only after the snapshot above.
		st := l.Stats()
		s.BytesIn += st.BytesIn
		s.BytesOut += st.BytesOut
		s.MsgsIn += st.MsgsIn
		s.MsgsOut += st.MsgsOut
		s.Queued = st.Queued
	}
	return s
}

// Stats appends a snapshot of every peer the mesh knows (linked, linking,
// or linked before) to dst, sorted by node ID, and returns it.
func (m *Mesh) Stats(dst []PeerStats) []PeerStats {
	peers := make([]*Peer, 0, max(cap(dst)-len(dst), 8)) // (a reused dst tells the size)
	m.peers.Range(func(_, v any) bool {
		peers = append(peers, v.(*Peer))
		return true
	})
	slices.SortFunc(peers, func(a, b *Peer) int { return strings.Compare(a.id, b.id) }) // (pointers: cheap to swap)
	for _, p := range peers {
		dst = append(dst, p.Stats())
	}
	return dst
}
