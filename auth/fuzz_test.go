package auth

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// FuzzLoadBundle feeds arbitrary PEM-ish text to LoadBundle, seeded with
// real bundles (RSA from GenerateSelfSigned, EC) and mutations of them. It
// must never panic, and it must load exactly the valid bundles, as judged
// here independently: at least one CERTIFICATE block, every one of them a
// parsable certificate; exactly one unencrypted private-key block of a
// supported type; that key matching the first certificate. A loaded
// bundle's leaf is the first certificate.
func FuzzLoadBundle(f *testing.F) {
	p, err := testPEM()
	if err != nil {
		f.Fatal(err)
	}
	ec := ecBundle(f)
	cert, key := pemBlocks(p[0])
	other, _ := pemBlocks(p[1])
	enc := pem.EncodeToMemory
	for _, s := range [][]byte{
		p[0], p[1], ec,
		append(enc(key), enc(cert)...),
		append(append(enc(cert), enc(key)...), enc(other)...),
		append(enc(other), enc(key)...),
		append(append(enc(cert), enc(key)...), enc(key)...),
		enc(cert), enc(key), nil,
		append(enc(cert), enc(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})...),
		append(enc(cert), enc(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: key.Bytes})...),
		append(append([]byte("garbage\n"), p[0]...), "trailing"...),
		p[0][:len(p[0])/2],
		bytes.Replace(p[0], []byte("PRIVATE KEY"), []byte("EC PRIVATE KEY"), 2),
		bytes.Replace(p[0], []byte("CERTIFICATE"), []byte("X509 CRL"), 2),
		append(append(enc(cert), enc(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0}})...), enc(key)...),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		b, err := LoadBundle(text)
		valid, leaf := validBundle(text)
		if (err == nil) != valid {
			t.Fatalf("LoadBundle: %v; valid by the independent check: %v", err, valid)
		}
		if err != nil {
			if b != nil {
				t.Fatal("LoadBundle returned a bundle with its error")
			}
			return
		}
		if b.Leaf() == nil || !bytes.Equal(b.Leaf().Raw, leaf) {
			t.Fatal("the bundle's leaf is not its first certificate")
		}
		if b.ClientConfig() == nil || b.ServerConfig() == nil {
			t.Fatal("no TLS configuration")
		}
	})
}

// validBundle judges a PEM text by the rules of LoadBundle's documentation
// and returns the first certificate's DER when it is valid.
func validBundle(text []byte) (bool, []byte) {
	var certs [][]byte
	var key *pem.Block
	for rest := text; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			if _, err := x509.ParseCertificate(b.Bytes); err != nil {
				return false, nil
			}
			certs = append(certs, b.Bytes)
		case "RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY":
			if _, enc := b.Headers["Proc-Type"]; enc || key != nil {
				return false, nil
			}
			key = b
		case "ENCRYPTED PRIVATE KEY":
			return false, nil
		}
	}
	if len(certs) == 0 || key == nil {
		return false, nil
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: key.Type, Bytes: key.Bytes})
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return false, nil
	}
	return true, certs[0]
}

// pemBlocks returns the certificate and the key block of a bundle.
func pemBlocks(p []byte) (cert, key *pem.Block) {
	for rest := p; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return
		}
		if b.Type == "CERTIFICATE" {
			cert = b
		} else {
			key = b
		}
	}
}
