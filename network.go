package aemp

// TEMPORARY: networking lands with the transport integration.

import "fmt"

type network struct{}

func (nw *network) close() error { return nil }

type remoteNode struct{ id string }

func (rn *remoteNode) sendKil0(local string, r Reason) {}
func (rn *remoteNode) removeMonitor(m *Monitor)        {}

func (n *Node) startNetwork() error {
	if len(n.cfg.Binds) > 0 || len(n.cfg.Nodes) > 0 {
		return fmt.Errorf("%w: networking not available yet", ErrConfig)
	}
	return nil
}

func (n *Node) sndRemote(node, local string, m *Msg) error {
	m.release()
	return fmt.Errorf("%w: %s (local-only node)", ErrNoRoute, node)
}

func (n *Node) monRemote(node, local string, m *Monitor) {
	go m.fire(transportReason(node, "no known address"))
}

func (n *Node) nodeRequest(src *remoteNode, m *Msg) error {
	m.release()
	return nil
}
