package main

import (
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// natsLinks is W6 for NATS: the server node is an embedded nats-server
// (default options) with, in the same process, one nats.go connection that
// is the service: it subscribes w6.data (the peers' messages) and w6.ping
// (requests it answers on their reply subject). Every peer link is a
// nats.go connection of its own (defaults, NoReconnect) in a helper
// process; the probe is one more, with a reply inbox.
type natsLinks struct{}

const (
	natsLinksData = "w6.data"
	natsLinksPing = "w6.ping"
)

func (natsLinks) Serve(data, ping Handler) (string, func() error, error) {
	srv, err := startNATSServer(server.Options{})
	if err != nil {
		return "", nil, err
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.Name("w6-service"), nats.NoReconnect())
	if err != nil {
		srv.Shutdown()
		return "", nil, err
	}
	closeFn := func() error { nc.Close(); srv.Shutdown(); return nil }
	decode := func(b []byte, k Kind) Msg {
		m, err := binaryCodec{}.decode(b)
		if err != nil || m.Kind != k {
			return Msg{Kind: k, Sender: ^uint32(0)} // fails verification
		}
		return m
	}
	var pongBuf []byte // the ping subscription's goroutine only
	subs := []struct {
		subj string
		h    nats.MsgHandler
	}{
		{natsLinksData, func(msg *nats.Msg) { data(decode(msg.Data, KindData)) }},
		{natsLinksPing, func(msg *nats.Msg) {
			m := decode(msg.Data, KindPing)
			ping(m)
			m.Kind = KindPong
			pongBuf, _ = binaryCodec{}.appendMsg(pongBuf[:0], m)
			if err := nc.Publish(msg.Reply, pongBuf); err != nil {
				ping(Msg{Kind: KindPing, Sender: ^uint32(0)})
			}
		}},
	}
	for _, s := range subs {
		sub, err := nc.Subscribe(s.subj, s.h)
		if err == nil {
			err = sub.SetPendingLimits(-1, -1)
		}
		if err != nil {
			closeFn()
			return "", nil, err
		}
	}
	if err := nc.Flush(); err != nil {
		closeFn()
		return "", nil, fmt.Errorf("nats flush: %w", err)
	}
	return srv.ClientURL(), closeFn, nil
}

// Peers opens n connections, linksRamp at a time; each publishes its hello
// and flushes (a round trip to the server: the link is up).
func (natsLinks) Peers(url string, first, n int, hello func(int) Msg) ([]Endpoint, func() error, error) {
	conns := make([]*nats.Conn, n)
	eps := make([]Endpoint, n)
	closeAll := func() error {
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
		return nil
	}
	err := forEach(n, func(j int) error {
		nc, err := nats.Connect(url, nats.Name(fmt.Sprintf("w6-peer%d", first+j)), nats.NoReconnect())
		if err != nil {
			return err
		}
		conns[j] = nc
		ep := &natsNode{nc: nc, subj: [3]string{natsLinksData, natsLinksPing, ""}}
		eps[j] = ep
		if err := ep.Send(hello(j)); err != nil {
			return err
		}
		return nc.Flush()
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return eps, closeAll, nil
}

// natsProbeEP publishes pings with the probe's inbox as reply subject.
type natsProbeEP struct {
	nc    *nats.Conn
	inbox string
	buf   []byte // the probe's one goroutine only
}

func (e *natsProbeEP) Send(m Msg) error {
	e.buf, _ = binaryCodec{}.appendMsg(e.buf[:0], m)
	return e.nc.PublishRequest(natsLinksPing, e.inbox, e.buf)
}

func (natsLinks) Probe(url string, pong Handler) (Endpoint, func() error, error) {
	nc, err := nats.Connect(url, nats.Name("w6-probe"), nats.NoReconnect())
	if err != nil {
		return nil, nil, err
	}
	ep := &natsProbeEP{nc: nc, inbox: nats.NewInbox()}
	sub, err := nc.Subscribe(ep.inbox, func(msg *nats.Msg) {
		m, err := binaryCodec{}.decode(msg.Data)
		if err != nil {
			m = Msg{Kind: KindPong, Sender: ^uint32(0)}
		}
		pong(m)
	})
	if err == nil {
		err = sub.SetPendingLimits(-1, -1)
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return ep, func() error { nc.Close(); return nil }, nil
}
