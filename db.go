package aemp

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync/atomic"

	"github.com/aemp-go/aemp/registry"
	"github.com/aemp-go/aemp/wire"
)

// The global database (spec §2.17, §6) and node events. The replication
// protocol is package registry's state machine; this file runs it on an
// internal port of the node, so that everything the registry does —
// requests from other nodes, the node's own calls, links coming up and
// going down, db_mon callbacks — happens one at a time, in order, without
// locks.

// registryHost runs a node's registry. All fields except port are used
// only in the port's context.
type registryHost struct {
	n    *Node
	port *Port // never in the node's port table: no message can reach or kill it

	st       *registry.State
	mons     map[string][]*DBMonitor // family → subscribers
	queries  map[string]chan any     // query ID → its caller
	finds    map[string][]chan []string
	up       map[string]bool // established links
	nodeMons []*NodeMonitor

	// The registry's messages wait in pending until what was queued for
	// the registry before them has run (flush), so that the updates a
	// burst produces for one node travel as one (registry.Coalesce).
	pending     []registry.Send
	flushQueued bool // a flush is in the port's queue

	global atomic.Bool                      // mirrors st.IsGlobal for IsGlobal
	snap   atomic.Pointer[registrySnapshot] // its counts for Stats (stats.go)
}

// maxPendingSends bounds the registry's held-back messages: at this many,
// they are sent at once rather than after the queue. It bounds the memory a
// burst holds (about 100 bytes a message, so some 1.6 MiB) and the delay of
// the first message of a batch, while still merging a few dozen updates for
// every subscriber of a 1,000-node mesh.
const maxPendingSends = 16384

func (n *Node) startRegistry() {
	p := &Port{node: n, local: "'registry", id: PortID(n.id + "#'registry"), internal: true}
	p.handlers.Store(&handlerTable{tags: map[string]Handler{}})
	n.reg = &registryHost{
		n:       n,
		port:    p,
		st:      registry.New(n.id),
		mons:    map[string][]*DBMonitor{},
		queries: map[string]chan any{},
		finds:   map[string][]chan []string{},
		up:      map[string]bool{},
	}
}

// startGlobal makes a node configured as Global a global node; NewNode
// calls it once the network is set up.
func (n *Node) startGlobal() {
	if n.cfg.Global {
		n.reg.run(func(out *registry.Out) { n.reg.st.BecomeGlobal(out) })
	}
}

// run runs f in the registry's context, then carries out what it produced.
// A panic (from a user callback, which apply already isolates, or a bug)
// is logged and does not stop the registry.
func (h *registryHost) run(f func(out *registry.Out)) {
	h.port.Exec(func() error {
		defer h.recoverLog("registry")
		var out registry.Out
		f(&out)
		h.apply(&out)
		h.publish()
		return nil
	})
}

func (h *registryHost) recoverLog(what string) {
	if r := recover(); r != nil {
		h.n.log.Error("aemp: "+what+" panicked", "panic", r)
	}
}

// apply sends the registry's messages and reports its results.
func (h *registryHost) apply(out *registry.Out) {
	h.queue(out.Sends)
	if out.BecameGlobal {
		h.global.Store(true)
		h.n.log.Info("aemp: this node is now a global node")
		var more registry.Out
		for _, id := range slices.Sorted(maps.Keys(h.up)) {
			h.st.NodeUp(id, &more)
		}
		h.apply(&more)
	}
	for _, c := range out.Changes {
		ch := DBChange{Family: c.Family, Values: c.Values, Added: c.Added, Changed: c.Changed, Deleted: c.Deleted}
		for _, m := range h.mons[c.Family] {
			m.call(ch)
		}
	}
	for _, r := range out.Replies {
		if ch := h.queries[r.ID]; ch != nil {
			delete(h.queries, r.ID)
			ch <- r.Result
		}
	}
	for _, f := range out.Found {
		for _, ch := range h.finds[f.Node] {
			ch <- f.Addrs
		}
		delete(h.finds, f.Node)
	}
	if h.st.IsGlobal() && h.n.mesh != nil {
		h.n.mesh.Keep(h.st.Globals()) // links to the other global nodes
	}
}

// queue holds sends back until the registry's queue has run (a flush
// queued behind it), or sends them now when maxPendingSends are waiting.
// Requests to one node keep their order either way. Encoding them later
// is safe: the maps and lists a step puts in its messages are fresh
// copies, and the values in them are never changed in place (the registry
// replaces a key's value, it does not edit it).
func (h *registryHost) queue(sends []registry.Send) {
	if len(sends) == 0 {
		return
	}
	h.pending = append(h.pending, sends...)
	if len(h.pending) >= maxPendingSends {
		h.flush()
		return
	}
	if !h.flushQueued {
		h.flushQueued = true
		h.port.Exec(func() error {
			defer h.recoverLog("registry")
			h.flushQueued = false
			h.flush()
			return nil
		})
	}
}

// flush sends the held-back messages, merged (registry.Coalesce). A map
// or list that several of them share (a change fanned out to every
// subscriber) is encoded once, as raw JSON.
func (h *registryHost) flush() {
	sends := registry.Coalesce(h.pending)
	h.pending = nil
	var enc sharedJSON
	for _, s := range sends {
		m := &Msg{tag: s.Msg[0].(string)}
		args := s.Msg[1:]
		m.setArgs(args)
		for i, a := range args {
			if v, ok := enc.value(a); ok {
				m.set(i, v)
			}
		}
		if err := h.n.sndMsg(PortID(s.To), m); err != nil {
			h.n.log.Debug("aemp: registry message not sent", "to", s.To, "request", m.tag, "err", err)
		}
	}
}

// sharedJSON encodes the maps and lists of one flush once each, by
// identity: the registry's messages are not written to once produced.
type sharedJSON map[sharedKey]string

type sharedKey struct {
	p uintptr
	n int
}

// value returns a non-empty map or list as a raw JSON element, encoding it
// the first time; anything else (or what does not encode: the error then
// comes from the normal path) is left to setArgs.
func (c *sharedJSON) value(a any) (value, bool) {
	var key sharedKey
	switch x := a.(type) {
	case map[string]any:
		if len(x) == 0 {
			return value{}, false
		}
		key = sharedKey{reflect.ValueOf(x).Pointer(), -1}
	case []any:
		if len(x) == 0 {
			return value{}, false
		}
		key = sharedKey{reflect.ValueOf(x).Pointer(), len(x)} // its first element
	default:
		return value{}, false
	}
	if *c == nil {
		*c = sharedJSON{}
	}
	text, ok := (*c)[key]
	if !ok {
		b, err := wire.AppendValue(nil, a)
		if err != nil {
			return value{}, false
		}
		text = string(b)
		(*c)[key] = text
	}
	return value{k: kRawJSON, s: text}, true
}

// request handles a g_* node request from node from.
func (h *registryHost) request(from string, m *Msg) {
	tag := m.tag
	vals, err := m.textValues() // decoded here: the network buffer is gone later
	if err != nil {
		h.n.log.Warn("aemp: malformed node request ignored", "request", tag, "from", from, "err", err)
		return
	}
	h.run(func(out *registry.Out) { // must not capture m: it would escape on every send
		if err := h.st.Handle(from, tag, vals[1:], out); err != nil {
			h.n.log.Warn("aemp: malformed node request ignored", "request", tag, "from", from, "err", err)
		}
	})
}

// nodeUp and nodeDown are queued by the link code while it holds the
// node's lock, so that the registry sees ups and downs in their order.
func (h *registryHost) nodeUp(id string) {
	h.run(func(out *registry.Out) {
		h.up[id] = true
		h.st.NodeUp(id, out)
		h.notifyNodes(id, true, nil)
	})
}

func (h *registryHost) nodeDown(id string, r Reason) {
	h.run(func(out *registry.Out) {
		delete(h.up, id)
		h.st.NodeDown(id, out) // a new master, if id was it, is the mesh's next event
		h.notifyNodes(id, false, r)
	})
}

// resolve asks the registry where node listens: a global node looks in
// its merged database, a normal node asks its master. It returns nil when
// nobody knows (or ctx ends first).
func (h *registryHost) resolve(ctx context.Context, node string) []string {
	ch := make(chan []string, 1)
	h.run(func(out *registry.Out) {
		h.finds[node] = append(h.finds[node], ch)
		h.st.Find(node, out)
	})
	select {
	case addrs := <-ch:
		return addrs
	case <-ctx.Done():
		h.run(func(*registry.Out) {
			h.finds[node] = slices.DeleteFunc(h.finds[node], func(c chan []string) bool { return c == ch })
			if len(h.finds[node]) == 0 {
				delete(h.finds, node)
			}
		})
		return nil
	}
}

// normalize turns a value into the generic JSON form other nodes will see
// (what wire.DecodeAny gives), so that equal values compare equal.
func normalize(v any) (any, error) {
	b, err := wire.AppendValue(nil, v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrType, err)
	}
	return wire.DecodeAny(b)
}

// DBSet sets family/subkey to value in this node's part of the global
// database (AnyEvent::MP's db_set) and publishes it through the master;
// every node that monitors the family learns it. Setting the value a key
// already holds does nothing. value must be encodable as JSON; it is
// copied. The key disappears from the network when this node loses its
// master (and is published again to the next one), or with [Node.DBDel].
// It returns at once (ErrType for an unencodable value).
func (n *Node) DBSet(family, subkey string, value any) error {
	v, err := normalize(value)
	if err != nil {
		return err
	}
	n.reg.run(func(out *registry.Out) { n.reg.st.Set(family, subkey, v, out) })
	return nil
}

// DBDel removes those of subkeys that this node set (AnyEvent::MP's
// db_del).
func (n *Node) DBDel(family string, subkeys ...string) {
	keys := slices.Clone(subkeys)
	n.reg.run(func(out *registry.Out) { n.reg.st.Del(family, keys, out) })
}

// DBReg registers port under family (AnyEvent::MP's db_reg): it sets
// family/port to value and removes the key when the port dies. The
// returned function removes the key (and the port's monitor) earlier.
func (n *Node) DBReg(family string, port PortID, value any) (unregister func(), err error) {
	if err := n.DBSet(family, string(port), value); err != nil {
		return nil, err
	}
	m := n.Mon(port, MonFunc(func(Reason) { n.DBDel(family, string(port)) }))
	return func() {
		m.Cancel()
		n.DBDel(family, string(port))
	}, nil
}

// query runs a g_db_* query at the master and waits for its answer.
func (n *Node) query(ctx context.Context, tag, family string) (any, error) {
	h := n.reg
	ch := make(chan any, 1)
	var id string
	h.run(func(out *registry.Out) {
		id, _ = h.st.Query(tag, family, out)
		h.queries[id] = ch
	})
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		h.run(func(*registry.Out) {
			delete(h.queries, id)
			h.st.Cancel(id)
		})
		return nil, fmt.Errorf("%w: %s of %q: %w", ErrTimeout, tag, family, ctx.Err())
	case <-n.done:
		return nil, ErrClosed
	}
}

// DBFamily returns the whole family as the master's merged database holds
// it (AnyEvent::MP's db_family); an absent family is empty. The query
// waits for a master (it is resent to a new one), so bound it with ctx.
// It must not be called from a DBMon or MonNodes callback (their answers
// are processed after the callback returns).
func (n *Node) DBFamily(ctx context.Context, family string) (map[string]any, error) {
	r, err := n.query(ctx, "g_db_family", family)
	if err != nil {
		return nil, err
	}
	m, _ := r.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// DBKeys returns the subkeys of a family at the master (AnyEvent::MP's
// db_keys); see DBFamily.
func (n *Node) DBKeys(ctx context.Context, family string) ([]string, error) {
	r, err := n.query(ctx, "g_db_keys", family)
	if err != nil {
		return nil, err
	}
	list, _ := r.([]any)
	keys := make([]string, 0, len(list))
	for _, k := range list {
		if s, ok := k.(string); ok {
			keys = append(keys, s)
		}
	}
	return keys, nil
}

// DBValues returns the values of a family at the master (AnyEvent::MP's
// db_values); see DBFamily.
func (n *Node) DBValues(ctx context.Context, family string) ([]any, error) {
	r, err := n.query(ctx, "g_db_values", family)
	if err != nil {
		return nil, err
	}
	list, _ := r.([]any)
	if list == nil {
		list = []any{}
	}
	return list, nil
}

// DBChange is one notification of a [Node.DBMon] subscription (spec §6.4).
type DBChange struct {
	Family string
	// Values is the whole family as this node knows it after the change.
	// It belongs to the node: read it during the callback only, and do not
	// modify it.
	Values map[string]any
	// Added, Changed and Deleted name the subkeys that changed. The first
	// notification lists every key as added (it comes even for an empty
	// family); after a master change the resync reports the differences.
	// Deleted may name keys this node had not seen.
	Added, Changed, Deleted []string
}

// DBMonitor is a subscription made by [Node.DBMon].
type DBMonitor struct {
	h      *registryHost
	family string
	fn     func(DBChange)
	done   atomic.Bool
}

// DBMon subscribes to a family of the global database (AnyEvent::MP's
// db_mon): fn is called with the family's contents and what changed,
// first when the master's current contents arrive, then on every change.
// A second subscriber to a family this node already monitors gets one
// call at once, with every current key as added.
//
// fn runs on the node's registry goroutine, one call at a time for all
// subscriptions and MonNodes callbacks, in order; it must not block, and
// must not call DBFamily, DBKeys or DBValues. It may call DBSet and the
// like. A panic in fn is logged and ignored.
func (n *Node) DBMon(family string, fn func(DBChange)) *DBMonitor {
	m := &DBMonitor{h: n.reg, family: family, fn: fn}
	h := n.reg
	h.run(func(out *registry.Out) {
		if m.done.Load() {
			return
		}
		h.mons[family] = append(h.mons[family], m)
		if h.st.Monitor(family, out) {
			vals := h.st.Monitored(family)
			m.call(DBChange{Family: family, Values: vals, Added: slices.Sorted(maps.Keys(vals))})
		}
	})
	return m
}

func (m *DBMonitor) call(c DBChange) {
	if m.done.Load() {
		return
	}
	defer m.h.recoverLog("DBMon callback for " + m.family)
	m.fn(c)
}

// Cancel ends the subscription; no call starts after it returns (one may
// be running). The last subscription of a family unsubscribes at the
// master.
func (m *DBMonitor) Cancel() {
	if !m.done.CompareAndSwap(false, true) {
		return
	}
	h := m.h
	h.run(func(out *registry.Out) {
		list := slices.DeleteFunc(h.mons[m.family], func(x *DBMonitor) bool { return x == m })
		if len(list) > 0 {
			h.mons[m.family] = list
			return
		}
		delete(h.mons, m.family)
		h.st.Unmonitor(m.family, out)
	})
}

// NodeMonitor is a subscription made by [Node.MonNodes].
type NodeMonitor struct {
	h    *registryHost
	fn   func(node string, up bool, reason Reason)
	done atomic.Bool
}

// MonNodes calls fn whenever a link to another node comes up (up true)
// or goes down (up false, with the ("transport_error", node, text)
// reason), as AnyEvent::MP's mon_nodes. Ups and downs of one node
// alternate. fn runs as DBMon's callbacks do (same goroutine, same rules).
func (n *Node) MonNodes(fn func(node string, up bool, reason Reason)) *NodeMonitor {
	m := &NodeMonitor{h: n.reg, fn: fn}
	n.reg.run(func(*registry.Out) { n.reg.nodeMons = append(n.reg.nodeMons, m) })
	return m
}

// Cancel ends the subscription.
func (m *NodeMonitor) Cancel() {
	if !m.done.CompareAndSwap(false, true) {
		return
	}
	m.h.run(func(*registry.Out) {
		m.h.nodeMons = slices.DeleteFunc(m.h.nodeMons, func(x *NodeMonitor) bool { return x == m })
	})
}

func (h *registryHost) notifyNodes(id string, up bool, r Reason) {
	for _, m := range h.nodeMons {
		if m.done.Load() {
			continue
		}
		func() {
			defer h.recoverLog("MonNodes callback")
			m.fn(id, up, r)
		}()
	}
}

// IsGlobal reports whether the node runs the global service (it holds the
// merged global database). It may lag a change of role by the time the
// registry takes to process it.
func (n *Node) IsGlobal() bool { return n.reg.global.Load() }
