package mesh

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aemp-go/aemp/wire"
)

// Seed management (spec §4.8): a link to every seed that can be reached,
// retried with back-off; the seed's node ID is learned from its greeting.
// The master is the first seed that came up; when it goes down, the first
// seed in Config.Seeds order that is up.

// seed is one Config.Seeds endpoint.
type seed struct {
	addr    string
	id      string // the node ID that answered there, once known
	self    bool   // the endpoint is this node: the seed is dropped
	dialing bool
}

// seedState is the mesh's seed and master state, guarded by Mesh.evMu.
type seedState struct {
	list   []*seed
	up     map[string]bool // nodes with a link, as the events reported them
	master string
	kick   chan struct{} // restarts the retry schedule
}

// Retry schedules (spec §4.7, §4.8): seeds first after (1+rand)·1.2s,
// kept links after (1+rand)·0.6s, doubling up to Config.MonitorTimeout.
const (
	seedRetry   = 1200 * time.Millisecond
	globalRetry = 600 * time.Millisecond
)

func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)))
}

func (s *seedState) init(addrs []string) {
	s.kick = make(chan struct{}, 1)
	s.up = make(map[string]bool)
	for _, a := range addrs {
		s.list = append(s.list, &seed{addr: a})
	}
}

// startSeeds starts the seed loop. It runs on every mesh: its rounds also
// re-check the kept links (Keep).
func (m *Mesh) startSeeds() {
	m.wg.Add(1)
	go m.seedLoop()
}

// kickSeeds restarts the retry schedule with an immediate round.
func (m *Mesh) kickSeeds() {
	select {
	case m.seeds.kick <- struct{}{}:
	default:
	}
}

func (m *Mesh) seedLoop() {
	defer m.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	var delay time.Duration
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.seeds.kick:
			delay = 0
		case <-t.C:
		}
		m.seedRound()
		if delay == 0 {
			delay = jitter(seedRetry)
		} else {
			delay *= 2
		}
		delay = min(delay, m.cfg.MonitorTimeout)
		t.Reset(delay)
	}
}

// seedRound dials every seed that is not mapped to a node with an
// established link, and re-checks the kept links.
func (m *Mesh) seedRound() {
	m.evMu.Lock()
	var todo []*seed
	for _, s := range m.seeds.list {
		if s.self || s.dialing || s.id != "" && m.seeds.up[s.id] {
			continue
		}
		s.dialing = true
		todo = append(todo, s)
	}
	m.evMu.Unlock()
	for _, s := range todo {
		if !m.goTracked(func() { m.dialSeed(s) }) {
			return
		}
	}
	m.ensureKept()
}

// dialSeed connects to a seed endpoint without knowing its node ID.
func (m *Mesh) dialSeed(s *seed) {
	defer func() {
		m.evMu.Lock()
		s.dialing = false
		m.evMu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(m.ctx, m.cfg.ConnectTimeout)
	defer cancel()
	var peer string
	res, err := m.dialHandshake(ctx, s.addr, func(id string) error { peer = id; return nil })
	switch {
	case errors.Is(err, ErrClosed): // the mesh is closing
	case errors.Is(err, wire.ErrSelf):
		m.evMu.Lock()
		s.self = true
		m.ev.SelfSeed(s.addr)
		m.evMu.Unlock()
		m.cfg.Logger.Info("aemp: this node is one of its seeds", "seed", s.addr)
	case err != nil:
		if peer != "" && m.Up(peer) && m.listensAt(ctx, peer, s.addr) {
			// already linked (it dialled us first): the greeting's claim is
			// not authenticated, but the node itself published this
			// address over its authenticated link
			m.mapSeed(s, peer)
			return
		}
		m.cfg.Logger.Debug("aemp: seed not reachable", "seed", s.addr, "err", err)
	default:
		m.mapSeed(s, res.Peer.NodeID)
		m.Peer(res.Peer.NodeID).attach(res, nil)
	}
}

// listensAt reports whether node id published addr as one of its listen
// addresses (the registry's 'l, through Config.Resolve). A seed endpoint
// is mapped to a node ID only after an authenticated handshake there, or
// with this check: an endpoint that merely sends a greeting naming a node
// we are linked to must not make that node our seed (it would be sent
// g_slave, which makes it global, and could become our master).
func (m *Mesh) listensAt(ctx context.Context, id, addr string) bool {
	if m.cfg.Resolve == nil {
		return false
	}
	return slices.Contains(m.cfg.Resolve(ctx, id), addr)
}

// mapSeed records which node answered at a seed endpoint; if its link is
// up already the owner learns that it is a seed.
func (m *Mesh) mapSeed(s *seed, id string) {
	m.evMu.Lock()
	defer m.evMu.Unlock()
	known := s.id == id
	s.id = id
	if !known && m.seeds.up[id] {
		m.seedUp(id)
	}
}

// isSeed reports whether node id answered at one of the seed endpoints.
// Called with evMu held.
func (m *Mesh) isSeed(id string) bool {
	for _, s := range m.seeds.list {
		if s.id == id && !s.self {
			return true
		}
	}
	return false
}

// seedUp reports a seed with a link, and takes it as master if there is
// none. Called with evMu held.
func (m *Mesh) seedUp(id string) {
	m.ev.SeedUp(id)
	if m.seeds.master == "" {
		m.seeds.master = id
		m.ev.Master(id)
	}
}

// linkUp records an established link and reports it. Called with evMu held.
func (m *Mesh) linkUp(id string) {
	m.seeds.up[id] = true
	m.ev.LinkUp(id)
	if m.isSeed(id) {
		m.seedUp(id)
	}
}

// linkDown records the end of a link and reports it; a master that goes
// is replaced by the first seed that is up, and the seeds are retried at
// once. Called with evMu held.
func (m *Mesh) linkDown(id, text string) {
	delete(m.seeds.up, id)
	m.ev.LinkDown(id, text)
	if m.seeds.master == id {
		m.seeds.master = ""
		for _, s := range m.seeds.list {
			if s.id != "" && !s.self && m.seeds.up[s.id] {
				m.seeds.master = s.id
				break
			}
		}
		m.ev.Master(m.seeds.master)
	}
	if m.isSeed(id) {
		m.kickSeeds()
	}
}
