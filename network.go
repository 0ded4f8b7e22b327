package aemp

import (
	"context"
	"fmt"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/mesh"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/registry"
	"github.com/aemp-go/aemp/wire"
)

// Networking is package mesh's (links, seeds, master selection); the node
// starts a mesh when Binds, Nodes or Seeds are configured and reacts to its
// events here: link and master changes go to the registry, in order, and
// each peer's traffic to its remoteNode (remote.go).

func (n *Node) startNetwork() error {
	cfg := &n.cfg
	if len(cfg.Binds) == 0 && len(cfg.Nodes) == 0 && len(cfg.Seeds) == 0 {
		return nil
	}
	binds, err := listenAddrs(cfg.Binds)
	if err != nil {
		return fmt.Errorf("%w: Binds: %w", ErrConfig, err)
	}
	mc := mesh.Config{
		NodeID:           n.id,
		AuthAccept:       cfg.AuthAccept,
		SecretTLS:        !cfg.PlainGoLinks,
		RequireTLS:       cfg.RequireTLS,
		AuthOffer:        cfg.AuthOffer,
		Framings:         cfg.Framings,
		HandshakeTimeout: cfg.HandshakeTimeout,
		Backend:          cfg.Backend,
		MaxFrame:         cfg.MaxFrame,
		MaxDepth:         cfg.MaxDepth,
		MaxQueue:         cfg.MaxQueue,
		KeepAlive:        cfg.KeepAlive,
		KeepAliveTimeout: cfg.KeepAliveTimeout,
		SendBuffer:       cfg.SendBuffer,
		Compress:         cfg.Compress,
		OrderPerPort:     cfg.OrderPerPort,
		Binds:            binds,
		Nodes:            cfg.Nodes,
		Seeds:            cfg.Seeds,
		ConnectTimeout:   cfg.ConnectTimeout,
		MonitorTimeout:   cfg.MonitorTimeout,
		Logger:           n.log,
		Events:           (*meshEvents)(n),
		Resolve:          n.reg.resolveAddrs,
	}
	if cfg.Secret != "" {
		mc.Secret = []byte(cfg.Secret)
	}
	if cfg.Cert != "" {
		b, err := auth.LoadBundle([]byte(cfg.Cert))
		if err != nil {
			return fmt.Errorf("%w: Cert: %w", ErrConfig, err)
		}
		mc.TLS = b
	}
	if mc.Secret == nil && mc.TLS == nil {
		return fmt.Errorf("%w: networking needs a Secret or a Cert to authenticate peers", ErrConfig)
	}
	m, err := mesh.New(mc)
	if err != nil {
		return err
	}
	n.mesh = m
	// Publish where this node listens ('l), as AnyEvent::MP's configure does.
	published := []any{}
	for _, a := range m.Published() {
		published = append(published, a)
	}
	n.reg.run(func(out *registry.Out) { n.reg.st.Set(registry.FamilyListeners, n.id, published, out) })
	m.Start()
	return nil
}

// Binds returns the addresses the node listens on ("ip:port").
func (n *Node) Binds() []string {
	if n.mesh == nil {
		return nil
	}
	return n.mesh.Binds()
}

// AddNode tells the node where another node listens, adding to (or, for a
// node already known, replacing) Config.Nodes.
func (n *Node) AddNode(id string, addrs ...string) error {
	if !validNodeID(id) {
		return fmt.Errorf("%w: node ID %q", ErrBadPortID, id)
	}
	if n.mesh == nil {
		return fmt.Errorf("%w: networking is not configured (no Binds or Nodes)", ErrNoRoute)
	}
	n.mesh.AddNode(id, addrs...)
	return nil
}

// UpNodes returns the IDs of the nodes with an established link.
func (n *Node) UpNodes() []string {
	if n.mesh == nil {
		return nil
	}
	return n.mesh.UpNodes()
}

// meshEvents is the node as the mesh's Events. The ordered events are
// queued on the registry port, which sees them in the mesh's order.
type meshEvents Node

func (e *meshEvents) NewPeer(p *mesh.Peer) mesh.PeerHandler {
	return &remoteNode{n: (*Node)(e), id: p.ID(), peer: p}
}

func (e *meshEvents) LinkUp(id string) { e.reg.nodeUp(id) }

func (e *meshEvents) LinkDown(id, text string) { e.reg.nodeDown(id, transportReason(id, text)) }

func (e *meshEvents) SeedUp(id string) {
	e.reg.run(func(out *registry.Out) {
		out.Sends = append(out.Sends, registry.Send{To: id, Msg: []any{"g_slave"}})
	})
}

func (e *meshEvents) Master(id string) {
	e.reg.run(func(out *registry.Out) { e.reg.st.SetMaster(id, out) })
}

func (e *meshEvents) SelfSeed(string) {
	e.reg.run(func(out *registry.Out) { e.reg.st.BecomeGlobal(out) })
}

// OnMessage and OnDown make a remoteNode the mesh's PeerHandler.
func (rn *remoteNode) OnMessage(buf *pool.Buf, msg []byte) { rn.deliver(buf, msg, nil) }

// OnMessageInline delivers as OnMessage does; a message for an idle port
// is handled on the link's reader (Port.pushFrom).
func (rn *remoteNode) OnMessageInline(buf *pool.Buf, msg []byte, link mesh.InlineRunner) {
	rn.deliver(buf, msg, link)
}

// OnDown fires every local monitor of a port on the node with
// ("transport_error", node, text) (spec §5.2).
func (rn *remoteNode) OnDown(text string, wasUp bool) {
	r := transportReason(rn.id, text)
	rn.mu.Lock()
	mons := rn.mons
	rn.mons = nil
	rn.mu.Unlock()
	for _, set := range mons {
		for m := range set {
			m.fire(r)
		}
	}
}

// OnLost fires the monitors of the port a queued message was for: it was
// accepted, waited for the link, and cannot be sent on it (the node takes
// nothing that large). Later messages to the port are sent as usual; the
// monitors learn of the gap.
func (rn *remoteNode) OnLost(env []byte, err error) {
	var head wire.Envelope
	_, _, serr := scanEnvelope(&head, env, nil)
	if serr != nil { // cannot be: this node encoded it
		rn.n.log.Error("aemp: a lost message names no port", "peer", rn.id, "err", serr)
		return
	}
	local := string(head.LocalText(nil))
	r := transportReason(rn.id, "message lost: "+err.Error())
	go rn.fireRemote(local, r) // not under the peer's lock: monitors may send
}

// resolve is the mesh's Resolve: where a node not in Config.Nodes
// listens, asked of the registry (nil at once for a node without seeds
// that is not global: nobody could know).
func (h *registryHost) resolveAddrs(ctx context.Context, node string) []string {
	if len(h.n.cfg.Seeds) == 0 && !h.global.Load() {
		return nil
	}
	return h.resolve(ctx, node)
}
