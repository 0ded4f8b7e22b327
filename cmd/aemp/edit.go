package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aemp-go/aemp"
	"github.com/aemp-go/aemp/internal/rcfile"
)

// The set/del/add subcommands edit the current target (spec §7.3): the
// profile selected with `profile <name>`, or the file's top level. Values
// are stored as Perl's aemp stores them: a plain word as a string, a JSON
// argument as the JSON value it is.

// setString stores a scalar setting as a string. check, if not nil,
// validates it.
func setString(key, what string, check func(string) error) func(*session, []arg) error {
	return func(s *session, args []arg) error {
		if !args[0].v.IsScalar() {
			return usagef("the %s must be a string, not a JSON %s", what, kindName(args[0].v))
		}
		val := args[0].str()
		if check != nil {
			if err := check(val); err != nil {
				return err
			}
		}
		t, err := s.target()
		if err != nil {
			return err
		}
		t.Set(key, rcfile.NewString(val))
		return nil
	}
}

// del removes a setting from the current target (it is inherited again).
func del(key string) func(*session, []arg) error {
	return func(s *session, _ []arg) error {
		t, err := s.target()
		if err != nil {
			return err
		}
		t.Delete(key)
		return nil
	}
}

// setList stores a list setting: a JSON array as it is, anything else split
// at commas (as Perl's split /,/, which drops empty trailing fields, so ""
// is the empty list). check validates each entry.
func setList(key, what string, check func(*rcfile.Value) error) func(*session, []arg) error {
	return func(s *session, args []arg) error {
		v := args[0].v
		switch {
		case v.Kind() == rcfile.Array:
			v = v.Clone()
		case v.IsScalar():
			v = rcfile.NewStrings(splitComma(v.PerlString())...)
		default:
			return usagef("the %s must be a comma-separated list or a JSON array, not a JSON object", what)
		}
		for _, it := range v.Items() {
			if err := check(it); err != nil {
				return err
			}
		}
		t, err := s.target()
		if err != nil {
			return err
		}
		t.Set(key, v)
		return nil
	}
}

// splitComma is Perl's split /,/: empty trailing fields are dropped.
func splitComma(s string) []string {
	f := strings.Split(s, ",")
	for len(f) > 0 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	return f
}

// list returns the current target's list under key, nil if there is none.
func list(t *rcfile.Value, key string) (*rcfile.Value, error) {
	l := t.Get(key)
	if l == nil {
		return nil, nil
	}
	if l.Kind() != rcfile.Array {
		return nil, fmt.Errorf("%s is a JSON %s, not an array; replace it with set%s", key, kindName(l), key)
	}
	return l, nil
}

// addEntry appends an entry to a list setting, first removing the entries
// equal to it when unique (addseed, addbind; addservice adds another
// instance).
func addEntry(key string, unique bool, check func(*rcfile.Value) error) func(*session, []arg) error {
	return func(s *session, args []arg) error {
		e := args[0].v.Clone()
		if e.IsScalar() {
			e = rcfile.NewString(e.PerlString())
		}
		if err := check(e); err != nil {
			return err
		}
		t, err := s.target()
		if err != nil {
			return err
		}
		l, err := list(t, key)
		if err != nil {
			return err
		}
		if l == nil {
			l = rcfile.NewArray()
			t.Set(key, l)
		}
		items := l.Items()
		if unique {
			items = remove(items, e, true)
		}
		l.SetItems(append(items, e))
		return nil
	}
}

// delEntry removes an entry from a list setting: every equal entry when
// all, else the first (delservice). Entries compare as Perl's eq compares
// strings; JSON arrays compare by content. A missing list stays missing
// (Perl would store an empty list, which stops the inheritance).
func delEntry(key string, all bool) func(*session, []arg) error {
	return func(s *session, args []arg) error {
		t, err := s.target()
		if err != nil {
			return err
		}
		l, err := list(t, key)
		if err != nil || l == nil {
			return err
		}
		l.SetItems(remove(l.Items(), args[0].v, all))
		return nil
	}
}

func remove(items []*rcfile.Value, e *rcfile.Value, all bool) []*rcfile.Value {
	out := make([]*rcfile.Value, 0, len(items))
	removed := false
	for _, it := range items {
		if rcfile.Same(it, e) && (all || !removed) {
			removed = true
			continue
		}
		out = append(out, it)
	}
	return out
}

func kindName(v *rcfile.Value) string {
	switch v.Kind() {
	case rcfile.Array:
		return "array"
	case rcfile.Object:
		return "object"
	case rcfile.String:
		return "string"
	case rcfile.Number:
		return "number"
	case rcfile.Bool:
		return "boolean"
	}
	return "null"
}

// checkNodeID applies the node ID rules Go nodes apply (aemp.Config):
// no '#', ';' or line break, not "0".
func checkNodeID(id string) error {
	c := aemp.Config{NodeID: id}
	if err := c.Validate(); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// checkAddress accepts a seed or bind entry: a string (or a number, a bare
// port).
func checkAddress(v *rcfile.Value) error {
	if k := v.Kind(); k != rcfile.String && k != rcfile.Number {
		return usagef("an address must be a string, not a JSON %s", kindName(v))
	}
	return nil
}

// checkService accepts a service: a string, or an array whose first element
// is the function's name.
func checkService(v *rcfile.Value) error {
	switch v.Kind() {
	case rcfile.String:
		return nil
	case rcfile.Array:
		if items := v.Items(); len(items) > 0 && items[0].Kind() == rcfile.String {
			return nil
		}
		return usagef(`a service array must start with the function's name: ["func", args...]`)
	}
	return usagef("a service must be a string or a JSON array, not a JSON %s", kindName(v))
}

func selectProfile(s *session, args []arg) error {
	if !args[0].v.IsScalar() {
		return usagef("the profile name must be a string, not a JSON %s", kindName(args[0].v))
	}
	f, err := s.config()
	if err != nil {
		return err
	}
	name := args[0].str()
	if _, err := rcfile.Profile(f.Root, name, true); err != nil {
		return err
	}
	s.profile, s.inProfile = name, true
	return nil
}

func delProfile(s *session, args []arg) error {
	f, err := s.config()
	if err != nil {
		return err
	}
	if profiles := f.Root.Get("profile"); profiles != nil && profiles.Kind() == rcfile.Object {
		profiles.Delete(args[0].str())
	}
	return nil
}

// The low-level transport options (spec §2.1), each with a set and a del
// subcommand; set<name> has the alias <name>.
type lowLevel struct {
	key, args, summary string
	check              func(*rcfile.Value) error
}

var lowLevelOptions = []lowLevel{
	{"secure", "<boolean>", "refuse remote code execution", checkBool},
	{"monitor_timeout", "<seconds>", "handshake timeout, reconnect back-off cap (30)", checkSeconds},
	{"connect_interval", "<seconds>", "spacing of connection attempts (2)", checkSeconds},
	{"framing_format", "<JSON array>", "framings offered, preferred first", checkStrings},
	{"auth_offer", "<JSON array>", "auth methods this node sends", checkStrings},
	{"auth_accept", "<JSON array>", "auth methods accepted from peers", checkStrings},
	{"autocork", "<boolean>", "coalesce writes (off)", checkBool},
	{"nodelay", "<boolean>", "TCP_NODELAY (on)", checkBool},
}

const lowLevelHelp = "A plain word is stored as a string, as Perl's aemp stores it (a boolean \"0\" is false); " +
	"give a JSON value to store a number or an array. See spec §2.1 for the defaults."

func lowLevelCommands() []*command {
	var cmds []*command
	for _, o := range lowLevelOptions {
		cmds = append(cmds,
			&command{name: "set" + o.key, aliases: []string{o.key}, args: o.args, min: 1, max: 1, group: groupLowLevel,
				summary: o.summary, help: lowLevelHelp, run: setValue(o.key, o.check)},
			&command{name: "del" + o.key, group: groupLowLevel,
				summary: "remove " + o.key + " (inherit it again)", run: del(o.key)})
	}
	return cmds
}

// setValue stores the argument as it is (a plain word as a string, as Perl
// does) after check.
func setValue(key string, check func(*rcfile.Value) error) func(*session, []arg) error {
	return func(s *session, args []arg) error {
		if err := check(args[0].v); err != nil {
			return err
		}
		t, err := s.target()
		if err != nil {
			return err
		}
		t.Set(key, args[0].v.Clone())
		return nil
	}
}

// checkBool accepts any scalar: Perl takes its truth value.
func checkBool(v *rcfile.Value) error {
	if !v.IsScalar() {
		return usagef("a boolean must be a scalar (1, 0, true, false…), not a JSON %s", kindName(v))
	}
	return nil
}

func checkSeconds(v *rcfile.Value) error {
	if v.IsScalar() {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v.PerlString()), 64); err == nil && f >= 0 {
			return nil
		}
	}
	return usagef("%s is not a number of seconds", abbrev(v.PerlString()))
}

// checkStrings requires a JSON array of strings: Perl nodes break on a plain
// string here.
func checkStrings(v *rcfile.Value) error {
	if v.Kind() == rcfile.Array {
		ok := true
		for _, it := range v.Items() {
			ok = ok && it.Kind() == rcfile.String
		}
		if ok {
			return nil
		}
	}
	return usagef(`the value must be a JSON array of strings, e.g. '["json","cbor"]'`)
}
