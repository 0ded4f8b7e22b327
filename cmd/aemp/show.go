package main

import (
	"os"

	"github.com/aemp-go/aemp/internal/rcfile"
)

// showProfile prints a profile's own values as Perl's aemp does
// (JSON::XS->new->pretty), {} for a missing profile. The members come in
// the file's order (Perl prints its hash order).
func showProfile(s *session, args []arg) error {
	f, err := s.config()
	if err != nil {
		return err
	}
	p, err := rcfile.Profile(f.Root, args[0].str(), false)
	if err != nil {
		return err
	}
	if p == nil {
		p = rcfile.NewObject()
	}
	_, err = s.stdout.Write(rcfile.AppendDisplay(nil, p))
	return err
}

// showConfig prints the effective configuration of a profile (default: the
// host name, as Perl's nodename) with the key/value pairs given, as a Perl
// node would see it (spec §7.2), without the "profile" and "parent" keys,
// in the layout of JSON::XS->new->pretty. The keys are sorted: the
// configuration is merged from several objects, so no file order applies
// (Perl prints its hash order).
func showConfig(s *session, args []arg) error {
	_, eff, err := s.profileArgs(args)
	if err != nil {
		return err
	}
	eff.Delete("profile")
	eff.Delete("parent")
	eff.SortKeys()
	_, err = s.stdout.Write(rcfile.AppendDisplay(nil, eff))
	return err
}

// profileArgs reads `[<profile> [<key> <value>]...]`: the profile (default
// the host name, "localhost" when unknown, as the library) and its
// effective settings with the pairs on top.
func (s *session) profileArgs(args []arg) (name string, eff *rcfile.Value, err error) {
	name = "localhost"
	if len(args) > 0 {
		name, args = args[0].str(), args[1:]
	} else if h, err := os.Hostname(); err == nil && h != "" {
		name = h
	}
	if len(args)%2 != 0 {
		return "", nil, usagef("the key/value pairs after the profile name are odd in number")
	}
	kv := rcfile.NewObject()
	for i := 0; i < len(args); i += 2 {
		kv.Set(args[i].str(), args[i+1].v)
	}
	f, err := s.config()
	if err != nil {
		return "", nil, err
	}
	eff, err = rcfile.Effective(f.Root, name, kv)
	if err != nil {
		return "", nil, err
	}
	return name, eff, nil
}
