package mesh

import (
	"fmt"
	"time"

	"github.com/aemp-go/aemp/wire"
)

// Keep-alive (Config.KeepAlive). AEMP 2.x has no heartbeat (spec §3.13):
// a hung peer whose kernel still acknowledges TCP is never noticed. The
// probe is a node request that every AEMP node serves, Perl or Go:
// ["", "time", <this node>, ""] is answered with ["", "", <time>] to this
// node's node port, where the empty request is ignored. So a live peer
// sends something at least every KeepAlive, whoever it is. A link whose
// reader is paused (its handlers are behind) does not read the answers and
// is not timed out; a Go peer that runs keep-alive itself keeps probing
// while its own reader is paused, so a slow consumer is not mistaken for a
// dead one.

// keepAliveLoop checks every link a few times per KeepAlive.
func (m *Mesh) keepAliveLoop() {
	defer m.wg.Done()
	tick := max(m.cfg.KeepAlive/4, time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		m.peers.Range(func(_, v any) bool {
			v.(*Peer).keepAlive()
			return true
		})
	}
}

// keepAlive probes the link if it has been quiet, and closes it if the
// peer has been silent too long.
func (p *Peer) keepAlive() {
	m := p.m
	p.mu.Lock()
	l := p.link
	if l == nil {
		p.mu.Unlock()
		return
	}
	st := l.Stats()
	if st.IdleRecv >= m.cfg.KeepAliveTimeout && !st.Paused {
		p.mu.Unlock()
		m.cfg.Logger.Warn("aemp: keepalive timeout", "peer", p.id, "silent", st.IdleRecv.Round(time.Millisecond))
		l.Shutdown(fmt.Errorf("%w: nothing received for %v", errKeepAlive, st.IdleRecv.Round(time.Millisecond)))
		return
	}
	if st.IdleSend < m.cfg.KeepAlive || st.Queued > 0 {
		p.mu.Unlock() // the peer has bytes coming
		return
	}
	b := l.BeginN(0)
	if probe, err := appendProbe(b, m.cfg.NodeID, p.format); err == nil {
		l.Commit(probe) // unlocks the link; a failure shows as the link's end
	} else {
		l.Abort(b)
	}
	p.mu.Unlock()
}

// appendProbe appends the keep-alive probe ["", "time", node, ""] in the
// encoding the link takes (JSON, or CBOR on a cbor link).
func appendProbe(b []byte, node string, f wire.Format) ([]byte, error) {
	env := wire.AppendEnvelopeHead(nil, "", "time")
	env = wire.AppendString(append(env, ','), node)
	env = append(env, `,""]`...)
	return wire.ConvertEnvelope(b, env, f, wire.NonFiniteError)
}
