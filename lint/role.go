package lint

import (
	"slices"

	zx509 "github.com/zmap/zcrypto/x509"

	"github.com/medscan/medscan/observe"
)

// Roles a certificate can play (observe.CertFacts.Role). They choose which zlint lints
// apply and which thresholds medscan's own rules use.
const (
	RoleTrustAnchor    = "trust-anchor"    // a self-signed CA certificate
	RoleIntermediate   = "intermediate-ca" // a CA certificate signed by another
	RoleTLSServer      = "tls-server"      // a leaf a TLS server presents
	RoleDeviceIdentity = "device-identity" // a TLS client or device identity leaf (IEEE 802.1AR DevID)
	RoleCodeSigning    = "code-signing"    // a leaf for signing code or firmware
	RoleOther          = "other"           // a leaf none of the above describes
)

// oidHardwareModuleName is the subjectAltName otherName of an IEEE 802.1AR device
// identity (RFC 4108 §5).
const oidHardwareModuleName = "1.3.6.1.5.5.7.8.4"

// roleHints are what decideRole needs of zcrypto's view of a certificate beyond its
// facts: keyUsage keyCertSign and an IEEE 802.1AR hardwareModuleName. Both are
// functions of the DER alone, so the lint cache keeps them beside the facts (cache.go)
// and a certificate read from the cache gets its role decided without being parsed.
type roleHints struct {
	keyCertSign bool
	hwModule    bool
}

// hintsOf reads roleHints from zcrypto's view; nil (zcrypto refused the DER) has none.
func hintsOf(zc *zx509.Certificate) roleHints {
	if zc == nil {
		return roleHints{}
	}
	h := roleHints{keyCertSign: zc.KeyUsage&zx509.KeyUsageCertSign != 0}
	for _, o := range zc.OtherNames {
		if o.TypeID.String() == oidHardwareModuleName {
			h.hwModule = true
		}
	}
	return h
}

// decideRole says what a certificate is for, and why. Extensions speak first, since
// they are what the issuer meant: a CA (basicConstraints cA, or keyCertSign) is a trust
// anchor when self-signed and an intermediate otherwise, and so is a self-signed
// certificate sent above a leaf (version 1 roots carry no extensions). A leaf's use
// decides next: codeSigning alone makes it code signing; served by a server with
// serverAuth (or no EKU) it is a TLS server; sent by a client it is a device identity,
// whatever its EKU. A leaf seen nowhere is what its EKU says (serverAuth a TLS server,
// clientAuth or an 802.1AR hardwareModuleName a device identity). A leaf
// with no EKU read only from a file is "other", never a TLS server by default: zlint's
// TLS rulebook must not land on a device certificate because it lacks an EKU.
func decideRole(f *observe.CertFacts, h roleHints, seen []observe.CertSighting) (string, []string) {
	var why []string
	keyCertSign := h.keyCertSign
	var asServerLeaf, asClientLeaf, aboveLeaf bool
	fromFile := false
	for _, s := range seen {
		if s.Role != "server" && s.Role != "client" {
			// A file's order says nothing about chains: a bundle may hold many leaves.
			fromFile = true
			continue
		}
		switch {
		case s.Position > 0:
			aboveLeaf = true
		case s.Role == "server":
			asServerLeaf = true
		case s.Role == "client":
			asClientLeaf = true
		}
	}
	switch {
	case f.IsCA:
		why = append(why, "basicConstraints cA=TRUE")
	case keyCertSign:
		why = append(why, "keyUsage keyCertSign")
	case aboveLeaf && f.SelfSigned && !asServerLeaf && !asClientLeaf:
		why = append(why, "self-signed and sent above the leaf of a chain")
	}
	if len(why) > 0 {
		if f.SelfSigned {
			return RoleTrustAnchor, append(why, "self-signed")
		}
		if aboveLeaf {
			why = append(why, "sent above the leaf of a chain")
		}
		return RoleIntermediate, why
	}

	has := func(e string) bool { return slices.Contains(f.ExtKeyUsage, e) }
	server, client, code := has("serverAuth"), has("clientAuth"), has("codeSigning")
	for _, e := range []string{"serverAuth", "clientAuth", "codeSigning"} {
		if has(e) {
			why = append(why, "EKU "+e)
		}
	}
	hwModule := h.hwModule
	if hwModule {
		why = append(why, "subjectAltName hardwareModuleName (IEEE 802.1AR)")
	}
	if len(f.ExtKeyUsage) == 0 {
		why = append(why, "no EKU")
	} else if has("any") {
		why = append(why, "EKU anyExtendedKeyUsage")
	}
	if asServerLeaf {
		why = append(why, "sent by a server at position 0")
	}
	if asClientLeaf {
		why = append(why, "sent by a client at position 0")
	}
	if fromFile {
		why = append(why, "read from a file")
	}
	anyEKU := len(f.ExtKeyUsage) == 0 || has("any")
	switch {
	case code && !server && !client:
		return RoleCodeSigning, why
	case asServerLeaf && (server || anyEKU):
		return RoleTLSServer, why
	case asClientLeaf:
		// A client's leaf identifies the client, whatever its EKU claims.
		return RoleDeviceIdentity, why
	case server && !client:
		return RoleTLSServer, why
	case client || hwModule:
		return RoleDeviceIdentity, why
	case asServerLeaf:
		// Served although its EKU names neither TLS purpose: judged as what it was used as.
		return RoleTLSServer, why
	}
	return RoleOther, why
}
