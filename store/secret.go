package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// secretBytes is the entropy of every uid and credential: 128 bits, written as
// 32 lowercase hex digits.
const secretBytes = 16

// newSecret returns secretBytes random bytes in lowercase hex.
func newSecret() string {
	b := make([]byte, secretBytes)

	// crypto/rand.Read never fails; it crashes the program instead.
	_, _ = rand.Read(b)

	return hex.EncodeToString(b)
}

// hashSecret is the indexed form of a credential, so that lookups never
// compare the secret itself in SQL.
func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))

	return h[:]
}
