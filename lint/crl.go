package lint

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// MaxCRLBytes bounds a CRL file: a site CA's list of revoked device certificates is
// kilobytes to a few megabytes; a public CA's largest are tens of megabytes.
const MaxCRLBytes = 64 << 20

// CRL is a certificate revocation list the site named in its policy (files only: medscan
// fetches nothing). Revoked is by serial number (lowercase hex, no leading zeros, as
// big.Int renders it). Whether a certificate vouches for the list is Signer's to say: a
// list none verifies is still the site's statement, and the findings say it was not
// verified.
type CRL struct {
	File       string
	SHA256     string
	Issuer     string // as crypto/x509 renders it
	ThisUpdate time.Time
	NextUpdate time.Time // zero when the list has none
	Number     string
	Revoked    map[string]Revoked

	rawIssuer []byte
	list      *x509.RevocationList
}

// Revoked is one entry of a CRL.
type Revoked struct {
	Date   time.Time
	Reason string // RFC 5280 §5.3.1 name; "" when the entry gives none
}

// reasons are RFC 5280 §5.3.1's CRLReason values by code.
var reasons = map[int]string{0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged",
	4: "superseded", 5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn",
	10: "aACompromise"}

// ParseCRL reads a CRL in DER or PEM ("X509 CRL"); file names it in errors.
func ParseCRL(file string, data []byte) (*CRL, error) {
	if len(data) > MaxCRLBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a CRL medscan reads", file, MaxCRLBytes>>20)
	}
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nil, fmt.Errorf("%s: a PEM %q block, not an X509 CRL", file, b.Type)
		}
		der = b.Bytes
	} else if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		return nil, fmt.Errorf("%s: PEM that does not decode", file)
	}
	list, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%s: not a CRL: %w", file, err)
	}
	sum := sha256.Sum256(der)
	c := &CRL{File: file, SHA256: hex.EncodeToString(sum[:]), Issuer: list.Issuer.String(), ThisUpdate: list.ThisUpdate.UTC(),
		NextUpdate: list.NextUpdate.UTC(), Revoked: map[string]Revoked{}, rawIssuer: list.RawIssuer, list: list}
	if list.Number != nil {
		c.Number = list.Number.Text(16)
	}
	for _, e := range list.RevokedCertificateEntries {
		if e.SerialNumber == nil {
			continue
		}
		c.Revoked[e.SerialNumber.Text(16)] = Revoked{Date: e.RevocationTime.UTC(), Reason: reasons[e.ReasonCode]}
	}
	return c, nil
}

// Signer looks among candidates (DER certificates: the anchors, the certificates seen)
// for the list's issuer, one named as its issuer whose key verifies its signature, and
// returns its subject; "" when none does. A CRL is read once and judged many times (a
// live scan's checkpoints), so it keeps no verdict of its own.
func (c *CRL) Signer(candidates [][]byte) string {
	for _, der := range candidates {
		r, err := readCert(der)
		if err != nil || !bytes.Equal(r.subject, c.rawIssuer) {
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		if c.list.CheckSignatureFrom(cert) == nil {
			return cert.Subject.String()
		}
	}
	return ""
}

// Revocation is what the CRLs say of one certificate.
type Revocation struct {
	// Status is "revoked", "good" (a list from its issuer does not name it) or "" (no
	// list from its issuer: not covered).
	Status string
	CRL    *CRL
	Entry  Revoked
}

// RevocationOf checks the certificate der against crls: the lists whose issuer is the
// certificate's issuer (by the encoded name); of several that do not name it, the
// newest is the one reported.
func RevocationOf(der []byte, crls []*CRL) Revocation {
	r, err := readCert(der)
	// A self-issued certificate (a root) is not covered by the lists it signs.
	if err != nil || len(crls) == 0 || bytes.Equal(r.subject, r.issuer) {
		return Revocation{}
	}
	serial := new(big.Int).SetBytes(r.serial)
	if len(r.serial) > 0 && r.serial[0]&0x80 != 0 { // a negative serial, as some devices issue
		serial.Sub(serial, new(big.Int).Lsh(big.NewInt(1), uint(8*len(r.serial))))
	}
	key := serial.Text(16)
	var best Revocation
	for _, c := range crls {
		if !bytes.Equal(c.rawIssuer, r.issuer) {
			continue
		}
		if e, ok := c.Revoked[key]; ok {
			return Revocation{Status: "revoked", CRL: c, Entry: e}
		}
		if best.CRL == nil || c.ThisUpdate.After(best.CRL.ThisUpdate) {
			best = Revocation{Status: "good", CRL: c}
		}
	}
	return best
}
