package mesh

import "github.com/aemp-go/aemp/pool"

// Events is how a Mesh tells its owner (the node) what happens to its
// links. The mesh makes two kinds of calls:
//
//   - The ordered events (LinkUp, LinkDown, SeedUp, Master, SelfSeed) are
//     called one at a time for the whole mesh, in the order the changes
//     happened, under the mesh's event lock. They must not block and must
//     not call the Mesh or a Peer (they would deadlock): queue the work
//     that reacts to them (the node queues it on its registry port).
//   - The per-peer calls of a [PeerHandler] (the handler NewPeer returns).
//
// An implementation must be safe for calls from several goroutines (the
// ordered events are serialised, NewPeer is not).
type Events interface {
	// NewPeer returns the handler of the traffic with a node. It is called
	// when the mesh first needs a peer for the node ID (the first send to
	// it, or its first connection), without locks held, possibly more than
	// once for one ID when two goroutines create it at once: only one of
	// the results is used, so it must not have side effects.
	NewPeer(p *Peer) PeerHandler

	// LinkUp: a link to node id is established. It is called before the
	// link reads anything (so what the owner sends in reaction precedes
	// its answers to the peer's first messages) and after the messages
	// queued while connecting have been committed to it.
	LinkUp(id string)

	// LinkDown: the link to node id is gone; text is the AEMP reason text
	// ("Unexpected end-of-file", …). Every LinkUp is followed by exactly
	// one LinkDown (at the latest when the mesh closes).
	LinkDown(id, text string)

	// SeedUp: the node behind a seed endpoint has a link (its ID learned
	// from the greeting). Called once per link, after LinkUp, or when a
	// node that is up turns out to be a seed.
	SeedUp(id string)

	// Master: the master changed to id, the first seed that came up, or
	// after the master went down the first one in Config.Seeds order that
	// is up; "" when none is up (spec §4.8). A global node is its own
	// master: the owner ignores these then.
	Master(id string)

	// SelfSeed: a seed endpoint turned out to be this node; the node
	// should run the global service.
	SelfSeed(addr string)
}

// PeerHandler handles the traffic with one node.
type PeerHandler interface {
	// OnMessage is called on the link's reader goroutine for each inbound
	// message, one at a time, in arrival order (transport.Handler's
	// contract): msg lies in buf and both are valid only during the call
	// unless the handler calls buf.Retain. It may block, which stalls
	// reading this link (back-pressure), and may send to any peer. A
	// PeerInlineHandler gets OnMessageInline instead.
	OnMessage(buf *pool.Buf, msg []byte)

	// OnDown is called once for every loss of the link (wasUp, after the
	// LinkDown event) and for every failed connection attempt (the
	// messages queued while connecting are dropped), with the AEMP reason
	// text. It runs without locks on the goroutine that saw the failure,
	// may send (a new attempt starts on demand) and should not block for
	// long.
	OnDown(text string, wasUp bool)

	// OnLost is called for a message Commit accepted (it waited while the
	// link connected) that cannot be sent on the new link: it is larger
	// than the peer takes (err wraps ErrMessageTooLarge). env is its
	// envelope (as committed), valid during the call. It is called under
	// the peer's lock: it must not block or call the peer; the node fires
	// the monitors of the envelope's destination port, from a goroutine
	// of its own.
	OnLost(env []byte, err error)
}

// InlineRunner runs work on the reader goroutine of the link a message
// came in on, keeping the link readable if the work blocks
// (transport.Link.RunInline: false when it cannot).
type InlineRunner interface {
	RunInline(fn func(arg any), arg any) bool
}

// PeerInlineHandler is a PeerHandler that would rather run some of its
// work on the reader than hand it to another goroutine: the mesh calls
// OnMessageInline instead of OnMessage, with the link the message came in
// on, under OnMessage's contract.
type PeerInlineHandler interface {
	PeerHandler
	OnMessageInline(buf *pool.Buf, msg []byte, link InlineRunner)
}
