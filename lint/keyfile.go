package lint

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"

	"github.com/medscan/medscan/observe"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ssh"
)

// What a file that holds no certificate holds, as medscan lint counts what it skipped.
const (
	MaterialPrivateKey = "private-key" // PKCS #8, PKCS #1, SEC1, DSA or OpenSSH, encrypted or not
	MaterialCSR        = "csr"         // a PKCS #10 certificate signing request
)

// The encodings of a private key (Material.Format).
const (
	FormatPKCS8   = "pkcs8"   // PRIVATE KEY, ENCRYPTED PRIVATE KEY (RFC 5958)
	FormatPKCS1   = "pkcs1"   // RSA PRIVATE KEY (RFC 8017)
	FormatSEC1    = "sec1"    // EC PRIVATE KEY (RFC 5915)
	FormatDSA     = "dsa"     // OpenSSL's DSA PRIVATE KEY
	FormatOpenSSH = "openssh" // OPENSSH PRIVATE KEY (openssh-key-v1)
)

// Material is one piece of key material found in a certificate folder: a private key or
// a certificate signing request. What it is and, for a private key, what its public half
// says are kept, never the private bytes: rules judge a key left beside the
// certificates by these facts alone.
type Material struct {
	Kind      string // MaterialPrivateKey or MaterialCSR
	Encrypted bool   // a private key under a passphrase (ENCRYPTED PRIVATE KEY, Proc-Type: 4,ENCRYPTED, an OpenSSH cipher)
	// Format is a private key's encoding (Format*), "" for a request.
	Format string
	// KeyType, KeyBits and Curve describe a private key as CertFacts describes a
	// certificate's key ("rsa", "ecdsa", "dsa", "ed25519", "unknown"), read by the same
	// reader from the public key derived from it; an encrypted key tells only what its
	// encoding names (an encrypted RSA PRIVATE KEY is "rsa" of unknown size).
	KeyType string
	KeyBits int
	Curve   string
	// SPKISHA256 is the hex SHA-256 of the public key's SubjectPublicKeyInfo, as
	// CertFacts.SPKISHA256, so that the key is matched with its certificate; "" when the
	// public key cannot be read (an encrypted PKCS #8 or PEM key, a key Go does not parse).
	SPKISHA256 string
}

// pemMaterial are the PEM block types of private keys and requests.
var pemMaterial = map[string]string{
	"PRIVATE KEY":             MaterialPrivateKey,
	"ENCRYPTED PRIVATE KEY":   MaterialPrivateKey,
	"RSA PRIVATE KEY":         MaterialPrivateKey,
	"EC PRIVATE KEY":          MaterialPrivateKey,
	"DSA PRIVATE KEY":         MaterialPrivateKey,
	"OPENSSH PRIVATE KEY":     MaterialPrivateKey,
	"CERTIFICATE REQUEST":     MaterialCSR,
	"NEW CERTIFICATE REQUEST": MaterialCSR,
}

// FindMaterial returns the private keys and requests a file holds: its PEM blocks of
// those types, or, for a DER file, the whole file when it parses as a PKCS #8 (plain or
// encrypted), PKCS #1 or SEC1 private key or a PKCS #10 request. A file of certificates
// alone gives none.
func FindMaterial(data []byte) []Material {
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		var out []Material
		for rest := data; len(rest) > 0; {
			b, r := pem.Decode(rest)
			if b == nil {
				break
			}
			rest = r
			kind, ok := pemMaterial[b.Type]
			if !ok {
				continue
			}
			if kind == MaterialCSR {
				out = append(out, Material{Kind: MaterialCSR})
				continue
			}
			out = append(out, pemKey(b))
		}
		return out
	}
	if len(data) == 0 || data[0] != 0x30 {
		return nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(data); err == nil {
		return []Material{privateKey(FormatPKCS8, k)}
	}
	if k, err := x509.ParsePKCS1PrivateKey(data); err == nil {
		return []Material{privateKey(FormatPKCS1, k)}
	}
	if k, err := x509.ParseECPrivateKey(data); err == nil {
		return []Material{privateKey(FormatSEC1, k)}
	}
	if _, err := x509.ParseCertificateRequest(data); err == nil {
		return []Material{{Kind: MaterialCSR}}
	}
	if encryptedPKCS8(data) {
		return []Material{{Kind: MaterialPrivateKey, Encrypted: true, Format: FormatPKCS8, KeyType: "unknown"}}
	}
	return nil
}

// pemKey describes the private key of one PEM block.
func pemKey(b *pem.Block) Material {
	legacy := b.Headers["Proc-Type"] == "4,ENCRYPTED" // RFC 1421 encryption of a PKCS #1, SEC1 or DSA key
	enc := func(format, typ string) Material {
		return Material{Kind: MaterialPrivateKey, Encrypted: true, Format: format, KeyType: typ}
	}
	plain := func(format string, k any, err error) Material {
		if err != nil {
			return Material{Kind: MaterialPrivateKey, Format: format, KeyType: "unknown"}
		}
		return privateKey(format, k)
	}
	switch b.Type {
	case "ENCRYPTED PRIVATE KEY":
		return enc(FormatPKCS8, "unknown")
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		return plain(FormatPKCS8, k, err)
	case "RSA PRIVATE KEY":
		if legacy {
			return enc(FormatPKCS1, "rsa")
		}
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		return plain(FormatPKCS1, k, err)
	case "EC PRIVATE KEY":
		if legacy {
			return enc(FormatSEC1, "ecdsa")
		}
		k, err := x509.ParseECPrivateKey(b.Bytes)
		return plain(FormatSEC1, k, err)
	case "DSA PRIVATE KEY":
		if legacy {
			return enc(FormatDSA, "dsa")
		}
		m := Material{Kind: MaterialPrivateKey, Format: FormatDSA, KeyType: "dsa"}
		if spki := dsaSPKI(b.Bytes); spki != nil {
			m = withSPKI(m, spki)
		}
		return m
	case "OPENSSH PRIVATE KEY":
		return opensshKey(b)
	}
	return Material{Kind: MaterialPrivateKey, KeyType: "unknown"}
}

// privateKey describes a parsed private key by its public half; the private key itself
// goes no further than this call.
func privateKey(format string, key any) Material {
	m := Material{Kind: MaterialPrivateKey, Format: format, KeyType: "unknown"}
	if s, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		m = withPublic(m, s.Public())
	}
	return m
}

// withPublic fills the key facts of m from a public key, through its SubjectPublicKeyInfo.
func withPublic(m Material, pub crypto.PublicKey) Material {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return m
	}
	return withSPKI(m, spki)
}

// withSPKI fills the key facts of m from a SubjectPublicKeyInfo, read as a certificate's
// key is read (readKey), so that a key file and its certificate are described alike.
func withSPKI(m Material, spki []byte) Material {
	in := cryptobyte.String(spki)
	var body, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) || !body.ReadASN1BitString(&bits) {
		return m
	}
	k := readKey(oid, alg, bits.RightAlign())
	sum := sha256.Sum256(spki)
	m.KeyType, m.KeyBits, m.Curve, m.SPKISHA256 = k.typ, k.bits, k.curve, hex.EncodeToString(sum[:])
	return m
}

// dsaSPKI builds the SubjectPublicKeyInfo (RFC 3279 §2.3.2) of an OpenSSL DSA private
// key, SEQUENCE { version, p, q, g, y, x }, which crypto/x509 neither parses nor
// marshals; nil when it is not one.
func dsaSPKI(der []byte) []byte {
	var k struct {
		Version       int
		P, Q, G, Y, X *big.Int
	}
	if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) != 0 || k.P == nil || k.Y == nil {
		return nil
	}
	params, err1 := asn1.Marshal(struct{ P, Q, G *big.Int }{k.P, k.Q, k.G})
	y, err2 := asn1.Marshal(k.Y)
	spki, err3 := asn1.Marshal(struct {
		Alg struct {
			OID    asn1.ObjectIdentifier
			Params asn1.RawValue
		}
		Key asn1.BitString
	}{Alg: struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}, asn1.RawValue{FullBytes: params}},
		Key: asn1.BitString{Bytes: y, BitLength: 8 * len(y)}})
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil
	}
	return spki
}

// opensshKey describes an OpenSSH private key. Its public key is stored in clear even
// when the private part is encrypted, so an encrypted one is still matched with its
// certificate.
func opensshKey(b *pem.Block) Material {
	m := Material{Kind: MaterialPrivateKey, Format: FormatOpenSSH, KeyType: "unknown"}
	var pub ssh.PublicKey
	signer, err := ssh.ParsePrivateKey(pem.EncodeToMemory(b))
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		pub = signer.PublicKey()
	case errors.As(err, &missing):
		m.Encrypted, pub = true, missing.PublicKey
	default:
		return m
	}
	if cp, ok := pub.(ssh.CryptoPublicKey); ok {
		m = withPublic(m, cp.CryptoPublicKey())
	}
	return m
}

// encryptedPKCS8 reports whether DER is an EncryptedPrivateKeyInfo (RFC 5958 §3):
// SEQUENCE { AlgorithmIdentifier (a PKCS #5 scheme), OCTET STRING }, nothing after.
func encryptedPKCS8(data []byte) bool {
	var epki struct {
		Algo struct {
			OID    asn1.ObjectIdentifier
			Params asn1.RawValue `asn1:"optional"`
		}
		Data []byte
	}
	rest, err := asn1.Unmarshal(data, &epki)
	// 1.2.840.113549.1.5 is PKCS #5 (PBES1, PBES2), 1.2.840.113549.1.12.1 PKCS #12 PBE.
	pkcs5 := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}
	pkcs12 := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
	under := func(o, arc asn1.ObjectIdentifier) bool { return len(o) > len(arc) && o[:len(arc)].Equal(arc) }
	return err == nil && len(rest) == 0 && len(epki.Data) > 0 && (under(epki.Algo.OID, pkcs5) || under(epki.Algo.OID, pkcs12))
}

// MatchKeyFiles lists, on every key file of the set whose public key is known, the
// certificates of the set that carry that key (by SPKI SHA-256, at most
// observe.MaxKeyFileCertificates, sorted): the key of a certificate seen in the same run.
// Certificates must have been examined first.
func MatchKeyFiles(set *observe.Set) {
	if set == nil || len(set.KeyFiles) == 0 {
		return
	}
	bySPKI := map[string][]string{}
	for ref, c := range set.Certificates {
		if c.Facts != nil && c.Facts.SPKISHA256 != "" {
			bySPKI[c.Facts.SPKISHA256] = append(bySPKI[c.Facts.SPKISHA256], ref.String())
		}
	}
	for _, k := range set.KeyFiles {
		certs := bySPKI[k.SPKISHA256]
		if k.SPKISHA256 == "" || len(certs) == 0 {
			continue
		}
		slices.Sort(certs)
		k.Certificates = slices.Clone(certs[:min(len(certs), observe.MaxKeyFileCertificates)])
	}
}
