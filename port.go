package aemp

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/aemp-go/aemp/internal/mpsc"
	"github.com/aemp-go/aemp/internal/slot"
	"github.com/aemp-go/aemp/mesh"
	"github.com/aemp-go/aemp/pool"
	"github.com/aemp-go/aemp/wire"
)

// Handler handles one message in port context: handlers of one port run one
// at a time, in arrival order, on one of the node's worker goroutines.
// Returning an error or panicking kills the port with ("die", text) (or with
// the [Reason] itself if the error is one). A handler must not block for
// long: it holds a worker.
type Handler func(m *Msg) error

// Port states.
const (
	portIdle int32 = iota
	portScheduled
	portDead
)

// Mailbox entry kinds (Msg.ctl). Control entries keep their payload (the
// kill reason, the function to run) in the first inline value.
const (
	entMsg uint8 = iota
	entKill
	entExec
)

func killEntry(r Reason) *Msg { m := &Msg{ctl: entKill}; m.inl[0].x = r; return m }

func execEntry(fn func() error) *Msg { m := &Msg{ctl: entExec}; m.inl[0].x = fn; return m }

// handlerTable is immutable once published; Rcv publishes a new one.
type handlerTable struct {
	tags map[string]Handler
	def  Handler
	// Up to smallTable tags are also kept in arrays: comparing a few short
	// strings is cheaper than hashing the tag.
	small int // number of entries in keys/hs, or -1 to use the map
	keys  [smallTable]string
	hs    [smallTable]Handler
}

const smallTable = 4

func (t *handlerTable) lookup(tag string) Handler {
	if t.small >= 0 {
		for i := 0; i < t.small; i++ {
			if t.keys[i] == tag {
				return t.hs[i]
			}
		}
		return t.def
	}
	if h := t.tags[tag]; h != nil {
		return h
	}
	return t.def
}

func (t *handlerTable) index() {
	t.small = -1
	if len(t.tags) > smallTable {
		return
	}
	t.small = 0
	for k, h := range t.tags {
		t.keys[t.small], t.hs[t.small] = k, h
		t.small++
	}
}

// Port is a local port: a mailbox with handlers. Create one with
// [Node.NewPort] or [Node.NewPortFunc]. All methods are safe for concurrent
// use.
type Port struct {
	// What every sender reads (push, lookup). Kept a cache line apart from
	// what the consumer writes per message below: sharing a line with
	// handling made each send to a busy port a cache miss (Local1to1
	// 1.5× slower).
	node       *Node
	id         PortID
	local      string
	state      atomic.Int32
	overflowed atomic.Bool
	deep       atomic.Bool // the mailbox outgrew its ring: in nodeStats.deep (stats.go)
	roomWait   atomic.Bool // a SndCtx waits for mailbox room
	internal   bool        // the node's own (registry): no mailbox limit, never in the port table
	mbox       atomic.Pointer[mpsc.Queue[Msg]]
	handlers   atomic.Pointer[handlerTable]
	_          [64]byte // no cache line holds both groups, however the Port is aligned

	// The consumer's argument index for the remote message being handled
	// (see Msg.argRaw); argsBase identifies that message's argument text.
	args     wire.ArgIter
	argsBase *byte
	handling *Msg // the message whose handler runs (released if it panics)
	// relBuf holds relN references of messages handled in this batch, all
	// from one network buffer: they are dropped at once before an entry not
	// from that buffer is handled (a local message, a kill, an Exec, another
	// buffer's message), and when the batch ends (flushRelease), instead of
	// one atomic add per message on a line the link's reader also writes.
	// So a handler that blocks holds no buffer but its own message's: what
	// the link's inbound bound counts is what it was without this.
	relBuf *pool.Buf
	relN   int32

	mu      sync.Mutex    // guards handler updates, monitors, the room channel, and draining a dead port
	room    chan struct{} // closed when the port handled a message (or died)
	mons    map[*Monitor]struct{}
	remotes map[*remoteNode]struct{} // nodes that monitor this port (mon1)
	reason  Reason                   // once dead
}

// ID returns the port's ID.
func (p *Port) ID() PortID { return p.id }

// Node returns the node the port belongs to.
func (p *Port) Node() *Node { return p.node }

// String returns the port ID.
func (p *Port) String() string { return string(p.id) }

// Alive reports whether the port has not died yet.
func (p *Port) Alive() bool { return p.state.Load() != portDead }

// Rcv registers h for messages whose tag equals tag, replacing any handler
// for that tag; h == nil removes it. The handler receives the whole message
// (element 0 is the tag). It returns p, so registrations can be chained.
func (p *Port) Rcv(tag string, h Handler) *Port {
	p.updateHandlers(func(t *handlerTable) {
		if h == nil {
			delete(t.tags, tag)
		} else {
			t.tags[tag] = h
		}
	})
	return p
}

// RcvDefault sets the handler for messages no tag handler takes; nil removes
// it, so that such messages kill the port with ("unhandled_message", …).
func (p *Port) RcvDefault(h Handler) *Port {
	p.updateHandlers(func(t *handlerTable) { t.def = h })
	return p
}

func (p *Port) updateHandlers(f func(*handlerTable)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.handlers.Load()
	t := &handlerTable{tags: make(map[string]Handler, len(old.tags)+1), def: old.def}
	for k, v := range old.tags {
		t.tags[k] = v
	}
	f(t)
	t.index()
	p.handlers.Store(t)
}

// Kill kills the port with reason (none = a normal kill). The kill is
// queued behind the messages already sent to the port, which are handled
// first; messages sent after it are dropped. Monitors fire once the kill has
// been processed.
func (p *Port) Kill(reason ...any) {
	p.push(killEntry(Reason(reason)))
}

// Exec runs fn in port context: after the messages already queued, serialised
// with the port's handlers, with errors and panics killing the port as for a
// handler. It is the Go form of AnyEvent::MP's peval.
func (p *Port) Exec(fn func() error) {
	p.push(execEntry(fn))
}

// Wrap returns a function that, each time it is called (from any
// goroutine), runs fn in port context via [Port.Exec]. It is the Go form of
// AnyEvent::MP's psub: use it for callbacks from other libraries that touch
// the port's state.
func (p *Port) Wrap(fn func() error) func() {
	return func() { p.Exec(fn) }
}

// Mon monitors target and kills p with the same reason when target dies
// with a non-normal reason (a "link": AnyEvent::MP's mon $port with $SELF).
func (p *Port) Mon(target PortID) *Monitor {
	return p.node.Mon(target, MonKill(p.id))
}

func (p *Port) mailbox() *mpsc.Queue[Msg] {
	if q := p.mbox.Load(); q != nil {
		return q
	}
	ring := p.node.cfg.MailboxRing
	if lim := p.node.cfg.MailboxLimit; lim > 0 && !p.internal {
		for ring > 2 && ring > lim { // the ring alone never holds more than the limit
			ring /= 2
		}
	}
	q := mpsc.New[Msg](ring)
	if p.mbox.CompareAndSwap(nil, q) {
		return q
	}
	return p.mbox.Load()
}

// push queues an entry and makes sure the port will run. It never blocks.
func (p *Port) push(e *Msg) error { return p.pushFrom(e, nil) }

// pushFrom is push for a message that came in on a link whose reader can
// run the port (mesh.InlineRunner; nil for none): when the port is idle,
// its handlers run on that reader at once, instead of on a worker woken
// for it. A handler that blocks there does not block the link: another
// goroutine takes over its reading (transport.Link.RunInline).
func (p *Port) pushFrom(e *Msg, link mesh.InlineRunner) error {
	if p.state.Load() == portDead {
		e.release()
		return nil
	}
	q := p.mailbox()
	atMost := q.Push(e)
	if atMost > 0 { // the ring is full: the message went to the overflow list
		p.node.stats.markDeep(p)
	}
	if lim := p.node.cfg.MailboxLimit; lim > 0 && !p.internal {
		// The exact count reads the ring: only near the limit, or when
		// the limit is below the smallest ring.
		if (atMost > lim || (atMost == 0 && lim < q.Cap())) && q.Count() > lim &&
			p.overflowed.CompareAndSwap(false, true) {
			p.schedule()
			return fmt.Errorf("%w: port %s has more than %d messages waiting", ErrOverflow, p.id, lim)
		}
	}
	switch p.state.Load() {
	case portIdle:
		if link == nil || p.internal || !link.RunInline(runIdlePort, p) {
			p.schedule()
		}
	case portDead:
		p.discard()
	}
	return nil
}

// runIdlePort runs a batch of port a (a *Port) if it is idle, on the
// calling goroutine; a port that someone else scheduled meanwhile is
// theirs to run.
func runIdlePort(a any) {
	p := a.(*Port)
	if p.state.CompareAndSwap(portIdle, portScheduled) {
		p.run()
	}
}

func (p *Port) schedule() {
	if p.state.CompareAndSwap(portIdle, portScheduled) {
		p.node.sched.enqueue(p)
	}
}

// run handles up to one batch of messages on a worker goroutine. A panic
// in a handler ends the batch and kills the port (one deferred recover per
// batch rather than per message).
func (p *Port) run() {
	q := p.mailbox()
	defer p.recoverHandler()
	for range p.node.cfg.Batch {
		if p.overflowed.Load() {
			p.flushRelease()
			p.die(Reason{"overflow", fmt.Sprintf("mailbox limit of %d messages exceeded", p.node.cfg.MailboxLimit)})
			return
		}
		// The message is handled in place in its mailbox slot (no copy);
		// the slot goes back to the producers after the handler returns.
		e, ok := q.Peek()
		if !ok {
			p.flushRelease() // before the port may be another runner's
			q.Idle()         // a burst's overflow lists go to the garbage collector
			if !p.state.CompareAndSwap(portScheduled, portIdle) {
				return // died
			}
			// A producer that pushed after our Pop saw the port busy and left
			// it to us; take the port back if anything is pending. From here
			// on another worker may own the port: only atomic checks.
			if !q.Pending() || !p.state.CompareAndSwap(portIdle, portScheduled) {
				return
			}
			continue
		}
		p.deliver(e)
		if p.state.Load() == portDead {
			p.flushRelease()
			return // die discarded the rest, this entry included
		}
		q.Advance()
		if p.roomWait.Load() {
			p.signalRoom()
		}
	}
	p.flushRelease()
	p.node.sched.enqueue(p)
}

// waitRoom waits while the port's mailbox holds Config.MailboxLimit
// messages (SndCtx), until the port handles one or dies, or ctx ends.
func (p *Port) waitRoom(ctx context.Context) error {
	lim := p.node.cfg.MailboxLimit
	if lim <= 0 || p.internal {
		return nil
	}
	for {
		if !p.Alive() || p.mailbox().Count() < lim {
			return nil
		}
		p.mu.Lock()
		if p.room == nil {
			p.room = make(chan struct{})
		}
		ch := p.room
		p.roomWait.Store(true)
		p.mu.Unlock()
		if !p.Alive() || p.mailbox().Count() < lim { // handled meanwhile
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// signalRoom wakes the senders waiting in waitRoom.
func (p *Port) signalRoom() {
	p.mu.Lock()
	if p.room != nil {
		close(p.room)
		p.room = nil
	}
	p.roomWait.Store(false)
	p.mu.Unlock()
}

func (p *Port) deliver(e *Msg) {
	if p.relBuf != nil && e.buf() != p.relBuf {
		// the references kept are all of the buffer of the message being
		// handled: a handler that blocks holds no other buffer than its own
		p.flushRelease()
	}
	switch e.ctl {
	case entKill:
		p.die(e.inl[0].x.(Reason))
		return
	case entExec:
		if err := e.inl[0].x.(func() error)(); err != nil {
			p.die(reasonOf(err))
		}
		return
	}
	h := p.handlers.Load().lookup(e.tag)
	if h == nil {
		e.release()
		p.die(unhandledReason(e.tag))
		return
	}
	e.port = p
	if raw := e.raw(); len(raw) > 0 {
		e.resetArgs(&p.args, raw)
		p.argsBase = &raw[0]
	}
	p.handling = e
	err := h(e)
	p.handling = nil
	p.argsBase = nil
	p.releaseLater(e)
	if err != nil {
		p.die(reasonOf(err))
	}
}

// releaseLater is e.release for a message handled in a batch of run: the
// reference goes to relBuf (see there). Only the port's runner calls it,
// from deliver, which has flushed the references of any other buffer:
// relBuf is nil or e's buffer.
func (p *Port) releaseLater(e *Msg) {
	if b := e.detachBuf(); b != nil {
		p.relBuf = b
		p.relN++
	}
}

// flushRelease drops the references releaseLater kept.
func (p *Port) flushRelease() {
	if b := p.relBuf; b != nil {
		n := p.relN
		p.relBuf, p.relN = nil, 0
		b.ReleaseN(n)
	}
}

// errPanic wraps a value a handler panicked with.
type errPanic struct{ v any }

func (e errPanic) Error() string { return fmt.Sprint(e.v) }

// recoverHandler turns a panic in a handler (or an Exec function) into the
// death of its port with ("die", text).
func (p *Port) recoverHandler() {
	r := recover()
	if r == nil {
		return // (run flushed its releases before it let go of the port)
	}
	p.flushRelease() // still the port's runner: the panic came from its handler
	p.node.log.Error("aemp: handler panicked", "port", p.id, "panic", r, "stack", string(debug.Stack()))
	if e := p.handling; e != nil {
		p.handling = nil
		p.argsBase = nil
		e.release()
	}
	p.die(reasonOf(errPanic{r}))
}

// reasonOf maps a handler's error to the port's kill reason.
func reasonOf(err error) Reason {
	var r Reason
	if errors.As(err, &r) {
		return r
	}
	return dieReason(err.Error())
}

// die kills the port in port context: it stops taking messages, leaves the
// node's table, discards what is still queued and fires the monitors.
func (p *Port) die(reason Reason) {
	if p.state.Swap(portDead) == portDead {
		return
	}
	inTable := p.node.ports.CompareAndDelete(p.local, p)
	p.node.recent[slot.Of(p.local, portCacheSize)].CompareAndSwap(p, nil)
	p.mu.Lock()
	p.reason = reason
	mons := p.mons
	remotes := p.remotes
	p.mons, p.remotes = nil, nil
	p.mu.Unlock()
	p.discard()
	p.signalRoom()
	p.node.stats.portDied(p, reason, inTable)
	p.node.stats.monsPeers.Add(-int64(len(remotes)))

	// A spawned port that never came to exist (no_such_port) is not news.
	if len(mons) == 0 && len(remotes) == 0 && !reason.Normal() && reason.Kind() != "no_such_port" {
		p.node.log.Warn("aemp: unmonitored local port died", "port", p.id, "reason", reason.String())
	}
	for m := range mons {
		m.fire(reason)
	}
	for rn := range remotes {
		rn.sendKil0(p.local, reason)
	}
}

// discard drops everything queued on a dead port, releasing network
// buffers. Producers that push after the port died call it too; the mutex
// keeps a single consumer.
func (p *Port) discard() {
	q := p.mbox.Load()
	if q == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		e, ok := q.Pop()
		if !ok {
			q.Release() // a dead port keeps no memory of its burst
			return
		}
		e.release()
	}
}
