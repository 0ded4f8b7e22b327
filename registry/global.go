package registry

import (
	"maps"
	"slices"
)

// global is the state only a global node keeps (spec §6.1).
type global struct {
	shards map[string]DB              // origin → the data it sent (LOCAL_DBS)
	db     DB                         // merged view of all shards (GLOBAL_DB)
	slaves map[string]bool            // nodes whose master this node is (itself included)
	peers  map[string]bool            // other global nodes
	subs   map[string]map[string]bool // family → subscribed node IDs
	sorted map[string][]string        // family → its subscribers in order, made on demand (subscribers)
}

func newGlobal() *global {
	return &global{
		shards: map[string]DB{},
		db:     DB{},
		slaves: map[string]bool{},
		peers:  map[string]bool{},
		subs:   map[string]map[string]bool{},
		sorted: map[string][]string{},
	}
}

// subscribers returns the nodes subscribed to family, sorted. The slice is
// kept until the subscriptions change; callers must not modify it.
func (g *global) subscribers(family string) []string {
	list, ok := g.sorted[family]
	if !ok {
		list = slices.Sorted(maps.Keys(g.subs[family]))
		g.sorted[family] = list
	}
	return list
}

// find looks a node's listeners up in the merged family 'l.
func (g *global) find(node string) Found {
	f := Found{Node: node}
	list, _ := g.db[FamilyListeners][node].([]any)
	for _, a := range list {
		if str, ok := a.(string); ok {
			f.Addrs = append(f.Addrs, str)
		}
	}
	return f
}

// query answers g_db_family ({} if absent), g_db_keys and g_db_values ([]
// if absent) from the merged view.
func (g *global) query(tag, family string) any {
	fm := g.db[family]
	switch tag {
	case "g_db_family":
		m := maps.Clone(fm)
		if m == nil {
			m = Family{} // {} for an absent family, never null
		}
		return m
	case "g_db_keys":
		keys := make([]any, 0, len(fm))
		for _, k := range slices.Sorted(maps.Keys(fm)) {
			keys = append(keys, k)
		}
		return keys
	default:
		vals := make([]any, 0, len(fm))
		for _, k := range slices.Sorted(maps.Keys(fm)) {
			vals = append(vals, fm[k])
		}
		return vals
	}
}

func (g *global) subscribe(node, family string) {
	set := g.subs[family]
	if set == nil {
		set = map[string]bool{}
		g.subs[family] = set
	}
	set[node] = true
	delete(g.sorted, family)
}

func (g *global) unsubscribe(node, family string) {
	delete(g.subs[family], node)
	delete(g.sorted, family)
	if len(g.subs[family]) == 0 {
		delete(g.subs, family)
	}
}

// slave takes a slave's whole local database (g_slave with a database).
func (g *global) slave(s *State, from string, db DB, out *Out) {
	g.slaves[from] = true
	delete(g.peers, from)
	g.replace(s, from, db, out)
}

// peer handles g_global from another global node: what it sent before is
// forgotten, it becomes a peer, and it gets the merged data of this node's
// slaves (g_set).
func (g *global) peer(s *State, from string, out *Out) {
	g.replace(s, from, DB{}, out)
	delete(g.slaves, from)
	g.peers[from] = true
	s.Set(FamilyGlobals, from, nil, out)
	out.send(from, "g_set", dbValue(g.slaveData()))
}

// slaveData merges the shards of this node's slaves (itself included).
func (g *global) slaveData() DB {
	merged := DB{}
	for _, o := range slices.Sorted(maps.Keys(g.slaves)) {
		for f, fm := range g.shards[o] {
			if merged[f] == nil {
				merged[f] = Family{}
			}
			maps.Copy(merged[f], fm)
		}
	}
	return merged
}

// replace makes db the whole shard of origin, as updates of the keys that
// differ.
func (g *global) replace(s *State, origin string, db DB, out *Out) {
	old := g.shards[origin]
	families := map[string]bool{}
	for f := range old {
		families[f] = true
	}
	for f := range db {
		families[f] = true
	}
	for _, f := range slices.Sorted(maps.Keys(families)) {
		set := Family{}
		var del []string
		for k, v := range db[f] {
			if ov, ok := old[f][k]; !ok || !equal(ov, v) {
				set[k] = v
			}
		}
		for k := range old[f] {
			if _, ok := db[f][k]; !ok {
				del = append(del, k)
			}
		}
		slices.Sort(del)
		g.update(s, origin, f, set, del, out)
	}
}

// disconnect forgets everything node id sent and its subscriptions.
func (g *global) disconnect(s *State, id string, out *Out) {
	g.replace(s, id, DB{}, out)
	delete(g.shards, id)
	delete(g.slaves, id)
	delete(g.peers, id)
	for f := range g.subs {
		g.unsubscribe(id, f)
	}
}

// update applies origin's changes to one family (spec §6.2): the sets go
// into origin's shard and the merged view; a deleted key falls back to
// another shard's value (a slave's first, then another global node's), or
// leaves the merged view. Changes from a slave go on to the other global
// nodes (never those from a global node: no loops), and subscribers get
// what changed in the merged view.
func (g *global) update(s *State, origin, family string, set Family, del []string, out *Out) {
	if len(set) == 0 && len(del) == 0 {
		return
	}
	shard := g.shards[origin]
	if shard == nil {
		shard = DB{}
		g.shards[origin] = shard
	}
	if shard[family] == nil {
		shard[family] = Family{}
	}
	sf := shard[family]
	if g.db[family] == nil {
		g.db[family] = Family{}
	}
	merged := g.db[family]

	peerSet, peerDel := map[string]any{}, []any{} // to the other global nodes
	subSet, subDel := map[string]any{}, []any{}   // to subscribers
	for k, v := range set {
		sf[k] = v
		peerSet[k] = v
		if old, ok := merged[k]; !ok || !equal(old, v) {
			subSet[k] = v
		}
		merged[k] = v
	}
	for _, k := range del {
		if _, ok := sf[k]; !ok {
			continue
		}
		delete(sf, k)
		v, fromSlave, ok := g.fallback(origin, family, k)
		switch {
		case ok && fromSlave: // still ours: re-announced as a set
			if !equal(merged[k], v) {
				merged[k] = v
				peerSet[k] = v
				subSet[k] = v
			}
		case ok: // another global node's: gone from ours
			peerDel = append(peerDel, k)
			if !equal(merged[k], v) {
				merged[k] = v
				subSet[k] = v
			}
		default:
			delete(merged, k)
			peerDel = append(peerDel, k)
			subDel = append(subDel, k)
		}
	}
	if len(sf) == 0 {
		delete(shard, family)
	}
	if len(merged) == 0 {
		delete(g.db, family)
	}
	if g.slaves[origin] && (len(peerSet) > 0 || len(peerDel) > 0) {
		for _, p := range slices.Sorted(maps.Keys(g.peers)) {
			out.send(p, "g_upd", family, peerSet, peerDel)
		}
	}
	if len(subSet) > 0 || len(subDel) > 0 {
		for _, n := range g.subscribers(family) {
			s.send(n, out, "g_chg2", family, subSet, subDel)
		}
	}
}

// fallback finds family/key in a shard other than origin's, preferring
// this node's slaves.
func (g *global) fallback(origin, family, key string) (v any, fromSlave, ok bool) {
	var peerV any
	peerOK := false
	for _, o := range slices.Sorted(maps.Keys(g.shards)) {
		if o == origin {
			continue
		}
		val, has := g.shards[o][family][key]
		if !has {
			continue
		}
		if g.slaves[o] {
			return val, true, true
		}
		if !peerOK {
			peerV, peerOK = val, true
		}
	}
	return peerV, false, peerOK
}
