package mesh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/transport"
	"github.com/aemp-go/aemp/transport/handshake"
	"github.com/aemp-go/aemp/wire"
)

// Peer is the mesh's view of another node: its link when up, the messages
// queued while it connects, and the connection attempts. One link per node
// pair: a second authenticated connection to the same node is refused.
type Peer struct {
	m  *Mesh
	id string
	h  PeerHandler

	mu         sync.Mutex
	link       *transport.Link
	connecting bool
	format     wire.Format // what the link's peer takes
	express    bool        // the link orders per port (Config.OrderPerPort)
	maxSend    int         // the largest message the link's peer takes
	pend       pending
	changed    chan struct{} // closed when the link comes up or an attempt ends (WaitRoom)
	retryAt    time.Time     // ensureLink waits until then after a failure
	retryDelay time.Duration // the back-off that set retryAt
	retry      *time.Timer   // the next attempt of a kept link
	st         peerStats     // for Stats (stats.go)
}

// ID returns the peer's node ID.
func (p *Peer) ID() string { return p.id }

// Handler returns the handler Events.NewPeer made for the peer.
func (p *Peer) Handler() PeerHandler { return p.h }

// Up reports whether the link is established.
func (p *Peer) Up() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.link != nil
}

// Begin locks the peer for one message and returns the buffer to append
// its encoded envelope to (append only), and the format to encode it in.
// With the link up the buffer is the link's outbound batch (see
// transport.Link.BeginN; hint is the expected size); otherwise it is the
// queue of messages waiting for the link, in wire.FormatMixed (turned into
// what the peer takes when the link comes up). Every Begin must be
// followed by Commit or Abort on the same goroutine, with no other call to
// this peer in between.
func (p *Peer) Begin(hint int) (b []byte, f wire.Format) {
	p.mu.Lock()
	if l := p.link; l != nil {
		return l.BeginN(hint), p.format
	}
	return p.pend.begin(hint), wire.FormatMixed
}

// BeginIfUp is Begin for messages sent only over an established link
// (Perl sends kil0 and mon0 only to connected nodes): ok is false, and the
// peer not locked, when the link is not up.
func (p *Peer) BeginIfUp(hint int) (b []byte, f wire.Format, ok bool) {
	p.mu.Lock()
	if l := p.link; l != nil {
		return l.BeginN(hint), p.format, true
	}
	p.mu.Unlock()
	return nil, 0, false
}

// Commit queues the message appended to b since Begin and unlocks the
// peer. key orders it (Config.OrderPerPort): messages with one key keep
// their order, key 0 is a barrier. Without a link the message waits and a
// connection attempt starts unless one is under way. Nothing is queued
// when Commit fails. Errors:
//
//   - ErrMessageTooLarge: the message exceeds MaxFrame (or what the peer
//     announced it takes); the link stays up.
//   - ErrQueueFull: the peer's queue (Config.MaxQueue: waiting while
//     connecting, or not yet written) has no room; WaitRoom waits for it.
//   - ErrClosed: the mesh is closing (or the link closed under the call).
func (p *Peer) Commit(b []byte, key uint64) error {
	if l := p.link; l != nil {
		var err error
		if p.express {
			err = l.CommitKey(b, key)
		} else {
			err = l.Commit(b)
		}
		p.mu.Unlock()
		return linkErr(err)
	}
	size := len(b) - p.pend.mark - pendHead
	if size > p.m.maxFrame() {
		p.pend.abort()
		p.mu.Unlock()
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMessageTooLarge, size, p.m.maxFrame())
	}
	if len(b) > p.m.cfg.MaxQueue && p.pend.n > 0 { // (one message always fits an empty queue)
		queued := p.pend.mark
		p.pend.abort()
		p.mu.Unlock()
		return fmt.Errorf("%w: %d bytes wait for the link to %s, limit %d", ErrQueueFull, queued, p.id, p.m.cfg.MaxQueue)
	}
	p.pend.commit(b, key)
	start := !p.connecting
	p.connecting = true
	p.mu.Unlock()
	if start && !p.m.goTracked(p.dial) {
		return ErrClosed
	}
	return nil
}

// linkErr maps a transport Commit error to the mesh's sentinels.
func linkErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, transport.ErrOutboundFull):
		return fmt.Errorf("%w: %w", ErrQueueFull, err)
	case errors.Is(err, transport.ErrClosed):
		return fmt.Errorf("%w: %w", ErrLinkClosed, err)
	}
	return err
}

// WaitRoom waits until a message of n bytes fits the peer's queue (what
// ErrQueueFull refused), the link goes down, or ctx ends (ctx.Err()).
// Another sender may take the room first: retry Commit, and wait again on
// ErrQueueFull. It returns ErrClosed when the mesh closes.
func (p *Peer) WaitRoom(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		if l := p.link; l != nil {
			p.mu.Unlock()
			err := l.WaitRoom(ctx, n)
			if errors.Is(err, transport.ErrClosed) {
				return nil // gone: the next Commit starts over
			}
			return err
		}
		if !p.connecting || p.pend.n == 0 || p.pend.bytes()+pendHead+n <= p.m.cfg.MaxQueue {
			p.mu.Unlock()
			return nil
		}
		if err := p.waitChange(ctx); err != nil {
			return err
		}
	}
}

// settle waits until no connection attempt of the peer is under way (for
// Shutdown: what it queued has been committed to a link or dropped).
func (p *Peer) settle(ctx context.Context) error {
	for {
		p.mu.Lock()
		if !p.connecting || p.link != nil {
			p.mu.Unlock()
			return nil
		}
		if err := p.waitChange(ctx); err != nil {
			return err
		}
	}
}

// waitChange unlocks p.mu, which the caller holds, and waits for the next
// change of the link (wake), the end of ctx (ctx.Err()) or of the mesh
// (ErrClosed).
func (p *Peer) waitChange(ctx context.Context) error {
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	ch := p.changed
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.m.ctx.Done():
		return ErrClosed
	}
}

// wake ends the waits of WaitRoom and settle on a change of the link.
// Called with p.mu held.
func (p *Peer) wake() {
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

// Abort drops what was appended since Begin and unlocks the peer.
func (p *Peer) Abort(b []byte) {
	if l := p.link; l != nil {
		l.Abort(b)
	} else {
		p.pend.abort()
	}
	p.mu.Unlock()
}

// ensureLink starts a connection attempt unless the link is up, an
// attempt is under way, or the last one failed too recently (back-off).
func (p *Peer) ensureLink() {
	p.mu.Lock()
	if wait := time.Until(p.retryAt); p.link == nil && !p.connecting && wait > 0 {
		p.retryLocked(wait) // in back-off: try when it ends
	}
	if p.link != nil || p.connecting || time.Now().Before(p.retryAt) {
		p.mu.Unlock()
		return
	}
	p.connecting = true
	p.mu.Unlock()
	if !p.m.goTracked(p.dial) {
		p.mu.Lock()
		p.connecting = false
		p.mu.Unlock()
	}
}

// dial tries each known address until a handshake succeeds or the
// deadline passes; the reason monitors get is the last attempt's failure,
// unless the deadline cut that attempt short: then the one before it says
// more (a wrong certificate, not "connect timeout"). The
// addresses come from Config.Nodes (and AddNode), else from Resolve.
func (p *Peer) dial() {
	m := p.m
	addrs := m.addrsOf(p.id)
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.ConnectTimeout)
	defer cancel()
	if len(addrs) == 0 && m.cfg.Resolve != nil {
		addrs = m.cfg.Resolve(ctx, p.id)
	}
	if len(addrs) == 0 {
		text := "no known address"
		if ctx.Err() != nil {
			text = "connect timeout (no address known)"
		}
		p.failed(text)
		return
	}
	var lastErr error
	for backoff := 50 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		for _, addr := range addrs {
			if p.Up() {
				return // an incoming connection from the node satisfied the attempt
			}
			res, err := p.dialOne(ctx, addr)
			if err == nil {
				p.attach(res, nil)
				return
			}
			if lastErr == nil || ctx.Err() == nil {
				lastErr = err
			}
			m.cfg.Logger.Debug("aemp: connect attempt failed", "peer", p.id, "addr", addr, "err", err)
		}
		select {
		case <-ctx.Done():
			if p.Up() {
				return
			}
			text := dialReason(lastErr)
			if m.ctx.Err() != nil {
				text = "node closed"
			}
			m.cfg.Logger.Warn("aemp: cannot connect", "peer", p.id, "reason", text, "err", lastErr)
			p.failed(text)
			return
		case <-time.After(backoff):
		}
	}
}

func (p *Peer) dialOne(ctx context.Context, addr string) (*handshake.Result, error) {
	res, err := p.m.dialHandshake(ctx, addr, nil)
	if err != nil {
		return nil, err
	}
	if res.Peer.NodeID != p.id {
		res.Conn.Close()
		return nil, fmt.Errorf("aemp: %s answered as node %q, expected %q", addr, res.Peer.NodeID, p.id)
	}
	return res, nil
}

// attach makes an authenticated connection the peer's link, commits what
// was queued while connecting, reports the link up and starts it. replace
// is the stale link that Mesh.refuseIncoming let a connection the node
// made to us replace (nil for our own dials): that connection proves the
// link dead on the node's side, so the link is taken down with "switched
// connections", as Perl does, and a node whose old link we have not seen
// fail yet (our reader paused behind a slow port, a path that vanished
// without a FIN) comes back at once.
func (p *Peer) attach(res *handshake.Result, replace *transport.Link) {
	m := p.m
	p.mu.Lock()
	if old := p.link; old != nil && old == replace && !m.isClosed() {
		p.mu.Unlock()
		m.cfg.Logger.Info("aemp: node reconnected; its old link is taken down", "peer", p.id)
		old.Shutdown(errSwitched)
		<-old.Done()
		p.mu.Lock()
	}
	if p.link != nil || m.isClosed() { // (Close takes p.mu to find the links: it sees this one)
		p.mu.Unlock()
		res.Conn.Close() // lost a race with another connection (or closing)
		return
	}
	tcfg := m.tcfg
	if useCredit(res, tcfg.Backend) {
		tcfg.Credit = creditWindow
	}
	if useCompress(res, m.cfg.Compress) {
		tcfg.Compress, tcfg.CompressThreshold = true, m.cfg.Compress
	}
	express := useExpress(res, m.cfg.OrderPerPort)
	if express {
		tcfg.Express = expressMax
	}
	lh := &linkHandler{p: p, h: p.h}
	lh.ih, _ = p.h.(PeerInlineHandler)
	tcfg.MaxSend = peerMaxFrame(res, m.maxFrame())
	l, err := transport.Open(res.Conn, res.Buffered, res.SendFraming, res.RecvFraming, lh, tcfg)
	if err != nil {
		p.mu.Unlock()
		res.Conn.Close()
		m.cfg.Logger.Warn("aemp: link setup failed", "peer", p.id, "err", err)
		p.failed("link setup failed: " + err.Error())
		return
	}
	lh.l = l // before Start: the link's goroutines see it
	p.link, p.format, p.express = l, formatOf(res), express
	p.maxSend = peerMaxFrame(res, m.maxFrame())
	p.st.up(res)
	p.connecting = false
	p.retryDelay = 0
	p.wake()
	p.flushPending(l)
	// The owner learns of the link before its reader starts, so that what
	// it sends on LinkUp goes out before its answers to the peer's first
	// messages. evMu is taken before p.mu is released: the events of one
	// peer keep the order of its state changes.
	m.evMu.Lock()
	p.mu.Unlock()
	m.linkUp(p.id)
	l.Start()
	m.evMu.Unlock()
	m.cfg.Logger.Info("aemp: link up", "peer", p.id, "send", res.SendFraming, "recv", res.RecvFraming, "tls", res.TLS)
}

// flushPending commits the queued messages to the new link, in order.
// Called with p.mu held.
func (p *Peer) flushPending(l *transport.Link) {
	broken := false
	p.pend.each(func(env []byte, key uint64) {
		if broken {
			return
		}
		if env = p.convertQueued(env); env == nil {
			return
		}
		b := append(l.BeginN(len(env)), env...)
		var err error
		if p.express {
			err = l.CommitKey(b, key)
		} else {
			err = l.Commit(b)
		}
		switch {
		case err == nil:
		case errors.Is(err, transport.ErrMessageTooLarge): // this one only; the link stays up
			p.lost(env, err)
		case errors.Is(err, transport.ErrOutboundFull):
			// cannot be: a new link's queue takes what MaxQueue allowed
			p.lost(env, err)
		default:
			broken = true // the link closes itself; OnClose reports it
		}
	})
}

// convertQueued turns a message queued before the link came up (JSON or
// blob envelope) into what the link takes, or returns nil if it cannot be
// (the message is reported lost: its port's monitors fire).
func (p *Peer) convertQueued(env []byte) []byte {
	if p.format.Takes(wire.EnvelopeFormat(env)) {
		return env
	}
	out, err := wire.ConvertEnvelope(nil, env, p.format, wire.NonFiniteSubstitute)
	if err != nil {
		p.lost(env, err)
		return nil
	}
	return out
}

// lost reports a queued message that cannot be sent on the new link (it
// is larger than the peer takes): the handler fires the monitors of its
// destination port. Called with p.mu held.
func (p *Peer) lost(env []byte, err error) {
	p.m.cfg.Logger.Warn("aemp: queued message dropped", "peer", p.id, "err", err)
	p.h.OnLost(env, err)
}

// failed ends a connection attempt that did not succeed: the queued
// messages are dropped and the handler told, unless the node connected to
// us meanwhile.
func (p *Peer) failed(text string) {
	p.mu.Lock()
	if p.link != nil {
		p.mu.Unlock()
		return
	}
	p.backOff()
	p.st.failed(text)
	p.connecting = false
	p.pend.reset()
	p.wake()
	p.retryLocked(p.retryDelay)
	p.mu.Unlock()
	p.h.OnDown(text, false)
}

// closed handles the end of link l: the events report it down, then the
// handler is told.
func (p *Peer) closed(l *transport.Link, text string) {
	m := p.m
	p.mu.Lock()
	if p.link != l {
		p.mu.Unlock()
		return
	}
	p.link = nil
	p.st.down(l, text)
	p.format, p.express = wire.FormatJSON, false
	p.connecting = false
	p.pend.reset()
	p.wake()
	m.evMu.Lock()
	p.mu.Unlock()
	m.linkDown(p.id, text)
	m.evMu.Unlock()
	m.cfg.Logger.Info("aemp: link down", "peer", p.id, "reason", text)
	p.h.OnDown(text, true)
}

// retryLocked schedules ensureLink after d for a kept link (Keep), so
// that it is retried when its back-off ends. Called with p.mu held.
func (p *Peer) retryLocked(d time.Duration) {
	if !p.m.kept(p.id) || p.m.ctx.Err() != nil {
		return
	}
	if p.retry != nil {
		p.retry.Stop()
	}
	p.retry = time.AfterFunc(d, p.ensureLink)
}

// backOff schedules the earliest next ensureLink attempt after a failed
// one; called with p.mu held.
func (p *Peer) backOff() {
	if p.retryDelay == 0 {
		p.retryDelay = jitter(globalRetry)
	} else {
		p.retryDelay *= 2
	}
	p.retryDelay = min(p.retryDelay, p.m.cfg.MonitorTimeout)
	p.retryAt = time.Now().Add(p.retryDelay)
}

// linkHandler is the transport.Handler of one link of a peer.
type linkHandler struct {
	h  PeerHandler
	ih PeerInlineHandler // h, if it is one
	p  *Peer
	l  *transport.Link
}

func (h *linkHandler) OnMessage(buf *pool.Buf, msg []byte) {
	if h.ih != nil {
		h.ih.OnMessageInline(buf, msg, h.l)
		return
	}
	h.h.OnMessage(buf, msg)
}

func (h *linkHandler) OnClose(err error) {
	text := linkReason(err)
	if err == nil && h.p.m.ctx.Err() != nil {
		text = "node closed"
	}
	h.p.closed(h.l, text)
}
