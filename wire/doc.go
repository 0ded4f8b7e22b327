// Package wire converts between bytes and meaning for the AEMP protocol
// (AnyEvent::MP 2.02, spec §3): the handshake lines — greeting line 1, the
// nonce line, the auth line — the negotiation rules that pick the auth method
// and the framings, and the message envelopes of the data phase.
//
// Everything in the handshake part is a pure function without I/O; the
// driver that runs the handshake over a connection lives in package
// transport/handshake. Lines handled here never include their terminating LF: parsers
// take the line without it, and the Append* encoders do not add it — the
// caller writes the '\n' itself.
//
// Values outside the fast paths of the encoders and of [Decode] (structs,
// typed maps and slices, json.Marshaler implementations) go through one
// JSON backend: bytedance/sonic's native path on amd64 and arm64,
// encoding/json everywhere else (32-bit and other architectures, Go
// versions sonic does not support), chosen by build constraints
// (json_sonic.go, json_nosonic.go) and sonic's own report of its native
// path. Both backends give the same results (TestJSONBackends lists the
// few spellings that differ).
//
// Errors are built from the sentinels in errors.go, wrapped with %w and
// matched with [errors.Is]. Their texts carry no "aemp:" prefix because the
// transport layer wraps them in a message that names the peer.
package wire
