package aemp

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these (or one
// of the lower layers' sentinels); match them with errors.Is.
var (
	// ErrClosed: the node has been closed.
	ErrClosed = errors.New("aemp: node closed")
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
	// ErrTimeout: a call's context ended before its reply arrived.
	ErrTimeout = errors.New("aemp: timed out")
)
