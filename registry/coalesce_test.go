package registry

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
)

func TestCoalesce(t *testing.T) {
	shared := map[string]any{"a": 1.0} // one set map sent to two subscribers, as global.update does
	sends := []Send{
		{To: "n1", Msg: []any{"g_chg2", "'l", shared, []any{}}},
		{To: "n2", Msg: []any{"g_chg2", "'l", shared, []any{}}},
		{To: "n1", Msg: []any{"g_chg2", "'l", map[string]any{"b": 2.0}, []any{"c"}}},
		{To: "n1", Msg: []any{"g_chg2", "'l", map[string]any{"c": 3.0}, []any{"a"}}},
		{To: "n1", Msg: []any{"g_chg2", "other", map[string]any{"x": 1.0}, []any{}}}, // another family
		{To: "n2", Msg: []any{"g_reply", "q1", []any{}}},                             // a barrier for n2
		{To: "n2", Msg: []any{"g_chg2", "'l", map[string]any{"b": 2.0}, []any{}}},
		{To: "g2", Msg: []any{"g_upd", "'l", map[string]any{"a": 1.0}}}, // a slave's Set: no del
		{To: "g2", Msg: []any{"g_upd", "'l", nil, []any{"a"}}},          // and its Del: no set
	}
	before := deepCopySends(sends)
	got := Coalesce(sends)
	want := []Send{
		{To: "n1", Msg: []any{"g_chg2", "'l", map[string]any{"b": 2.0, "c": 3.0}, []any{"a"}}},
		{To: "n2", Msg: []any{"g_chg2", "'l", map[string]any{"a": 1.0}, []any{}}},
		{To: "n1", Msg: []any{"g_chg2", "other", map[string]any{"x": 1.0}, []any{}}},
		{To: "n2", Msg: []any{"g_reply", "q1", []any{}}},
		{To: "n2", Msg: []any{"g_chg2", "'l", map[string]any{"b": 2.0}, []any{}}},
		{To: "g2", Msg: []any{"g_upd", "'l", map[string]any{}, []any{"a"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Coalesce:\n got %v\nwant %v", got, want)
	}
	if !reflect.DeepEqual(sends, before) {
		t.Errorf("Coalesce changed its input:\n now %v\nwas %v", sends, before)
	}

	// Two subscribers that get the same updates share one merged message.
	a, b := map[string]any{"a": 1.0}, map[string]any{"b": 2.0}
	fan := Coalesce([]Send{
		{To: "n1", Msg: []any{"g_chg2", "'l", a, []any{}}},
		{To: "n2", Msg: []any{"g_chg2", "'l", a, []any{}}},
		{To: "n1", Msg: []any{"g_chg2", "'l", b, []any{}}},
		{To: "n2", Msg: []any{"g_chg2", "'l", b, []any{}}},
	})
	if len(fan) != 2 || !reflect.DeepEqual(fan[0].Msg, []any{"g_chg2", "'l", map[string]any{"a": 1.0, "b": 2.0}, []any{}}) ||
		&fan[0].Msg[0] != &fan[1].Msg[0] {
		t.Errorf("fanned-out burst: %v", fan)
	}
	if one := Coalesce(sends[:1]); len(one) != 1 || !reflect.DeepEqual(one[0], before[0]) {
		t.Errorf("Coalesce of one message = %v", one)
	}
}

// FuzzCoalesce checks Coalesce against applying the messages one by one:
// every receiver ends in the same state, sees its other requests in the
// same order, and before each of them the same state of every family.
func FuzzCoalesce(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0x10, 0x31, 0x52, 0x13, 0x94, 0x15, 0xd6, 0x17, 0x58, 0x19, 0xfa, 0x1b})
	f.Add([]byte{0xff, 0x00, 0xff, 0x01, 0x80, 0x7f, 0x40, 0x3f})
	f.Add([]byte{0x20, 0x01, 0x20, 0x0a, 0x21, 0x05, 0x24, 0x13, 0x01, 0x1c, 0x20, 0x2a})
	f.Fuzz(func(t *testing.T, ops []byte) {
		sends := sendsFrom(ops)
		before := deepCopySends(sends)
		got := Coalesce(sends)
		if !reflect.DeepEqual(sends, before) {
			t.Fatalf("Coalesce changed its input")
		}
		if len(got) > len(sends) {
			t.Fatalf("%d sends became %d", len(sends), len(got))
		}
		want, have := receive(sends), receive(got)
		if !reflect.DeepEqual(want, have) {
			t.Fatalf("receivers differ:\none by one %v\n coalesced %v\n input %v\n output %v", want, have, sends, got)
		}
	})
}

// sendsFrom makes a sequence of requests from fuzz input, two bytes each:
// the node, the kind (g_chg2, g_upd or a barrier), the family, and one key
// set or deleted.
func sendsFrom(ops []byte) []Send {
	var sends []Send
	for i := 0; i+1 < len(ops); i += 2 {
		a, b := ops[i], ops[i+1]
		to := fmt.Sprintf("n%d", a&3)
		family := fmt.Sprintf("f%d", a>>2&1)
		key := fmt.Sprintf("k%d", b&3)
		var set map[string]any
		var del []any
		if b&4 == 0 {
			set = map[string]any{key: float64(b >> 3)}
		} else {
			del = []any{key}
		}
		var msg []any
		switch a >> 3 & 3 {
		case 0, 1:
			msg = []any{"g_chg2", family, orEmpty(set), orEmptyList(del)}
		case 2:
			if set != nil {
				msg = []any{"g_upd", family, set}
			} else {
				msg = []any{"g_upd", family, nil, del}
			}
		default:
			msg = []any{"g_reply", fmt.Sprint(i), []any{}}
		}
		if a&0x20 == 0 {
			sends = append(sends, Send{To: to, Msg: msg})
			continue
		}
		for n := range 4 { // fanned out: the same set map and del list to every node, as global.update does
			sends = append(sends, Send{To: fmt.Sprintf("n%d", n), Msg: slices.Clone(msg)})
		}
	}
	return sends
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func orEmptyList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// receive applies the sends as their receivers would (sets, then
// deletions) and returns, per node, what it saw at each other request and
// at the end.
func receive(sends []Send) map[string][]string {
	state := map[string]map[string]map[string]any{} // node → "tag family" → keys
	seen := map[string][]string{}
	snapshot := func(node string) string {
		return fmt.Sprint(state[node]) // fmt prints maps sorted
	}
	for _, s := range sends {
		tag, family, set, del, ok := updateParts(s.Msg)
		if !ok {
			seen[s.To] = append(seen[s.To], fmt.Sprint(s.Msg, " after ", snapshot(s.To)))
			continue
		}
		if state[s.To] == nil {
			state[s.To] = map[string]map[string]any{}
		}
		fam := state[s.To][tag+" "+family]
		if fam == nil {
			fam = map[string]any{}
			state[s.To][tag+" "+family] = fam
		}
		maps.Copy(fam, set)
		for _, k := range del {
			delete(fam, k.(string))
		}
	}
	for node := range state {
		seen[node] = append(seen[node], "end "+snapshot(node))
	}
	return seen
}

func deepCopySends(sends []Send) []Send {
	if sends == nil {
		return nil
	}
	out := make([]Send, len(sends))
	for i, s := range sends {
		msg := make([]any, len(s.Msg))
		for j, v := range s.Msg {
			switch v := v.(type) {
			case map[string]any:
				msg[j] = maps.Clone(v)
			case []any:
				msg[j] = append([]any{}, v...)
			default:
				msg[j] = v
			}
		}
		out[i] = Send{To: s.To, Msg: msg}
	}
	return out
}
