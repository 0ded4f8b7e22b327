package main

import (
	"encoding/pem"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/aemp-go/aemp/auth"
	"github.com/aemp-go/aemp/internal/rcfile"
)

// genSecret stores a new shared secret: auth.SecretLen (180) characters of
// [0-9A-Za-z] from crypto/rand (Perl's aemp uses Perl's rand).
func genSecret(s *session, _ []arg) error {
	secret, err := auth.GenerateSecret()
	if err != nil {
		return err
	}
	t, err := s.target()
	if err != nil {
		return err
	}
	t.Set("secret", rcfile.NewString(secret))
	return nil
}

// genCert stores a new self-signed certificate and its key, as Perl's aemp
// stores the output of `openssl req -new -nodes -x509 -days 3650 -newkey
// rsa:2048 -subj /CN=AnyEvent::MP`: RSA-2048, CN=AnyEvent::MP, a CA for
// itself, ten years, the certificate then the PKCS#8 key.
func genCert(s *session, _ []arg) error {
	bundle, err := auth.GenerateSelfSigned(auth.DefaultCN, auth.DefaultValidity)
	if err != nil {
		return err
	}
	t, err := s.target()
	if err != nil {
		return err
	}
	t.Set("cert", rcfile.NewString(string(bundle)))
	return nil
}

// setCert stores a PEM file's text. A file with no PEM block in it is
// refused (a DER file or a wrong name); a bundle Go nodes cannot load is
// stored with a warning, since Perl nodes may still accept it.
func setCert(s *session, args []arg) error {
	name := args[0].str()
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("%s is not a PEM text (not valid UTF-8)", name)
	}
	if b, _ := pem.Decode(data); b == nil {
		return fmt.Errorf("%s holds no PEM block (want the key, the certificate and any CA certificates, in PEM)", name)
	}
	if _, err := auth.LoadBundle(data); err != nil {
		fmt.Fprintf(s.stderr, "aemp: warning: setcert: Go nodes cannot use %s: %v\n", name, err)
	}
	t, err := s.target()
	if err != nil {
		return err
	}
	t.Set("cert", rcfile.NewString(string(data)))
	return nil
}
