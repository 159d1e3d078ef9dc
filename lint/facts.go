package lint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"slices"
	"strings"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"

	"github.com/medscan/medscan/observe"
)

// Facts parses one DER certificate into the facts rules judge. It never fails: a
// certificate that zcrypto refuses gets ParseError and whatever the DER reader could
// still take out of it (names, validity, key, signature algorithm).
func Facts(der []byte) *observe.CertFacts {
	f, _, _ := facts(der)
	return f
}

// zcryptoRefused begins ParseError when zcrypto refused the certificate (path building
// reads it: such a certificate is verified by hand or not at all).
const zcryptoRefused = "x509: "

// facts is Facts that also returns what it parsed, for the role and zlint stages: the
// structure reader's view (never nil) and zcrypto's (nil when it refused the DER).
func facts(der []byte) (*observe.CertFacts, *rawCert, *zx509.Certificate) {
	f := &observe.CertFacts{}
	r, rawErr := readCert(der)
	zc, zErr := zx509.ParseCertificate(der)
	if zErr != nil {
		zc = nil
		f.ParseError = zcryptoRefused + strings.TrimPrefix(zErr.Error(), "x509: ")
	} else if rawErr != nil {
		// zcrypto took it but the structure reader stopped early: keep the reason, since
		// some facts below come from zcrypto's view instead.
		f.ParseError = "der: " + rawErr.Error()
	}

	var subjOK, issOK bool
	if r.subject != nil {
		f.Subject, subjOK = rfc4514(r.subject)
	}
	if r.issuer != nil {
		f.Issuer, issOK = rfc4514(r.issuer)
	}
	if len(r.serial) > 0 {
		f.SerialHex = serialHex(r.serial)
	}

	switch {
	case r.haveTimes:
		f.NotBefore, f.NotAfter = r.notBefore, r.notAfter
	case zc != nil:
		f.NotBefore, f.NotAfter = zc.NotBefore.UTC(), zc.NotAfter.UTC()
	}
	if !f.NotBefore.IsZero() || !f.NotAfter.IsZero() {
		f.ValidityDays = validityDays(f.NotBefore, f.NotAfter)
	}

	var k keyFacts
	if r.keyAlg != nil {
		k = readKey(r.keyAlg, r.keyParams, r.keyBits)
		sum := sha256.Sum256(r.spki)
		f.SPKISHA256 = hex.EncodeToString(sum[:])
	} else {
		k = keyFacts{typ: "unknown"}
	}
	f.KeyType, f.KeyBits, f.RSAExponent, f.Curve = k.typ, k.bits, k.exponent, k.curve

	sig := readSigAlg(r.sigAlg, r.sigParams)
	f.SignatureAlgorithm, f.SignatureHash = sig.name, sig.hash

	f.IsCA = r.basicConstraints && r.isCA
	f.DNSNames = r.dnsNames
	f.IPAddresses = r.ipAddresses
	f.ExtKeyUsage = r.extKeyUsage
	if zc != nil && rawErr != nil {
		// The DER reader stopped before the extensions; zcrypto's view fills them.
		f.IsCA = zc.BasicConstraintsValid && zc.IsCA
		f.DNSNames = slices.Clone(zc.DNSNames)
		for _, ip := range zc.IPAddresses {
			f.IPAddresses = append(f.IPAddresses, ip.String())
		}
	}

	sameName := (r.subject != nil && bytes.Equal(r.subject, r.issuer)) ||
		(subjOK && issOK && f.Subject != "" && f.Subject == f.Issuer)
	switch {
	case zc != nil && zc.SelfSigned:
		// zcrypto already verified the self-signature while parsing; do not pay twice.
		f.SelfSigned = true
	case sameName && r.tbs != nil && r.signature != nil:
		f.SelfSigned = selfSignatureVerifies(r, k, sig, zc)
	}
	return f, r, zc
}

// validityDays is the whole number of days between the bounds, rounded toward minus
// infinity like Python's timedelta.days (which produced the corpus's validity_days).
// It works on Unix seconds because a time.Duration overflows past 292 years, and
// certificates valid until 9999 exist.
func validityDays(nb, na time.Time) int {
	secs := na.Unix() - nb.Unix()
	d := secs / 86400
	if secs%86400 != 0 && secs < 0 {
		d--
	}
	return int(d)
}

// serialHex writes a serial number (INTEGER content octets, two's complement) in hex. RFC
// 5280 requires a positive serial, but certificates with negative ones exist; they are
// shown with a minus sign, as what they are, rather than as a misleading positive number.
func serialHex(b []byte) string {
	if b[0]&0x80 == 0 {
		if len(b) > 1 && b[0] == 0 {
			b = b[1:]
		}
		return hex.EncodeToString(b)
	}
	n := new(big.Int).SetBytes(b)
	n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	return "-" + hex.EncodeToString(new(big.Int).Neg(n).Bytes())
}
