package main

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// NATS: an embedded nats-server on 127.0.0.1 and one nats.go client
// connection per node. Every message goes client → server → client: brokered,
// two hops. Each node subscribes one subject per message kind.
func init() {
	register(&System{
		Order:  10,
		Key:    "nats",
		Name:   "NATS",
		Group:  "peer",
		Note:   "brokered, two hops: embedded nats-server v2 on 127.0.0.1, one nats.go connection per node, one async subscription per kind; MaxPayload 8 MiB, subscription pending limits unlimited; no compression (nats-server compresses routes and leafnodes, not client connections); W6: embedded nats-server with default options plus, in the same process, one service connection (subscribes w6.data, answers w6.ping requests), every peer link its own nats.go connection in a helper process",
		Remote: natsSystem{},
		Links:  natsLinks{},
	})
}

// natsMaxPayload lets a 1 MiB body plus header through (the default is 1 MB).
const natsMaxPayload = 8 << 20

type natsSystem struct{}

// startNATSServer starts an embedded nats-server with opts on 127.0.0.1
// (random port, no logging, no signal handlers) and waits until it takes
// connections.
func startNATSServer(opts server.Options) (*server.Server, error) {
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", server.RANDOM_PORT, true, true
	srv, err := server.NewServer(&opts)
	if err != nil {
		return nil, fmt.Errorf("nats-server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("nats-server did not start")
	}
	return srv, nil
}

func (natsSystem) OpenRemote(_ PairConfig, atA, atB Handler) (*Pair, error) {
	srv, err := startNATSServer(server.Options{MaxPayload: natsMaxPayload})
	if err != nil {
		return nil, err
	}
	a, errA := newNATSNode(srv.ClientURL(), "a", "b", atA)
	b, errB := newNATSNode(srv.ClientURL(), "b", "a", atB)
	if err := errors.Join(errA, errB); err != nil {
		a.close()
		b.close()
		srv.Shutdown()
		return nil, err
	}
	return &Pair{A: a, B: b, Close: func() error {
		a.close()
		b.close()
		srv.Shutdown()
		return nil
	}}, nil
}

// natsNode is one node: a client connection subscribed to its own subjects,
// sending to the peer's.
type natsNode struct {
	nc   *nats.Conn
	subj [3]string // peer subject per Kind
	bufs sync.Pool
}

func newNATSNode(url, self, peer string, h Handler) (*natsNode, error) {
	nc, err := nats.Connect(url, nats.Name("bench-"+self), nats.NoReconnect())
	if err != nil {
		return &natsNode{}, err
	}
	n := &natsNode{nc: nc}
	for _, k := range []Kind{KindData, KindPing, KindPong} {
		n.subj[k] = peer + "." + k.Tag()
		sub, err := nc.Subscribe(self+"."+k.Tag(), func(msg *nats.Msg) {
			m, err := binaryCodec{}.decode(msg.Data)
			if err != nil {
				m = Msg{Kind: k, Sender: ^uint32(0)} // fails verification
			}
			h(m)
		})
		if err != nil {
			return n, err
		}
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			return n, err
		}
	}
	if err := nc.Flush(); err != nil {
		return n, fmt.Errorf("nats flush: %w", err)
	}
	return n, nil
}

// Send encodes m into a pooled buffer and publishes it; nats.go copies the
// bytes into its write buffer before Publish returns.
func (n *natsNode) Send(m Msg) error {
	bp, _ := n.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b, _ := binaryCodec{}.appendMsg((*bp)[:0], m)
	err := n.nc.Publish(n.subj[m.Kind], b)
	*bp = b
	n.bufs.Put(bp)
	return err
}

func (n *natsNode) close() {
	if n != nil && n.nc != nil {
		n.nc.Close()
	}
}
