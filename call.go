package aemp

import (
	"context"
	"fmt"
)

// cal (spec §2.15): request and reply through a temporary reply port whose
// ID goes last in the request, and the helpers that answer such requests.

// callResult is what ends a Call: the reply, or the target's death.
type callResult struct {
	reply *Msg
	died  Reason
}

// Call sends (tag, args…, replyPort) to the port to and waits for the
// first message that comes back to replyPort, a temporary port of this
// node (AnyEvent::MP's cal; the handler answers with [Msg.Reply]). It
// returns that message, valid after the call (element 0 is its tag).
//
// The target is monitored while the call waits (a mon1 for a port on
// another node, before the request; the other node keeps watching it
// afterwards, so later calls to the same port need none). Call returns
// an error wrapping ErrDied and the kill [Reason] (errors.As) if the
// target dies first, or the link to its node fails; one wrapping
// ErrTimeout and ctx.Err() if ctx ends first; ErrClosed if the node
// closes. A reply sent before the target died is returned. ctx also
// bounds waiting for room to send, as [Node.SndCtx]; other errors are
// Snd's. The reply port and the monitor are gone when Call returns,
// whatever the outcome; a late reply is dropped.
//
// Calling a node ID sends a node request: Call(ctx, node, "time") returns
// the other node's clock (element 0).
func (n *Node) Call(ctx context.Context, to PortID, tag string, args ...any) (*Msg, error) {
	if n.closed.Load() {
		return nil, ErrClosed
	}
	res := make(chan callResult, 1) // written once, in the reply port's context
	r := n.NewPort()
	r.RcvDefault(func(m *Msg) error {
		res <- callResult{reply: m.Clone()}
		return Reason{} // a normal kill: the reply port has done its job
	})
	// The target's death goes through the reply port's mailbox, behind a
	// reply that arrived before it.
	mon := n.Mon(to, MonFunc(func(why Reason) {
		r.Exec(func() error {
			res <- callResult{died: why}
			return Reason{}
		})
	}))
	mon.keep = true
	defer func() {
		mon.Cancel()
		r.Kill()
	}()
	req := NewMsg(tag, args...).AppendString(string(r.ID()))
	if err := n.sndMsgCtx(ctx, to, req); err != nil {
		return nil, err
	}
	var x callResult
	select {
	case x = <-res:
	case <-ctx.Done():
		select {
		case x = <-res:
		default:
			return nil, fmt.Errorf("%w: call to %s: %w", ErrTimeout, to, ctx.Err())
		}
	case <-n.done:
		return nil, ErrClosed
	}
	if x.reply == nil {
		return nil, fmt.Errorf("%w: call to %s: %w", ErrDied, to, x.died)
	}
	return x.reply, nil
}

// ReplyTo returns the port ID in the message's last element: where a
// request sent with [Node.Call] (or Perl's cal) wants its answer.
func (m *Msg) ReplyTo() (PortID, error) {
	i := m.Len() - 1
	if i < 1 {
		return "", fmt.Errorf("%w: the message has no reply port", ErrIndex)
	}
	s, err := m.String(i)
	if err != nil {
		return "", err
	}
	if id := PortID(s); validNodeID(id.Node()) {
		return id, nil
	}
	return "", fmt.Errorf("%w: reply port %q", ErrBadPortID, s)
}

// Reply sends (tag, args…) to the message's reply port (its last
// element, [Msg.ReplyTo]) while its handler runs: the answer to a
// [Node.Call] or a Perl cal. Outside the handler (a Clone, or later) use
// ReplyTo and [Node.Snd]. Errors are ReplyTo's and Snd's, or ErrNotLocal
// for a message no handler of this node is running with.
func (m *Msg) Reply(tag string, args ...any) error {
	p := m.Port()
	if p == nil {
		return fmt.Errorf("%w: Reply outside the message's handler", ErrNotLocal)
	}
	to, err := m.ReplyTo()
	if err != nil {
		return err
	}
	return p.node.Snd(to, tag, args...)
}
