package aemp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/registry"
	"github.com/aemp-go/aemp/transport"
	"github.com/aemp-go/aemp/transport/handshake"
	"github.com/aemp-go/aemp/wire"
)

// network is a node's connection management: listeners, the table of
// remote nodes, connect attempts. It exists only for nodes with Binds or
// Nodes configured.
type network struct {
	n      *Node
	hs     handshake.Config // template, shared by all handshakes
	tcfg   transport.Config
	ctx    context.Context // cancelled by close
	cancel context.CancelFunc

	lns   []net.Listener
	binds []string
	seeds seeds

	nodes sync.Map // node ID → *remoteNode (lock-free lookup on every remote send)

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // connections still in their handshake
	closed bool
	wg     sync.WaitGroup // accept loops, handshakes, connect attempts
}

// creditWindow is the receive window of credit-based flow control between
// Go nodes (see useCredit): a peer can never push more than this ahead of
// what the handlers consumed, whatever the backend buffers.
const creditWindow = 4 << 20

// useCredit decides whether a link runs credit-based flow control: both
// nodes support it with the same window, goframe1 runs both ways, and at
// least one of them wants it (its backend cannot push back through TCP).
// Both nodes see both greetings, so both decide the same. On the std
// backend credit costs ~7% of throughput and is not needed.
func (nw *network) useCredit(res *handshake.Result) bool {
	v, ok := res.Peer.Get("credit")
	if !ok || v != strconv.Itoa(creditWindow) || res.SendFraming != "goframe1" || res.RecvFraming != "goframe1" {
		return false
	}
	want, _ := res.Peer.Get("credit-want")
	return want == "1" || nw.tcfg.Backend == transport.BackendNetpoll
}

// expressMax is the largest framed message that may overtake others with
// Config.OrderPerPort.
const expressMax = 4 << 10

// useBlobs decides whether this node sends blob envelopes (wire.BlobMagic)
// on a link: the peer announced it takes them, and our messages travel as
// goframe1 frames. Inbound blob envelopes are accepted on any goframe1 link.
func useBlobs(res *handshake.Result) bool {
	v, ok := res.Peer.Get("blobs")
	return ok && v == wire.BlobsVersion && res.SendFraming == "goframe1"
}

func (n *Node) startNetwork() error {
	cfg := &n.cfg
	if len(cfg.Binds) == 0 && len(cfg.Nodes) == 0 && len(cfg.Seeds) == 0 {
		return nil
	}
	nw := &network{
		n:     n,
		conns: make(map[net.Conn]struct{}),
	}
	nw.ctx, nw.cancel = context.WithCancel(context.Background())
	nw.hs = handshake.Config{
		NodeID:     n.id,
		AuthAccept: cfg.AuthAccept,
		Framings:   cfg.Framings,
		Timeout:    cfg.HandshakeTimeout,
	}
	if cfg.Secret != "" {
		nw.hs.Secret = []byte(cfg.Secret)
	}
	if cfg.Cert != "" {
		b, err := auth.LoadBundle([]byte(cfg.Cert))
		if err != nil {
			return fmt.Errorf("%w: Cert: %w", ErrConfig, err)
		}
		nw.hs.TLS = b
	}
	if nw.hs.Secret == nil && nw.hs.TLS == nil {
		return fmt.Errorf("%w: networking needs a Secret or a Cert to authenticate peers", ErrConfig)
	}
	nw.hs.IsConnected = nw.isUp
	nw.tcfg = transport.Config{MaxFrame: cfg.MaxFrame, SendBuffer: cfg.SendBuffer}
	switch cfg.Backend {
	case "netpoll":
		nw.tcfg.Backend = transport.BackendNetpoll
	case "std":
		nw.tcfg.Backend = transport.BackendStd
	}
	// Capability: credit-based flow control between Go nodes (Perl nodes
	// ignore unknown greeting keys). Every node supports it; a node whose
	// backend reads eagerly (netpoll) also wants it. See attach.
	nw.hs.Extra = []wire.KV{
		{Key: "credit", Value: strconv.Itoa(creditWindow), HasValue: true},
		// Capability: blob envelopes, byte strings as raw bytes (see useBlobs).
		{Key: "blobs", Value: wire.BlobsVersion, HasValue: true},
	}
	if nw.tcfg.Backend == transport.BackendNetpoll {
		nw.hs.Extra = append(nw.hs.Extra, wire.KV{Key: "credit-want", Value: "1", HasValue: true})
	}
	for _, b := range cfg.Binds {
		ln, err := net.Listen("tcp", b)
		if err != nil {
			nw.closeListeners()
			return fmt.Errorf("aemp: listen on %s: %w", b, err)
		}
		nw.lns = append(nw.lns, ln)
		nw.binds = append(nw.binds, ln.Addr().String())
	}
	n.net = nw
	for _, ln := range nw.lns {
		nw.wg.Add(1)
		go nw.accept(ln)
	}
	// Publish where this node listens ('l), as AnyEvent::MP's configure does.
	published := publishedBinds(nw.binds)
	n.reg.run(func(out *registry.Out) { n.reg.st.Set(registry.FamilyListeners, n.id, published, out) })
	nw.startSeeds()
	return nil
}

// publishedBinds lists the bound addresses as other nodes can dial them: a
// listener on the unspecified address (0.0.0.0, ::) is published with each
// interface address (loopback only if there is nothing else), as
// AnyEvent::MP expands "*".
func publishedBinds(binds []string) []any {
	out := []any{}
	for _, b := range binds {
		host, port, err := net.SplitHostPort(b)
		if err != nil {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsUnspecified() {
			out = append(out, b)
			continue
		}
		var loop []any
		addrs, _ := net.InterfaceAddrs()
		n := len(out)
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() || ip.To4() != nil && ipn.IP.To4() == nil {
				continue
			}
			hp := net.JoinHostPort(ipn.IP.String(), port)
			if ipn.IP.IsLoopback() {
				loop = append(loop, hp)
			} else {
				out = append(out, hp)
			}
		}
		if len(out) == n {
			out = append(out, loop...)
		}
	}
	return out
}

// Binds returns the addresses the node listens on ("ip:port").
func (n *Node) Binds() []string {
	if n.net == nil {
		return nil
	}
	return append([]string(nil), n.net.binds...)
}

// AddNode tells the node where another node listens, adding to (or, for a
// node already known, replacing) Config.Nodes.
func (n *Node) AddNode(id string, addrs ...string) error {
	if !validNodeID(id) {
		return fmt.Errorf("%w: node ID %q", ErrBadPortID, id)
	}
	if n.net == nil {
		return fmt.Errorf("%w: networking is not configured (no Binds or Nodes)", ErrNoRoute)
	}
	n.net.mu.Lock()
	n.cfg.Nodes[id] = append([]string(nil), addrs...)
	n.net.mu.Unlock()
	return nil
}

// UpNodes returns the IDs of the nodes with an established link.
func (n *Node) UpNodes() []string {
	if n.net == nil {
		return nil
	}
	var ids []string
	n.net.nodes.Range(func(_, v any) bool {
		if rn := v.(*remoteNode); rn.up() {
			ids = append(ids, rn.id)
		}
		return true
	})
	return ids
}

func (nw *network) closeListeners() {
	for _, ln := range nw.lns {
		ln.Close()
	}
}

func (nw *network) close() error {
	nw.mu.Lock()
	nw.closed = true
	var nodes []*remoteNode
	nw.nodes.Range(func(_, v any) bool { nodes = append(nodes, v.(*remoteNode)); return true })
	for c := range nw.conns {
		c.Close()
	}
	nw.mu.Unlock()
	nw.cancel()
	nw.closeListeners()
	for _, rn := range nodes {
		rn.mu.Lock()
		l := rn.link
		rn.mu.Unlock()
		if l != nil {
			l.Close() // OnClose runs down() and fires monitors
		}
	}
	nw.wg.Wait()
	return nil
}

// known returns the view of another node if there is one (node creates it).
func (nw *network) known(id string) *remoteNode {
	if v, ok := nw.nodes.Load(id); ok {
		return v.(*remoteNode)
	}
	return nil
}

// node returns the remoteNode for id, creating it.
func (nw *network) node(id string) *remoteNode {
	if v, ok := nw.nodes.Load(id); ok {
		return v.(*remoteNode)
	}
	v, _ := nw.nodes.LoadOrStore(id, &remoteNode{nw: nw, id: id})
	return v.(*remoteNode)
}

// isUp is the "already connected" rule for outgoing handshakes.
func (nw *network) isUp(id string) bool {
	v, ok := nw.nodes.Load(id)
	return ok && v.(*remoteNode).up()
}

// refuseIncoming is the "already connected" rule for incoming handshakes.
// When both nodes dial each other at once, the node with the smaller ID
// keeps its own outgoing connection and refuses the incoming one; the other
// side accepts it (and its own dial is refused), so both end up with the
// same single link.
func (nw *network) refuseIncoming(id string) bool {
	v, ok := nw.nodes.Load(id)
	if !ok {
		return false
	}
	rn := v.(*remoteNode)
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.link != nil || rn.connecting && nw.n.id < id
}

func (nw *network) track(c net.Conn) bool {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if nw.closed {
		return false
	}
	nw.conns[c] = struct{}{}
	return true
}

func (nw *network) untrack(c net.Conn) {
	nw.mu.Lock()
	delete(nw.conns, c)
	nw.mu.Unlock()
}

func (nw *network) accept(ln net.Listener) {
	defer nw.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && nw.ctx.Err() == nil {
				nw.n.log.Error("aemp: accept failed; listener stopped", "bind", ln.Addr().String(), "err", err)
			}
			return
		}
		if !nw.track(c) {
			c.Close()
			return
		}
		nw.wg.Add(1)
		go func() {
			defer nw.wg.Done()
			defer nw.untrack(c)
			hs := nw.hs
			hs.IsConnected = nw.refuseIncoming
			res, err := handshake.Run(nw.ctx, c, &hs)
			if err != nil {
				c.Close()
				nw.n.log.Warn("aemp: incoming connection refused", "remote", c.RemoteAddr().String(), "err", err)
				return
			}
			nw.node(res.Peer.NodeID).attach(res)
		}()
	}
}

// dial tries each known address of rn until a handshake succeeds or the
// deadline passes; the first failure reason is what monitors get. The
// addresses come from Config.Nodes (and AddNode), else from the global
// database: a global node looks them up, a normal node asks its master
// (g_find).
func (rn *remoteNode) dial() {
	nw := rn.nw
	nw.mu.Lock()
	addrs := append([]string(nil), nw.n.cfg.Nodes[rn.id]...)
	nw.mu.Unlock()
	ctx, cancel := context.WithTimeout(nw.ctx, nw.n.cfg.ConnectTimeout)
	defer cancel()
	if len(addrs) == 0 && (len(nw.n.cfg.Seeds) > 0 || nw.n.reg.global.Load()) {
		addrs = nw.n.reg.resolve(ctx, rn.id)
	}
	if len(addrs) == 0 {
		text := "no known address"
		if ctx.Err() != nil {
			text = "connect timeout"
		}
		rn.down(text, false)
		return
	}
	var lastErr error
	for backoff := 50 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		for _, addr := range addrs {
			if rn.up() {
				return // an incoming connection from the node satisfied the attempt
			}
			res, err := rn.dialOne(ctx, addr)
			if err == nil {
				rn.attach(res)
				return
			}
			lastErr = err
			nw.n.log.Debug("aemp: connect attempt failed", "peer", rn.id, "addr", addr, "err", err)
		}
		select {
		case <-ctx.Done():
			if rn.up() {
				return
			}
			text := "connect timeout"
			if nw.ctx.Err() != nil {
				text = "node closed"
			}
			nw.n.log.Warn("aemp: cannot connect", "peer", rn.id, "err", lastErr)
			rn.down(text, false)
			return
		case <-time.After(backoff):
		}
	}
}

func (rn *remoteNode) dialOne(ctx context.Context, addr string) (*handshake.Result, error) {
	res, err := rn.nw.dialHandshake(ctx, addr, nil)
	if err != nil {
		return nil, err
	}
	if res.Peer.NodeID != rn.id {
		res.Conn.Close()
		return nil, fmt.Errorf("aemp: %s answered as node %q, expected %q", addr, res.Peer.NodeID, rn.id)
	}
	return res, nil
}

// dialHandshake connects to addr and runs the handshake (onGreeting, if
// set, sees the peer's greeting first). The connection is closed on
// failure, and tracked until the handshake ends, so that Close can abort it.
func (nw *network) dialHandshake(ctx context.Context, addr string, onGreeting func(*wire.Greeting) error) (*handshake.Result, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if !nw.track(c) {
		c.Close()
		return nil, ErrClosed
	}
	defer nw.untrack(c)
	hs := nw.hs
	hs.PeerAddr = addr
	hs.OnGreeting = onGreeting
	res, err := handshake.Run(ctx, c, &hs)
	if err != nil {
		c.Close()
		return nil, err
	}
	return res, nil
}

func (rn *remoteNode) up() bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.link != nil
}

// attach makes an authenticated connection the node's link and flushes
// what was queued while connecting.
func (rn *remoteNode) attach(res *handshake.Result) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.link != nil || rn.nw.ctx.Err() != nil {
		res.Conn.Close() // lost a race with another connection (or closing)
		return
	}
	tcfg := rn.nw.tcfg
	if rn.nw.useCredit(res) {
		tcfg.Credit = creditWindow
	}
	express := rn.nw.n.cfg.OrderPerPort && res.SendFraming == "goframe1"
	if express {
		tcfg.Express = expressMax
	}
	// The registry learns of the link before its reader starts, so that
	// what it sends on node-up (g_global) goes out before its answers to
	// the peer's first requests, as with Perl. Its sends wait for rn.mu,
	// so they find the link in place. Queued under rn.mu: ordered with
	// nodeDown.
	rn.nw.n.reg.nodeUp(rn.id)
	l, err := transport.NewLink(res.Conn, res.Buffered, res.SendFraming, res.RecvFraming, (*linkHandler)(rn), tcfg)
	if err != nil {
		res.Conn.Close()
		rn.nw.n.log.Warn("aemp: link setup failed", "peer", rn.id, "err", err)
		rn.nw.n.reg.nodeDown(rn.id, transportReason(rn.id, err.Error()))
		return
	}
	rn.link = l
	rn.blobs = useBlobs(res)
	rn.express = express
	rn.connecting = false
	rn.retryDelay = 0
	rn.nw.n.log.Debug("aemp: link up", "peer", rn.id, "send", res.SendFraming, "recv", res.RecvFraming, "tls", res.TLS)
	pending := rn.pending
	rn.pending = nil
	for _, env := range pending {
		if !rn.blobs && wire.IsBlobEnvelope(env) { // encoded before we knew the peer
			var err error
			if env, err = wire.BlobEnvelopeToJSON(nil, env); err != nil {
				rn.nw.n.log.Warn("aemp: queued message dropped", "peer", rn.id, "err", err)
				continue
			}
		}
		if err := l.Send(env); err != nil {
			if errors.Is(err, transport.ErrMessageTooLarge) { // this one only; the link stays up
				rn.nw.n.log.Warn("aemp: queued message dropped", "peer", rn.id, "err", err)
				continue
			}
			break // the link closes itself; OnClose reports it
		}
	}
}

// linkHandler is the transport.Handler of a remote node's link.
type linkHandler remoteNode

func (h *linkHandler) OnMessage(buf *pool.Buf, msg []byte) {
	(*remoteNode)(h).deliver(buf, msg)
}

func (h *linkHandler) OnClose(err error) {
	rn := (*remoteNode)(h)
	text := "Unexpected end-of-file"
	if err != nil && !errors.Is(err, transport.ErrClosed) {
		text = err.Error()
	} else if rn.nw.ctx.Err() != nil {
		text = "node closed"
	}
	rn.down(text, true)
}

// down handles the loss of the link (or the failure of a connect attempt):
// queued messages are discarded and every local monitor of a port on that
// node fires with ("transport_error", node, text) (spec §5.2).
func (rn *remoteNode) down(text string, wasUp bool) {
	rn.mu.Lock()
	if !wasUp && rn.link != nil {
		rn.mu.Unlock() // the attempt failed, but the node connected to us meanwhile
		return
	}
	r := transportReason(rn.id, text)
	if wasUp {
		rn.link = nil
		rn.blobs, rn.express = false, false
		rn.nw.n.reg.nodeDown(rn.id, r) // queued under rn.mu: ordered with nodeUp
	} else {
		rn.backOff()
	}
	rn.connecting = false
	rn.pending = nil
	mons := rn.mons
	rn.mons = nil
	rn.mu.Unlock()
	if wasUp {
		rn.nw.n.log.Info("aemp: link down", "peer", rn.id, "reason", text)
	}
	for _, set := range mons {
		for m := range set {
			m.fire(r)
		}
	}
}
