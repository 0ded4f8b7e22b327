package aemp

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// spawn (spec §2.14): the spawner names the new port, sends
// ["", "AnyEvent::MP::_spawn", local, function, args…] to the target's node
// port and returns the port ID at once; no answer exists on the wire. The
// target starts the function in port context of that port (funcs.go).
//
// What a monitor of the new port gets is deterministic here, where Perl's
// depends on how the requests fell into reads (README of the vectors,
// "An init function that dies is a race"):
//
//   - unknown function, spawn refused (Secure, name taken): the port never
//     exists, every monitor gets ("no_such_port", …);
//   - the function returned without registering a handler (with or without
//     an error): the same, also for a monitor registered while it ran;
//   - it registered a handler and then failed: ("die", text), also for a
//     monitor that arrives after the port is gone (the reason is kept for
//     the last initDeathsKept such ports); Perl gives that only when the
//     mon1 came in the same read as the _spawn;
//   - later deaths are ordinary: a monitor that arrives after one gets
//     ("no_such_port", …).

// Spawn starts the function fn (a name in the target node's Config.Funcs,
// "Package::function") in port context of a new port on node, with args
// as its arguments, and returns the new port's ID at once (AnyEvent::MP's
// spawn). node is a node ID or any port ID on that node; this node's own
// ID spawns locally, through the same path without the network.
//
// The port ID is chosen here (this node's spawn prefix and port counter,
// as Perl's $RUNIQ . ++$ID), so the caller can send to the port and
// monitor it at once: messages wait until the function has run. Nothing
// on the wire tells whether the function exists or worked; monitor the
// port to learn it ("no_such_port" if it never came to exist, see Func).
// A local spawn of a function this node does not have fails at once with
// ErrNoFunc.
//
// ctx bounds only the sending: while the queue to the other node is full
// Spawn waits for room, as [Node.SndCtx]; nothing waits for the other
// node. The arguments must not be modified after the call (they are not
// copied for a local spawn). Other errors are Snd's.
func (n *Node) Spawn(ctx context.Context, node, fn string, args ...any) (PortID, error) {
	if !validFuncName(fn) {
		return "", fmt.Errorf("%w: %q is not Package::function", ErrNoFunc, fn)
	}
	fn = canonicalFunc(fn)
	target := NodeOf(PortID(node))
	if target == n.id && n.funcNamed(fn) == nil {
		return "", fmt.Errorf("%w: %s on this node", ErrNoFunc, fn)
	}
	local := n.runiq + localName(n.counter.Add(1))
	req := NewMsg(spawnRequest, local, fn)
	for _, a := range args {
		req.Append(a)
	}
	if err := n.sndMsgCtx(ctx, PortID(target), req); err != nil {
		return "", err
	}
	return PortID(target + "#" + local), nil
}

// serveSpawn serves ["", "AnyEvent::MP::_spawn", local, function, args…].
func (n *Node) serveSpawn(src *remoteNode, m *Msg) error {
	vals, err := m.Values() // spawns are rare: the arguments are decoded here
	if err != nil || len(vals) < 3 {
		return n.badRequest(src, m, err)
	}
	local, err := m.String(1)
	if err != nil {
		return n.badRequest(src, m, err)
	}
	name, err := m.String(2)
	if err != nil {
		return n.badRequest(src, m, err)
	}
	f := n.funcNamed(name)
	switch {
	case f == nil: // Perl logs nothing at its default level either
		n.log.Debug("aemp: spawn of an unknown function ignored", "func", name, "port", local, "from", m.From())
		return nil
	case local == "" || n.ownLocal(local):
		n.log.Warn("aemp: spawn into a port name this node gives its own ports refused", "port", local, "from", m.From())
		return nil
	}
	init := &Msg{tag: name}
	init.setArgs(vals[3:])
	if !n.startFunc(local, f, init, true, nil) {
		n.log.Warn("aemp: spawn into an existing port refused", "port", local, "from", m.From())
	}
	return nil
}

// ownLocal reports whether local has the form of the names NewPort gives
// (this node's prefix, then lowercase letters): a spawn must not take one.
// The names spawners choose never have it (spec §1.3: their 10th character
// is an uppercase letter or a digit).
func (n *Node) ownLocal(local string) bool {
	rest, ok := strings.CutPrefix(local, n.uniq)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < 'a' || rest[i] > 'z' {
			return false
		}
	}
	return true
}

// startServices starts Config.Services in order (spec §2.1 step 8) and
// waits for each function to return.
func (n *Node) startServices() error {
	for _, s := range n.cfg.Services {
		if strings.HasSuffix(s, "::") {
			if s != globalService { // that one set Global
				n.log.Warn("aemp: Perl module service ignored (a Go node loads no Perl modules)", "service", s)
			}
			continue
		}
		done := make(chan error, 1)
		n.startFunc(n.nextLocal(), n.funcNamed(s), &Msg{tag: canonicalFunc(s)}, false, done)
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("aemp: service %s: %w", s, err)
			}
		case <-n.done:
			return ErrClosed
		}
	}
	return nil
}

// initDeathsKept is how many spawned ports that died in their init
// function keep their reason for monitors that come late.
const initDeathsKept = 64

// initDeaths remembers the reasons of the last spawned ports that
// registered a handler and then failed in their init function, so that a
// monitor arriving after the port is gone still gets the reason (see the
// top of this file).
type initDeaths struct {
	mu   sync.Mutex
	ring [initDeathsKept]struct {
		local  string
		reason Reason
	}
	next int
}

func (d *initDeaths) add(local string, r Reason) {
	d.mu.Lock()
	e := &d.ring[d.next%initDeathsKept]
	e.local, e.reason = local, r
	d.next++
	d.mu.Unlock()
}

func (d *initDeaths) reason(local string) (Reason, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.ring {
		if e := &d.ring[i]; e.local == local && local != "" {
			return e.reason, true
		}
	}
	return nil, false
}

// missingReason is what a monitor of this node's port local gets when the
// port does not exist: its init death if it is remembered, else
// ("no_such_port", …).
func (n *Node) missingReason(local string) Reason {
	if r, ok := n.initDeaths.reason(local); ok {
		return r
	}
	return noSuchPortReason(PortID(n.id + "#" + local))
}
