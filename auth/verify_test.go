package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/aemp-go/aemp/wire"
)

func TestVerify(t *testing.T) {
	secret := []byte("geheim")
	base := Params{Accept: []string{MethodTLS, MethodHMAC, MethodTLSAnon}, Secret: secret,
		Local1: "aemp;1;a;hmac_sha3_512;json", Local2: "n1", Remote1: "aemp;1;b;hmac_sha3_512;json", Remote2: "n2"}
	hmacTok := HMACToken(secret, base.Remote1, base.Remote2, base.Local1, base.Local2)
	tlsTok := TLSToken(base.Remote1, base.Remote2, base.Local1, base.Local2)
	withTLS := base
	withTLS.TLS = true
	withClear := base
	withClear.Accept = append([]string{MethodCleartext}, base.Accept...)
	noSecret := withTLS
	noSecret.Secret = nil

	cases := []struct {
		name, method, token string
		p                   Params
		want                error // nil = accepted
	}{
		{"hmac", MethodHMAC, hmacTok, base, nil},
		{"hmac under tls", MethodHMAC, hmacTok, withTLS, nil},
		{"hmac wrong secret", MethodHMAC, HMACToken([]byte("other"), base.Remote1, base.Remote2, base.Local1, base.Local2), base, ErrTokenMismatch},
		{"hmac our own token reflected", MethodHMAC, HMACToken(secret, base.Local1, base.Local2, base.Remote1, base.Remote2), base, ErrTokenMismatch},
		{"hmac uppercase", MethodHMAC, strings.ToUpper(hmacTok), base, ErrTokenMismatch},
		{"hmac truncated", MethodHMAC, hmacTok[:64], base, ErrTokenMismatch},
		{"hmac no secret", MethodHMAC, hmacTok, noSecret, ErrNoSecret},
		{"tls_sha3_512", MethodTLS, tlsTok, withTLS, nil},
		{"tls_sha3_512 without tls", MethodTLS, tlsTok, base, ErrTLSRequired},
		{"tls_sha3_512 wrong", MethodTLS, hmacTok, withTLS, ErrTokenMismatch},
		{"tls_anon", MethodTLSAnon, "", withTLS, nil},
		{"tls_anon with token", MethodTLSAnon, "00", withTLS, ErrTokenMismatch},
		{"tls_anon without tls", MethodTLSAnon, "", base, ErrTLSRequired},
		{"cleartext not accepted", MethodCleartext, "67656865696d", base, ErrMethodNotAccepted},
		{"cleartext accepted", MethodCleartext, "67656865696d", withClear, nil},
		{"cleartext wrong", MethodCleartext, "67656865696e", withClear, ErrTokenMismatch},
		{"md6", "hmac_md6_64_256", hmacTok, base, ErrUnknownMethod},
		{"empty method", "", "", base, ErrUnknownMethod},
		{"not in accept list", MethodTLSAnon, "", Params{Accept: []string{MethodHMAC}, TLS: true}, ErrMethodNotAccepted},
	}
	for _, c := range cases {
		err := Verify(c.method, c.token, c.p)
		switch {
		case c.want == nil && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != nil && (!errors.Is(err, c.want) || !errors.Is(err, wire.ErrAuthFailed)):
			t.Errorf("%s: err = %v, want %v and ErrAuthFailed", c.name, err, c.want)
		}
	}
	err := Verify(MethodHMAC, "00", base)
	if want := "authentication failed: hmac_sha3_512: token mismatch (wrong secret?)"; err == nil || err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestGenerateSecret(t *testing.T) {
	counts := map[byte]int{}
	seen := map[string]bool{}
	const rounds = 200
	for range rounds {
		s, err := GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != SecretLen || seen[s] {
			t.Fatalf("secret %q: length %d or repeated", s, len(s))
		}
		seen[s] = true
		for i := 0; i < len(s); i++ {
			if !strings.ContainsRune(secretAlphabet, rune(s[i])) {
				t.Fatalf("character %q outside [0-9A-Za-z]", s[i])
			}
			counts[s[i]]++
		}
	}
	if len(counts) != 62 {
		t.Fatalf("%d distinct characters, want 62", len(counts))
	}
	// A plain "byte % 62" would make the first 8 characters 25% more
	// likely; with 36000 samples the uniform share is ±2% (≈7σ margin).
	first := 0
	for i := range 8 {
		first += counts[secretAlphabet[i]]
	}
	share := float64(first) / float64(rounds*SecretLen) * 62 / 8
	if share < 0.9 || share > 1.1 {
		t.Errorf("first 8 characters drawn %.2fx as often as expected", share)
	}
}
