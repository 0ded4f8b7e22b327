package aemp

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aemp-go/aemp/registry"
	"github.com/aemp-go/aemp/wire"
)

// Seed management (spec §4.8): a link to every seed that can be reached,
// retried with back-off; the seed's node ID is learned from its greeting.
// Master selection and the g_slave requests are the registry's (db.go),
// on node-up events.

// seed is one Config.Seeds endpoint.
type seed struct {
	addr    string
	id      string // the node ID that answered there, once known
	self    bool   // the endpoint is this node: the seed is dropped
	dialing bool
}

// seeds is the seed state of a network.
type seeds struct {
	mu   sync.Mutex
	list []*seed
	kick chan struct{} // restarts the retry schedule
}

// Retry schedules (spec §4.7, §4.8): seeds first after (1+rand)·1.2s,
// links to global nodes after (1+rand)·0.6s, doubling up to
// Config.MonitorTimeout.
const (
	seedRetry   = 1200 * time.Millisecond
	globalRetry = 600 * time.Millisecond
)

func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)))
}

// startSeeds starts the seed loop. It runs on every networked node: a
// node that becomes global later uses its rounds to keep its links to the
// other global nodes.
func (nw *network) startSeeds() {
	nw.seeds.kick = make(chan struct{}, 1)
	for _, a := range nw.n.cfg.Seeds {
		nw.seeds.list = append(nw.seeds.list, &seed{addr: a})
	}
	nw.wg.Add(1)
	go nw.seedLoop()
}

// kickSeeds restarts the retry schedule with an immediate round (a seed
// went down).
func (nw *network) kickSeeds() {
	select {
	case nw.seeds.kick <- struct{}{}:
	default:
	}
}

func (nw *network) seedLoop() {
	defer nw.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	var delay time.Duration
	for {
		select {
		case <-nw.ctx.Done():
			return
		case <-nw.seeds.kick:
			delay = 0
		case <-t.C:
		}
		nw.seedRound()
		if delay == 0 {
			delay = jitter(seedRetry)
		} else {
			delay *= 2
		}
		delay = min(delay, nw.n.cfg.MonitorTimeout)
		t.Reset(delay)
	}
}

// seedRound dials every seed that is not mapped to a node with an
// established link, and has a global node check its links to the other
// global nodes.
func (nw *network) seedRound() {
	nw.seeds.mu.Lock()
	var todo []*seed
	for _, s := range nw.seeds.list {
		if s.self || s.dialing || s.id != "" && nw.isUp(s.id) {
			continue
		}
		s.dialing = true
		todo = append(todo, s)
	}
	nw.seeds.mu.Unlock()
	for _, s := range todo {
		if !nw.goTracked(func() { nw.dialSeed(s) }) {
			return
		}
	}
	nw.n.reg.run(func(*registry.Out) {}) // apply re-checks the links to global nodes
}

// goTracked runs f on a goroutine that Close waits for, unless the node is
// closing.
func (nw *network) goTracked(f func()) bool {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	if nw.closed {
		return false
	}
	nw.wg.Add(1)
	go func() {
		defer nw.wg.Done()
		f()
	}()
	return true
}

// dialSeed connects to a seed endpoint without knowing its node ID.
func (nw *network) dialSeed(s *seed) {
	defer func() {
		nw.seeds.mu.Lock()
		s.dialing = false
		nw.seeds.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(nw.ctx, nw.n.cfg.ConnectTimeout)
	defer cancel()
	var peer string
	res, err := nw.dialHandshake(ctx, s.addr, func(g *wire.Greeting) error { peer = g.NodeID; return nil })
	switch {
	case errors.Is(err, ErrClosed): // the node is closing
	case errors.Is(err, wire.ErrSelf):
		nw.seeds.mu.Lock()
		s.self = true
		nw.seeds.mu.Unlock()
		nw.n.log.Info("aemp: this node is one of its seeds", "seed", s.addr)
		nw.n.reg.run(func(out *registry.Out) { nw.n.reg.st.BecomeGlobal(out) })
	case err != nil:
		if peer != "" && nw.isUp(peer) { // already linked (it dialled us first)
			nw.mapSeed(s, peer)
			return
		}
		nw.n.log.Debug("aemp: seed not reachable", "seed", s.addr, "err", err)
	default:
		nw.mapSeed(s, res.Peer.NodeID)
		nw.node(res.Peer.NodeID).attach(res)
	}
}

// mapSeed records which node answered at a seed endpoint; if its link is
// up already the registry learns that it is a seed.
func (nw *network) mapSeed(s *seed, id string) {
	nw.seeds.mu.Lock()
	known := s.id == id
	s.id = id
	nw.seeds.mu.Unlock()
	if !known {
		nw.n.reg.run(func(out *registry.Out) { nw.n.reg.seedUp(id, out) })
	}
}

// isSeed reports whether node id answered at one of the seed endpoints.
func (nw *network) isSeed(id string) bool {
	nw.seeds.mu.Lock()
	defer nw.seeds.mu.Unlock()
	for _, s := range nw.seeds.list {
		if s.id == id {
			return true
		}
	}
	return false
}

// seedIDs returns the node IDs of the seeds, in Config.Seeds order.
func (nw *network) seedIDs() []string {
	nw.seeds.mu.Lock()
	defer nw.seeds.mu.Unlock()
	var ids []string
	for _, s := range nw.seeds.list {
		if s.id != "" && !s.self {
			ids = append(ids, s.id)
		}
	}
	return ids
}

// ensureLink starts a connection attempt to the node unless its link is
// up, an attempt is under way, or the last one failed too recently (the
// back-off of links a global node keeps to the other global nodes).
func (rn *remoteNode) ensureLink() {
	rn.mu.Lock()
	if rn.link != nil || rn.connecting || time.Now().Before(rn.retryAt) {
		rn.mu.Unlock()
		return
	}
	rn.connecting = true
	rn.mu.Unlock()
	if !rn.nw.goTracked(rn.dial) {
		rn.mu.Lock()
		rn.connecting = false
		rn.mu.Unlock()
	}
}

// backOff schedules the earliest next ensureLink attempt after a failed
// one; called with rn.mu held.
func (rn *remoteNode) backOff() {
	if rn.retryDelay == 0 {
		rn.retryDelay = jitter(globalRetry)
	} else {
		rn.retryDelay *= 2
	}
	rn.retryDelay = min(rn.retryDelay, rn.nw.n.cfg.MonitorTimeout)
	rn.retryAt = time.Now().Add(rn.retryDelay)
}
