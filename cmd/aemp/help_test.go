package main

import (
	"os"
	"strings"
	"testing"
)

// Every subcommand (and alias) answers --help, -h and `aemp help <name>`
// with its usage line and description on standard output, exit 0, and
// without touching the file.
func TestHelpForEverySubcommand(t *testing.T) {
	e := newEnv(t)
	overview := e.ok("--help")
	for _, c := range commands {
		if !strings.Contains(overview, "\n  "+synopsis(c)) {
			t.Errorf("the overview does not list %q", synopsis(c))
		}
		for _, name := range append([]string{c.name}, c.aliases...) {
			for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
				out := e.ok(args...)
				if !strings.HasPrefix(out, "usage: aemp "+synopsis(c)+"\n") {
					t.Errorf("aemp %q: %q", args, out)
				}
				if !strings.Contains(out, upperFirst(c.summary)) {
					t.Errorf("aemp %q: no description in %q", args, out)
				}
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"setsecret", "x", "--help"}} {
		if out := e.ok(args...); out != overview {
			t.Errorf("aemp %q: not the overview: %q", args, out)
		}
	}
	if _, err := os.Stat(e.rc); !os.IsNotExist(err) {
		t.Error("help wrote the file")
	}
	// A help flag given as JSON is an argument like any other.
	e.ok("setsecret", `"--help"`)
	if e.get("secret") != `"--help"` {
		t.Errorf("secret %s", e.get("secret"))
	}
}

func TestExitCodes(t *testing.T) {
	e := newEnv(t)
	r := e.fails(exitUsage)
	if !strings.HasPrefix(r.stderr, "usage: aemp ") {
		t.Errorf("no arguments: %q", r.stderr)
	}
	for _, args := range [][]string{
		{"nosuchcommand"},
		{"help", "nosuchcommand"},
		{"help", "setsecret", "setseeds"},
		{"setsecret"},
		{"profile"},
		{"setseeds", "a", "addseed"},
		{"setsecret", "[not json"},
		{"setsecret", "\xff"},
		{"[]"},
	} {
		r := e.fails(exitUsage, args...)
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("aemp %q: want one line on stderr, got %q", args, r.stderr)
		}
	}
	e.write("[]", 0o600) // not an object
	e.fails(exitFailure, "showconfig")
	e.write(`{"profile": "x"}`, 0o600)
	e.fails(exitFailure, "profile", "p")
	e.fails(exitFailure, "showprofile", "p")
	os.Remove(e.rc)
	e.rc = e.home + "/no/such/dir/rc"
	e.fails(exitFailure, "setsecret", "x")
	e.ok("showconfig", "x") // reading a missing file is fine
}
