package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// protoactor-go: two actor systems, each with remoting over gRPC on
// 127.0.0.1 and one receiving actor per message kind. Remote messages are
// protobuf wrapperspb.BytesValue carrying B0's binary payload (kind, sender,
// seq, body), so protoactor pays for one bytes field, not a per-field schema.
// Locally (W3) actors receive the Msg value itself, no serialisation.
func init() {
	register(&System{
		Order:  20,
		Key:    "protoactor",
		Name:   "protoactor-go",
		Group:  "peer",
		Note:   "remote over gRPC on 127.0.0.1 (proto serializer, BytesValue payload); gRPC send/receive limits raised to 2 GiB-1, endpoint writer batch 1000 small / 4 for 1 MiB messages; local W3: actors in one system, default unbounded mailbox",
		Remote: protoactorRemote{},
		Local:  protoactorLocal{},
	})
}

// quietLogs keeps protoactor's per-connection info logs out of the child's output.
func quietLogs(*actor.ActorSystem) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type protoactorRemote struct{}

// protoactorBatch is the endpoint writer batch size for a body size: the
// default 1000 for small messages, and few enough 1 MiB messages that one
// gRPC batch stays far below the raised message limit.
func protoactorBatch(maxBody int) int {
	if maxBody >= 64<<10 {
		return 4
	}
	return 1000
}

func (protoactorRemote) OpenRemote(cfg PairConfig, atA, atB Handler) (*Pair, error) {
	a, errA := newPANode(cfg, atA)
	b, errB := newPANode(cfg, atB)
	if err := errors.Join(errA, errB); err != nil {
		a.close()
		b.close()
		return nil, err
	}
	a.peer = b.pids
	b.peer = a.pids
	return &Pair{A: a, B: b, Close: func() error {
		a.close()
		b.close()
		return nil
	}}, nil
}

// paNode is one actor system with remoting and one actor per kind.
type paNode struct {
	sys  *actor.ActorSystem
	rem  *remote.Remote
	pids [3]*actor.PID // own receivers, by Kind, addressed remotely
	peer [3]*actor.PID // the other node's receivers
}

func newPANode(cfg PairConfig, h Handler) (*paNode, error) {
	limit := math.MaxInt32
	n := &paNode{sys: actor.NewActorSystem(actor.WithLoggerFactory(quietLogs))}
	n.rem = remote.NewRemote(n.sys, remote.Configure("127.0.0.1", 0,
		remote.WithServerOptions(grpc.MaxRecvMsgSize(limit), grpc.MaxSendMsgSize(limit)),
		remote.WithDialOptions(
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(limit), grpc.MaxCallSendMsgSize(limit))),
		remote.WithEndpointWriterBatchSize(protoactorBatch(cfg.MaxBody)),
	))
	n.rem.Start()
	for _, k := range []Kind{KindData, KindPing, KindPong} {
		props := actor.PropsFromFunc(func(c actor.Context) {
			if bv, ok := c.Message().(*wrapperspb.BytesValue); ok {
				m, err := binaryCodec{}.decode(bv.Value)
				if err != nil {
					m = Msg{Kind: k, Sender: ^uint32(0)} // fails verification
				}
				h(m)
			}
		})
		pid, err := n.sys.Root.SpawnNamed(props, k.Tag())
		if err != nil {
			return n, fmt.Errorf("spawn: %w", err)
		}
		n.pids[k] = actor.NewPID(n.sys.Address(), pid.Id)
	}
	return n, nil
}

// Send wraps the binary payload in a BytesValue; protoactor serialises it
// later on its endpoint writer, so the payload buffer is per message.
func (n *paNode) Send(m Msg) error {
	b, _ := binaryCodec{}.appendMsg(make([]byte, 0, binaryHeader+len(m.Body)), m)
	n.sys.Root.Send(n.peer[m.Kind], &wrapperspb.BytesValue{Value: b})
	return nil
}

func (n *paNode) close() {
	if n == nil || n.rem == nil {
		return
	}
	done := make(chan struct{})
	go func() { n.rem.Shutdown(false); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

type protoactorLocal struct{}

// OpenLocal spawns one receiving actor per flow in one actor system; senders
// use the root context to send the Msg value (boxed, no serialisation).
func (protoactorLocal) OpenLocal(_ PairConfig, recv []Handler) ([]Endpoint, func() error, error) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(quietLogs))
	send := make([]Endpoint, len(recv))
	for i, h := range recv {
		pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
			if m, ok := c.Message().(Msg); ok {
				h(m)
			}
		}))
		send[i] = paLocalEndpoint{root: sys.Root, pid: pid}
	}
	return send, func() error { sys.Shutdown(); return nil }, nil
}

type paLocalEndpoint struct {
	root *actor.RootContext
	pid  *actor.PID
}

func (e paLocalEndpoint) Send(m Msg) error {
	e.root.Send(e.pid, m)
	return nil
}
