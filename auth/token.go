package auth

import (
	"crypto/hmac"
	"crypto/sha3"
	"encoding/hex"
	"fmt"
	"hash"
)

// Auth method names (spec §3.9).
const (
	// MethodHMAC authenticates with the shared secret: HMAC-SHA3-512.
	MethodHMAC = "hmac_sha3_512"
	// MethodTLS authenticates through the TLS certificates; the token is a
	// plain SHA3-512 that binds the greetings to the TLS session.
	MethodTLS = "tls_sha3_512"
	// MethodTLSAnon sends an empty token over TLS (Perl marks such peers
	// "untrusted").
	MethodTLSAnon = "tls_anon"
	// MethodCleartext sends the secret itself, hex encoded. Perl accepts it
	// but never sends it; so do we, and only when configured explicitly.
	MethodCleartext = "cleartext"
	// MethodHMACTLS authenticates with the shared secret inside TLS, the
	// token bound to the TLS channel: HMAC-SHA3-512 over the four lines and
	// the connection's exported keying material (RFC 5705/9266), so a
	// relay that terminates TLS on both sides cannot reuse a token. An
	// extension between Go nodes (Perl does not know it): see
	// docs/security.md.
	MethodHMACTLS = "tls_hmac_sha3_512"
)

// message returns a LF b LF c LF d LF: the input of both token kinds, with
// the sender's own lines first.
func message(a, b, c, d string) []byte {
	m := make([]byte, 0, len(a)+len(b)+len(c)+len(d)+4)
	for _, s := range [...]string{a, b, c, d} {
		m = append(m, s...)
		m = append(m, '\n')
	}
	return m
}

func newSHA3() hash.Hash { return sha3.New512() }

// HMACToken returns the hmac_sha3_512 token the side owning own1/own2 sends:
// lowercase hex of HMAC-SHA3-512 (block size 72 bytes; longer keys are
// hashed first) keyed with secret over "own1\nown2\npeer1\npeer2\n". The
// token a side expects from its peer is HMACToken with the pairs swapped.
func HMACToken(secret []byte, own1, own2, peer1, peer2 string) string {
	mac := hmac.New(newSHA3, secret)
	mac.Write(message(own1, own2, peer1, peer2))
	return hex.EncodeToString(mac.Sum(nil))
}

// HMACBoundToken returns the tls_hmac_sha3_512 token: HMACToken's
// construction over "own1\nown2\npeer1\npeer2\n" followed by binding, the
// TLS channel's exported keying material (see Binding). Both ends of one
// TLS connection export the same binding; two connections never do.
func HMACBoundToken(secret, binding []byte, own1, own2, peer1, peer2 string) string {
	mac := hmac.New(newSHA3, secret)
	mac.Write(message(own1, own2, peer1, peer2))
	mac.Write(binding)
	return hex.EncodeToString(mac.Sum(nil))
}

// TLSToken returns the tls_sha3_512 token: lowercase hex of
// SHA3-512("own1\nown2\npeer1\npeer2\n") (the POD has the order swapped; the
// code and the recorded vectors use this one).
func TLSToken(own1, own2, peer1, peer2 string) string {
	sum := sha3.Sum512(message(own1, own2, peer1, peer2))
	return hex.EncodeToString(sum[:])
}

// CleartextToken returns the cleartext token: the secret's bytes as
// lowercase hex.
func CleartextToken(secret []byte) string { return hex.EncodeToString(secret) }

// Token returns the token we send with method, given our lines (own1,
// own2) and the peer's (peer1, peer2); binding is the TLS channel binding
// for tls_hmac_sha3_512 (ignored by the other methods). It fails for
// unknown methods, for secret-based methods without a secret and for
// tls_hmac_sha3_512 without a binding; it does not check whether TLS is
// active (the caller chose the method, see wire.ChooseAuth).
func Token(method string, secret, binding []byte, own1, own2, peer1, peer2 string) (string, error) {
	switch method {
	case MethodHMACTLS:
		if len(secret) == 0 {
			return "", fmt.Errorf("%s: %w", method, ErrNoSecret)
		}
		if len(binding) == 0 {
			return "", fmt.Errorf("%s: %w", method, ErrNoBinding)
		}
		return HMACBoundToken(secret, binding, own1, own2, peer1, peer2), nil
	case MethodHMAC:
		if len(secret) == 0 {
			return "", fmt.Errorf("%s: %w", method, ErrNoSecret)
		}
		return HMACToken(secret, own1, own2, peer1, peer2), nil
	case MethodTLS:
		return TLSToken(own1, own2, peer1, peer2), nil
	case MethodTLSAnon:
		return "", nil
	case MethodCleartext:
		if len(secret) == 0 {
			return "", fmt.Errorf("%s: %w", method, ErrNoSecret)
		}
		return CleartextToken(secret), nil
	}
	return "", fmt.Errorf("%q: %w", method, ErrUnknownMethod)
}

// Known reports whether method is one of the methods this package
// implements.
func Known(method string) bool {
	switch method {
	case MethodHMAC, MethodTLS, MethodTLSAnon, MethodCleartext, MethodHMACTLS:
		return true
	}
	return false
}
