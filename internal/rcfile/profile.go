package rcfile

import (
	"errors"
	"fmt"
)

// ErrShape is wrapped when the file's structure is not the one Perl's code
// expects (e.g. "profile" is not an object), where Perl would die.
var ErrShape = errors.New("unexpected structure")

// ErrCycle is wrapped when a profile's parent chain comes back to itself
// (Perl recurses until it runs out of memory).
var ErrCycle = errors.New("circular parent chain")

// Profile returns the object of the named profile, root["profile"][name],
// or nil if there is none. With create, a missing profile (or the whole
// "profile" object) is added, as Perl's `$cfg->{profile}{$name} ||= {}`
// does, which also replaces a false scalar there.
func Profile(root *Value, name string, create bool) (*Value, error) {
	profiles := root.Get("profile")
	if profiles == nil || profiles.IsScalar() && !profiles.Truthy() {
		if !create {
			return nil, nil
		}
		profiles = NewObject()
		root.Set("profile", profiles)
	}
	if profiles.kind != Object {
		return nil, fmt.Errorf("%w: the top level's \"profile\" is not a JSON object", ErrShape)
	}
	p := profiles.Get(name)
	if p == nil || p.IsScalar() && !p.Truthy() {
		if !create {
			return nil, nil
		}
		p = NewObject()
		profiles.Set(name, p)
	}
	if p.kind != Object {
		return nil, fmt.Errorf("%w: profile %q is not a JSON object", ErrShape, name)
	}
	return p, nil
}

// Defaults returns the built-in defaults of Perl's AnyEvent::MP::Config
// find_profile, which every effective configuration starts from.
func Defaults() *Value {
	d := NewObject()
	d.Set("monitor_timeout", NewInt(30))
	d.Set("connect_interval", NewInt(2))
	d.Set("framing_format", NewStrings("cbor", "json", "storable"))
	d.Set("auth_offer", NewStrings("tls_sha3_512", "hmac_sha3_512"))
	d.Set("auth_accept", NewStrings("tls_sha3_512", "hmac_sha3_512", "tls_anon", "cleartext"))
	return d
}

// Effective returns the configuration a Perl node configured with profile
// name and the key/values kv would run with (spec §7.2, Config.pm
// find_profile): the built-in defaults, overridden by kv, overridden by the
// file's top level (every key, "version" and "profile" included) and then
// by the profile chain from the root-most parent down to the profile
// itself. A true "norc" in kv leaves the file out; a true "force" puts the
// file first and the defaults and kv over it. kv may be nil; neither it nor
// root is changed. A key set again keeps the place it was first given.
func Effective(root *Value, name string, kv *Value) (*Value, error) {
	args := Defaults()
	var norc, force bool
	if kv != nil {
		for _, m := range kv.members {
			switch m.key {
			case "norc":
				norc = m.val.Truthy()
			case "force":
				force = m.val.Truthy()
			default:
				args.Set(m.key, m.val.Clone())
			}
		}
	}
	if norc {
		return args, nil
	}
	file, err := fileView(root, name)
	if err != nil {
		return nil, err
	}
	if force {
		return overlay(file, args), nil
	}
	return overlay(args, file), nil
}

// fileView is Config.pm's _find_profile: the top level, then the profile
// chain, root-most parent first.
func fileView(root *Value, name string) (*Value, error) {
	var chain []*Value
	seen := map[string]bool{}
	for {
		if seen[name] {
			return nil, fmt.Errorf("%w: profile %q", ErrCycle, name)
		}
		seen[name] = true
		p, err := Profile(root, name, false)
		if err != nil {
			return nil, err
		}
		if p == nil {
			break
		}
		chain = append(chain, p)
		parent := p.Get("parent")
		if parent == nil || parent.kind == Null {
			break
		}
		if !parent.IsScalar() {
			return nil, fmt.Errorf("%w: the parent of profile %q is not a string", ErrShape, name)
		}
		name = parent.PerlString()
	}
	v := root.Clone()
	for i := len(chain) - 1; i >= 0; i-- {
		v = overlay(v, chain[i])
	}
	return v, nil
}

// overlay returns a copy of base with top's members set over it.
func overlay(base, top *Value) *Value {
	v := base.Clone()
	for _, m := range top.members {
		v.Set(m.key, m.val.Clone())
	}
	return v
}
