package wire

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// MaxLine is the longest handshake line accepted or sent, in bytes,
// including its terminating LF (Perl's rbuf_max during the handshake).
const MaxLine = 4096

// Protocol is the protocol name of greeting line 1.
const Protocol = "aemp"

// Version is the protocol version this package speaks.
const Version = "1"

// Provider is the value of the provider= key a Go node announces.
const Provider = "Go-aemp-0.1"

// NonceLen is the length of a nonce line (greeting line 2): nonceBytes
// random octets in base64 without padding, as Perl 2.02 sends.
const (
	nonceBytes = 66
	NonceLen   = 88
)

// Well-known keys of greeting line 1.
const (
	KeyProvider = "provider" // implementation and version, e.g. "AE-2.02"
	KeyPeerAddr = "peeraddr" // the peer's address as seen by the sender
	KeyMProto   = "mproto"   // node/monitoring protocol version ("1")
	KeyGProto   = "gproto"   // global database protocol version ("1")
	KeyTLS      = "tls"      // "1.0" when the sender can and wants to do TLS
	// KeySecretTLS is a Go extension: "1" when the sender wants its link
	// to a peer that says the same to run inside TLS 1.3 with ephemeral
	// keys, authenticated by a channel-bound HMAC (tls_hmac_sha3_512) when
	// the two share only a secret. Perl ignores it.
	KeySecretTLS = "stls"
)

// KV is one key/value pair of greeting line 1. HasValue is false for a field
// without "=" (Perl: key with an undefined value).
type KV struct {
	Key, Value string
	HasValue   bool
}

// Greeting is greeting line 1:
//
//	<protocol>;<version>;<node ID>;<auth list>;<framing list>[;<key>=<value>]*
//
// The lists keep the sender's order, which is its preference order. Empty
// list entries are dropped. KV holds the trailing pairs in wire order.
type Greeting struct {
	Protocol string
	Version  string
	NodeID   string
	Auth     []string
	Framings []string
	KV       []KV
}

// Get returns the value of key and whether the key is present. A key sent
// without "=" is present with the empty value. If a key occurs more than
// once the last occurrence wins, as in Perl's hash.
func (g Greeting) Get(key string) (string, bool) {
	for i := len(g.KV) - 1; i >= 0; i-- {
		if g.KV[i].Key == key {
			return g.KV[i].Value, true
		}
	}
	return "", false
}

// WantsTLS reports whether the sender announced TLS: Perl's
// int(tls value) == 1, so "1.0", "1" and "1.5" qualify; a missing,
// empty or non-numeric value does not.
// WantsSecretTLS reports whether the greeting asks for secret-keyed TLS
// (KeySecretTLS).
func (g Greeting) WantsSecretTLS() bool {
	v, ok := g.Get(KeySecretTLS)
	return ok && v == "1"
}

func (g Greeting) WantsTLS() bool {
	v, ok := g.Get(KeyTLS)
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return err == nil && f >= 1 && f < 2
}

// ParseGreeting parses greeting line 1 (without its LF). The five positional
// fields must be present and the node ID non-empty; key/value pairs may come
// in any order, values may contain "=", keys without "=" and unknown keys
// are kept. "%3b" and "%25" (either case) in values are unescaped to ";"
// and "%". Protocol, version and node ID are not judged here (see
// CheckPeer). Errors wrap ErrLineTooLong, ErrBadLine or ErrBadGreeting.
func ParseGreeting(line []byte) (Greeting, error) {
	if err := checkLine(line); err != nil {
		return Greeting{}, err
	}
	f := strings.Split(string(line), ";")
	if len(f) < 5 {
		return Greeting{}, fmt.Errorf("%w: %d fields, want at least 5", ErrBadGreeting, len(f))
	}
	g := Greeting{
		Protocol: f[0],
		Version:  f[1],
		NodeID:   f[2],
		Auth:     splitList(f[3]),
		Framings: splitList(f[4]),
	}
	if g.NodeID == "" {
		return Greeting{}, fmt.Errorf("%w: empty node ID", ErrBadGreeting)
	}
	if len(f) > 5 {
		g.KV = make([]KV, 0, len(f)-5)
		for _, field := range f[5:] {
			k, v, has := strings.Cut(field, "=")
			if has {
				v = unescapeValue(v)
			}
			g.KV = append(g.KV, KV{Key: k, Value: v, HasValue: has})
		}
	}
	return g, nil
}

// Validate reports whether g can be sent: the positional fields and keys
// must not contain ";" (list entries not ","; keys not "="), no field may
// contain CR, LF or NUL, protocol, version and node ID must be non-empty and
// the encoded line must fit MaxLine. Values may contain anything else;
// AppendGreeting escapes "%" and ";" in them.
func (g Greeting) Validate() error {
	if g.Protocol == "" || g.Version == "" || g.NodeID == "" {
		return fmt.Errorf("%w: protocol, version and node ID must be set", ErrBadGreeting)
	}
	for _, s := range []string{g.Protocol, g.Version, g.NodeID} {
		if strings.ContainsAny(s, ";\r\n\x00") {
			return fmt.Errorf("%w: field %q contains ';', CR, LF or NUL", ErrBadGreeting, s)
		}
	}
	for _, l := range [][]string{g.Auth, g.Framings} {
		for _, s := range l {
			if s == "" || strings.ContainsAny(s, ";,\r\n\x00") {
				return fmt.Errorf("%w: list entry %q is empty or contains ';', ',', CR, LF or NUL", ErrBadGreeting, s)
			}
		}
	}
	for _, kv := range g.KV {
		if kv.Key == "" || strings.ContainsAny(kv.Key, ";=\r\n\x00") {
			return fmt.Errorf("%w: key %q is empty or contains ';', '=', CR, LF or NUL", ErrBadGreeting, kv.Key)
		}
		if strings.ContainsAny(kv.Value, "\r\n\x00") {
			return fmt.Errorf("%w: value of %q contains CR, LF or NUL", ErrBadGreeting, kv.Key)
		}
		if !kv.HasValue && kv.Value != "" {
			return fmt.Errorf("%w: key %q has a value but HasValue is false", ErrBadGreeting, kv.Key)
		}
	}
	if n := len(AppendGreeting(nil, g)); n > MaxLine-1 {
		return fmt.Errorf("%w: greeting is %d bytes, limit %d", ErrLineTooLong, n+1, MaxLine)
	}
	return nil
}

// AppendGreeting appends greeting line 1 to b, without the terminating LF.
// Values are escaped ("%" → "%25", ";" → "%3b"); nothing else is. It does not
// validate g; call Validate first for a greeting built from input.
func AppendGreeting(b []byte, g Greeting) []byte {
	b = append(b, g.Protocol...)
	b = append(b, ';')
	b = append(b, g.Version...)
	b = append(b, ';')
	b = append(b, g.NodeID...)
	b = append(b, ';')
	b = appendList(b, g.Auth)
	b = append(b, ';')
	b = appendList(b, g.Framings)
	for _, kv := range g.KV {
		b = append(b, ';')
		b = append(b, kv.Key...)
		if kv.HasValue {
			b = append(b, '=')
			b = appendEscaped(b, kv.Value)
		}
	}
	return b
}

// NewNonce returns a fresh greeting line 2: 66 octets from crypto/rand,
// standard base64 without padding (88 characters), as Perl 2.02 sends.
func NewNonce() (string, error) {
	var raw [nonceBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(raw[:]), nil
}

// CheckNonce validates a received greeting line 2: any text without CR, LF
// and NUL that fits MaxLine (the protocol allows any content; Perl sends 88
// base64 characters).
func CheckNonce(line []byte) error { return checkLine(line) }

// checkLine applies the rules common to all handshake lines.
func checkLine(line []byte) error {
	if len(line) > MaxLine-1 {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrLineTooLong, len(line)+1, MaxLine)
	}
	for _, c := range line {
		if c == '\r' || c == '\n' || c == 0 {
			return fmt.Errorf("%w: byte 0x%02x", ErrBadLine, c)
		}
	}
	return nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func appendList(b []byte, l []string) []byte {
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s...)
	}
	return b
}

func appendEscaped(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '%':
			b = append(b, "%25"...)
		case ';':
			b = append(b, "%3b"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// unescapeValue undoes appendEscaped in one left-to-right pass; other "%"
// sequences are kept as they are.
func unescapeValue(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var sb strings.Builder
	sb.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			switch strings.ToLower(v[i+1 : i+3]) {
			case "25":
				sb.WriteByte('%')
				i += 2
				continue
			case "3b":
				sb.WriteByte(';')
				i += 2
				continue
			}
		}
		sb.WriteByte(v[i])
	}
	return sb.String()
}
