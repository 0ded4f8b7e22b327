package aemp

import (
	"errors"
	"fmt"
	"sync"

	"github.com/aemp-go/aemp/mesh"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/wire"
)

// Traffic with another node over its mesh.Peer: sending (the peer
// connects on demand and queues meanwhile), remote monitors (mon1/mon0/
// kil0) and routing what arrives.

// remoteNode is this node's view of another node: its mesh peer, the local
// monitors on its ports and the tag cache of its inbound messages.
type remoteNode struct {
	n    *Node
	id   string
	peer *mesh.Peer

	mu      sync.Mutex
	mons    map[string]map[*Monitor]struct{} // local part → monitors ("" = node port)
	tags    map[string]string                // interned tags, reader goroutine only
	lastTag string                           // the last tag interned, reader goroutine only
	rxHead  wire.HeadMemo                    // the last JSON head received, reader goroutine only

	head headCache // the last JSON envelope head sent, under the peer's lock (Begin…Commit)
}

// headCache keeps the JSON text `["local","tag"` of the last envelope head
// encoded, so that a run of messages to one port with one tag copies it
// instead of encoding both strings again. Heads longer than headCacheMax
// are not kept.
type headCache struct {
	local, tag string
	head       []byte
}

// headCacheMax bounds what a headCache holds.
const headCacheMax = 256

// appendHead appends the envelope head of local and tag; c may be nil.
func (c *headCache) appendHead(b []byte, local, tag string) []byte {
	if c == nil || len(local)+len(tag) > headCacheMax-8 {
		return wire.AppendEnvelopeHead(b, local, tag)
	}
	if len(c.head) == 0 || local != c.local || tag != c.tag {
		c.head = wire.AppendEnvelopeHead(c.head[:0], local, tag)
		if len(c.head) > headCacheMax {
			c.head, c.local, c.tag = nil, "", ""
			return wire.AppendEnvelopeHead(b, local, tag)
		}
		c.local, c.tag = local, tag
	}
	return append(b, c.head...)
}

// send queues the envelope of m for the node's port local, connecting on
// demand: straight into the link's outbound batch when it is up (reserving
// room first for large byte arguments, so that they are copied once),
// else into the peer's queue as a blob envelope when it has byte strings.
//
// JSON cannot carry NaN and ±Inf. A message with elements that came as
// CBOR (a relay, AppendElem) that holds them goes to a JSON peer with
// +Inf as 1e999, -Inf as -1e999 and NaN as null, and a warning is logged;
// a Go float that is not finite fails to encode for JSON (the error is
// returned), as before; a cbor link carries all of them exactly.
func (rn *remoteNode) send(local string, m *Msg) error {
	b, f := rn.peer.Begin(m.bytesHint())
	start := len(b)
	b, err := appendEnvelope(b, local, m, f, wire.NonFiniteError, &rn.head)
	if err != nil && errors.Is(err, wire.ErrUnsupportedValue) && m.carriesCBOR() {
		rn.peer.Abort(b)
		b, f = rn.peer.Begin(m.bytesHint())
		start = len(b)
		if b, err = appendEnvelope(b, local, m, f, wire.NonFiniteSubstitute, &rn.head); err == nil {
			rn.n.log.Warn("aemp: NaN or Inf in a message for a JSON link sent as null or 1e999", "peer", rn.id, "tag", m.tag)
		}
	}
	if err != nil {
		rn.peer.Abort(b)
		return err
	}
	size := len(b) - start
	err = rn.peer.Commit(b, rn.key(local))
	if rn.n.trace {
		rn.traceSend(local, m.tag, size, err)
	}
	return err
}

// key is the transport's ordering key for messages to port local: only
// with Config.OrderPerPort is it anything but 0 (without it no link
// orders by key, and the hash would be wasted on every message).
func (rn *remoteNode) key(local string) uint64 {
	if !rn.n.cfg.OrderPerPort {
		return 0
	}
	return portKey(local)
}

// sendIfUp sends only over an established link (kil0, mon0: Perl sends
// these only to connected nodes).
func (rn *remoteNode) sendIfUp(local string, m *Msg) {
	b, f, ok := rn.peer.BeginIfUp(m.bytesHint())
	if !ok {
		return
	}
	start := len(b)
	b, err := appendEnvelope(b, local, m, f, wire.NonFiniteSubstitute, &rn.head)
	if err != nil {
		rn.peer.Abort(b)
		return
	}
	size := len(b) - start
	err = rn.peer.Commit(b, rn.key(local))
	if rn.n.trace {
		rn.traceSend(local, m.tag, size, err)
	}
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
	if n.mesh == nil {
		m.release()
		return fmt.Errorf("%w: %s (networking is not configured)", ErrNoRoute, node)
	}
	p := n.mesh.Known(node)
	if p == nil {
		if !validNodeID(node) {
			m.release()
			return fmt.Errorf("%w: node ID %q", ErrBadPortID, node)
		}
		p = n.mesh.Peer(node)
	}
	err := p.Handler().(*remoteNode).send(local, m)
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
	if n.mesh == nil || !validNodeID(node) {
		go m.fire(transportReason(node, "no known address"))
		return
	}
	rn := n.mesh.Peer(node).Handler().(*remoteNode)
	rn.mu.Lock()
	if rn.mons == nil {
		rn.mons = make(map[string]map[*Monitor]struct{})
	}
	// A port's set exists from its mon1 until kil0, link loss or the
	// mon0 for its last monitor; it may be empty (Monitor.keep).
	set := rn.mons[local]
	first := set == nil
	if first {
		set = make(map[*Monitor]struct{})
		rn.mons[local] = set
	}
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
	last := set != nil && len(set) == 0 && !m.keep
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

// scanEnvelope scans the head of an encoded envelope in any of its three
// encodings (JSON text, blob envelope, CBOR item): the local part and the
// tag; the arguments are validated when a handler reads them. It returns
// the envelope text without a blob envelope's frame, and its blobs. memo
// (nil for none) remembers the last JSON head (wire.HeadMemo).
func scanEnvelope(env *wire.Envelope, text []byte, memo *wire.HeadMemo) (inner []byte, bs wire.Blobs, err error) {
	switch {
	case wire.IsBlobEnvelope(text):
		if text, bs, err = wire.SplitBlobEnvelope(text); err == nil {
			err = wire.ScanHeadMemo(env, text, memo)
		}
	case wire.IsCBOREnvelope(text):
		*env, err = wire.ScanCBOR(text)
	default:
		err = wire.ScanHeadMemo(env, text, memo)
	}
	return text, bs, err
}

// deliver routes one inbound envelope (JSON text, blob envelope or CBOR
// item); it runs on the link's reader, which link (nil: none) can run the
// destination port's handlers on.
func (rn *remoteNode) deliver(buf *pool.Buf, text []byte, link mesh.InlineRunner) {
	size := len(text)
	var env wire.Envelope
	text, bs, err := scanEnvelope(&env, text, &rn.rxHead)
	if err != nil {
		rn.n.log.Warn("aemp: malformed message dropped", "peer", rn.id, "err", err)
		return
	}
	var scratch [64]byte
	local := env.Local
	if env.LocalEscaped {
		local = env.LocalText(scratch[:0])
	}
	m := Msg{tag: rn.intern(env.Tag, env.TagEscaped, &env)}
	args := env.Args
	if env.TagKind != wire.KindNone && !env.TagReencodes() {
		// a number, null, …: kept as an element, its type with it
		m.flags |= msgTagElem
		args = wire.TagAndArgs(text, &env)
	}
	if env.CBOR {
		m.flags |= msgCBOR
	}
	if rn.n.trace {
		rn.traceRecv(local, m.tag, size)
	}
	m.setRemote(args, bs, buf, rn)
	if len(local) == 0 {
		buf.Retain()
		rn.n.nodeRequest(rn, &m)
		return
	}
	p := lookupPort(rn.n, local)
	if p == nil {
		return // AEMP drops messages to ports that do not exist
	}
	buf.Retain()
	p.pushFrom(&m, link)
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
