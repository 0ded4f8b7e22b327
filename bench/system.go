package main

import (
	"errors"
	"fmt"
	"sort"
)

// Kind says what a benchmark message is for. Its wire name is the message tag.
type Kind uint8

// The message kinds. All tags are four bytes so every kind costs the same on the wire.
const (
	KindData Kind = iota // one-way traffic (W1, W3, W4 bulk)
	KindPing             // round-trip request (W2, W4 probe)
	KindPong             // round-trip reply
)

// Tag is the tag string of the kind, the first element of the tagged message.
func (k Kind) Tag() string {
	switch k {
	case KindData:
		return "data"
	case KindPing:
		return "ping"
	case KindPong:
		return "pong"
	}
	return "????"
}

// KindOfTag maps a tag back to its kind; ok is false for an unknown tag.
func KindOfTag(tag string) (k Kind, ok bool) {
	switch tag {
	case "data":
		return KindData, true
	case "ping":
		return KindPing, true
	case "pong":
		return KindPong, true
	}
	return 0, false
}

// Msg is the tagged message every system carries: (tag, sender, seq, body).
// Sender and Seq let the receiver verify counts and per-sender order.
type Msg struct {
	Kind   Kind
	Sender uint32
	Seq    uint64
	Body   []byte
}

// Handler receives messages at an endpoint. For one Kind, a system calls it in
// arrival order and never concurrently with itself; calls for different kinds
// may run concurrently (a system may route each kind to its own port, subject
// or actor, as its users would). m.Body is valid only during the call.
type Handler func(m Msg)

// Endpoint sends to the opposite endpoint of a pair. Send is safe for concurrent
// use, may block for flow control, and may keep m.Body: the harness never
// modifies a body it has sent.
type Endpoint interface {
	Send(m Msg) error
}

// Pair is two connected endpoints; A's messages reach the handler of B and
// B's messages reach the handler of A. Close releases everything the pair owns.
type Pair struct {
	A, B  Endpoint
	Close func() error
}

// PairConfig is what a workload asks of a pair.
type PairConfig struct {
	// MaxBody is the largest body the workload will send; systems raise their
	// message size limits to fit it.
	MaxBody int
}

// RemoteSystem is the workload family "two nodes" (W1, W2, W4): two nodes,
// each with one receiving endpoint, connected through the system's network path
// on 127.0.0.1. Both nodes live in the same child process.
type RemoteSystem interface {
	OpenRemote(cfg PairConfig, atA, atB Handler) (*Pair, error)
}

// LocalSystem is the workload family "one node" (W3): flows independent
// sender→receiver routes inside one node. It returns one sending endpoint per
// flow; flow i delivers to recv[i].
type LocalSystem interface {
	OpenLocal(cfg PairConfig, recv []Handler) (send []Endpoint, closeFn func() error, err error)
}

// MeshSystem is the workload family "mesh" (W5).
type MeshSystem interface {
	// FormMesh starts n nodes (they may share processes) and waits until every
	// node knows every other node, then publishes meshChanges registry changes
	// on one node, one after another, each once all n nodes have seen the one
	// before.
	FormMesh(n int) (MeshTimes, error)
}

// MeshTimes are the two durations W5 measures, in nanoseconds.
type MeshTimes struct {
	FormNs      int64 // start of the first node to a full mesh everywhere
	PropagateNs int64 // registry change on one node to visible on all nodes: the median of meshChanges
	// RSSPerNode is the process's resident memory once the mesh has formed
	// minus what it was just before the first node started (a NATS server
	// already running), after debug.FreeOSMemory both times, ÷ n: bytes.
	RSSPerNode int64
}

// meshFootprint is settledFootprint's resident memory, for MeshTimes.RSSPerNode.
func meshFootprint() int64 {
	_, rss := settledFootprint()
	return rss
}

// ErrNotAvailable marks a cell the system cannot run; its text becomes
// "not available: <reason>" in the report. Wrap it with %w.
var ErrNotAvailable = errors.New("not available")

// notAvailable returns an error wrapping ErrNotAvailable with the reason.
func notAvailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotAvailable, fmt.Sprintf(format, args...))
}

// System is one contestant: a baseline, a peer or a configuration of our library.
type System struct {
	Order  int      // position in tables: baselines, then peers, then aemp
	Key    string   // short, flag-friendly id, e.g. "nats"
	Name   string   // shown in tables and charts
	Group  string   // "baseline", "peer" or "aemp"
	Note   string   // one line shown under the tables, e.g. "brokered, two hops"
	Only   []string // if set, the workload IDs the system takes part in (others: none)
	Remote RemoteSystem
	Local  LocalSystem
	Mesh   MeshSystem
	Links  LinksSystem
}

// systems is the registry, in report order; each system file adds itself in init.
var systems []*System

// register adds s to the registry, kept sorted by Order. Keys must be unique.
func register(s *System) {
	for _, o := range systems {
		if o.Key == s.Key {
			panic("bench: duplicate system key " + s.Key)
		}
	}
	systems = append(systems, s)
	sort.SliceStable(systems, func(i, j int) bool { return systems[i].Order < systems[j].Order })
}

// systemByKey finds a registered system.
func systemByKey(key string) *System {
	for _, s := range systems {
		if s.Key == key {
			return s
		}
	}
	return nil
}
