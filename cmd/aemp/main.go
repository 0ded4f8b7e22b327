package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/aemp-go/aemp/internal/rcfile"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one aemp command line and returns the exit code. The
// subcommands run in order against the configuration file in memory; the
// file is written once, after the last one, if it changed. A failing
// subcommand ends the run and nothing is written.
func run(words []string, stdout, stderr io.Writer) int {
	s := &session{stdout: stdout, stderr: stderr}
	err := s.runWords(words)
	if err == nil {
		err = s.save()
	}
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelpShown):
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "aemp: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "aemp: %v\n", err)
		return exitFailure
	}
}

// errHelpShown ends a run after help was printed: exit 0, nothing written.
var errHelpShown = errors.New("help shown")

// usageError is a command line that does not fit the subcommands' rules
// (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// arg is one argument after Perl's aemp argument rules.
type arg struct {
	v *rcfile.Value
	// plain: the shell word as it is, not JSON. Only plain words are
	// taken as -h/--help.
	plain bool
}

// str is the argument as Perl uses it as a string.
func (a arg) str() string { return a.v.PerlString() }

func (a arg) isHelpFlag() bool {
	return a.plain && (a.str() == "-h" || a.str() == "--help")
}

// decodeArgs applies Perl's aemp rules (spec §7.3): if the only word starts
// with "[", it is a JSON array whose elements are the arguments; otherwise
// every word that starts with "[", "{" or `"` is replaced by the JSON value
// it holds.
func decodeArgs(words []string) ([]arg, error) {
	if len(words) == 1 && strings.HasPrefix(words[0], "[") {
		v, err := rcfile.ParseArg(words[0])
		if err != nil {
			return nil, usagef("the argument array: %v", err)
		}
		var args []arg
		for _, it := range v.Items() {
			args = append(args, arg{v: it})
		}
		return args, nil
	}
	args := make([]arg, len(words))
	for i, w := range words {
		if strings.HasPrefix(w, "[") || strings.HasPrefix(w, "{") || strings.HasPrefix(w, `"`) {
			v, err := rcfile.ParseArg(w)
			if err != nil {
				return nil, usagef("argument %d (%s): %v", i+1, abbrev(w), err)
			}
			args[i] = arg{v: v}
			continue
		}
		if !utf8.ValidString(w) {
			return nil, usagef("argument %d is not valid UTF-8", i+1)
		}
		args[i] = arg{v: rcfile.NewString(w), plain: true}
	}
	return args, nil
}

// abbrev shortens an argument for an error message.
func abbrev(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:37]) + "..."
	}
	return s
}
