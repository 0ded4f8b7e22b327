package auth

import (
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"

	"github.com/aemp-go/aemp/wire"
)

// Params is what Verify needs to know about the connection. Local1/Local2
// are our greeting lines as sent, Remote1/Remote2 the peer's as received,
// all without LF.
type Params struct {
	// Accept is our accept list (the one we advertised in greeting line
	// 1). A method not in it is refused, even if the token is right.
	Accept []string
	// Secret is the shared secret; empty means none.
	Secret []byte
	// TLS reports whether the connection runs inside TLS.
	TLS bool
	// Binding is the TLS channel binding (see Binding) for
	// tls_hmac_sha3_512; nil outside TLS.
	Binding []byte

	Local1, Local2, Remote1, Remote2 string
}

// Verify checks the peer's auth line fields method and token (spec §3.10).
// The expected token is computed from the method the peer named — over
// "Remote1\nRemote2\nLocal1\nLocal2\n", since the sender puts its own lines
// first — but unlike Perl the method must also be in p.Accept, tls_*
// methods require p.TLS, and cleartext is accepted only if p.Accept lists it.
// The comparison takes constant time. The error wraps wire.ErrAuthFailed
// and one of ErrMethodNotAccepted, ErrTLSRequired, ErrUnknownMethod,
// ErrNoSecret or ErrTokenMismatch.
func Verify(method, token string, p Params) error {
	if !Known(method) {
		return fail(method, ErrUnknownMethod)
	}
	if !slices.Contains(p.Accept, method) {
		return fmt.Errorf("%w: peer used %s, we accept [%s]: %w",
			wire.ErrAuthFailed, method, strings.Join(p.Accept, ","), ErrMethodNotAccepted)
	}
	if strings.HasPrefix(method, wire.TLSMethodPrefix) && !p.TLS {
		return fail(method, ErrTLSRequired)
	}
	if (method == MethodHMAC || method == MethodCleartext || method == MethodHMACTLS) && len(p.Secret) == 0 {
		return fail(method, ErrNoSecret)
	}
	if method == MethodHMACTLS && len(p.Binding) == 0 {
		return fail(method, ErrNoBinding)
	}
	want, err := Token(method, p.Secret, p.Binding, p.Remote1, p.Remote2, p.Local1, p.Local2)
	if err != nil { // unreachable after the checks above; kept for safety
		return fmt.Errorf("%w: %w", wire.ErrAuthFailed, err)
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return fail(method, ErrTokenMismatch)
	}
	return nil
}

func fail(method string, reason error) error {
	return fmt.Errorf("%w: %s: %w", wire.ErrAuthFailed, method, reason)
}
