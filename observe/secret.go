package observe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// SecretHasher turns a secret into what medscan may keep: a masked preview and a keyed
// hash. The key is a site's key file (internal/secretkey), never the store: the same
// secret hashes alike in every scan made with that file, on any sensor that shares it
// (which is how a fleet-wide hard-coded key is found). Whoever holds a store or report
// alone learns a secret's kind, user name, length and first and last two characters
// (Preview), and which hosts share it, but cannot test a guess of it; whoever also
// holds the key file can test guesses offline, one credential at a time.
type SecretHasher struct{ key []byte }

// NewSecretHasher returns a hasher with the given key (at least 16 bytes).
func NewSecretHasher(key []byte) *SecretHasher {
	return &SecretHasher{key: append([]byte(nil), key...)}
}

// Hash is the hex HMAC-SHA256 of the secret under the key (first 16 bytes).
func (h *SecretHasher) Hash(secret []byte) string {
	m := hmac.New(sha256.New, h.key)
	m.Write(secret)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Preview masks a secret for display: short secrets show nothing, longer ones show their
// first two and last two characters, and every preview gives the length.
func Preview(secret []byte) string {
	n := len(secret)
	if n < 8 {
		return "**** (" + strconv.Itoa(n) + " chars)"
	}
	return masked(secret[:2]) + "****" + masked(secret[n-2:]) + " (" + strconv.Itoa(n) + " chars)"
}

// masked shows the ends of a secret that a preview keeps: printable ASCII as it is, any
// other byte as '?', which says no more about a byte than that it was there (an escape,
// as Clean writes it, would give its value away).
func masked(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x21 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// Hide returns the preview and keyed hash of a secret.
func (h *SecretHasher) Hide(secret []byte) (preview, hash string) {
	return Preview(secret), h.Hash(secret)
}
