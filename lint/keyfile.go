package lint

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
)

// What a file that holds no certificate holds, as medscan lint counts what it skipped.
const (
	MaterialPrivateKey = "private-key" // PKCS #8, PKCS #1, SEC1, DSA or OpenSSH, encrypted or not
	MaterialCSR        = "csr"         // a PKCS #10 certificate signing request
)

// Material is one piece of key material found in a certificate folder: a private key or
// a certificate signing request. Only what it is and whether it is encrypted are kept,
// never the bytes.
type Material struct {
	Kind      string // MaterialPrivateKey or MaterialCSR
	Encrypted bool   // a private key under a passphrase (ENCRYPTED PRIVATE KEY, Proc-Type: 4,ENCRYPTED)
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
			enc := b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED"
			out = append(out, Material{Kind: kind, Encrypted: kind == MaterialPrivateKey && enc})
		}
		return out
	}
	if len(data) == 0 || data[0] != 0x30 {
		return nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(data); err == nil {
		return []Material{{Kind: MaterialPrivateKey}}
	}
	if _, err := x509.ParsePKCS1PrivateKey(data); err == nil {
		return []Material{{Kind: MaterialPrivateKey}}
	}
	if _, err := x509.ParseECPrivateKey(data); err == nil {
		return []Material{{Kind: MaterialPrivateKey}}
	}
	if _, err := x509.ParseCertificateRequest(data); err == nil {
		return []Material{{Kind: MaterialCSR}}
	}
	if encryptedPKCS8(data) {
		return []Material{{Kind: MaterialPrivateKey, Encrypted: true}}
	}
	return nil
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
