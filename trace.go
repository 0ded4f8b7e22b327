package aemp

import (
	"context"
	"log/slog"
	"os"
	"strconv"
)

// Message tracing (Config.Trace, AEMP_TRACE=1), the Go form of
// AnyEvent::MP's trace mode: every message to or from another node is
// logged at Debug as it is queued for sending or as it arrives, before
// its port handles it:
//
//	level=DEBUG msg="aemp: trace" node=a trace=send peer=b port=b#c tag=ping size=27
//	level=DEBUG msg="aemp: trace" node=b trace=recv peer=a port=b#c tag=ping size=27
//
// trace is the direction, peer the other node, port the destination
// (a node ID alone for a node-protocol request), size the envelope's
// bytes as encoded for the link. A send that failed has an err
// attribute. Messages between the ports of one node are not traced: they
// never touch a link. The node's Logger must let Debug records through.

// TraceEnv is the environment variable that turns tracing on for every
// node of the process ("1", "true", …: anything strconv.ParseBool takes
// as true).
const TraceEnv = "AEMP_TRACE"

func traceOn(cfg *Config) bool {
	if cfg.Trace {
		return true
	}
	on, _ := strconv.ParseBool(os.Getenv(TraceEnv))
	return on
}

func (rn *remoteNode) traceSend(local, tag string, size int, err error) {
	attrs := []slog.Attr{
		slog.String("trace", "send"), slog.String("peer", rn.id), slog.String("port", tracePort(rn.id, local)),
		slog.String("tag", tag), slog.Int("size", size),
	}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	rn.n.log.LogAttrs(context.Background(), slog.LevelDebug, "aemp: trace", attrs...)
}

func (rn *remoteNode) traceRecv(local []byte, tag string, size int) {
	rn.n.log.LogAttrs(context.Background(), slog.LevelDebug, "aemp: trace",
		slog.String("trace", "recv"), slog.String("peer", rn.id), slog.String("port", tracePort(rn.n.id, string(local))),
		slog.String("tag", tag), slog.Int("size", size))
}

func tracePort(node, local string) string {
	if local == "" {
		return node
	}
	return node + "#" + local
}
