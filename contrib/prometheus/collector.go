// Package prometheus exports a node's [aemp.Stats] to Prometheus. It is a
// module of its own (github.com/aemp-go/aemp/contrib/prometheus), so that
// the aemp library never depends on the Prometheus client.
//
//	import aempprom "github.com/aemp-go/aemp/contrib/prometheus"
//
//	prometheus.MustRegister(aempprom.NewCollector(node))
//	http.Handle("/metrics", promhttp.Handler())
//
// Every scrape takes one Stats snapshot. The metrics, all with the
// constant label node (the node ID), so that several nodes of a process
// can share a registry:
//
//	aemp_link_up{peer}                         1 while the link to peer is established
//	aemp_link_info{peer,send_framing,recv_framing,auth,peer_auth,tls}
//	                                           1 for an established link, its properties as labels
//	aemp_link_connected_since_seconds{peer}    when the link came up (Unix time)
//	aemp_link_received_bytes_total{peer}       bytes read from peer's links
//	aemp_link_sent_bytes_total{peer}           bytes written to them
//	aemp_link_received_messages_total{peer}    messages received from peer
//	aemp_link_sent_messages_total{peer}        messages sent to peer
//	aemp_link_queued_bytes{peer}               bytes waiting to be written to peer
//	aemp_link_reconnects_total{peer}           links established after the first
//	aemp_ports                                 live ports
//	aemp_port_mailbox_messages{port}           waiting messages of the deepest mailboxes
//	aemp_port_kills_total{kind}                port deaths by reason kind
//	aemp_monitors{kind}                        active monitors: local, remote, peers
//	aemp_registry_global                       1 on a global node
//	aemp_registry_master{master}               1, the master as a label
//	aemp_registry_families, aemp_registry_keys the merged view (global nodes)
//	aemp_registry_local_families, aemp_registry_local_keys
//	aemp_registry_monitored_families, aemp_registry_pending_queries
package prometheus

import (
	"strconv"

	"github.com/aemp-go/aemp"
	prom "github.com/prometheus/client_golang/prometheus"
)

// Collector is a prometheus.Collector of one node's Stats.
type Collector struct {
	n *aemp.Node

	linkUp, linkInfo, linkSince                  *prom.Desc
	bytesIn, bytesOut, msgsIn, msgsOut           *prom.Desc
	queued, reconnects                           *prom.Desc
	ports, mailbox, kills, monitors              *prom.Desc
	global, master, families, keys               *prom.Desc
	localFamilies, localKeys, monitored, pending *prom.Desc
}

// NewCollector returns a collector of n's Stats.
func NewCollector(n *aemp.Node) *Collector {
	cl := prom.Labels{"node": n.ID()}
	d := func(name, help string, labels ...string) *prom.Desc {
		return prom.NewDesc("aemp_"+name, help, labels, cl)
	}
	peer := "peer"
	return &Collector{
		n:             n,
		linkUp:        d("link_up", "Whether the link to the peer node is established.", peer),
		linkInfo:      d("link_info", "An established link, with its framings, auth methods and TLS as labels.", peer, "send_framing", "recv_framing", "auth", "peer_auth", "tls"),
		linkSince:     d("link_connected_since_seconds", "When the established link to the peer came up, in Unix time.", peer),
		bytesIn:       d("link_received_bytes_total", "Bytes read from the links to the peer.", peer),
		bytesOut:      d("link_sent_bytes_total", "Bytes written to the links to the peer.", peer),
		msgsIn:        d("link_received_messages_total", "Messages received from the peer.", peer),
		msgsOut:       d("link_sent_messages_total", "Messages sent to the peer.", peer),
		queued:        d("link_queued_bytes", "Bytes waiting to be written to the peer.", peer),
		reconnects:    d("link_reconnects_total", "Links to the peer established after the first.", peer),
		ports:         d("ports", "Live ports."),
		mailbox:       d("port_mailbox_messages", "Messages waiting in the deepest mailboxes (those past their ring).", "port"),
		kills:         d("port_kills_total", "Ports that died, by the kind of their reason.", "kind"),
		monitors:      d("monitors", "Active monitors: of local ports, of remote ports, and of local ports by other nodes.", "kind"),
		global:        d("registry_global", "Whether the node runs the global service."),
		master:        d("registry_master", "The node's master in the global database, as a label.", "master"),
		families:      d("registry_families", "Families in the merged global database (global nodes)."),
		keys:          d("registry_keys", "Keys in the merged global database (global nodes)."),
		localFamilies: d("registry_local_families", "Families this node set keys in."),
		localKeys:     d("registry_local_keys", "Keys this node set."),
		monitored:     d("registry_monitored_families", "Families the node monitors."),
		pending:       d("registry_pending_queries", "Database queries waiting for the master's answer."),
	}
}

// Describe sends the descriptors of every metric.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	for _, d := range []*prom.Desc{c.linkUp, c.linkInfo, c.linkSince, c.bytesIn, c.bytesOut, c.msgsIn, c.msgsOut,
		c.queued, c.reconnects, c.ports, c.mailbox, c.kills, c.monitors, c.global, c.master, c.families, c.keys,
		c.localFamilies, c.localKeys, c.monitored, c.pending} {
		ch <- d
	}
}

// Collect takes a Stats snapshot and sends its metrics.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	s := c.n.Stats()
	gauge := func(d *prom.Desc, v float64, labels ...string) {
		ch <- prom.MustNewConstMetric(d, prom.GaugeValue, v, labels...)
	}
	counter := func(d *prom.Desc, v uint64, labels ...string) {
		ch <- prom.MustNewConstMetric(d, prom.CounterValue, float64(v), labels...)
	}
	for _, l := range s.Links {
		gauge(c.linkUp, b2f(l.Up), l.Node)
		if l.Up {
			gauge(c.linkInfo, 1, l.Node, l.SendFraming, l.RecvFraming, l.Auth, l.PeerAuth, strconv.FormatBool(l.TLS))
			gauge(c.linkSince, float64(l.Since.UnixNano())/1e9, l.Node)
		}
		counter(c.bytesIn, l.BytesIn, l.Node)
		counter(c.bytesOut, l.BytesOut, l.Node)
		counter(c.msgsIn, l.MsgsIn, l.Node)
		counter(c.msgsOut, l.MsgsOut, l.Node)
		gauge(c.queued, float64(l.Queued), l.Node)
		counter(c.reconnects, l.Reconnects, l.Node)
	}
	gauge(c.ports, float64(s.Ports.Count))
	for _, p := range s.Ports.Deepest {
		gauge(c.mailbox, float64(p.Waiting), string(p.Port))
	}
	for kind, n := range s.Ports.Kills {
		counter(c.kills, n, kind)
	}
	gauge(c.monitors, float64(s.Monitors.Local), "local")
	gauge(c.monitors, float64(s.Monitors.Remote), "remote")
	gauge(c.monitors, float64(s.Monitors.Peers), "peers")
	r := s.Registry
	gauge(c.global, b2f(r.Global))
	if r.Master != "" {
		gauge(c.master, 1, r.Master)
	}
	gauge(c.families, float64(r.Families))
	gauge(c.keys, float64(r.Keys))
	gauge(c.localFamilies, float64(r.LocalFamilies))
	gauge(c.localKeys, float64(r.LocalKeys))
	gauge(c.monitored, float64(r.Monitored))
	gauge(c.pending, float64(r.Pending))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
