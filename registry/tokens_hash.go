package registry

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// hashToken is what is kept of a token: the hex SHA-256 of all of it.
// A token is 32 random bytes: no salt or slow hash is needed.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// hashMatches compares in constant time.
func hashMatches(hash, token string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(hashToken(token))) == 1
}
