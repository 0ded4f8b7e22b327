package aemp

import (
	"cmp"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aemp-go/aemp/mesh"
	"github.com/aemp-go/aemp/registry"
	"github.com/aemp-go/aemp/wire"
)

// Stats is a snapshot of a node for operators: its links, ports,
// registry and monitors. [Node.Stats] takes it; the JSON form (the field
// tags) is what expvar and the aemp::stats node request show.
type Stats struct {
	Node     string        `json:"node"`
	Links    []LinkStats   `json:"links"` // sorted by node ID
	Ports    PortStats     `json:"ports"`
	Registry RegistryStats `json:"registry"`
	Monitors MonitorStats  `json:"monitors"`
}

// LinkStats is this node's relation to one other node: every node it has
// linked to, tried to, or sent to appears, up or not.
type LinkStats struct {
	Node       string `json:"node"`
	Up         bool   `json:"up"`
	Connecting bool   `json:"connecting,omitempty"` // an attempt is under way
	// What the current link runs with (empty while it is down).
	SendFraming string `json:"send_framing,omitempty"`
	RecvFraming string `json:"recv_framing,omitempty"`
	Auth        string `json:"auth,omitempty"`      // the method this node authenticated with
	PeerAuth    string `json:"peer_auth,omitempty"` // the method the other node used
	TLS         bool   `json:"tls,omitempty"`
	// Traffic over every link to the node so far: bytes read and written
	// (frame headers included), messages received and sent.
	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`
	MsgsIn   uint64 `json:"msgs_in"`
	MsgsOut  uint64 `json:"msgs_out"`
	// Queued is the bytes waiting to be written to the node (or waiting
	// for its link to come up).
	Queued int `json:"queued"`
	// Reconnects is the number of links established after the first.
	Reconnects uint64 `json:"reconnects"`
	// LastError is the reason text of the last link that went down or of
	// the last attempt that failed.
	LastError string `json:"last_error,omitempty"`
	// Since is when the current link came up (zero while it is down).
	Since time.Time `json:"since,omitzero"`
}

// PortStats counts the node's ports.
type PortStats struct {
	Count int `json:"count"` // live ports (the node port not included)
	// Deepest lists the ports with the most messages waiting, deepest
	// first, at most DeepestPorts of them. Only ports whose mailbox has
	// outgrown its ring (Config.MailboxRing) are candidates: a port with
	// fewer messages waiting is not deep.
	Deepest []PortDepth `json:"deepest,omitempty"`
	// Kills counts the ports that died, by the kind of their reason
	// (Reason.Kind: "die", "unhandled_message", "overflow", …; "normal"
	// for a kill without reason). Past 16 other kinds, the rest count as
	// "other".
	Kills map[string]uint64 `json:"kills"`
}

// PortDepth is one port and the messages waiting in its mailbox.
type PortDepth struct {
	Port    PortID `json:"port"`
	Waiting int    `json:"waiting"`
}

// DeepestPorts is the most ports PortStats.Deepest lists.
const DeepestPorts = 10

// RegistryStats describes the node's part in the global database.
type RegistryStats struct {
	Global bool   `json:"global"` // the node runs the global service
	Master string `json:"master"` // its master ("" if none; itself on a global node)
	// Families and Keys count the merged view a global node holds (0 on
	// a normal node); LocalFamilies and LocalKeys what this node set
	// itself (its 'l entry included).
	Families      int `json:"families"`
	Keys          int `json:"keys"`
	LocalFamilies int `json:"local_families"`
	LocalKeys     int `json:"local_keys"`
	Monitored     int `json:"monitored"` // families monitored (DBMon)
	// Slaves: the nodes a global node is the master of (itself
	// included); GlobalPeers: the other global nodes it knows.
	Slaves      int `json:"slaves,omitempty"`
	GlobalPeers int `json:"global_peers,omitempty"`
	Pending     int `json:"pending"` // queries waiting for the master's answer
}

// MonitorStats counts active monitors (set up, not yet fired or
// cancelled).
type MonitorStats struct {
	Local  int `json:"local"`  // this node's monitors of its own ports
	Remote int `json:"remote"` // this node's monitors of ports on other nodes
	Peers  int `json:"peers"`  // other nodes' monitors of this node's ports (mon1)
}

// Stats returns a snapshot of the node. It is cheap enough to call every
// second: it reads counters, takes each link's lock briefly and counts the
// mailboxes of the deep ports only; it never waits for a port. The
// counters are read one by one, so a snapshot taken while the node works
// may be off by the messages of that moment.
func (n *Node) Stats() Stats {
	s := Stats{Node: n.id}
	if n.mesh != nil {
		n.stats.scratchMu.Lock()
		peers := n.mesh.Stats(n.stats.scratch[:0])
		s.Links = make([]LinkStats, len(peers))
		for i := range peers {
			s.Links[i] = linkStats(&peers[i])
		}
		n.stats.scratch = peers
		n.stats.scratchMu.Unlock()
	}
	s.Ports = n.stats.ports(n)
	s.Registry = n.reg.stats()
	s.Monitors = MonitorStats{
		Local:  int(n.stats.monsLocal.Load()),
		Remote: int(n.stats.monsRemote.Load()),
		Peers:  int(n.stats.monsPeers.Load()),
	}
	return s
}

func linkStats(p *mesh.PeerStats) LinkStats {
	ls := LinkStats{
		Node: p.ID, Up: p.Up, Connecting: p.Connecting,
		SendFraming: p.SendFraming, RecvFraming: p.RecvFraming, Auth: p.Auth, PeerAuth: p.PeerAuth, TLS: p.TLS,
		BytesIn: p.BytesIn, BytesOut: p.BytesOut, MsgsIn: p.MsgsIn, MsgsOut: p.MsgsOut,
		Queued: p.Queued, LastError: p.LastError, Since: p.Since,
	}
	if p.Links > 1 {
		ls.Reconnects = p.Links - 1
	}
	return ls
}

// nodeStats holds the counters the kernel keeps for Stats. The hooks that
// update them are in newPort, Port.push and Port.die, Mon, Monitor.fire
// and Cancel, and the mon1/mon0 handling.
type nodeStats struct {
	livePorts atomic.Int64

	kills      [len(killKinds)]atomic.Uint64
	otherMu    sync.Mutex
	otherKills map[string]uint64 // kinds not in killKinds, at most maxOtherKinds

	monsLocal, monsRemote, monsPeers atomic.Int64

	deepMu sync.Mutex
	deep   map[*Port]struct{} // live ports whose mailbox outgrew its ring

	scratchMu sync.Mutex
	scratch   []mesh.PeerStats // reused by Stats
}

// killKinds are the reason kinds counted without a lock: the library's
// own, and "" (a normal kill, shown as "normal").
var killKinds = [...]string{"", "die", "unhandled_message", "overflow", "transport_error", "no_such_port"}

const maxOtherKinds = 16

// portDied counts a port's death and forgets it as a deep port.
func (s *nodeStats) portDied(p *Port, r Reason, inTable bool) {
	if inTable {
		s.livePorts.Add(-1)
	}
	kind := r.Kind()
	counted := false
	for i, k := range killKinds {
		if k == kind {
			s.kills[i].Add(1)
			counted = true
			break
		}
	}
	if !counted {
		s.otherMu.Lock()
		if s.otherKills == nil {
			s.otherKills = make(map[string]uint64)
		}
		if _, ok := s.otherKills[kind]; !ok && len(s.otherKills) >= maxOtherKinds {
			kind = "other"
		}
		s.otherKills[kind]++
		s.otherMu.Unlock()
	}
	if p.deep.Load() {
		s.deepMu.Lock()
		delete(s.deep, p)
		s.deepMu.Unlock()
	}
}

// markDeep records a port whose mailbox outgrew its ring (Port.push saw
// its message go to the overflow list).
func (s *nodeStats) markDeep(p *Port) {
	if p.deep.Load() || !p.deep.CompareAndSwap(false, true) {
		return
	}
	s.deepMu.Lock()
	if s.deep == nil {
		s.deep = make(map[*Port]struct{})
	}
	s.deep[p] = struct{}{}
	s.deepMu.Unlock()
	if !p.Alive() { // it died meanwhile, and portDied may have missed it
		s.deepMu.Lock()
		delete(s.deep, p)
		s.deepMu.Unlock()
	}
}

// monitorAdded and monitorGone count a monitor from its creation to its
// firing or cancellation (each happens once).
func (s *nodeStats) monitorAdded(m *Monitor) {
	if m.remote {
		s.monsRemote.Add(1)
	} else {
		s.monsLocal.Add(1)
	}
}

func (s *nodeStats) monitorGone(m *Monitor) {
	if m.remote {
		s.monsRemote.Add(-1)
	} else {
		s.monsLocal.Add(-1)
	}
}

// ports counts the live ports, the deepest mailboxes and the kills.
func (s *nodeStats) ports(n *Node) PortStats {
	ps := PortStats{Count: int(s.livePorts.Load()), Kills: make(map[string]uint64, len(killKinds)+2)}
	for i, k := range killKinds {
		if k == "" {
			k = "normal"
		}
		if v := s.kills[i].Load(); v > 0 {
			ps.Kills[k] += v
		}
	}
	s.otherMu.Lock()
	for k, v := range s.otherKills {
		ps.Kills[k] += v
	}
	s.otherMu.Unlock()

	s.deepMu.Lock()
	for p := range s.deep {
		q := p.mbox.Load()
		waiting := 0
		if q != nil && p.Alive() {
			waiting = q.Count() // the ring and the overflow list: one lock, one pass over the ring
		}
		if q == nil || waiting < q.Cap() { // back within its ring: not deep any more
			p.deep.Store(false)
			delete(s.deep, p)
			continue
		}
		ps.Deepest = append(ps.Deepest, PortDepth{Port: p.id, Waiting: waiting})
	}
	s.deepMu.Unlock()
	slices.SortFunc(ps.Deepest, func(a, b PortDepth) int {
		return cmp.Or(cmp.Compare(b.Waiting, a.Waiting), cmp.Compare(a.Port, b.Port))
	})
	if len(ps.Deepest) > DeepestPorts {
		ps.Deepest = ps.Deepest[:DeepestPorts]
	}
	return ps
}

// registrySnapshot is what the registry port publishes for Stats after
// each of its steps (only when it changed).
type registrySnapshot struct {
	counts registry.Counts
	master string
}

// publish records the registry's counts; it runs in the registry port's
// context after each step.
func (h *registryHost) publish() {
	c, master := h.st.Counts(), h.st.Master()
	if old := h.snap.Load(); old != nil && old.counts == c && old.master == master {
		return
	}
	h.snap.Store(&registrySnapshot{counts: c, master: master})
}

func (h *registryHost) stats() RegistryStats {
	rs := RegistryStats{Global: h.global.Load()}
	if s := h.snap.Load(); s != nil {
		c := s.counts
		rs.Master = s.master
		rs.Families, rs.Keys, rs.LocalFamilies, rs.LocalKeys = c.Families, c.Keys, c.LocalFamilies, c.LocalKeys
		rs.Monitored, rs.Slaves, rs.GlobalPeers, rs.Pending = c.Monitored, c.Slaves, c.GlobalPeers, c.Pending
	}
	return rs
}

// StatsRequest is the node request that asks a Go node for its Stats:
//
//	["", "aemp::stats", reply…]  →  reply…, {stats}
//
// The answer is the Stats in its JSON form (an object with the field
// tags' names). Like every node request it has no error reply; a Perl
// node (which would take the tag for a function name and fail) answers
// "can" for it with "", a Go node with "1". The aemp tool's stats and
// trace subcommands use it.
const StatsRequest = "aemp::stats"

func (n *Node) statsRequest(src *remoteNode, m *Msg) error {
	v, err := statsValue(n.Stats())
	if err != nil {
		return err
	}
	return n.reply(src, m, 1, v)
}

// statsValue turns s into the generic values its JSON form decodes to, as
// another node receives it.
func statsValue(s Stats) (any, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return wire.DecodeAny(b)
}
