package auth

import "errors"

// Reasons for a failed verification. Verify wraps one of them together with
// wire.ErrAuthFailed; match either with errors.Is.
var (
	// ErrTokenMismatch: the method was acceptable but the token is wrong —
	// for hmac_sha3_512 and cleartext almost always a different secret.
	ErrTokenMismatch = errors.New("token mismatch (wrong secret?)")
	// ErrMethodNotAccepted: the peer authenticated with a method that is not
	// in our accept list.
	ErrMethodNotAccepted = errors.New("auth method not accepted")
	// ErrTLSRequired: the peer used a tls_* method on a connection without
	// TLS.
	ErrTLSRequired = errors.New("auth method requires TLS")
	// ErrUnknownMethod: the method name is not one this package implements
	// (including the 1.x MD6 methods).
	ErrUnknownMethod = errors.New("unsupported auth method")
	// ErrNoSecret: the method needs the shared secret and none is
	// configured.
	ErrNoSecret = errors.New("no shared secret configured")
	// ErrNoBinding: tls_hmac_sha3_512 without a TLS channel binding.
	ErrNoBinding = errors.New("no TLS channel binding")
)
