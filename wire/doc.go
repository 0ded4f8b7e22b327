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
// # JSON grammar
//
// Every JSON text of the data phase is judged by one grammar, applied alike
// by the json framing's stream splitter (frame.JSONSplitter), by this
// package's scanners (ScanEnvelope, ScanHead together with
// the argument accessors that validate the arguments it leaves, Valid) and
// by its decoders; the byte-level rules are one implementation shared by
// both packages (internal/jsonlex). The grammar is what Perl's JSON::XS
// accepts and emits in utf8 mode:
//
//   - RFC 8259 JSON syntax: no trailing commas, comments, single quotes,
//     NaN/Infinity, leading zeros or leading '+'; whitespace is space, tab,
//     LF and CR only;
//   - the whole text is valid UTF-8 (RFC 3629, as unicode/utf8.Valid): an
//     invalid byte, a truncated sequence, an overlong form, a UTF-16
//     surrogate encoded in UTF-8 (ED A0 80) or a code point above U+10FFFF
//     is a syntax error, never replaced by U+FFFD (encoding/json would
//     replace it; JSON::XS rejects it);
//   - inside strings, no unescaped control character (< 0x20); \u escapes
//     are checked for form only: a lone surrogate escape such as \ud800 is
//     accepted, as encoding/json accepts it, and decodes to U+FFFD;
//   - arrays and objects nest at most MaxDepth (512) levels, the message
//     array counting as level 1; the splitter's limit is configurable
//     (frame.JSONSplitter.MaxDepth, default frame.DefaultMaxDepth = MaxDepth)
//     and may only be lowered, or the scanner rejects what it passed;
//   - a message is a top-level array (ErrNotArray otherwise).
//
// The reference predicate is therefore encoding/json.Valid(b) &&
// utf8.Valid(b), a '[' as first non-blank byte and the depth limit; the
// fuzz target FuzzJSONAgreement (directory fuzz/ of the module) checks that
// the splitter, the scanners, the decoders and that predicate agree on
// arbitrary bytes, and that accepted texts decode to what encoding/json
// decodes.
//
// Errors are built from the sentinels in errors.go, wrapped with %w and
// matched with [errors.Is]. Their texts carry no "aemp:" prefix because the
// transport layer wraps them in a message that names the peer.
package wire
