package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// Secret-keyed TLS between Go nodes (docs/security.md): when both nodes
// share only a secret, their link runs inside TLS 1.3 with ephemeral,
// unverified certificates — TLS gives secrecy and integrity of the stream,
// and the tls_hmac_sha3_512 token, bound to the TLS channel, proves that
// the other end of this very TLS connection knows the secret. The
// certificates carry no identity and are never checked.

// bindingLabel is the exporter label of the channel binding (RFC 5705).
const bindingLabel = "EXPORTER-AEMP tls_hmac_sha3_512"

// bindingLen is the length of the channel binding in bytes.
const bindingLen = 64

// Binding returns the channel binding of a TLS connection: keying material
// exported with the AEMP label (RFC 5705; with TLS 1.3, RFC 8446 §7.5). It
// needs TLS 1.3 (or 1.2 with extended master secret).
func Binding(cs tls.ConnectionState) ([]byte, error) {
	b, err := cs.ExportKeyingMaterial(bindingLabel, nil, bindingLen)
	if err != nil {
		return nil, fmt.Errorf("tls channel binding: %w", err)
	}
	return b, nil
}

// ephemeral is this process's ephemeral certificate, made on first use.
var ephemeral = sync.OnceValues(func() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("ephemeral key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("ephemeral serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "aemp ephemeral"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(100 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("ephemeral certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
})

// EphemeralConfig returns a TLS 1.3 configuration for secret-keyed TLS in
// the client or the server role: the process's ephemeral certificate, no
// verification of the peer's (the tls_hmac_sha3_512 token authenticates).
func EphemeralConfig(client bool) (*tls.Config, error) {
	cert, err := ephemeral()
	if err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}
	if client {
		c.InsecureSkipVerify = true // identity comes from the bound HMAC token
	}
	return c, nil
}
