package store

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// The keyed audit chain. The plain chain (audit.go) is a SHA-256 chain: whoever can
// write the store can recompute it after the record they edit, so only a head kept
// elsewhere catches that. With an audit key each record also carries an Ed25519
// signature of its hash, which covers its content and, through the previous hash, every
// record before it. Someone who can write the store but does not hold the private key
// can then neither edit a record, nor delete one, nor rewrite the chain after an edit,
// nor cut its end and append records of their own: the records they write carry no
// valid signature. Cutting the end and appending nothing still leaves a chain whose
// signatures all verify; the head kept elsewhere (--head) remains the check for that.
//
// Ed25519 rather than an HMAC: checking a trail then needs only the public key, so the
// auditor or the central server that verifies the sensors' trails holds nothing with
// which it could forge one; an HMAC key would have to be on every machine that checks,
// each of which could then rewrite the chain undetectably.

// auditSigContext prefixes what is signed, so that a signature made for an audit record
// means nothing elsewhere the same key might be used.
const auditSigContext = "medscan-audit-sig-v1\n"

// AuditKey is an Ed25519 key for the audit trail: a private key signs records and
// checks them, a public key only checks them. It is never stored, and String shows only
// its identifier.
type AuditKey struct {
	priv ed25519.PrivateKey // nil when only the public half was given
	pub  ed25519.PublicKey
	id   string
}

// ParseAuditKey reads an Ed25519 key in PEM: a PKCS #8 private key ("PRIVATE KEY", as
// written by openssl genpkey -algorithm ed25519) or its public half ("PUBLIC KEY", from
// openssl pkey -pubout). name is the file's name, for errors; an error never quotes the
// file's bytes.
func ParseAuditKey(name string, b []byte) (*AuditKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: not a PEM key: want an Ed25519 private key (openssl genpkey -algorithm ed25519) or its public key", name)
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: a PRIVATE KEY block that does not parse as PKCS #8", name)
		}
		priv, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: a %T, not an Ed25519 key: the audit key must be Ed25519 (openssl genpkey -algorithm ed25519)", name, k)
		}
		return newAuditKey(priv, priv.Public().(ed25519.PublicKey)), nil
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: a PUBLIC KEY block that does not parse", name)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s: a %T, not an Ed25519 key: the audit key must be Ed25519", name, k)
		}
		return newAuditKey(nil, pub), nil
	}
	return nil, fmt.Errorf("%s: a PEM %q block: want PRIVATE KEY or PUBLIC KEY (Ed25519)", name, block.Type)
}

// NewAuditKey makes an AuditKey of an Ed25519 private key.
func NewAuditKey(priv ed25519.PrivateKey) *AuditKey {
	return newAuditKey(priv, priv.Public().(ed25519.PublicKey))
}

func newAuditKey(priv ed25519.PrivateKey, pub ed25519.PublicKey) *AuditKey {
	sum := sha256.Sum256(pub)
	return &AuditKey{priv: priv, pub: pub, id: hex.EncodeToString(sum[:])}
}

// ID names the key: the SHA-256 of its public key, in hexadecimal. Records say which
// key signed them by it.
func (k *AuditKey) ID() string { return k.id }

// CanSign reports whether the key holds its private half.
func (k *AuditKey) CanSign() bool { return k.priv != nil }

// String shows the key's identifier, never the key.
func (k *AuditKey) String() string { return "audit key " + k.id }

// Public is the key reduced to its public half, which checks records but cannot sign.
func (k *AuditKey) Public() *AuditKey { return newAuditKey(nil, k.pub) }

// errAuditKeyPublic is returned when a record is to be signed with a public key.
var errAuditKeyPublic = errors.New("the audit key is a public key: signing records needs the private key")

// sign returns the base64 signature of a record's hash.
func (k *AuditKey) sign(hash string) (string, error) {
	if k.priv == nil {
		return "", errAuditKeyPublic
	}
	return base64.StdEncoding.EncodeToString(ed25519.Sign(k.priv, []byte(auditSigContext+hash))), nil
}

// verify reports whether sig is this key's signature of a record's hash.
func (k *AuditKey) verify(hash, sig string) bool {
	b, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(b) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(k.pub, []byte(auditSigContext+hash), b)
}
