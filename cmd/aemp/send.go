package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aemp-go/aemp"
)

// snd, cal, mon and eval: messages to ports and nodes from the shell
// (spec §7.3).

// ackText is what the target node's snd relay sends back to say that the
// message reached it.
const ackText = "message sent successfully"

// sndCmd is `aemp snd <port> <args…>`: the message, then the relay request
// ["", "snd", <reply port>, "message sent successfully"] to the port's
// node, which sends that text back once it has handled everything before
// it, the message included (one FIFO per pair of nodes). The port is
// monitored meanwhile: its death (or the node's link failing) is the
// error.
func sndCmd(s *session, args []arg) error {
	to, tag, rest, timeout, err := portMessage("snd", args)
	if err != nil {
		return err
	}
	n, ctx, stop, err := s.startTimed(timeout)
	if err != nil {
		return err
	}
	defer stop()

	x := newExchange(n)
	defer x.close()
	x.watch(to)
	if err := n.Snd(to, tag, rest...); err != nil {
		return err
	}
	if err := n.Snd(aemp.PortID(to.Node()), "snd", string(x.reply.ID()), ackText); err != nil {
		return err
	}
	v, err := x.wait(ctx)
	if err != nil {
		return err
	}
	if len(v) == 1 && v[0] == ackText {
		fmt.Fprintln(s.stdout, ackText)
	} else {
		fmt.Fprintln(s.stdout, jsonList(v))
	}
	return nil
}

// portMessage reads the arguments of snd and cal, `[-timeout D] <port>
// <message…>`: the port, and the message as its tag and arguments.
func portMessage(name string, args []arg) (to aemp.PortID, tag string, rest []any, timeout time.Duration, err error) {
	args, err = parseFlags(name, args, func(fs *flag.FlagSet) { timeoutFlag(fs, &timeout) })
	if err != nil {
		return "", "", nil, 0, err
	}
	if len(args) == 0 {
		return "", "", nil, 0, usagef("missing the port")
	}
	if to, err = portArg(args[0]); err != nil {
		return "", "", nil, 0, err
	}
	tag, rest = tagOf(values(args[1:]))
	return to, tag, rest, timeout, nil
}

// tagOf splits a message into its tag and arguments.
func tagOf(msg []any) (string, []any) {
	if len(msg) == 0 {
		return "", nil
	}
	tag, ok := msg[0].(string)
	if !ok {
		tag = jsonText(msg[0])
	}
	return tag, msg[1:]
}

// calCmd is `aemp cal <port> <args…>`: the message with a reply port
// appended (AnyEvent::MP's cal), and the reply printed as JSON without the
// outer brackets. The port is monitored while the tool waits.
func calCmd(s *session, args []arg) error {
	to, tag, rest, timeout, err := portMessage("cal", args)
	if err != nil {
		return err
	}
	n, ctx, stop, err := s.startTimed(timeout)
	if err != nil {
		return err
	}
	defer stop()

	r, err := n.Call(ctx, to, tag, rest...) // the reply port goes last, as Perl's cal
	var died aemp.Reason
	switch {
	case errors.As(err, &died):
		return errDied{death{to, died}}
	case errors.Is(err, aemp.ErrTimeout):
		return waitErr(ctx)
	case err != nil:
		return err
	}
	v, err := r.Values()
	if err != nil {
		return err
	}
	fmt.Fprintln(s.stdout, jsonList(v))
	return nil
}

// monCmd is `aemp mon <port>`: it waits until the port dies and prints its
// kill reason as a JSON array ([] for a normal kill). SIGINT or SIGTERM
// ends the wait (exit 1: the port did not die).
func monCmd(s *session, args []arg) error {
	if len(args) != 1 {
		return usagef("one port expected")
	}
	to, err := portArg(args[0])
	if err != nil {
		return err
	}
	n, ctx, stop, err := s.startTimed(0)
	if err != nil {
		return err
	}
	defer stop()
	died := make(chan aemp.Reason, 1)
	n.Mon(to, aemp.MonFunc(func(r aemp.Reason) { died <- r }))
	select {
	case r := <-died:
		fmt.Fprintln(s.stdout, jsonText(r))
		return nil
	case <-ctx.Done():
		return errors.New("interrupted before the port died")
	}
}

// evalCmd is `aemp eval <node> <expr…>`: ["", "eval", <expr>, <reply
// port>], answered by a Perl node with ("" or its error, results…). Go
// nodes run no code: they answer with an error at once; a node that
// answers "can eval" with false (a Perl node without eval) is an error
// without asking.
func evalCmd(s *session, args []arg) error {
	var timeout time.Duration
	args, err := parseFlags("eval", args, func(fs *flag.FlagSet) { timeoutFlag(fs, &timeout) })
	if err != nil {
		return err
	}
	if len(args) < 2 {
		return usagef("missing the node or the expression")
	}
	node, err := nodeArg(args[0])
	if err != nil {
		return err
	}
	var words []string
	for _, a := range args[1:] {
		words = append(words, a.str())
	}
	n, ctx, stop, err := s.startTimed(timeout)
	if err != nil {
		return err
	}
	defer stop()
	res, err := evalOn(ctx, n, node, strings.Join(words, " "))
	if err != nil {
		return err
	}
	fmt.Fprintln(s.stdout, jsonList(res))
	return nil
}

// errNoEval: the node does not evaluate code (a Go node, or a Perl node in
// secure mode that dropped eval from its table).
var errNoEval = errors.New("does not evaluate code (Go nodes run no Perl; eval works against Perl nodes)")

// evalOn evaluates code on a Perl node and returns its results.
func evalOn(ctx context.Context, n *aemp.Node, node, code string) ([]any, error) {
	ok, err := can(ctx, n, node, "eval")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("node %s %w", node, errNoEval)
	}
	v, err := request(ctx, n, node, "eval", code)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("node %s answered eval with nothing", node)
	}
	if e, _ := v[0].(string); e != "" {
		return nil, fmt.Errorf("node %s: %s", node, strings.TrimRight(e, "\n"))
	}
	return v[1:], nil
}
