package aemp

import (
	"time"
)

// The node protocol (spec §4): messages to a node port, ["", request, …].
// Requests come from other nodes' links (src set) or from this node itself
// (snd to its own node ID, src nil).

// nodeRequests lists the requests this node serves (answered by "can").
var nodeRequests = map[string]bool{
	"": true, "devnull": true, "snd": true, "time": true, "can": true,
	"mon1": true, "mon0": true, "kil0": true, "kil1": true,
	// the global database (spec §4.5), served by the registry
	"g_slave": true, "g_global": true, "g_set": true, "g_upd": true,
	"g_find": true, "g_found": true, "g_db_family": true, "g_db_keys": true,
	"g_db_values": true, "g_reply": true, "g_mon1": true, "g_mon0": true,
	"g_chg1": true, "g_chg2": true,
	// this library's own (stats.go); Perl nodes answer "can" with ""
	StatsRequest: true,
}

func (n *Node) nodeRequest(src *remoteNode, m *Msg) error {
	defer m.release()
	switch m.tag {
	case "", "devnull": // keep-alives and the like
		return nil
	case "snd": // relay: ["", "snd", port, msg…], every element as it came
		to, err := m.String(1)
		if err != nil {
			return n.badRequest(src, m, err)
		}
		out, err := elemsMsg(m, 2)
		if err != nil {
			return n.badRequest(src, m, err)
		}
		out.settleTag()
		return n.sndMsg(PortID(to), out)
	case "mon1", "mon0", "kil0", "kil1":
		return n.monitorRequest(src, m)
	case StatsRequest:
		return n.statsRequest(src, m)
	case "time": // ["", "time", reply…] → reply…, time (a float, as Perl's AE::now)
		return n.reply(src, m, 1, float64(time.Now().UnixNano())/1e9)
	case "can": // ["", "can", request, reply…] → reply…, "1" or ""
		req, err := m.String(1)
		if err != nil {
			return n.badRequest(src, m, err)
		}
		can := "" // a Perl boolean travels as "1" or ""
		if n.canServe(req) {
			can = "1"
		}
		return n.reply(src, m, 2, can)
	}
	if nodeRequests[m.tag] { // the g_* requests
		from := n.id
		if src != nil {
			from = src.id
		}
		n.reg.request(from, m)
		return nil
	}
	return n.execRequest(src, m) // eval, spawn and function calls (funcs.go)
}

func (n *Node) badRequest(src *remoteNode, m *Msg, err error) error {
	n.log.Warn("aemp: malformed node request ignored", "request", m.tag, "from", m.From(), "err", err)
	return nil
}

// monitorRequest serves mon1/mon0/kil0/kil1 (spec §4.3).
func (n *Node) monitorRequest(src *remoteNode, m *Msg) error {
	local, err := m.String(1)
	if err != nil {
		return n.badRequest(src, m, err)
	}
	var p *Port
	if v, ok := n.ports.Load(local); ok && local != "" {
		p = v.(*Port)
	}
	switch m.tag {
	case "mon1":
		if src == nil {
			return nil
		}
		if p == nil || !p.addRemote(src) {
			src.sendKil0(local, n.missingReason(local))
		}
	case "mon0":
		if p != nil && src != nil {
			p.removeRemote(src)
		}
	case "kil0":
		if src != nil {
			vals, err := m.textValues()
			if err != nil || len(vals) < 2 {
				return n.badRequest(src, m, err)
			}
			src.fireRemote(local, Reason(vals[2:]))
		}
	case "kil1": // never kills the node port, whatever the peer sends
		if p != nil {
			vals, err := m.textValues()
			if err != nil || len(vals) < 2 {
				return n.badRequest(src, m, err)
			}
			p.Kill(vals[2:]...)
		}
	}
	return nil
}

// reply answers request m whose reply spec (port ID, extra elements…)
// starts at element k, as AnyEvent::MP's snd @reply, results: the extra
// elements go back as they came (their types and encodings kept), then
// the results.
func (n *Node) reply(src *remoteNode, m *Msg, k int, results ...any) error {
	if m.Len() <= k {
		return nil
	}
	to, err := m.String(k)
	if err != nil {
		return n.badRequest(src, m, err)
	}
	out, err := elemsMsg(m, k+1)
	if err != nil {
		return n.badRequest(src, m, err)
	}
	for _, r := range results {
		out.appendValue(valueOf(r))
	}
	out.settleTag()
	return n.sndMsg(PortID(to), out)
}

func (p *Port) addRemote(rn *remoteNode) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() == portDead {
		return false
	}
	if p.remotes == nil {
		p.remotes = make(map[*remoteNode]struct{})
	}
	if _, ok := p.remotes[rn]; !ok {
		p.remotes[rn] = struct{}{}
		p.node.stats.monsPeers.Add(1)
	}
	return true
}

func (p *Port) removeRemote(rn *remoteNode) {
	p.mu.Lock()
	if _, ok := p.remotes[rn]; ok {
		delete(p.remotes, rn)
		p.node.stats.monsPeers.Add(-1)
	}
	p.mu.Unlock()
}
