package certrules

import (
	"fmt"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(weakSignature{}) }

// weakSignature flags certificates signed with a broken digest, except self-signed ones:
// a self-signed certificate's signature is made with its own key, so forging it needs
// no collision (whoever holds the key signs what they like, and whoever does not could
// as well make a new self-signed certificate), and no relying party trusts it for its
// signature. A self-signed leaf is what cert-self-signed reports; a self-signed root's
// trust comes from being installed. A certificate issued by a CA (a leaf or an
// intermediate) keeps the finding, since a collision there forges the CA's signature.
type weakSignature struct{}

func (weakSignature) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-weak-signature",
		Covers:  certificateCoverage,
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Title:   "Certificate signed with a weak hash",
		Default: findings.High,
		Rationale: "MD2, MD4, MD5 and SHA-1 collisions are practical (a rogue MD5 CA in 2008, SHAttered and " +
			"chosen-prefix SHA-1 collisions since): a certificate a CA signed with them can be forged, and the " +
			"forgery carries the CA's authority. A self-signed certificate is exempt, leaf or root: its signature " +
			"is made with its own key and vouches for nothing (a root's trust comes from being installed; a " +
			"self-signed leaf is reported by cert-self-signed).",
		Remediation: "Reissue the certificate signed with SHA-256 or better; replace intermediates still signed " +
			"with SHA-1 by their current SHA-256 versions from the CA.",
		References: []string{
			"CA/Browser Forum Baseline Requirements, §7.1.3.2 (signature algorithm identifiers)",
			"NIST SP 800-131A Rev. 2, §9 (SHA-1 disallowed for digital signature generation)",
			"RFC 6151 (MD5) and RFC 6194 (SHA-1) security considerations",
		},
	}
}

// weakHashes are the digests whose collisions are practical.
var weakHashes = map[string]bool{"md2": true, "md4": true, "md5": true, "sha1": true}

func (weakSignature) Check(c *rules.Context) {
	for _, p := range c.Presentations() {
		if !weakHashes[p.Facts.SignatureHash] || p.Facts.SelfSigned {
			continue
		}
		f := finding(p, p.FirstSeen, fmt.Sprintf("%s served %s certificate %s signed with %s",
			p.Describe(), p.ChainRole(), name(p), strings.ToUpper(p.Facts.SignatureHash)))
		f.Evidence["signature_algorithm"] = p.Facts.SignatureAlgorithm
		f.Evidence["signature_hash"] = p.Facts.SignatureHash
		c.Emit(f)
	}
}
