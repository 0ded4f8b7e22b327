package aemp

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Functions other nodes may run by name (spec §2.14, §4.4): Config.Funcs
// holds them, spawn requests (spawn.go), function-call requests and
// services start them, and every one runs in port context of a port of
// its own. This file also answers eval requests, which a Go node never
// runs.

// Func is a function that other nodes (and this one) may start by name,
// registered in [Config.Funcs]. It runs in port context of a new port p, on
// a worker goroutine, like a handler: one at a time with p's handlers,
// errors and panics handled as below. It must not block for long.
//
// m holds the arguments: m.Tag() is the function's name and elements 1…
// are the arguments the caller gave (m.String(1) is the first), decoded
// as for any message; m is valid only during the call (Clone it to keep
// it). m.Reply answers a caller that put a reply port last.
//
// The port exists only if the function registers a handler on p (Rcv or
// RcvDefault), as in AnyEvent::MP: messages sent to p meanwhile wait and
// are handled after it returns. If it returns without registering one,
// the port never existed: those messages are dropped and every monitor
// of p gets ("no_such_port", …), whatever the function returned (an
// error is only logged at debug level, as Perl logs nothing). A function
// that registered a handler and then returns an error or panics kills p
// with ("die", text) (or the [Reason] it returned).
//
// A Func starts in one of three ways:
//
//   - [Node.Spawn] (AnyEvent::MP's spawn) on this or another node: p has
//     the ID the spawner chose and returned.
//   - A function-call node request ["", "Package::function", args…]
//     (Perl's snd_to_func, aemp snd): p is a new port with a name of this
//     node's choosing; a function that wants to be talked to can send
//     p.ID() to a port given in its arguments.
//   - [Config.Services]: started by NewNode, with no arguments.
type Func func(p *Port, m *Msg) error

// spawnRequest is the node request of spawn (spec §2.14).
const spawnRequest = "AnyEvent::MP::_spawn"

// globalService is the Perl module whose service makes a node global.
const globalService = "AnyEvent::MP::Global::"

// evalRefused is the "$@" of the answer to an eval request: a Go node
// cannot evaluate Perl, and says so at once instead of leaving the asker
// to time out.
const evalRefused = "eval is not supported by Go nodes\n"

// validFuncName reports whether name has Perl's form Package::function.
func validFuncName(name string) bool {
	return strings.Contains(name, "::") && !strings.HasSuffix(name, "::")
}

// canonicalFunc resolves "::f" to "main::f", as Perl does.
func canonicalFunc(name string) string {
	if strings.HasPrefix(name, "::") {
		return "main" + name
	}
	return name
}

// funcNamed returns this node's function of that name, or nil.
func (n *Node) funcNamed(name string) Func { return n.cfg.Funcs[canonicalFunc(name)] }

// canServe reports whether this node serves the node request req (the
// answer to "can"). Perl adds a function to its request table when it is
// first called, so a fresh Perl node answers "" for AnyEvent::MP::_spawn;
// a Go node knows its functions from the start and answers for them (and
// for spawn) at once, unless Secure refuses them all.
func (n *Node) canServe(req string) bool {
	switch {
	case nodeRequests[req], req == "eval":
		return true
	case n.cfg.Secure:
		return false
	case req == spawnRequest:
		return true
	}
	return n.funcNamed(req) != nil
}

// execRequest serves the node requests that would run code: eval, spawn
// and function calls (spec §4.1 rule 2). Like Perl, it never answers a
// refused or failed one; anything else unknown is ignored.
func (n *Node) execRequest(src *remoteNode, m *Msg) error {
	if m.tag != "eval" && !strings.Contains(m.tag, "::") {
		n.log.Debug("aemp: unsupported node request ignored", "request", m.tag, "from", m.From())
		return nil
	}
	if src != nil && n.cfg.Secure {
		n.log.Warn("aemp: remote execution not allowed (Config.Secure)", "request", m.tag, "from", src.id)
		return nil
	}
	switch m.tag {
	case "eval":
		return n.serveEval(src, m)
	case spawnRequest:
		return n.serveSpawn(src, m)
	}
	f := n.funcNamed(m.tag)
	if f == nil {
		n.log.Debug("aemp: call of an unknown function ignored", "func", m.tag, "from", m.From())
		return nil
	}
	// The request itself is the function's message: its arguments stay
	// undecoded until the function reads them (copied out of the network
	// buffer, which goes back to the link when this returns).
	n.startFunc(n.nextLocal(), f, m.Clone(), false, nil)
	return nil
}

// serveEval answers ["", "eval", code, reply…] as Perl's eval_on would
// for code that died: reply…, "$@" with no results.
func (n *Node) serveEval(src *remoteNode, m *Msg) error {
	if m.Len() < 2 {
		return n.badRequest(src, m, fmt.Errorf("%w: eval without code", ErrType))
	}
	if m.Len() == 2 {
		n.log.Debug("aemp: eval request without a reply port ignored", "from", m.From())
		return nil
	}
	return n.reply(src, m, 2, evalRefused) // reply elements keep their types
}

// startFunc creates the local port local and runs f in its context with
// first as its message (see Func). It reports false if the name is taken.
// spawned marks a port whose name the spawner knows: an init failure is
// remembered for its late monitors. done, if set, gets f's error (nil on
// success) once f has returned.
func (n *Node) startFunc(local string, f Func, first *Msg, spawned bool, done chan<- error) bool {
	p := &Port{node: n, local: local, id: PortID(n.id + "#" + local)}
	t := &handlerTable{tags: map[string]Handler{}, def: p.initHandler(f, spawned, done)}
	t.index()
	p.handlers.Store(t)
	// The first message goes in before anyone can find the port, and the
	// port runs only once it is in the table: nothing overtakes it.
	p.state.Store(portScheduled)
	p.push(first)
	if _, taken := n.ports.LoadOrStore(local, p); taken {
		p.state.Store(portDead)
		p.discard()
		return false
	}
	n.sched.enqueue(p)
	return true
}

// initHandler is the first handler of a port started by startFunc: it
// runs f, then decides whether the port exists (Func).
func (p *Port) initHandler(f Func, spawned bool, done chan<- error) Handler {
	return func(m *Msg) error {
		p.RcvDefault(nil) // from now on, what f registers decides
		err := p.callInit(f, m)
		if done != nil {
			done <- err
		}
		t := p.handlers.Load()
		if len(t.tags) == 0 && t.def == nil {
			if err != nil {
				p.node.log.Debug("aemp: function failed before it registered a handler", "port", p.id, "func", m.Tag(), "err", err)
			}
			return noSuchPortReason(p.id) // the port never existed
		}
		if err != nil && spawned {
			p.node.initDeaths.add(p.local, reasonOf(err))
		}
		return err
	}
}

// callInit calls f, turning a panic into an error.
func (p *Port) callInit(f Func, m *Msg) (err error) {
	defer func() {
		if r := recover(); r != nil {
			p.node.log.Debug("aemp: function panicked", "port", p.id, "func", m.Tag(), "panic", r, "stack", string(debug.Stack()))
			err = errPanic{r}
		}
	}()
	return f(p, m)
}
