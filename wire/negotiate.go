package wire

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// TLSMethodPrefix marks auth methods that are only valid inside TLS.
const TLSMethodPrefix = "tls_"

// ChooseAuth picks the auth method to send (spec §3.6 step 3): it walks the
// peer's accept list in the peer's order and returns the first method that
// is in ourOffer, skipping methods starting with "tls_" unless TLS is active.
// So the receiver's preference decides. No match wraps ErrNoCommonAuth.
func ChooseAuth(peerAccept, ourOffer []string, tlsActive bool) (string, error) {
	for _, m := range peerAccept {
		if strings.HasPrefix(m, TLSMethodPrefix) && !tlsActive {
			continue
		}
		if slices.Contains(ourOffer, m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w: peer accepts [%s], we offer [%s] (TLS %s)",
		ErrNoCommonAuth, strings.Join(peerAccept, ","), strings.Join(ourOffer, ","), onOff(tlsActive))
}

// ChooseFraming picks the framing to send (spec §3.6 step 4): the first entry
// of the peer's framing list, in the peer's order, that is also in ours. The
// two directions of a connection may therefore use different framings. No
// match wraps ErrNoCommonFraming.
func ChooseFraming(peerList, ours []string) (string, error) {
	for _, f := range peerList {
		if slices.Contains(ours, f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: peer offers [%s], we support [%s]",
		ErrNoCommonFraming, strings.Join(peerList, ","), strings.Join(ours, ","))
}

// CheckEcho rejects a peer that reflects our greeting (spec §3.6 step 1):
// identical nonce lines, or identical line pairs, wrap ErrEcho. Perl only
// compares the pairs; rejecting equal nonces is what the POD requires and
// also covers that case.
func CheckEcho(our1, our2, peer1, peer2 string) error {
	if our2 == peer2 {
		return fmt.Errorf("%w: peer sent our own nonce", ErrEcho)
	}
	if our1 == peer1 && our2 == peer2 {
		return fmt.Errorf("%w: peer sent our own greeting", ErrEcho)
	}
	return nil
}

// CheckPeer applies the checks Perl makes after greeting line 1 (spec §3.5
// steps 4–6), in Perl's order: the protocol must be exactly "aemp" (other
// names, including the extension "aemp-dataconn", wrap ErrProtocol), the
// version must be numerically 1 ("1", "1.0"; else ErrVersion) and the node
// ID must not be ourID (ErrSelf). The "already connected" rule needs state
// and is left to the caller.
func CheckPeer(g Greeting, ourID string) error {
	if g.Protocol != Protocol {
		return fmt.Errorf("%w: expected %q, got %q", ErrProtocol, Protocol, g.Protocol)
	}
	v, err := strconv.ParseFloat(g.Version, 64)
	if err != nil || v != 1 {
		return fmt.Errorf("%w (we: %s, they: %q)", ErrVersion, Version, g.Version)
	}
	if g.NodeID == ourID {
		return fmt.Errorf("%w (peer announced our node ID %q)", ErrSelf, ourID)
	}
	return nil
}

// TLSClient reports whether we take the TLS client role (spec §3.7): the side
// whose nonce line is the byte-wise smaller string is the client. The nonces
// are compared as the text sent, not as decoded octets. Equal nonces must
// have been rejected by CheckEcho before.
func TLSClient(ourNonce, peerNonce string) bool {
	return ourNonce < peerNonce
}

func onOff(b bool) string {
	if b {
		return "active"
	}
	return "inactive"
}
