package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/aemp-go/aemp/internal/rcfile"
)

const usageLine = "usage: aemp <subcommand> [<argument>...] [<subcommand> [<argument>...]]...\n"

const overviewText = `
aemp edits AnyEvent::MP's configuration file, the file Perl's aemp and
AnyEvent::MP use ($PERL_ANYEVENT_MP_RC, else ~/.perl-anyevent-mp), runs
nodes from it, and sends, calls and inspects from the shell.

Subcommands can be chained and apply in order; "profile <name>" makes the
ones after it edit that profile instead of the global defaults. The file is
written once, at the end, and only if it changed; if a subcommand fails,
nothing is written. An argument that starts with [, { or " is JSON; a lone
argument that starts with [ is a JSON array of all the arguments.

  aemp gensecret profile server binds '*:4040' nodeid server/ setparent base

The subcommands that talk to a mesh (messages, the mesh) run a temporary
node, aemp/<host>/<random>, configured from the "aemp" profile: it finds
other nodes through the seeds and authenticates with the secret or
certificate found there. They take all the arguments that follow them.
Exit codes: 0 done, 1 failed (no answer, a port died), 2 usage error.
`

// showHelp is `aemp help [<subcommand>]`.
func showHelp(s *session, args []arg) error {
	switch len(args) {
	case 0:
		writeOverview(s.stdout)
	case 1:
		c := lookup(args[0].str())
		if c == nil {
			return usagef("%s: no such subcommand", abbrev(args[0].str()))
		}
		writeCommandHelp(s.stdout, c)
	default:
		return usagef("one subcommand at a time")
	}
	return errHelpShown
}

// writeOverview prints the usage line, what aemp does, and every
// subcommand by group.
func writeOverview(w io.Writer) {
	var b strings.Builder
	b.WriteString(usageLine)
	b.WriteString(overviewText)
	const width = 28 // a longer synopsis puts its summary on the next line
	for _, g := range groups {
		fmt.Fprintf(&b, "\n%s:\n", g)
		for _, c := range commands {
			if c.group != g {
				continue
			}
			if syn := synopsis(c); len(syn) > width {
				fmt.Fprintf(&b, "  %s\n  %-*s  %s\n", syn, width, "", c.summary)
			} else {
				fmt.Fprintf(&b, "  %-*s  %s\n", width, syn, c.summary)
			}
		}
	}
	b.WriteString("\nEvery set<name> subcommand can be given as <name> too (seeds = setseeds),\n" +
		"except seteval. \"aemp help <subcommand>\" or \"aemp <subcommand> -h\" shows one.\n")
	if path, err := rcfile.Path(); err == nil {
		fmt.Fprintf(&b, "\nconfiguration file: %s\n", path)
	}
	io.WriteString(w, b.String())
}

func synopsis(c *command) string {
	if c.args == "" {
		return c.name
	}
	return c.name + " " + c.args
}

// writeCommandHelp prints one subcommand's usage line, aliases and
// description.
func writeCommandHelp(w io.Writer, c *command) {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: aemp %s\n", synopsis(c))
	if len(c.aliases) > 0 {
		fmt.Fprintf(&b, "alias: %s\n", strings.Join(c.aliases, ", "))
	}
	fmt.Fprintf(&b, "\n%s.\n", upperFirst(c.summary))
	if c.help != "" {
		b.WriteString("\n" + wrap(c.help, 76))
	}
	io.WriteString(w, b.String())
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// wrap breaks text into lines of at most width columns.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len(word) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	if n > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}
