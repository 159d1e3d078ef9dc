package certrules

import (
	"fmt"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(weakSignature{}) }

// weakSignature flags certificates signed with a broken digest, except self-signed trust
// anchors, whose own signature no relying party checks.
type weakSignature struct{}

func (weakSignature) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-weak-signature",
		Covers:  certificateCoverage,
		Title:   "Certificate signed with a weak hash",
		Default: findings.High,
		Rationale: "MD2, MD4, MD5 and SHA-1 collisions are practical (a rogue MD5 CA in 2008, SHAttered and " +
			"chosen-prefix SHA-1 collisions since): a certificate signed with them can be forged. A " +
			"self-signed trust anchor is exempt, since its trust comes from being installed, not from its signature.",
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
		if !weakHashes[p.Facts.SignatureHash] || p.TrustAnchor() {
			continue
		}
		f := finding(p, p.FirstSeen, fmt.Sprintf("%s served %s certificate %s signed with %s",
			p.Describe(), p.ChainRole(), name(p), strings.ToUpper(p.Facts.SignatureHash)))
		f.Evidence["signature_algorithm"] = p.Facts.SignatureAlgorithm
		f.Evidence["signature_hash"] = p.Facts.SignatureHash
		c.Emit(f)
	}
}
