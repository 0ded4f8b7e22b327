package aemp

import (
	"context"
	"errors"
	"fmt"

	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aemp-go/aemp/internal/slot"
	"github.com/aemp-go/aemp/mesh"
	"github.com/aemp-go/aemp/wire"
)

// Node is one AEMP node: it owns ports, runs their handlers, and (when
// networking is configured) links to other nodes. Create it with
// [NewNode] and stop it with [Node.Close]. All methods are safe for
// concurrent use.
type Node struct {
	id    string
	cfg   Config
	log   *slog.Logger
	uniq  string // local-part prefix ("" when the node ID is randomised)
	runiq string // prefix of the ports this node spawns (Perl's $RUNIQ)
	trace bool   // Config.Trace or AEMP_TRACE (trace.go)

	counter atomic.Uint64
	ports   sync.Map // local part → *Port
	recent  [portCacheSize]atomic.Pointer[Port]
	sched   *scheduler

	closeOnce sync.Once
	doneOnce  sync.Once // closes done (markClosed)
	closed    atomic.Bool
	done      chan struct{}

	mesh *mesh.Mesh    // nil for a local-only node
	reg  *registryHost // the global database and node events

	initDeaths initDeaths // spawned ports that died in their init function
	stats      nodeStats  // counters for Stats (stats.go)
}

// NewNode creates a node from cfg (copied; see [Config] for the defaults).
// A node whose Config has Binds listens on them; one with Nodes can reach
// those nodes.
func NewNode(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	host := hostname()
	profile := cfg.Profile
	if profile == "" {
		profile = host
	}
	id, runiq := expandNodeID(cfg.NodeID, profile, host)
	if !validNodeID(id) {
		return nil, fmt.Errorf("%w: node ID %q", ErrConfig, id)
	}
	n := &Node{
		id:    id,
		cfg:   cfg,
		log:   cfg.Logger.With("node", id),
		done:  make(chan struct{}),
		sched: newScheduler(cfg.Workers),
		trace: traceOn(&cfg),
	}
	n.counter.Store(1) // the first port is "b", as in AnyEvent::MP
	if n.runiq = runiq; runiq == "" {
		n.uniq, n.runiq = newUNIQ(), newRUNIQ()
	}
	n.startRegistry()
	if err := n.startNetwork(); err != nil {
		n.sched.stop()
		return nil, err
	}
	n.startGlobal()
	if err := n.startServices(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// ID returns the node ID.
func (n *Node) ID() string { return n.id }

// NodePort returns the ID of this node's node port.
func (n *Node) NodePort() PortID { return PortID(n.id) }

// Done is closed when the node has been closed.
func (n *Node) Done() <-chan struct{} { return n.done }

// Close stops the node at once: links are closed (monitors on other nodes
// fire with transport errors there), handlers that are running finish,
// queued messages are dropped. It waits for every goroutine the node
// started and is idempotent. [Node.Shutdown] delivers what is queued first.
//
// Called on a goroutine that a node runs — a handler, an [Port.Exec]
// function, a monitor's function — Close cannot wait for the node's
// goroutines, since that one is among them: it starts closing the node on
// a goroutine of its own and returns nil at once. The node's goroutines
// end once the caller has returned; [Node.Done] is closed already.
func (n *Node) Close() error {
	if onNodeGoroutine() {
		n.markClosed()
		go n.closeWait()
		return nil
	}
	return n.closeWait()
}

// markClosed marks the node closed and closes Done.
func (n *Node) markClosed() {
	n.doneOnce.Do(func() {
		n.closed.Store(true)
		close(n.done)
	})
}

// closeWait closes the node and waits for its goroutines.
func (n *Node) closeWait() error {
	var err error
	n.closeOnce.Do(func() {
		n.markClosed()
		if n.mesh != nil {
			err = n.mesh.Close()
		}
		n.sched.stop()
	})
	return err
}

// onNodeGoroutine reports whether the caller runs inside a handler, an
// Exec function or a monitor's function (Port.run or Monitor.fire is on
// its stack): on a scheduler worker or a link's reader, which Close waits
// for. Close is rare, so reading the whole stack is cheap enough.
func onNodeGoroutine() bool {
	pcs := make([]uintptr, 64)
	for {
		n := runtime.Callers(2, pcs)
		if n < len(pcs) {
			pcs = pcs[:n]
			break
		}
		pcs = make([]uintptr, 2*len(pcs))
	}
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		if f.Function == portRunName || f.Function == monitorFireName {
			return true
		}
		if !more {
			return false
		}
	}
}

var (
	portRunName     = funcName((*Port).run)
	monitorFireName = funcName((*Monitor).fire)
)

func funcName(f any) string { return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name() }

// Shutdown stops the node gracefully: it stops accepting connections, lets
// the connection attempts under way finish, waits until every message
// queued for another node has been written to its link, then closes the
// node as Close does. If ctx ends first the node is closed at once (what
// is still queued is dropped; its monitors fire on the other side as for
// a lost link) and the error wraps ctx.Err(). Sends during Shutdown still
// queue while their link drains. Local mailboxes are not waited for.
//
// Called on a goroutine that the node runs (see Close), Shutdown cannot
// wait for the links (one of them may be running the caller): it starts
// the shutdown on a goroutine of its own and returns nil at once; Done is
// closed when it has ended.
func (n *Node) Shutdown(ctx context.Context) error {
	if onNodeGoroutine() {
		go n.shutdownWait(ctx)
		return nil
	}
	return n.shutdownWait(ctx)
}

// shutdownWait is Shutdown on a goroutine that is not the node's.
func (n *Node) shutdownWait(ctx context.Context) error {
	var err error
	if n.mesh != nil && !n.closed.Load() {
		if err = n.mesh.Shutdown(ctx); err != nil {
			err = fmt.Errorf("aemp: shutdown: %w", err)
		}
	}
	if cerr := n.closeWait(); err == nil {
		err = cerr
	}
	return err
}

// portCacheSize slots of a direct-mapped cache in front of the port table
// (internal/slot): a hit costs an atomic load and a short string compare
// instead of hashing an interface key. Dead ports are removed from it
// (Port.die).
const portCacheSize = 256

// lookup returns the live local port with that local part, or nil.
func (n *Node) lookup(local string) *Port { return lookupPort(n, local) }

// lookupPort is lookup for a local part given as a string or as bytes (a
// received envelope's, without converting it to a string).
func lookupPort[S string | []byte](n *Node, local S) *Port {
	cached := &n.recent[slot.Of(local, portCacheSize)]
	if p := cached.Load(); p != nil && p.local == string(local) {
		return p
	}
	v, ok := n.ports.Load(string(local))
	if !ok {
		return nil
	}
	p := v.(*Port)
	if p.Alive() {
		cached.Store(p)
	}
	return p
}

func (n *Node) newPort(local string) *Port {
	p := &Port{node: n, local: local, id: PortID(n.id + "#" + local)}
	p.handlers.Store(&handlerTable{tags: map[string]Handler{}})
	n.ports.Store(local, p)
	n.stats.livePorts.Add(1)
	return p
}

func (n *Node) nextLocal() string {
	return n.uniq + localName(n.counter.Add(1))
}

// NewPort creates a port with no handlers: until [Port.Rcv] or
// [Port.RcvDefault] registers one, a message kills it with
// ("unhandled_message", …). Port IDs are never reused.
func (n *Node) NewPort() *Port {
	return n.newPort(n.nextLocal())
}

// NewPortFunc creates a port whose default handler is h (AnyEvent::MP's
// port { … }).
func (n *Node) NewPortFunc(h Handler) *Port {
	return n.NewPort().RcvDefault(h)
}

// Port returns the local port with the given ID, or nil if it is not a live
// port of this node.
func (n *Node) Port(id PortID) *Port {
	if id.Node() != n.id {
		return nil
	}
	if v, ok := n.ports.Load(id.Local()); ok {
		return v.(*Port)
	}
	return nil
}

// IsLocal reports whether id names a port (or the node port) of this node.
func (n *Node) IsLocal(id PortID) bool { return id.Node() == n.id }

// Snd sends the message (tag, args…) to a port on any node. It never
// blocks. A message to a local port goes into its mailbox unserialised; to
// a port on another node it is queued on the link to that node (opened on
// demand). As in AnyEvent::MP, a message to a port that does not exist is
// dropped silently: use [Node.Mon] to learn about ports that die. The
// argument values must not be modified after the call (they are not copied
// for local delivery).
//
// The promise: a message Snd accepted (nil error) is delivered in order, or
// the monitors of its port learn that the port or its node is gone. A
// message Snd refused was not sent. Errors, each matchable with errors.Is:
//
//   - ErrBadPortID: to is malformed (no node part, invalid node ID).
//   - ErrClosed: the node is closed.
//   - ErrNoRoute: networking is not configured and to is on another node.
//   - ErrType: an argument cannot be encoded (a channel, a func, …).
//   - ErrTooLarge: the message is larger than Config.MaxFrame, or than
//     the other node takes.
//   - ErrQueueFull: the queue to the other node (Config.MaxQueue) is full:
//     its link is slow or not up yet. Use [Node.SndCtx] to wait for room.
//   - ErrLinkClosed: the link closed while the message was sent (its
//     monitors fire).
//   - ErrOverflow: the local port's mailbox exceeded Config.MailboxLimit
//     with this message; the port was killed with ("overflow", …).
//
// Scalars are stored unboxed, but Go boxes non-constant values into the
// interface arguments at the call site; the allocation-free form is
// [Node.SndMsg] with a message built by [NewMsg] and the Append methods.
func (n *Node) Snd(to PortID, tag string, args ...any) error {
	m := Msg{tag: tag}
	m.setArgs(args)
	return n.sndMsg(to, &m)
}

// SndMsg sends a message built with [NewMsg] (errors as [Node.Snd]). The
// message itself is copied (into the port's mailbox, or encoded onto the
// link), so m may be reused or changed once SndMsg returns; values it
// refers to (strings, byte slices, maps…) must not be modified. A message
// received by a handler may be passed on as is (it is copied out of the
// network buffer).
func (n *Node) SndMsg(to PortID, m *Msg) error {
	return n.sndMsg(to, m)
}

// SndCtx is [Node.Snd] that waits for room instead of failing: while the
// queue to the other node is full (ErrQueueFull) it waits until the link
// has written enough, and while a local port's mailbox is at
// Config.MailboxLimit it waits until the port has handled messages (where
// Snd would kill the port). This is back-pressure from a slow port to its
// producers, as Erlang's busy distribution port. If ctx ends first the
// message is not sent and the error wraps ErrTimeout and ctx.Err(). Other
// errors are Snd's.
func (n *Node) SndCtx(ctx context.Context, to PortID, tag string, args ...any) error {
	m := Msg{tag: tag}
	m.setArgs(args)
	return n.sndMsgCtx(ctx, to, &m)
}

// SndMsgCtx is [Node.SndMsg] that waits for room, as [Node.SndCtx].
func (n *Node) SndMsgCtx(ctx context.Context, to PortID, m *Msg) error {
	return n.sndMsgCtx(ctx, to, m)
}

func (n *Node) sndMsgCtx(ctx context.Context, to PortID, m *Msg) error {
	node, local := splitPortID(to)
	if node == n.id && local != "" {
		if p := n.lookup(local); p != nil {
			if err := p.waitRoom(ctx); err != nil {
				return fmt.Errorf("%w: sending to %s: %w", ErrTimeout, to, err)
			}
		}
		return n.sndMsg(to, m)
	}
	size := -1 // the envelope's size, once the queue was found full
	for {
		err := n.sndMsg(to, m)
		if !errors.Is(err, ErrQueueFull) {
			return err
		}
		if size < 0 {
			env, eerr := appendEnvelope(nil, local, m, wire.FormatJSON, wire.NonFiniteSubstitute, nil)
			if eerr != nil {
				return eerr
			}
			size = len(env)
		}
		if p := n.mesh.Known(node); p != nil {
			err = p.WaitRoom(ctx, size)
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: sending to %s: %w", ErrTimeout, to, ctx.Err())
			}
			return err
		}
	}
}

func (n *Node) sndMsg(to PortID, m *Msg) error {
	if n.closed.Load() {
		return ErrClosed
	}
	if m.flags != 0 && m.buf() != nil {
		m = m.Clone() // a received message passed on: copy it out of the network buffer
	}
	node, local := splitPortID(to)
	if node == "" {
		return fmt.Errorf("%w: %q has no node part", ErrBadPortID, to)
	}
	if node == n.id {
		if m.flags&msgBorrowed != 0 {
			m = m.Clone() // elements of a received message: copied out of its buffer
		}
		if local == "" {
			return n.nodeRequest(nil, m)
		}
		if p := n.lookup(local); p != nil {
			return p.push(m)
		}
		return nil
	}
	return n.sndRemote(node, local, m)
}

func splitPortID(id PortID) (node, local string) {
	s := string(id)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// Kill kills a port on any node with reason (AnyEvent::MP's kil). For a
// local port see [Port.Kill]; a remote port is killed by a request to its
// node, ordered with the messages sent to it before. Killing a port that
// does not exist does nothing.
func (n *Node) Kill(id PortID, reason ...any) error {
	if n.closed.Load() {
		return ErrClosed
	}
	node, local := splitPortID(id)
	switch {
	case node == "":
		return fmt.Errorf("%w: %q has no node part", ErrBadPortID, id)
	case local == "":
		return fmt.Errorf("%w: %s", ErrNodePort, id)
	case node == n.id:
		if v, ok := n.ports.Load(local); ok {
			v.(*Port).Kill(reason...)
		}
		return nil
	}
	m := NewMsg("kil1", local)
	for _, r := range reason {
		m.Append(r)
	}
	return n.sndRemote(node, "", m)
}

// Timer is a pending [Node.After] or [Port.After]; Stop cancels it.
type Timer struct{ t *time.Timer }

// Stop cancels the timer; it reports whether it was still pending.
func (t *Timer) Stop() bool { return t.t.Stop() }

// After sends (tag, args…) to the port after d (AnyEvent::MP's after with a
// message).
func (n *Node) After(d time.Duration, to PortID, tag string, args ...any) *Timer {
	m := NewMsg(tag, args...)
	return &Timer{time.AfterFunc(d, func() { n.SndMsg(to, m) })}
}

// After runs fn in port context after d (AnyEvent::MP's after with a code
// reference, bound to this port like psub). Nothing happens if the port has
// died by then.
func (p *Port) After(d time.Duration, fn func() error) *Timer {
	return &Timer{time.AfterFunc(d, func() { p.Exec(fn) })}
}
