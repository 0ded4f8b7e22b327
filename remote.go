package aemp

import (
	"fmt"
	"sync"
	"time"

	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/transport"
	"github.com/aemp-go/aemp/wire"
)

// Traffic with another node over its link: sending (connecting on demand),
// remote monitors (mon1/mon0/kil0) and routing what arrives. Connection
// management is in network.go.

// remoteNode is this node's view of another node: its link (when up), the
// messages queued while connecting, and the local monitors on its ports.
type remoteNode struct {
	nw *network
	id string

	mu         sync.Mutex
	link       *transport.Link
	connecting bool
	blobs      bool                             // the link's peer takes blob envelopes (wire.BlobMagic)
	express    bool                             // the link orders per port (Config.OrderPerPort)
	pending    [][]byte                         // encoded envelopes queued while connecting
	mons       map[string]map[*Monitor]struct{} // local part → monitors ("" = node port)
	retryAt    time.Time                        // ensureLink waits until then after a failure
	retryDelay time.Duration                    // the back-off that set retryAt
	tags       map[string]string                // interned tags, reader goroutine only
	lastTag    string                           // the last tag interned, reader goroutine only
}

// send queues the envelope of m for the node's port local, connecting on
// demand. While the link is down the envelope is encoded into a pending
// buffer (as a blob envelope when it has byte strings: attach turns it
// into JSON if the peer does not take blobs) and flushed, in order, once
// the link is up.
func (rn *remoteNode) send(local string, m *Msg) error {
	rn.mu.Lock()
	if l := rn.link; l != nil {
		err := rn.commit(l, local, m)
		rn.mu.Unlock()
		return err
	}
	env, err := appendEnvelope(nil, local, m, true)
	if err != nil {
		rn.mu.Unlock()
		return err
	}
	rn.pending = append(rn.pending, env)
	start := !rn.connecting
	rn.connecting = true
	rn.mu.Unlock()
	if start && !rn.nw.goTracked(rn.dial) {
		return ErrClosed
	}
	return nil
}

// sendIfUp sends only over an established link (kil0, mon0: Perl sends
// these only to connected nodes).
func (rn *remoteNode) sendIfUp(local string, m *Msg) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if l := rn.link; l != nil {
		rn.commit(l, local, m)
	}
}

// commit encodes one envelope straight into the link's outbound batch,
// reserving room first for large byte arguments so that they are copied
// once. Called with rn.mu held.
func (rn *remoteNode) commit(l *transport.Link, local string, m *Msg) error {
	b, err := appendEnvelope(l.BeginN(m.bytesHint()), local, m, rn.blobs)
	if err != nil {
		l.Abort(b)
		return err
	}
	if rn.express {
		return l.CommitKey(b, portKey(local))
	}
	return l.Commit(b)
}

// portKey is the transport's ordering key for messages to port local of
// the peer (Config.OrderPerPort): FNV-1a of the local part, never 0, the
// barrier key of node-protocol messages (local part "").
func portKey(local string) uint64 {
	if local == "" {
		return 0
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(local); i++ {
		h ^= uint64(local[i])
		h *= 1099511628211
	}
	return h | 1
}

func (n *Node) sndRemote(node, local string, m *Msg) error {
	if n.net == nil {
		m.release()
		return fmt.Errorf("%w: %s (networking is not configured)", ErrNoRoute, node)
	}
	rn := n.net.known(node)
	if rn == nil {
		if !validNodeID(node) {
			m.release()
			return fmt.Errorf("%w: node ID %q", ErrBadPortID, node)
		}
		rn = n.net.node(node)
	}
	err := rn.send(local, m)
	m.release()
	return err
}

func (rn *remoteNode) sendKil0(local string, r Reason) {
	m := NewMsg("kil0", local)
	for _, v := range r {
		m.appendValue(valueOf(v))
	}
	rn.sendIfUp("", m)
}

func (n *Node) monRemote(node, local string, m *Monitor) {
	if n.net == nil || !validNodeID(node) {
		go m.fire(transportReason(node, "no known address"))
		return
	}
	rn := n.net.node(node)
	rn.mu.Lock()
	if rn.mons == nil {
		rn.mons = make(map[string]map[*Monitor]struct{})
	}
	set := rn.mons[local]
	if set == nil {
		set = make(map[*Monitor]struct{})
		rn.mons[local] = set
	}
	first := len(set) == 0
	set[m] = struct{}{}
	m.rn = rn
	rn.mu.Unlock()
	// One mon1 per (node, port), whatever the number of local monitors;
	// a node port is watched locally only and triggers no connection.
	if first && local != "" {
		req := NewMsg("mon1", local)
		rn.send("", req)
	}
}

func (rn *remoteNode) removeMonitor(m *Monitor) {
	local := m.target.Local()
	rn.mu.Lock()
	set := rn.mons[local]
	delete(set, m)
	last := set != nil && len(set) == 0
	if last {
		delete(rn.mons, local)
	}
	rn.mu.Unlock()
	if last && local != "" {
		req := NewMsg("mon0", local)
		rn.sendIfUp("", req)
	}
}

// fireRemote fires the local monitors of rn's port local (kil0).
func (rn *remoteNode) fireRemote(local string, r Reason) {
	rn.mu.Lock()
	set := rn.mons[local]
	delete(rn.mons, local)
	rn.mu.Unlock()
	for m := range set {
		m.fire(r)
	}
}

// deliver routes one inbound envelope; it runs on the link's reader.
func (rn *remoteNode) deliver(buf *pool.Buf, text []byte) {
	var bs wire.Blobs
	if wire.IsBlobEnvelope(text) {
		var err error
		if text, bs, err = wire.SplitBlobEnvelope(text); err != nil {
			rn.nw.n.log.Warn("aemp: malformed message dropped", "peer", rn.id, "err", err)
			return
		}
	}
	env, err := wire.ScanHead(text) // arguments are validated when a handler reads them
	if err != nil {
		rn.nw.n.log.Warn("aemp: malformed message dropped", "peer", rn.id, "err", err)
		return
	}
	var scratch [64]byte
	local := env.Local
	if env.LocalEscaped {
		local = env.LocalText(scratch[:0])
	}
	m := Msg{tag: rn.intern(env.Tag, env.TagEscaped, &env)}
	m.setRemote(env.Args, bs, buf, rn)
	if len(local) == 0 {
		buf.Retain()
		rn.nw.n.nodeRequest(rn, &m)
		return
	}
	p := lookupPort(rn.nw.n, local)
	if p == nil {
		return // AEMP drops messages to ports that do not exist
	}
	buf.Retain()
	p.push(&m)
}

// intern returns the tag as a string that outlives the network buffer,
// without allocating for tags seen before (a per-link cache owned by the
// reader goroutine).
func (rn *remoteNode) intern(tag []byte, escaped bool, env *wire.Envelope) string {
	if escaped {
		return string(env.TagText(nil))
	}
	if rn.lastTag == string(tag) { // runs of one tag skip the map's hashing
		return rn.lastTag
	}
	if s, ok := rn.tags[string(tag)]; ok {
		rn.lastTag = s
		return s
	}
	s := string(tag)
	if rn.tags == nil {
		rn.tags = make(map[string]string)
	}
	if len(rn.tags) < 1024 && len(s) <= 64 {
		rn.tags[s] = s
	}
	return s
}
