package aemp

import "sync/atomic"

// MonAction is what a monitor does when its port dies; make one with
// [MonFunc], [MonKill] or [MonSend].
type MonAction struct {
	kind uint8
	fn   func(Reason)
	rcv  PortID
	msg  Msg
}

const (
	monFunc uint8 = iota + 1
	monKill
	monSend
)

// MonFunc calls f with the reason (AnyEvent::MP's mon $port, $cb). f runs
// on an internal goroutine (the worker that processed the death, or a
// link's reader for remote ports) and must not block; it must not panic.
func MonFunc(f func(Reason)) MonAction { return MonAction{kind: monFunc, fn: f} }

// MonKill kills rcv with the same reason, but only if the reason is not
// normal: a "link" (AnyEvent::MP's mon $port, $rcvport).
func MonKill(rcv PortID) MonAction { return MonAction{kind: monKill, rcv: rcv} }

// MonSend sends (tag, args…, reason…) to rcv (AnyEvent::MP's
// mon $port, $rcvport, @msg).
func MonSend(rcv PortID, tag string, args ...any) MonAction {
	return MonAction{kind: monSend, rcv: rcv, msg: *NewMsg(tag, args...)}
}

// Monitor is an active monitor: it fires once, when its port dies (or the
// link to the port's node fails), and is gone afterwards. Cancel removes it
// earlier (AnyEvent::MP's guard).
type Monitor struct {
	node   *Node
	target PortID
	act    MonAction
	done   atomic.Bool
	lp     *Port       // local target
	rn     *remoteNode // remote target
	// keep leaves the other node watching the port when the monitor is
	// cancelled (no mon0), so that the next one needs no mon1: Call's.
	keep   bool
	remote bool // the target is on another node (for Stats)
}

// Target returns the monitored port.
func (m *Monitor) Target() PortID { return m.target }

// Mon monitors a port on any node. The action runs once when the port dies,
// with its kill reason: a normal kill gives an empty reason; a port that
// does not exist gives ("no_such_port", …) at once; losing the link to the
// port's node gives ("transport_error", node, text). Monitoring a node ID
// (its node port) fires only when the link to that node fails; monitoring
// this node's own node port never fires.
//
// The guarantee (spec §2.10): once Mon has returned, every message sent to
// the port is delivered in order, or the monitor fires.
func (n *Node) Mon(target PortID, act MonAction) *Monitor {
	m := &Monitor{node: n, target: target, act: act}
	node, local := splitPortID(target)
	m.remote = node != "" && node != n.id
	n.stats.monitorAdded(m)
	switch {
	case node == "":
		go m.fire(noSuchPortReason(target))
	case node != n.id:
		n.monRemote(node, local, m)
	case local == "":
		// this node's own node port never dies
	default:
		p := n.Port(target)
		if p == nil || !p.addMonitor(m) {
			go m.fire(n.missingReason(local))
		}
	}
	return m
}

func (p *Port) addMonitor(m *Monitor) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() == portDead {
		return false
	}
	if p.mons == nil {
		p.mons = make(map[*Monitor]struct{})
	}
	p.mons[m] = struct{}{}
	m.lp = p
	return true
}

// Cancel removes the monitor; it reports whether it was still active (not
// fired, not cancelled before).
func (m *Monitor) Cancel() bool {
	if !m.done.CompareAndSwap(false, true) {
		return false
	}
	m.node.stats.monitorGone(m)
	if p := m.lp; p != nil {
		p.mu.Lock()
		delete(p.mons, m)
		p.mu.Unlock()
	}
	if rn := m.rn; rn != nil {
		rn.removeMonitor(m)
	}
	return true
}

// fire runs the action once.
func (m *Monitor) fire(r Reason) {
	if !m.done.CompareAndSwap(false, true) {
		return
	}
	m.node.stats.monitorGone(m)
	switch m.act.kind {
	case monFunc:
		m.act.fn(r)
	case monKill:
		if !r.Normal() {
			m.node.Kill(m.act.rcv, r...)
		}
	case monSend:
		msg := m.act.msg
		msg.more = append([]value(nil), msg.more...)
		for _, v := range r {
			msg.appendValue(valueOf(v))
		}
		m.node.sndMsg(m.act.rcv, &msg)
	}
}
