// Package registry is AEMP's replicated global database (spec §4.5, §6) as
// a state machine: a [State] takes the node's own calls (Set, Del,
// Monitor, Query, Find) and the g_* node requests that arrive from other
// nodes, and says in an [Out] what to send and what to report. It has no
// sockets, goroutines or clocks, and is not safe for concurrent use: the
// owner serialises every call.
//
// Every node has a local database (the keys it set itself) and at most one
// master, the global node it publishes them to. A global node (a seed, or
// any node asked to run the global service) is its own master and also
// keeps one shard per origin (each of its slaves, and each other global
// node with the merged data of that node's slaves), the merged view that
// queries and monitors see, and the subscriptions of its slaves.
//
// Messages are node requests: Send.Msg is the request tag followed by its
// arguments, to go to the node port of Send.To. Arguments that arrive are
// the generic JSON values of package wire (string, int64, float64, bool,
// nil, []any, map[string]any); values given to Set should have that form
// too, so that equal values compare equal (the owner normalises them).
package registry

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
)

// Family is one family of the database: subkey → value.
type Family = map[string]any

// DB is a database: family → subkeys → values.
type DB = map[string]Family

// Internal families (spec §4.5): listener endpoints per node ID, and the
// set of global nodes.
const (
	FamilyListeners = "'l"
	FamilyGlobals   = "'g"
)

// ErrMalformed marks a g_* request whose arguments do not have the form
// of spec §4.5. The request is ignored; nothing else changes.
var ErrMalformed = errors.New("registry: malformed request")

// Send is one node request for node To: Msg is ["g_…", args…].
type Send struct {
	To  string
	Msg []any
}

// Change is a db_mon notification (spec §6.4) for the node's monitors of
// Family. Values is the node's copy of the family after the change; it
// belongs to the State and must not be modified or kept past the next
// call.
type Change struct {
	Family                  string
	Values                  Family
	Added, Changed, Deleted []string
}

// Reply completes the query with that ID (Query): Result is a
// map[string]any (g_db_family), or a []any of keys or values.
type Reply struct {
	ID     string
	Result any
}

// Found answers Find: the addresses Node listens on, none when the master
// does not know the node (or it publishes no listener).
type Found struct {
	Node  string
	Addrs []string
}

// Out collects what one call produced, in order. The owner sends Sends
// (in order), then reports the rest.
type Out struct {
	Sends   []Send
	Changes []Change
	Replies []Reply
	Found   []Found
	// BecameGlobal is set when this call turned the node into a global
	// node (the owner keeps links to the nodes in family 'g from then on).
	BecameGlobal bool
}

func (o *Out) send(to string, msg ...any) { o.Sends = append(o.Sends, Send{To: to, Msg: msg}) }

// State is the registry of one node.
type State struct {
	self   string
	local  DB
	master string
	g      *global

	mons    map[string]Family // monitored family → this node's copy
	queries map[string][]any  // pending query ID → its request (resent to a new master)
	qorder  []string          // pending query IDs in order
	nextID  uint64
	finds   map[string]bool // nodes asked about with g_find
}

// New returns the registry of the node self: not global, no master.
func New(self string) *State {
	return &State{
		self:    self,
		local:   DB{},
		mons:    map[string]Family{},
		queries: map[string][]any{},
		finds:   map[string]bool{},
	}
}

// Self returns the node ID the State was made for.
func (s *State) Self() string { return s.self }

// Master returns the current master ("" when there is none; the node's own
// ID on a global node).
func (s *State) Master() string { return s.master }

// IsGlobal reports whether the node runs the global service.
func (s *State) IsGlobal() bool { return s.g != nil }

// Local returns the value this node set for family/key.
func (s *State) Local(family, key string) (any, bool) {
	v, ok := s.local[family][key]
	return v, ok
}

// Monitored returns the node's copy of a monitored family (nil if the
// family is not monitored). It belongs to the State.
func (s *State) Monitored(family string) Family { return s.mons[family] }

// Merged returns the merged view of a family on a global node (nil on a
// normal node). It belongs to the State.
func (s *State) Merged(family string) Family {
	if s.g == nil {
		return nil
	}
	return s.g.db[family]
}

// Set sets family/key to v in the local database and publishes it to the
// master. Setting a key to the value it holds does nothing (spec §2.17).
func (s *State) Set(family, key string, v any, out *Out) {
	f := s.local[family]
	if old, ok := f[key]; ok && equal(old, v) {
		return
	}
	if f == nil {
		f = Family{}
		s.local[family] = f
	}
	f[key] = v
	if s.master != "" {
		s.send(s.master, out, "g_upd", family, Family{key: v})
	}
}

// Del removes those of keys that this node set, and publishes the removal.
func (s *State) Del(family string, keys []string, out *Out) {
	f := s.local[family]
	var gone []any
	for _, k := range keys {
		if _, ok := f[k]; ok {
			delete(f, k)
			gone = append(gone, k)
		}
	}
	if len(f) == 0 {
		delete(s.local, family)
	}
	if len(gone) > 0 && s.master != "" {
		s.send(s.master, out, "g_upd", family, nil, gone)
	}
}

// Monitor starts monitoring family (the first local subscriber subscribes
// at the master). It reports whether the family was monitored already.
func (s *State) Monitor(family string, out *Out) (already bool) {
	if _, ok := s.mons[family]; ok {
		return true
	}
	s.mons[family] = Family{}
	if s.master != "" {
		s.send(s.master, out, "g_mon1", family)
	}
	return false
}

// Unmonitor stops monitoring family (the owner calls it when its last
// subscriber is gone) and drops the copy.
func (s *State) Unmonitor(family string, out *Out) {
	if _, ok := s.mons[family]; !ok {
		return
	}
	delete(s.mons, family)
	if s.master != "" {
		s.send(s.master, out, "g_mon0", family)
	}
}

// Query asks the master for a family's contents: tag is "g_db_family",
// "g_db_keys" or "g_db_values". The Reply with the returned ID comes when
// the master answers (a query waits for a master; it is resent to a new
// one).
func (s *State) Query(tag, family string, out *Out) (id string, err error) {
	switch tag {
	case "g_db_family", "g_db_keys", "g_db_values":
	default:
		return "", fmt.Errorf("registry: unknown query %q", tag)
	}
	s.nextID++
	id = strconv.FormatUint(s.nextID, 36)
	req := []any{tag, family, id}
	s.queries[id] = req
	s.qorder = append(s.qorder, id)
	if s.master != "" {
		s.send(s.master, out, req...)
	}
	return id, nil
}

// Cancel forgets a pending query (its caller gave up).
func (s *State) Cancel(id string) {
	if _, ok := s.queries[id]; !ok {
		return
	}
	delete(s.queries, id)
	s.qorder = slices.DeleteFunc(s.qorder, func(q string) bool { return q == id })
}

// Find asks where node listens: a global node answers from its merged
// family 'l at once; a normal node asks its master (g_find) and the Found
// comes with the answer.
func (s *State) Find(node string, out *Out) {
	if s.g != nil {
		out.Found = append(out.Found, s.g.find(node))
		return
	}
	if s.finds[node] {
		return // asked already
	}
	s.finds[node] = true
	if s.master != "" {
		s.send(s.master, out, "g_find", node)
	}
}

// SetMaster makes id the master ("" = none). A new master gets the whole
// local database (g_slave), the subscriptions, and every request still
// unanswered (spec §4.6). A global node stays its own master.
func (s *State) SetMaster(id string, out *Out) {
	if s.g != nil && id != s.self || id == s.master {
		return
	}
	s.master = id
	if id == "" {
		return
	}
	s.send(id, out, "g_slave", dbValue(s.local))
	for _, f := range slices.Sorted(maps.Keys(s.mons)) {
		s.send(id, out, "g_mon1", f)
	}
	for _, q := range s.qorder {
		s.send(id, out, s.queries[q]...)
	}
	for _, n := range slices.Sorted(maps.Keys(s.finds)) {
		s.send(id, out, "g_find", n)
	}
}

// BecomeGlobal turns the node into a global node, its own master, and sets
// Out.BecameGlobal: the owner then calls NodeUp for every established link,
// so that those nodes learn it (g_global). It does nothing on a global
// node.
func (s *State) BecomeGlobal(out *Out) {
	if s.g != nil {
		return
	}
	s.g = newGlobal()
	out.BecameGlobal = true
	// Finds waiting for a master are answered from the merged view below.
	finds := s.finds
	s.finds = map[string]bool{}
	// 'g names this node before the local database goes to ourselves, so
	// that a family monitored already gets it in its first notification
	// (with every key as added) rather than in a second one.
	s.master = "" // no master: Set only records the key
	s.Set(FamilyGlobals, s.self, nil, out)
	s.SetMaster(s.self, out) // sends the local database to ourselves
	for _, n := range slices.Sorted(maps.Keys(finds)) {
		out.Found = append(out.Found, s.g.find(n))
	}
}

// NodeUp tells the State a link to node id came up: a global node
// announces itself (g_global).
func (s *State) NodeUp(id string, out *Out) {
	if s.g != nil && id != s.self {
		out.send(id, "g_global")
	}
}

// NodeDown tells the State the link to node id went down. On a global
// node all of id's data disappears (spec §6.2 "node disconnect"); the
// owner picks a new master if id was the master.
func (s *State) NodeDown(id string, out *Out) {
	if s.g == nil || id == s.self {
		return
	}
	s.g.disconnect(s, id, out)
	s.Del(FamilyGlobals, []string{id}, out)
	s.Del(FamilyListeners, []string{id}, out)
}

// Globals returns the global nodes a global node knows of (family 'g of
// its merged view, itself excluded), sorted; the owner keeps links to
// them.
func (s *State) Globals() []string {
	if s.g == nil {
		return nil
	}
	var ids []string
	for id := range s.g.db[FamilyGlobals] {
		if id != s.self {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// send delivers a request: to this node itself it is handled at once (a
// global node is its own master and may subscribe to itself).
func (s *State) send(to string, out *Out, msg ...any) {
	if to == s.self {
		s.Handle(s.self, msg[0].(string), msg[1:], out)
		return
	}
	out.send(to, msg...)
}

// Handle applies the node request ["", tag, args…] that node from sent.
// Tags that are not g_* requests are ignored. A malformed request returns
// an error wrapping ErrMalformed and changes nothing.
func (s *State) Handle(from, tag string, args []any, out *Out) error {
	switch tag {
	case "g_slave":
		if len(args) == 0 { // "run the global service"
			s.BecomeGlobal(out)
			return nil
		}
		db, err := asDB(args[0])
		if err != nil {
			return err
		}
		s.BecomeGlobal(out)
		s.g.slave(s, from, db, out)
	case "g_global":
		if s.g != nil && from != s.self {
			s.g.peer(s, from, out)
		}
	case "g_set":
		if s.g == nil || from == s.self {
			return nil
		}
		if len(args) < 1 {
			return malformed(tag, "no database")
		}
		db, err := asDB(args[0])
		if err != nil {
			return err
		}
		s.g.peers[from] = true
		s.g.replace(s, from, db, out)
		if addrs, ok := db[FamilyListeners][from]; ok { // mirror the peer's own binds
			s.Set(FamilyListeners, from, addrs, out)
		}
	case "g_upd":
		if s.g == nil {
			return nil
		}
		family, set, del, err := updArgs(args)
		if err != nil {
			return err
		}
		s.g.update(s, from, family, set, del, out)
	case "g_find":
		if s.g == nil {
			return nil
		}
		node, err := stringArg(tag, args, 0)
		if err != nil {
			return err
		}
		f := s.g.find(node)
		addrs := make([]any, len(f.Addrs)) // [] for unknown: Perl dies on null
		for i, a := range f.Addrs {
			addrs[i] = a
		}
		s.send(from, out, "g_found", node, addrs)
	case "g_found":
		if from != s.master {
			return nil // answers count only from the current master
		}
		node, err := stringArg(tag, args, 0)
		if err != nil {
			return err
		}
		f := Found{Node: node}
		if len(args) > 1 && args[1] != nil { // null: unknown
			list, ok := args[1].([]any)
			if !ok {
				return malformed(tag, "addresses are not an array")
			}
			for _, a := range list {
				if str, ok := a.(string); ok {
					f.Addrs = append(f.Addrs, str)
				}
			}
		}
		if s.finds[node] {
			delete(s.finds, node)
			out.Found = append(out.Found, f)
		}
	case "g_db_family", "g_db_keys", "g_db_values":
		if s.g == nil {
			return nil
		}
		family, err := stringArg(tag, args, 0)
		if err != nil {
			return err
		}
		if len(args) < 2 {
			return malformed(tag, "no request ID")
		}
		s.send(from, out, "g_reply", args[1], s.g.query(tag, family))
	case "g_reply":
		if from != s.master {
			return nil
		}
		id, err := stringArg(tag, args, 0)
		if err != nil {
			return err
		}
		if _, ok := s.queries[id]; !ok {
			return nil
		}
		s.Cancel(id)
		var res any
		if len(args) > 1 {
			res = args[1]
		}
		out.Replies = append(out.Replies, Reply{ID: id, Result: res})
	case "g_mon1", "g_mon0":
		if s.g == nil {
			return nil
		}
		family, err := stringArg(tag, args, 0)
		if err != nil {
			return err
		}
		if tag == "g_mon0" {
			s.g.unsubscribe(from, family)
			return nil
		}
		s.g.subscribe(from, family)
		s.send(from, out, "g_chg1", family, maps.Clone(s.g.db[family]))
	case "g_chg1", "g_chg2":
		if from != s.master {
			return nil // only the current master's view counts
		}
		return s.change(tag, args, out)
	}
	return nil
}

// change applies g_chg1 (a resync) or g_chg2 (an increment) to the copy of
// a monitored family (spec §6.4).
func (s *State) change(tag string, args []any, out *Out) error {
	family, err := stringArg(tag, args, 0)
	if err != nil {
		return err
	}
	copyOf, ok := s.mons[family]
	if !ok {
		return nil
	}
	c := Change{Family: family}
	if tag == "g_chg1" {
		var now Family
		if len(args) > 1 && args[1] != nil {
			if now, ok = args[1].(map[string]any); !ok {
				return malformed(tag, "family is not an object")
			}
		}
		for k, v := range now {
			if _, had := copyOf[k]; had {
				c.Changed = append(c.Changed, k)
			} else {
				c.Added = append(c.Added, k)
			}
			copyOf[k] = v
		}
		for k := range copyOf {
			if _, still := now[k]; !still {
				c.Deleted = append(c.Deleted, k)
				delete(copyOf, k)
			}
		}
		slices.Sort(c.Added)
		slices.Sort(c.Changed)
		slices.Sort(c.Deleted)
	} else {
		_, set, del, err := updArgs(args)
		if err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(set)) {
			if _, had := copyOf[k]; had {
				c.Changed = append(c.Changed, k)
			} else {
				c.Added = append(c.Added, k)
			}
			copyOf[k] = set[k]
		}
		for _, k := range del {
			delete(copyOf, k)
		}
		c.Deleted = del
	}
	c.Values = copyOf
	out.Changes = append(out.Changes, c)
	return nil
}

func malformed(tag, why string) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, tag, why)
}

func stringArg(tag string, args []any, i int) (string, error) {
	if i >= len(args) {
		return "", malformed(tag, "missing argument")
	}
	str, ok := args[i].(string)
	if !ok {
		return "", malformed(tag, fmt.Sprintf("argument %d is %T, not a string", i+1, args[i]))
	}
	return str, nil
}

// updArgs reads g_upd/g_chg2 arguments: family, set map or null, delete
// array (optional, may be null).
func updArgs(args []any) (family string, set Family, del []string, err error) {
	if family, err = stringArg("g_upd", args, 0); err != nil {
		return
	}
	if len(args) > 1 && args[1] != nil {
		var ok bool
		if set, ok = args[1].(map[string]any); !ok {
			return "", nil, nil, malformed("g_upd", "set is not an object")
		}
	}
	if len(args) > 2 && args[2] != nil {
		list, ok := args[2].([]any)
		if !ok {
			return "", nil, nil, malformed("g_upd", "delete list is not an array")
		}
		for _, k := range list {
			if str, ok := k.(string); ok {
				del = append(del, str)
			}
		}
	}
	return family, set, del, nil
}

// asDB checks that v is a database (an object of objects).
func asDB(v any) (DB, error) {
	if v == nil {
		return DB{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("g_slave/g_set", "database is not an object")
	}
	db := make(DB, len(m))
	for f, fv := range m {
		if fv == nil {
			continue
		}
		fm, ok := fv.(map[string]any)
		if !ok {
			return nil, malformed("g_slave/g_set", fmt.Sprintf("family %q is not an object", f))
		}
		db[f] = fm
	}
	return db, nil
}

// dbValue copies db into the generic JSON form a message carries.
func dbValue(db DB) map[string]any {
	c := make(map[string]any, len(db))
	for f, fm := range db {
		c[f] = maps.Clone(fm)
	}
	return c
}

// equal compares two values of the generic JSON form.
func equal(a, b any) bool { return reflect.DeepEqual(a, b) }
