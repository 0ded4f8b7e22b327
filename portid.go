package aemp

import "strings"

// PortID names a port: "<node ID>#<local part>". It is a plain string that
// can be sent in messages to other nodes (reply ports, registries). A
// string without '#' names a node, i.e. that node's node port (local part
// "").
type PortID string

// Node returns the node part: the text before the first '#', or the whole
// ID if there is none (spec §1.3: split at the first '#' only).
func (p PortID) Node() string {
	s := string(p)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// Local returns the local part: everything after the first '#' ("" for a
// node port).
func (p PortID) Local() string {
	s := string(p)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// IsNodePort reports whether p names a node port.
func (p PortID) IsNodePort() bool { return p.Local() == "" }

// String returns the ID as a string.
func (p PortID) String() string { return string(p) }

// NodeOf returns the node ID of a port or node ID (Perl's node_of).
func NodeOf(id PortID) string { return id.Node() }

// validNodeID reports whether s can be a node ID: non-empty (and not "0",
// which Perl treats as false), without '#', ';', CR, LF or NUL.
func validNodeID(s string) bool {
	return s != "" && s != "0" && !strings.ContainsAny(s, "#;\r\n\x00")
}
