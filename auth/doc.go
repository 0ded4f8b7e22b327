// Package auth holds the credentials side of the AEMP handshake (spec §3.7,
// §3.9, §3.10): the auth tokens (HMAC-SHA3-512 with the shared secret,
// SHA3-512 inside TLS, the cleartext secret), the verification of a peer's
// auth line, shared-secret generation, and TLS certificate bundles in the
// PEM form that Perl's `aemp gencert` writes.
//
// Verification is stricter than Perl 2.02: the method the peer names must be
// in our accept list, tls_* methods count only when TLS is active,
// "cleartext" only when it was accepted explicitly, and tokens are compared
// in constant time. Every verification failure wraps [wire.ErrAuthFailed]
// together with one of this package's reasons.
package auth
