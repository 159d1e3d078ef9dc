package lint

import (
	encasn1 "encoding/asn1"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// keyFacts are the public-key facts read from a SubjectPublicKeyInfo.
type keyFacts struct {
	typ      string // "rsa", "ecdsa", "dsa", "ed25519", "unknown"
	bits     int
	exponent int
	curve    string
	n, e     *big.Int // RSA only, for verifying self-signatures by hand
}

// curveInfo names an elliptic curve and gives its size in bits.
type curveInfo struct {
	name string
	bits int
}

// curves covers the named curves seen in certificates, including ones zcrypto refuses to
// parse (secp256k1, brainpool, the 192-bit curve), so that a weak curve is still sized.
var curves = map[string]curveInfo{
	"1.2.840.10045.3.1.1":   {"P-192", 192},
	"1.3.132.0.33":          {"P-224", 224},
	"1.2.840.10045.3.1.7":   {"P-256", 256},
	"1.3.132.0.34":          {"P-384", 384},
	"1.3.132.0.35":          {"P-521", 521},
	"1.3.132.0.10":          {"secp256k1", 256},
	"1.3.132.0.31":          {"secp192k1", 192},
	"1.3.132.0.32":          {"secp224k1", 224},
	"1.3.132.0.6":           {"secp112r1", 112},
	"1.3.132.0.8":           {"secp160r1", 160},
	"1.3.132.0.9":           {"secp160k1", 160},
	"1.3.36.3.3.2.8.1.1.3":  {"brainpoolP192r1", 192},
	"1.3.36.3.3.2.8.1.1.5":  {"brainpoolP224r1", 224},
	"1.3.36.3.3.2.8.1.1.7":  {"brainpoolP256r1", 256},
	"1.3.36.3.3.2.8.1.1.9":  {"brainpoolP320r1", 320},
	"1.3.36.3.3.2.8.1.1.11": {"brainpoolP384r1", 384},
	"1.3.36.3.3.2.8.1.1.13": {"brainpoolP512r1", 512},
	"1.2.156.10197.1.301":   {"SM2", 256},
}

// Public key algorithm OIDs.
const (
	oidKeyRSA     = "1.2.840.113549.1.1.1"
	oidKeyRSAPSS  = "1.2.840.113549.1.1.10"
	oidKeyDSA     = "1.2.840.10040.4.1"
	oidKeyEC      = "1.2.840.10045.2.1"
	oidKeyEd25519 = "1.3.101.112"
)

// readKey reads the key facts; what cannot be read stays zero, with type "unknown" when
// even the algorithm is not recognised.
func readKey(alg encasn1.ObjectIdentifier, params cryptobyte.String, key []byte) keyFacts {
	k := keyFacts{typ: "unknown"}
	switch alg.String() {
	case oidKeyRSA, oidKeyRSAPSS:
		k.typ = "rsa"
		in := cryptobyte.String(key)
		var seq cryptobyte.String
		n, e := new(big.Int), new(big.Int)
		if !in.ReadASN1(&seq, asn1.SEQUENCE) || !readUnsigned(&seq, n) || !readUnsigned(&seq, e) {
			return k
		}
		k.bits = n.BitLen()
		if e.IsInt64() && e.Int64() <= 1<<31-1 {
			k.exponent = int(e.Int64())
		}
		k.n, k.e = n, e
	case oidKeyDSA:
		k.typ = "dsa"
		var seq cryptobyte.String
		p := new(big.Int)
		if params.ReadASN1(&seq, asn1.SEQUENCE) && readUnsigned(&seq, p) {
			k.bits = p.BitLen()
		}
	case oidKeyEC:
		k.typ = "ecdsa"
		var curve encasn1.ObjectIdentifier
		switch {
		case params.PeekASN1Tag(asn1.OBJECT_IDENTIFIER) && params.ReadASN1ObjectIdentifier(&curve):
			if c, ok := curves[curve.String()]; ok {
				k.curve, k.bits = c.name, c.bits
			} else {
				k.curve = curve.String()
			}
		case params.PeekASN1Tag(asn1.SEQUENCE):
			// Explicit parameters (RFC 3279 ECParameters): size the curve by its field prime.
			k.curve = "explicit"
			var ecp, field cryptobyte.String
			var ver int64
			var ftype encasn1.ObjectIdentifier
			p := new(big.Int)
			if params.ReadASN1(&ecp, asn1.SEQUENCE) && ecp.ReadASN1Integer(&ver) &&
				ecp.ReadASN1(&field, asn1.SEQUENCE) && field.ReadASN1ObjectIdentifier(&ftype) &&
				ftype.String() == "1.2.840.10045.1.1" && readUnsigned(&field, p) {
				k.bits = p.BitLen()
			}
		}
	case oidKeyEd25519:
		k.typ, k.bits, k.curve = "ed25519", 256, "Ed25519"
	}
	return k
}

// readUnsigned reads an INTEGER as a non-negative big integer, tolerating the
// non-minimal encodings some old devices produce (which cryptobyte's own reader refuses).
func readUnsigned(s *cryptobyte.String, out *big.Int) bool {
	var b cryptobyte.String
	if !s.ReadASN1(&b, asn1.INTEGER) || len(b) == 0 {
		return false
	}
	out.SetBytes(b)
	return true
}

// sigInfo names a signature algorithm and its digest.
type sigInfo struct {
	name string // zcrypto's names where it has one ("SHA1-RSA")
	hash string
}

// sigAlgs maps signature algorithm OIDs to names and digests.
var sigAlgs = map[string]sigInfo{
	"1.2.840.113549.1.1.2":   {"MD2-RSA", "md2"},
	"1.2.840.113549.1.1.3":   {"MD4-RSA", "md4"},
	"1.2.840.113549.1.1.4":   {"MD5-RSA", "md5"},
	"1.2.840.113549.1.1.5":   {"SHA1-RSA", "sha1"},
	"1.3.14.3.2.29":          {"SHA1-RSA", "sha1"},
	"1.2.840.113549.1.1.14":  {"SHA224-RSA", "sha224"},
	"1.2.840.113549.1.1.11":  {"SHA256-RSA", "sha256"},
	"1.2.840.113549.1.1.12":  {"SHA384-RSA", "sha384"},
	"1.2.840.113549.1.1.13":  {"SHA512-RSA", "sha512"},
	"1.2.840.10040.4.3":      {"DSA-SHA1", "sha1"},
	"2.16.840.1.101.3.4.3.1": {"DSA-SHA224", "sha224"},
	"2.16.840.1.101.3.4.3.2": {"DSA-SHA256", "sha256"},
	"1.2.840.10045.4.1":      {"ECDSA-SHA1", "sha1"},
	"1.2.840.10045.4.3.1":    {"ECDSA-SHA224", "sha224"},
	"1.2.840.10045.4.3.2":    {"ECDSA-SHA256", "sha256"},
	"1.2.840.10045.4.3.3":    {"ECDSA-SHA384", "sha384"},
	"1.2.840.10045.4.3.4":    {"ECDSA-SHA512", "sha512"},
	"1.3.101.112":            {"Ed25519", "none"},
	"1.3.101.113":            {"Ed448", "none"},
}

// hashOIDs maps digest algorithm OIDs (as used inside RSASSA-PSS parameters) to names.
var hashOIDs = map[string]string{
	"1.3.14.3.2.26":          "sha1",
	"2.16.840.1.101.3.4.2.4": "sha224",
	"2.16.840.1.101.3.4.2.1": "sha256",
	"2.16.840.1.101.3.4.2.2": "sha384",
	"2.16.840.1.101.3.4.2.3": "sha512",
	"1.2.840.113549.2.5":     "md5",
}

var pssNames = map[string]string{
	"sha1": "SHA1-RSAPSS", "sha224": "SHA224-RSAPSS", "sha256": "SHA256-RSAPSS",
	"sha384": "SHA384-RSAPSS", "sha512": "SHA512-RSAPSS", "md5": "MD5-RSAPSS",
}

// readSigAlg names the signature algorithm. RSASSA-PSS carries its digest in the
// parameters, defaulting to SHA-1 (RFC 4055 §3.1), which is what makes a PSS signature
// weak or not.
func readSigAlg(oid encasn1.ObjectIdentifier, params cryptobyte.String) sigInfo {
	s := oid.String()
	if s == "1.2.840.113549.1.1.10" {
		h := "sha1"
		var seq, hashAlg cryptobyte.String
		var present bool
		var hoid encasn1.ObjectIdentifier
		if params.ReadASN1(&seq, asn1.SEQUENCE) &&
			seq.ReadOptionalASN1(&hashAlg, &present, asn1.Tag(0).Constructed().ContextSpecific()) && present {
			var alg cryptobyte.String
			h = ""
			if hashAlg.ReadASN1(&alg, asn1.SEQUENCE) && alg.ReadASN1ObjectIdentifier(&hoid) {
				h = hashOIDs[hoid.String()]
			}
		}
		if n, ok := pssNames[h]; ok {
			return sigInfo{n, h}
		}
		return sigInfo{"RSAPSS", h}
	}
	if i, ok := sigAlgs[s]; ok {
		return i
	}
	if len(oid) == 0 {
		return sigInfo{}
	}
	return sigInfo{name: s}
}
