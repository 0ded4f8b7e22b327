package aemp

import (
	"errors"

	"github.com/aemp-go/aemp/mesh"
)

// Sentinel errors. Errors returned by this package wrap one of these (or one
// of the lower layers' sentinels); match them with errors.Is.
var (
	// ErrClosed: the node has been closed (or is shutting down and the
	// message's link has drained).
	ErrClosed = mesh.ErrClosed
	// ErrBadPortID: a port or node ID is empty or malformed.
	ErrBadPortID = errors.New("aemp: invalid port ID")
	// ErrNotLocal: the operation needs a port of this node (rcv on a remote port).
	ErrNotLocal = errors.New("aemp: not a local port")
	// ErrNodePort: the node port (empty local part) cannot be killed.
	ErrNodePort = errors.New("aemp: killing a node port is not allowed")
	// ErrOverflow: a port's mailbox exceeded its limit; the port was killed
	// with ("overflow", …).
	ErrOverflow = errors.New("aemp: mailbox overflow")
	// ErrNoRoute: no way to reach the node of a port (no link, no known
	// address, networking not configured).
	ErrNoRoute = errors.New("aemp: node not reachable")
	// ErrType: a message element does not convert to the requested type.
	ErrType = errors.New("aemp: wrong element type")
	// ErrIndex: a message has no element at that index.
	ErrIndex = errors.New("aemp: no such element")
	// ErrConfig: the configuration is invalid (see Config.Validate).
	ErrConfig = errors.New("aemp: invalid configuration")
	// ErrTimeout: a call's context ended before its reply arrived (or
	// before there was room for a message).
	ErrTimeout = errors.New("aemp: timed out")
	// ErrDied: the port a [Node.Call] waited on died (or the link to its
	// node failed) before it replied; errors.As gives the [Reason].
	ErrDied = errors.New("aemp: port died")
	// ErrNoFunc: a function name is not Package::function, or this node
	// has no such function (Config.Funcs).
	ErrNoFunc = errors.New("aemp: no such function")
	// ErrQueueFull: the queue to the message's node (Config.MaxQueue) has
	// no room; the message was not sent. [Node.SndCtx] waits for room
	// instead.
	ErrQueueFull = mesh.ErrQueueFull
	// ErrTooLarge: the message is larger than Config.MaxFrame (or than
	// the node it goes to takes); it was not sent, the link stays up.
	ErrTooLarge = mesh.ErrMessageTooLarge
	// ErrLinkClosed: the link to the message's node closed while it was
	// being sent; it was not sent, and the monitors of that node's ports
	// fire.
	ErrLinkClosed = mesh.ErrLinkClosed
)
