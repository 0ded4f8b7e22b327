package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aemp-go/aemp/internal/slot"
	"github.com/aemp-go/aemp/transport"
	"github.com/aemp-go/aemp/transport/handshake"
	"github.com/aemp-go/aemp/wire"
)

// ErrClosed: the mesh (the node) has been closed.
var ErrClosed = errors.New("aemp: node closed")

// ErrMessageTooLarge: a message exceeds MaxFrame (or the limit its peer
// announced); it was not queued, the link stays up.
var ErrMessageTooLarge = transport.ErrMessageTooLarge

// ErrQueueFull: the peer's queue (Config.MaxQueue) has no room for the
// message; it was not queued (Peer.WaitRoom waits for room).
var ErrQueueFull = errors.New("aemp: queue to the node is full")

// ErrLinkClosed: the link closed while the message was being committed;
// it was not sent (the peer's handler is told the link is down).
var ErrLinkClosed = errors.New("aemp: link closed")

// errSwitched closes a link that a new connection of its node replaces.
var errSwitched = errors.New("switched connections")

// errKeepAlive closes a link whose peer stayed silent (Config.KeepAlive).
var errKeepAlive = errors.New("keepalive timeout")

// Mesh is a node's links to other nodes: its listeners, one link per
// node pair, the messages waiting while a link connects, seeds and master
// selection, and the links a global node keeps to the other global nodes.
// All methods are safe for concurrent use.
type Mesh struct {
	cfg  Config
	hs   handshake.Config // template shared by all handshakes
	tcfg transport.Config // template of every link's config
	ev   Events

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	lns   []net.Listener
	binds []string // the bound addresses

	peers  sync.Map                            // node ID → *Peer (lock-free lookup on every remote send)
	recent [peerCacheSize]atomic.Pointer[Peer] // a direct-mapped cache in front of peers (Known)

	// evMu orders the Events callbacks; it is taken while a peer's lock
	// is held (never the other way round), and guards the seed state.
	evMu  sync.Mutex
	seeds seedState

	hsSlots chan struct{} // one token per incoming handshake in flight (MaxHandshakes)

	mu     sync.Mutex
	nodes  map[string][]string   // Config.Nodes and AddNode
	conns  map[net.Conn]struct{} // connections still in their handshake
	keep   map[string]bool       // links kept up (Keep)
	closed bool
	wg     sync.WaitGroup // accept loops, handshakes, connect attempts, the seed loop

	unlogNetpoll func() // stops netpoll's log lines going to this mesh's logger (netpoll_log.go)
}

// New makes a mesh that listens on cfg.Binds; Start starts it. Until then
// nothing is accepted or dialled and no event is reported.
func New(cfg Config) (*Mesh, error) {
	cfg, err := cfg.populated()
	if err != nil {
		return nil, err
	}
	m := &Mesh{
		cfg:   cfg,
		ev:    cfg.Events,
		nodes: cfg.Nodes,
		conns: make(map[net.Conn]struct{}),
		keep:  make(map[string]bool),
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.seeds.init(cfg.Seeds)
	m.hsSlots = make(chan struct{}, cfg.MaxHandshakes)
	m.tcfg = transport.Config{MaxFrame: cfg.MaxFrame, MaxDepth: cfg.MaxDepth, SendBuffer: cfg.SendBuffer, MaxOutbound: cfg.MaxQueue}
	switch cfg.Backend {
	case "netpoll":
		m.tcfg.Backend = transport.BackendNetpoll
	case "std":
		m.tcfg.Backend = transport.BackendStd
	case "":
	default:
		return nil, fmt.Errorf("%w: unknown backend %q", ErrConfig, cfg.Backend)
	}
	m.hs = handshake.Config{
		NodeID:     cfg.NodeID,
		Secret:     cfg.Secret,
		TLS:        cfg.TLS,
		AuthAccept: cfg.AuthAccept,
		AuthOffer:  cfg.AuthOffer,
		Framings:   cfg.Framings,
		Timeout:    cfg.HandshakeTimeout,
		SecretTLS:  cfg.SecretTLS,
		RequireTLS: cfg.RequireTLS,
		Extra:      greetingCaps(m.tcfg.Backend, m.tcfg.MaxFrame),
		WrapTLS:    transport.WrapTLS,
	}
	for _, b := range cfg.Binds {
		ln, err := cfg.Listen(b)
		if err != nil {
			for _, l := range m.lns {
				l.Close()
			}
			return nil, fmt.Errorf("aemp: listen on %s: %w", b, err)
		}
		m.lns = append(m.lns, ln)
		m.binds = append(m.binds, ln.Addr().String())
	}
	m.unlogNetpoll = func() {}
	if m.tcfg.Backend == transport.BackendNetpoll {
		m.unlogNetpoll = netpollLog.use(cfg.Logger)
	}
	return m, nil
}

// Start starts accepting connections on the listeners, and the seed loop.
// Call it once; sends before it queue and dial as usual.
func (m *Mesh) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for _, ln := range m.lns {
		m.wg.Add(1)
		go m.accept(ln)
	}
	m.startSeeds()
	if m.cfg.KeepAlive > 0 {
		m.wg.Add(1)
		go m.keepAliveLoop()
	}
}

// Binds returns the addresses the mesh listens on ("ip:port").
func (m *Mesh) Binds() []string { return append([]string(nil), m.binds...) }

// AddNode sets the addresses of node id (replacing what Config.Nodes or an
// earlier call gave).
func (m *Mesh) AddNode(id string, addrs ...string) {
	m.mu.Lock()
	m.nodes[id] = append([]string(nil), addrs...)
	m.mu.Unlock()
}

// UpNodes returns the IDs of the nodes with an established link.
func (m *Mesh) UpNodes() []string {
	var ids []string
	m.peers.Range(func(_, v any) bool {
		if p := v.(*Peer); p.Up() {
			ids = append(ids, p.id)
		}
		return true
	})
	return ids
}

// Up reports whether the link to node id is established.
func (m *Mesh) Up(id string) bool {
	p := m.Known(id)
	return p != nil && p.Up()
}

// Known returns the peer of node id if there is one (Peer creates it).
func (m *Mesh) Known(id string) *Peer {
	cached := &m.recent[slot.Of(id, peerCacheSize)]
	if p := cached.Load(); p != nil && p.id == id {
		return p
	}
	if v, ok := m.peers.Load(id); ok {
		p := v.(*Peer)
		cached.Store(p)
		return p
	}
	return nil
}

// peerCacheSize slots of the direct-mapped cache in front of the peer
// table (internal/slot): a hit (every send to a node after the first,
// unless another node shares its slot) costs an atomic load and a string
// compare instead of sync.Map's hashing of an interface key (about 40 ns of
// W1's 1.2 µs per message). Peers are never removed, so an entry never goes
// stale; a miss stores the peer it found.
const peerCacheSize = 64

// Peer returns the peer of node id, creating it (no connection is made
// until something is sent). id must be a valid node ID.
func (m *Mesh) Peer(id string) *Peer {
	if v, ok := m.peers.Load(id); ok {
		return v.(*Peer)
	}
	p := &Peer{m: m, id: id}
	p.h = m.ev.NewPeer(p)
	v, _ := m.peers.LoadOrStore(id, p)
	return v.(*Peer)
}

// Keep makes the mesh keep links to the nodes ids (replacing the previous
// set): a node not linked is dialled at once and, after a failure, again
// with back-off from (1+rand)·0.6 s up to MonitorTimeout. A global node
// keeps links to the other global nodes this way (spec §4.7).
func (m *Mesh) Keep(ids []string) {
	m.mu.Lock()
	clear(m.keep)
	for _, id := range ids {
		if id != m.cfg.NodeID {
			m.keep[id] = true
		}
	}
	m.mu.Unlock()
	m.ensureKept()
}

// kept reports whether the mesh keeps a link to node id.
func (m *Mesh) kept(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.keep[id]
}

// ensureKept starts an attempt for every kept node without a link.
func (m *Mesh) ensureKept() {
	m.mu.Lock()
	ids := make([]string, 0, len(m.keep))
	for id := range m.keep {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	for _, id := range ids {
		m.Peer(id).ensureLink()
	}
}

// Close closes every link (the events report each one down), aborts the
// handshakes and connection attempts under way, stops the listeners and
// the seed loop, and waits for all of them. It is idempotent.
func (m *Mesh) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.wg.Wait()
		return nil
	}
	m.closed = true
	for c := range m.conns {
		c.Close()
	}
	m.mu.Unlock()
	m.cancel()
	m.unlogNetpoll()
	for _, ln := range m.lns {
		ln.Close()
	}
	var peers []*Peer
	m.peers.Range(func(_, v any) bool { peers = append(peers, v.(*Peer)); return true })
	for _, p := range peers {
		p.mu.Lock()
		l := p.link
		if p.retry != nil {
			p.retry.Stop()
		}
		p.mu.Unlock()
		if l != nil {
			l.Close() // OnClose reports the link down
		}
	}
	m.wg.Wait()
	return nil
}

// isClosed reports whether Close has begun.
func (m *Mesh) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// Shutdown closes the mesh gracefully: it stops accepting connections,
// lets the connection attempts under way end (their queued messages go
// out on the new link, or are dropped and reported if the attempt fails),
// waits until every link has written what is queued for it (commits fail
// with ErrLinkClosed once a link drains), then closes like Close. If ctx
// ends first, it closes at once and returns ctx.Err(): what is still
// queued is dropped, and reported as for a lost link.
func (m *Mesh) Shutdown(ctx context.Context) error {
	for _, ln := range m.lns {
		ln.Close()
	}
	var err error
	var peers []*Peer
	m.peers.Range(func(_, v any) bool { peers = append(peers, v.(*Peer)); return true })
	for _, p := range peers {
		if err = p.settle(ctx); err != nil {
			break
		}
	}
	if err == nil {
		var wg sync.WaitGroup
		errs := make(chan error, len(peers))
		for _, p := range peers {
			p.mu.Lock()
			l := p.link
			p.mu.Unlock()
			if l == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if derr := l.Drain(ctx); derr != nil && ctx.Err() != nil {
					errs <- ctx.Err()
				}
			}()
		}
		wg.Wait()
		close(errs)
		err = <-errs
	}
	m.Close()
	return err
}

// goTracked runs f on a goroutine that Close waits for, unless the mesh is
// closing.
func (m *Mesh) goTracked(f func()) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
	return true
}

// track registers a connection in its handshake, so that Close can abort
// it; false if the mesh is closing.
func (m *Mesh) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.conns[c] = struct{}{}
	return true
}

func (m *Mesh) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
}

// addrsOf returns the configured addresses of node id.
func (m *Mesh) addrsOf(id string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.nodes[id]...)
}

// accept serves a listener. At most MaxHandshakes incoming handshakes run
// at once: further connections wait in the kernel's accept queue, so a
// flood of half-open connections costs a bounded number of goroutines and
// a bounded amount of memory (a handshake holds at most its 4 KiB line
// buffer and its TLS state).
func (m *Mesh) accept(ln net.Listener) {
	defer m.wg.Done()
	for {
		select {
		case m.hsSlots <- struct{}{}:
		case <-m.ctx.Done():
			return
		}
		c, err := ln.Accept()
		if err != nil {
			<-m.hsSlots
			if !errors.Is(err, net.ErrClosed) && m.ctx.Err() == nil {
				m.cfg.Logger.Error("aemp: accept failed; listener stopped", "bind", ln.Addr().String(), "err", err)
			}
			return
		}
		if !m.track(c) {
			<-m.hsSlots
			c.Close()
			return
		}
		m.wg.Add(1)
		go m.serve(c)
	}
}

// serve runs the handshake of an accepted connection and attaches it.
func (m *Mesh) serve(c net.Conn) {
	defer m.wg.Done()
	defer m.untrack(c)
	hs := m.hs
	var stale *transport.Link // the link this connection may replace
	hs.IsConnected = func(id string) (refuse bool) {
		refuse, stale = m.refuseIncoming(id)
		return refuse
	}
	res, err := handshake.Run(m.ctx, c, &hs)
	<-m.hsSlots
	if err != nil {
		c.Close()
		level := slog.LevelWarn
		if errors.Is(err, wire.ErrSelf) {
			level = slog.LevelDebug // this node dialling its own seed endpoint (the dialler says so at Info)
		}
		m.cfg.Logger.Log(m.ctx, level, "aemp: incoming connection refused", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	m.Peer(res.Peer.NodeID).attach(res, stale)
}

// refuseIncoming is the "already connected" rule for incoming handshakes
// (spec §3.5), and the simultaneous-dial tie-break: when both nodes dial
// each other at once, the node with the smaller ID keeps its own outgoing
// connection and refuses the incoming one; the other side accepts it (and
// its own dial is refused), so both end up with the same single link.
//
// A node that dials us while we have a stale link to it — our reader waits
// behind slow handlers, has waited within staleAfter, or nothing has
// arrived on it for staleAfter — is not refused: a node does not dial a
// node it has a live link to, so its old link is dead on its side, and once
// it has authenticated, its connection replaces that link (see
// Peer.attach), which is returned as replace. The decision is taken once,
// here: a reader that resumes during the handshake does not turn an
// admitted connection into a refused one. A fresh link is never replaced,
// so a race of two dials cannot flap.
func (m *Mesh) refuseIncoming(id string) (refuse bool, replace *transport.Link) {
	p := m.Known(id)
	if p == nil {
		return false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.link != nil {
		if stale(p.link) {
			return false, p.link
		}
		return true, nil
	}
	return p.connecting && m.cfg.NodeID < id, nil
}

// staleAfter is how long a link must have been silent, or its reader
// running again, before a new connection of its node may replace it.
const staleAfter = time.Second

// stale reports whether a new connection of the peer may replace link l:
// its reader waits for handlers or has waited lately (it cannot have seen
// the peer go: a paused reader reads nothing, and one that just resumed
// may still be reading what the peer sent before it went), or nothing has
// arrived for staleAfter.
func stale(l *transport.Link) bool {
	st := l.Stats()
	return st.Paused || (st.SincePaused >= 0 && st.SincePaused < staleAfter) || st.IdleRecv >= staleAfter
}

// maxFrame is the largest message this node sends or takes.
func (m *Mesh) maxFrame() int { return m.tcfg.MaxFrame }

// dialHandshake connects to addr and runs the handshake (onGreeting, if
// set, sees the peer's greeting first). The connection is closed on
// failure, and tracked until the handshake ends, so that Close can abort it.
func (m *Mesh) dialHandshake(ctx context.Context, addr string, onGreeting func(peer string) error) (*handshake.Result, error) {
	c, err := m.cfg.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	if !m.track(c) {
		c.Close()
		return nil, ErrClosed
	}
	defer m.untrack(c)
	hs := m.hs
	hs.PeerAddr = addr
	hs.IsConnected = m.Up
	if onGreeting != nil {
		hs.OnGreeting = func(g *wire.Greeting) error { return onGreeting(g.NodeID) }
	}
	res, err := handshake.Run(ctx, c, &hs)
	if err != nil {
		c.Close()
		return nil, err
	}
	return res, nil
}
