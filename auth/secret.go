package auth

import (
	"crypto/rand"
	"fmt"
)

// SecretLen is the length of a secret made by GenerateSecret, the same as
// Perl's `aemp gensecret`.
const SecretLen = 180

const secretAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// GenerateSecret returns a new shared secret of SecretLen characters drawn
// uniformly from [0-9A-Za-z] with crypto/rand (rejection sampling, so no
// character is more likely than another).
func GenerateSecret() (string, error) {
	const n = len(secretAlphabet) // 62
	const limit = 256 - (256 % n) // 248: largest multiple of 62 ≤ 256
	out := make([]byte, 0, SecretLen)
	var buf [SecretLen + SecretLen/4]byte
	for len(out) < SecretLen {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("generate secret: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, secretAlphabet[int(b)%n])
			if len(out) == SecretLen {
				break
			}
		}
	}
	return string(out), nil
}
