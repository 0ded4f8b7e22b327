package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// DefaultCN is the subject common name of the certificates `aemp gencert`
// makes, and of GenerateSelfSigned's when no name is given.
const DefaultCN = "AnyEvent::MP"

// DefaultValidity is the validity of GenerateSelfSigned's certificates when
// none is given (ten years, like `aemp gencert`).
const DefaultValidity = 10 * 365 * 24 * time.Hour

// Bundle is a node's TLS identity in Perl's form: one PEM text holding the
// node's certificate, its private key and any further CA certificates. Every
// certificate in the text is trusted as a CA, so nodes sharing one
// self-signed certificate (the usual deployment) trust each other. A Bundle
// is immutable and safe for concurrent use.
type Bundle struct {
	cert tls.Certificate
	pool *x509.CertPool
}

// LoadBundle parses a PEM text: all CERTIFICATE blocks go into the trust
// pool, and the first certificate together with the private-key block
// (PKCS#1 "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY" or "EC PRIVATE KEY") forms
// the key pair. Certificate and key may come in either order. Encrypted
// keys, a missing certificate or key, or a key that does not match the first
// certificate are errors.
func LoadBundle(pemText []byte) (*Bundle, error) {
	var certs []*pem.Block
	var key *pem.Block
	for rest := pemText; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			certs = append(certs, b)
		case "RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY":
			if key != nil {
				return nil, errors.New("tls bundle: more than one private key")
			}
			if _, encrypted := b.Headers["Proc-Type"]; encrypted {
				return nil, errors.New("tls bundle: encrypted private keys are not supported")
			}
			key = b
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("tls bundle: encrypted private keys are not supported")
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("tls bundle: no CERTIFICATE block")
	}
	if key == nil {
		return nil, errors.New("tls bundle: no private key block")
	}
	pair, err := tls.X509KeyPair(pem.EncodeToMemory(certs[0]), pem.EncodeToMemory(key))
	if err != nil {
		return nil, fmt.Errorf("tls bundle: %w", err)
	}
	pool := x509.NewCertPool()
	for _, b := range certs {
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tls bundle: %w", err)
		}
		pool.AddCert(c)
	}
	return &Bundle{cert: pair, pool: pool}, nil
}

// Leaf returns the bundle's own certificate.
func (b *Bundle) Leaf() *x509.Certificate { return b.cert.Leaf }

// ClientConfig returns a new TLS configuration for the client role: it
// presents our certificate and verifies the server's chain against the
// bundle's certificates, without any host-name check (spec §3.7). TLS 1.2
// is the minimum.
func (b *Bundle) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{b.cert},
		// The standard verification would check a host name; Perl does not.
		// VerifyPeerCertificate does the chain check without it.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: b.verifyPeer,
	}
}

// ServerConfig returns a new TLS configuration for the server role: it
// presents our certificate and requires a client certificate that chains to
// one of the bundle's certificates. TLS 1.2 is the minimum. Go's standard
// client-certificate check applies: a certificate that carries an extended
// key usage must allow client authentication (those made by `aemp gencert`
// and GenerateSelfSigned carry none).
func (b *Bundle) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{b.cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    b.pool,
	}
}

// verifyPeer verifies the peer's chain against the pool (any key usage, no
// host name).
func (b *Bundle) verifyPeer(raw [][]byte, _ [][]*x509.Certificate) error {
	if len(raw) == 0 {
		return errors.New("peer sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return fmt.Errorf("peer certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         b.pool,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("peer certificate not trusted: %w", err)
	}
	return nil
}

// GenerateSelfSigned makes a new RSA-2048 key and a self-signed CA
// certificate for it, like `aemp gencert` (openssl req -x509 -nodes), and
// returns the PEM text: certificate first, then the PKCS#8 key. cn defaults
// to DefaultCN, validity (from one hour ago) to DefaultValidity. The result
// is what LoadBundle reads and what a Perl node accepts as its "cert".
func GenerateSelfSigned(cn string, validity time.Duration) ([]byte, error) {
	if cn == "" {
		cn = DefaultCN
	}
	if validity <= 0 {
		validity = DefaultValidity
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...), nil
}
