// Package handshake runs the AEMP connection handshake (spec §3.1–§3.10):
// greeting and nonce lines, the auth method and framing negotiation, the
// optional TLS upgrade and the auth lines, with the limits and deadline of
// docs/security.md. [Run] is symmetric (both ends call it the same way) and
// returns a [Result] that package transport's NewLink takes over for the
// data phase. Errors are *[Error] values that wrap the wire and auth
// sentinels (match them with errors.Is).
package handshake
