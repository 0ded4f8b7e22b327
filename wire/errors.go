package wire

import "errors"

// Sentinel errors of the handshake. Functions in this package (and the
// handshake driver in package transport) return errors that wrap one of these
// with %w and add the detail; match them with [errors.Is]. The texts are the
// reasons Perl's AnyEvent::MP logs for the same failures where one exists.
var (
	// ErrLineTooLong: a handshake line (including its LF) exceeds MaxLine.
	ErrLineTooLong = errors.New("handshake line too long")
	// ErrBadLine: a handshake line contains CR, LF or NUL.
	ErrBadLine = errors.New("invalid character in handshake line")
	// ErrBadGreeting: greeting line 1 cannot be parsed (too few fields,
	// empty node ID, …) or a greeting we would send is invalid.
	ErrBadGreeting = errors.New("unparsable greeting")
	// ErrProtocol: the peer speaks a protocol other than "aemp" (this
	// includes extensions such as "aemp-dataconn", which we refuse).
	ErrProtocol = errors.New("unsupported protocol")
	// ErrVersion: the peer's protocol version is not numerically 1.
	ErrVersion = errors.New("version mismatch")
	// ErrSelf: the peer announced our own node ID.
	//lint:ignore ST1005 Perl's log message, kept verbatim
	ErrSelf = errors.New("I refuse to talk to myself")
	// ErrAlreadyConnected: an established connection to the peer's node
	// ID exists already.
	ErrAlreadyConnected = errors.New("already connected")
	// ErrEcho: the peer's nonce (or its whole greeting) equals ours.
	ErrEcho = errors.New("authentication error, echo attack?")
	// ErrNoCommonAuth: no auth method of the peer's accept list is one we
	// can send.
	ErrNoCommonAuth = errors.New("no common auth type supported")
	// ErrNoCommonFraming: no framing of the peer's list is one we support.
	ErrNoCommonFraming = errors.New("no common framing method supported")
	// ErrBadAuthLine: the peer's auth line cannot be parsed.
	ErrBadAuthLine = errors.New("malformed auth line")
	// ErrUnusableFraming: the framing named in the peer's auth line is
	// missing or is not one we offered.
	ErrUnusableFraming = errors.New("unusable remote framing")
	// ErrAuthFailed: the peer's auth line does not authenticate it
	// (wrong token, method not accepted, …). Package auth wraps this
	// together with a more specific reason.
	ErrAuthFailed = errors.New("authentication failed")
	// ErrTLSHandshake: the TLS handshake (started after the greetings)
	// failed, e.g. because the peer's certificate is not trusted.
	ErrTLSHandshake = errors.New("TLS handshake failed")
	// ErrNoTLS: TLS is required (handshake Config.RequireTLS) and the
	// peer offers neither certificate TLS nor secret-keyed TLS.
	ErrNoTLS = errors.New("peer offers no TLS and TLS is required")
	// ErrHandshakeTimeout: the whole-handshake deadline passed.
	ErrHandshakeTimeout = errors.New("handshake timed out")
	// ErrConfig: the local handshake configuration is unusable (no
	// secret and no TLS, invalid node ID, …).
	ErrConfig = errors.New("invalid handshake configuration")
)
