package aemp

import (
	"fmt"
	"strings"

	"github.com/aemp-go/aemp/wire"
)

// Reason is why a port died: a list of values, empty for a normal kill. By
// convention a non-empty reason is (identifier, human-readable text, …).
// The library produces these (spec §1.6):
//
//	("die", text)                          a handler panicked or returned an error
//	("unhandled_message", text)            no handler took a message
//	("no_such_port", text, portID)         the monitored port does not exist
//	("transport_error", nodeID, text)      the link to the port's node failed
//	("overflow", text)                     the port's mailbox exceeded its limit
type Reason []any

// Normal reports whether the reason is empty (a kill without reason or a
// normal end). Link monitors ([MonKill]) ignore normal kills.
func (r Reason) Normal() bool { return len(r) == 0 }

// Kind returns the first element as a string ("die", "transport_error", …),
// or "" for a normal kill.
func (r Reason) Kind() string {
	if len(r) == 0 {
		return ""
	}
	if s, ok := r[0].(string); ok {
		return s
	}
	return fmt.Sprint(r[0])
}

// Text returns the last element as a string: the human-readable part of
// every reason the library produces ("" if there is none).
func (r Reason) Text() string {
	if len(r) < 2 {
		return ""
	}
	switch x := r[len(r)-1].(type) {
	case string:
		if r.Kind() == "no_such_port" && len(r) >= 3 {
			s, _ := r[1].(string)
			return s
		}
		return x
	default:
		return fmt.Sprint(x)
	}
}

// String renders the reason like a JSON list, e.g. ["die","boom"].
func (r Reason) String() string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, v := range r {
		if i > 0 {
			sb.WriteByte(',')
		}
		if b, err := encodeLocal(nil, valueOf(v), wire.NonFiniteSubstitute); err == nil {
			sb.Write(b)
		} else {
			fmt.Fprintf(&sb, "%v", v)
		}
	}
	sb.WriteByte(']')
	return sb.String()
}

// Error makes a Reason usable as an error: a handler that returns one
// kills its port with exactly this reason instead of ("die", text). It
// reads like String.
func (r Reason) Error() string { return r.String() }

func dieReason(text string) Reason {
	return Reason{"die", strings.TrimRight(text, "\n")}
}

// unhandledReason is the reason of a port killed by a message no handler
// took; like Perl, the tag is cut to 30 characters and non-printable bytes
// are shown as '.'.
func unhandledReason(tag string) Reason {
	b := []byte(tag)
	if len(b) > 30 {
		b = b[:30]
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '.'
		}
	}
	return Reason{"unhandled_message", "no callback found for message '" + string(b) + "'"}
}

func noSuchPortReason(id PortID) Reason {
	return Reason{"no_such_port", "cannot monitor nonexistent port", string(id)}
}

func transportReason(node, text string) Reason {
	return Reason{"transport_error", node, text}
}
