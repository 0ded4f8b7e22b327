package registry

import (
	"maps"
	"reflect"
)

// Coalesce merges the incremental updates in sends that can travel as one
// message, and returns the sends to make, in order. sends is what one or
// more calls produced, in order (Out.Sends of each, appended); it is not
// modified, and the maps and slices of its messages are not written to.
//
// A g_chg2 (master → subscriber) or g_upd (node → its master, global node
// → the other global nodes) is merged into the previous message to the
// same node when that is the same request for the same family: the
// receiver applies the sets, then the deletions (spec §6.2, §6.4), so two
// updates (set1, del1) then (set2, del2) have the effect of one update
// whose sets are set1 without the keys of del1, overridden by set2,
// without the keys of del2, and whose deletions are del1 without the keys
// that set2 sets again, then del2. The receiver ends in the same state and
// its db_mon callbacks see the net change in one call instead of one call
// per update; a key set and then deleted in the same window is reported as
// deleted (which spec §6.4 allows: the deleted list may name keys the
// receiver did not have).
//
// Messages to the same node keep their order: an update is merged only
// into the message immediately before it to that node, never past another
// request. Messages to different nodes travel on different links, which
// order nothing between them.
//
// This is what makes a burst cheap: when n nodes join a global node's mesh
// at once, each join is one g_chg2 of family 'l to each of n subscribers.
// Merged over the updates that queued up while the registry was busy, a
// subscriber gets one message per batch instead of one per join. The
// subscribers of a family usually get the same updates (the same set maps
// and del lists, which the registry shares among them): such runs are
// merged once, and the merged message is shared by all of them too. The
// returned messages must be treated as read-only.
func Coalesce(sends []Send) []Send {
	if len(sends) < 2 {
		return sends
	}
	out := make([]Send, 0, len(sends))
	first := make([]int, 0, len(sends))      // index in sends of out's messages
	last := make(map[string]int, len(sends)) // node → index in out of its last message
	runs := map[int][]int{}                  // index in out → indices in sends merged there
	for j, s := range sends {
		i, seen := last[s.To]
		if seen && mergeable(out[i].Msg, s.Msg) {
			if runs[i] == nil {
				runs[i] = []int{first[i]}
			}
			runs[i] = append(runs[i], j)
			continue
		}
		last[s.To] = len(out)
		out = append(out, s)
		first = append(first, j)
	}
	merged := map[string][]any{} // the identities of a run's messages → their merge
	var sig []byte
	for i, run := range runs {
		sig = sig[:0]
		known := true
		for _, j := range run {
			if sig, known = appendIdentity(sig, sends[j].Msg); !known {
				break
			}
		}
		if !known { // merged for this node alone
			out[i].Msg = mergeRun(sends, run)
			continue
		}
		m, ok := merged[string(sig)]
		if !ok {
			m = mergeRun(sends, run)
			merged[string(sig)] = m
		}
		out[i].Msg = m
	}
	return out
}

// mergeRun merges the messages sends[run[0]], sends[run[1]], … into a new
// message.
func mergeRun(sends []Send, run []int) []any {
	m := cloneUpdate(sends[run[0]].Msg)
	for _, j := range run[1:] {
		mergeUpdate(m, sends[j].Msg)
	}
	return m
}

// appendIdentity appends what identifies an update message's content: the
// addresses of its set map and del list, which nobody writes to while
// Coalesce runs, so that two messages with the same identity have the same
// content. It reports false for a message without either.
func appendIdentity(sig []byte, msg []any) ([]byte, bool) {
	_, _, set, del, _ := updateParts(msg)
	if set == nil && del == nil {
		return sig, false
	}
	var p, q uintptr
	if set != nil {
		p = reflect.ValueOf(set).Pointer()
	}
	if del != nil {
		q = reflect.ValueOf(del).Pointer() // its first element
	}
	sig = appendWord(sig, uint64(p))
	sig = appendWord(sig, uint64(q))
	return appendWord(sig, uint64(len(del))), true
}

func appendWord(b []byte, w uint64) []byte {
	for range 8 {
		b = append(b, byte(w))
		w >>= 8
	}
	return b
}

// updateParts returns the parts of a g_chg2 or g_upd message as this
// package produces them: ["g_…", family, set, del], where a slave's g_upd
// may leave out del and have a nil set (Set, Del).
func updateParts(msg []any) (tag, family string, set map[string]any, del []any, ok bool) {
	if len(msg) < 3 || len(msg) > 4 {
		return "", "", nil, nil, false
	}
	if tag, ok = msg[0].(string); !ok || (tag != "g_chg2" && tag != "g_upd") {
		return "", "", nil, nil, false
	}
	if family, ok = msg[1].(string); !ok {
		return "", "", nil, nil, false
	}
	if msg[2] != nil {
		if set, ok = msg[2].(map[string]any); !ok {
			return "", "", nil, nil, false
		}
	}
	if len(msg) == 4 && msg[3] != nil {
		if del, ok = msg[3].([]any); !ok {
			return "", "", nil, nil, false
		}
	}
	return tag, family, set, del, true
}

func mergeable(prev, next []any) bool {
	t1, f1, _, _, ok1 := updateParts(prev)
	t2, f2, _, _, ok2 := updateParts(next)
	return ok1 && ok2 && t1 == t2 && f1 == f2
}

// cloneUpdate copies an update message with its own set and del, both
// non-nil (an empty del is [], never null: spec §4.5).
func cloneUpdate(msg []any) []any {
	tag, family, set, del, _ := updateParts(msg)
	own := make(map[string]any, len(set))
	maps.Copy(own, set)
	return []any{tag, family, own, append(make([]any, 0, len(del)), del...)}
}

// mergeUpdate applies next after into (a copy that Coalesce owns).
func mergeUpdate(into, next []any) {
	_, _, set, del, _ := updateParts(into)
	_, _, set2, del2, _ := updateParts(next)
	if len(set2) > 0 {
		kept := del[:0]
		for _, k := range del { // set again after its deletion: a set
			if str, _ := k.(string); !hasKey(set2, str) {
				kept = append(kept, k)
			}
		}
		del = kept
	}
	maps.Copy(set, set2)
	for _, k := range del2 {
		str, _ := k.(string)
		delete(set, str)
		if !containsKey(del, str) {
			del = append(del, k)
		}
	}
	into[3] = del
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

func containsKey(list []any, k string) bool {
	for _, v := range list {
		if s, _ := v.(string); s == k {
			return true
		}
	}
	return false
}
