package rcfile

import (
	"slices"
	"strconv"
	"strings"
)

// Kind is the JSON type of a Value.
type Kind uint8

// Kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is one JSON value of the configuration file. Objects keep their
// members in the order they were read (or added); scalars read from a file
// keep their exact text, so a value the tool does not touch is written back
// as it was. A Value is not safe for concurrent use.
type Value struct {
	kind Kind
	b    bool
	// perl marks a Number whose text is already as Perl prints it.
	perl bool
	// text is a String's decoded text or a Number's literal.
	text string
	// raw is a String's literal as read, quotes included; "" for strings
	// made in code (they are written with Perl's escapes).
	raw     string
	items   []*Value
	members []member
}

type member struct {
	key    string
	keyRaw string // the key's literal as read, "" if made in code
	val    *Value
}

// NewString returns a string value.
func NewString(s string) *Value { return &Value{kind: String, text: s} }

// NewBool returns true or false.
func NewBool(b bool) *Value { return &Value{kind: Bool, b: b} }

// NewNull returns null.
func NewNull() *Value { return &Value{kind: Null} }

// NewInt returns an integer number.
func NewInt(n int64) *Value { return &Value{kind: Number, text: strconv.FormatInt(n, 10), perl: true} }

// NewArray returns an array of the given items.
func NewArray(items ...*Value) *Value { return &Value{kind: Array, items: items} }

// NewObject returns an empty object.
func NewObject() *Value { return &Value{kind: Object} }

// NewStrings returns an array of strings.
func NewStrings(ss ...string) *Value {
	v := &Value{kind: Array, items: make([]*Value, len(ss))}
	for i, s := range ss {
		v.items[i] = NewString(s)
	}
	return v
}

// Kind reports v's JSON type.
func (v *Value) Kind() Kind { return v.kind }

// Str returns a string's text; ok is false for other kinds.
func (v *Value) Str() (s string, ok bool) { return v.text, v.kind == String }

// Items returns an array's elements (nil for other kinds). The slice is
// v's own: change it only through SetItems.
func (v *Value) Items() []*Value { return v.items }

// SetItems replaces an array's elements.
func (v *Value) SetItems(items []*Value) { v.items = items }

// Keys returns an object's keys in order.
func (v *Value) Keys() []string {
	keys := make([]string, len(v.members))
	for i, m := range v.members {
		keys[i] = m.key
	}
	return keys
}

// Get returns an object's member, or nil.
func (v *Value) Get(key string) *Value {
	if i := v.index(key); i >= 0 {
		return v.members[i].val
	}
	return nil
}

// Set sets an object's member: an existing key keeps its place, a new one
// goes last.
func (v *Value) Set(key string, val *Value) {
	if i := v.index(key); i >= 0 {
		v.members[i].val = val
		return
	}
	v.members = append(v.members, member{key: key, val: val})
}

// Delete removes an object's member and reports whether it was there.
func (v *Value) Delete(key string) bool {
	i := v.index(key)
	if i < 0 {
		return false
	}
	v.members = append(v.members[:i], v.members[i+1:]...)
	return true
}

func (v *Value) index(key string) int {
	for i, m := range v.members {
		if m.key == key {
			return i
		}
	}
	return -1
}

// SortKeys orders an object's members by key (byte-wise, as JSON::XS's
// canonical does); nested objects keep their order.
func (v *Value) SortKeys() {
	slices.SortStableFunc(v.members, func(a, b member) int { return strings.Compare(a.key, b.key) })
}

// Clone returns a deep copy of v.
func (v *Value) Clone() *Value {
	c := *v
	if v.items != nil {
		c.items = make([]*Value, len(v.items))
		for i, it := range v.items {
			c.items[i] = it.Clone()
		}
	}
	if v.members != nil {
		c.members = make([]member, len(v.members))
		for i, m := range v.members {
			c.members[i] = member{key: m.key, keyRaw: m.keyRaw, val: m.val.Clone()}
		}
	}
	return &c
}

// IsScalar reports whether v is null, a boolean, a number or a string.
func (v *Value) IsScalar() bool { return v.kind != Array && v.kind != Object }

// PerlString returns the text Perl sees when it uses a scalar as a string:
// a string's text, a number as Perl prints it, "1"/"0" for true/false, ""
// for null. Arrays and objects give their display JSON.
func (v *Value) PerlString() string {
	switch v.kind {
	case Null:
		return ""
	case Bool:
		if v.b {
			return "1"
		}
		return "0"
	case String:
		return v.text
	case Number:
		if v.perl {
			return v.text
		}
		return perlNumber(v.text).text
	}
	return strings.TrimSuffix(string(AppendDisplay(nil, v)), "\n")
}

// Truthy reports Perl truthiness: null, false, "", "0" and zero are false.
func (v *Value) Truthy() bool {
	switch v.kind {
	case Null:
		return false
	case Bool:
		return v.b
	case String:
		return v.text != "" && v.text != "0"
	case Number:
		f, err := strconv.ParseFloat(v.text, 64)
		return err != nil || f != 0
	}
	return true
}

// Same reports whether two values are the same entry for the list commands
// (addseed, delbind, delservice…): scalars compare as Perl strings (as
// Perl's eq does), arrays and objects by their content.
func Same(a, b *Value) bool {
	if a.IsScalar() && b.IsScalar() {
		return a.PerlString() == b.PerlString()
	}
	if a.IsScalar() != b.IsScalar() {
		return false
	}
	return string(AppendDisplay(nil, a)) == string(AppendDisplay(nil, b))
}
