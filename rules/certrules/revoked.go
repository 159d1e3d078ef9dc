package certrules

import (
	"fmt"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() {
	rules.Register(revoked{})
	rules.Register(revocationStale{})
}

// revoked flags a certificate that a CRL named in the policy revokes, still presented
// (or still in a certificate folder). Silent without CRLs in the policy.
type revoked struct{}

func (revoked) Meta() rules.Meta {
	return rules.Meta{
		ID:      "cert-revoked",
		Owner:   findings.OwnerClinicalEngineering,
		Risk:    findings.RiskImpersonation,
		Covers:  certificateCoverage,
		Title:   "Revoked certificate still in use",
		Default: findings.Critical,
		Rationale: "A certificate is revoked because its key was compromised, its device retired or its " +
			"holder no longer entitled to it. Still presented, it means either that the key a CA declared " +
			"unsafe is still in service, or that an attacker holding it impersonates the device or server; " +
			"and every peer that accepts it checks no revocation at all. The lists are the ones the site names " +
			"in its policy (revocation.crls), and the OCSP responses servers staple in their handshakes; " +
			"medscan fetches none.",
		Remediation: "Replace the certificate and its key on the device or server now, find out why it was " +
			"revoked (key compromise first), and make the peers check revocation (CRL or OCSP stapling) so a " +
			"revoked certificate is refused.",
		References: []string{
			"RFC 5280, §3.3 and §5 (certificate revocation lists)",
			"NIST SP 800-52 Rev. 2, §4.5.3 (revocation checking by TLS clients)",
			"IEC 62443-4-2, CR 1.9 (strength of public key-based authentication: revocation status)",
		},
	}
}

// crlEvidence describes a CRL for evidence.
func crlEvidence(crl *lint.CRL, signer string, ev map[string]any) {
	ev["crl_file"] = crl.File
	ev["crl_sha256"] = crl.SHA256
	ev["crl_issuer"] = crl.Issuer
	ev["crl_this_update"] = rules.TimeString(crl.ThisUpdate)
	ev["crl_next_update"] = rules.TimeString(crl.NextUpdate)
	if signer != "" {
		ev["crl_signature"] = "verified with " + signer
	} else {
		ev["crl_signature"] = "not verified: the issuer's certificate was not among the anchors or the certificates seen"
	}
}

// stapleKey is a server leaf as the sessions that stapled a response for it name it.
type stapleKey struct {
	ep   observe.Endpoint
	leaf observe.CertRef
}

// staples are the latest OCSP response each server stapled for its leaf, with the time
// of the session that carried it.
func staples(set *observe.Set) map[stapleKey]*observe.TLSSession {
	out := map[stapleKey]*observe.TLSSession{}
	for _, s := range set.TLSSessions {
		if s.OCSPStaple == nil || len(s.ServerChain) == 0 {
			continue
		}
		k := stapleKey{s.Flow.Server, s.ServerChain[0]}
		if o := out[k]; o == nil || s.LastSeen.After(o.LastSeen) {
			out[k] = s
		}
	}
	return out
}

// stapleEvidence describes a stapled response for evidence.
func stapleEvidence(st *observe.OCSPStaple, ev map[string]any) {
	ev["ocsp_status"] = st.Status
	ev["ocsp_produced_at"] = rules.TimeString(st.ProducedAt)
	ev["ocsp_this_update"] = rules.TimeString(st.ThisUpdate)
	ev["ocsp_next_update"] = rules.TimeString(st.NextUpdate)
	ev["ocsp_serial"] = st.Serial
	if st.Verified {
		ev["ocsp_signature"] = "verified with the issuer the server sent"
	} else {
		ev["ocsp_signature"] = "not verified: the server sent no issuer that signed it"
	}
}

func (revoked) Check(c *rules.Context) {
	stapled := staples(c.Set)
	for _, p := range c.Presentations() {
		if p.Role != "server" || p.Position != 0 {
			continue
		}
		s := stapled[stapleKey{p.Endpoint, p.Cert.SHA256}]
		if s == nil || s.OCSPStaple.Status != "revoked" || !s.OCSPStaple.ForLeaf {
			continue
		}
		st := s.OCSPStaple
		why := ""
		if st.Reason != "" {
			why = " (" + st.Reason + ")"
		}
		f := finding(p, s.LastSeen, fmt.Sprintf("%s presented leaf certificate %s and stapled its own OCSP response saying it was revoked on %s%s",
			p.Describe(), name(p), date(st.RevokedAt), why))
		f.Evidence["revoked_at"] = rules.TimeString(st.RevokedAt)
		f.Evidence["revocation_reason"] = st.Reason
		stapleEvidence(st, f.Evidence)
		c.Emit(f)
	}
	if len(c.Policy.CRLs) == 0 {
		return
	}
	signers := c.CRLSigners()
	for _, p := range c.Presentations() {
		rv := lint.RevocationOf(p.Cert.DER, c.Policy.CRLs)
		if rv.Status != "revoked" {
			continue
		}
		why := ""
		if rv.Entry.Reason != "" {
			why = " (" + rv.Entry.Reason + ")"
		}
		f := finding(p, p.LastSeen, fmt.Sprintf("%s presented %s certificate %s, revoked on %s%s by %s",
			p.Describe(), p.ChainRole(), name(p), date(rv.Entry.Date), why, rv.CRL.File))
		f.Evidence["revoked_at"] = rules.TimeString(rv.Entry.Date)
		f.Evidence["revocation_reason"] = rv.Entry.Reason
		crlEvidence(rv.CRL, signers[rv.CRL], f.Evidence)
		c.Emit(f)
	}
}

// revocationStale flags a CRL of the policy whose nextUpdate had passed when the scan
// saw the certificates it covers: a peer that checks it fails open or closed, and a
// certificate revoked since is not in it.
type revocationStale struct{}

func (revocationStale) Meta() rules.Meta {
	return rules.Meta{
		ID:      "revocation-stale",
		Owner:   findings.OwnerPKI,
		Risk:    findings.RiskImpersonation,
		Covers:  certificateCoverage,
		Title:   "Revocation list past its next update",
		Default: findings.Medium,
		Rationale: "A CRL, or an OCSP response a server staples, promises a newer one by its nextUpdate time. After it, the list proves nothing about " +
			"certificates revoked since, and peers that check it either refuse every certificate it covers or, " +
			"more often, skip the check: revocation silently stops working. A stale list usually means the CA's " +
			"publication job or the distribution to the site has stopped.",
		Remediation: "Publish a current CRL from the issuing CA (or fix the job that does), distribute it where " +
			"the devices and middleware read it, and point the policy's revocation.crls at the current file; for " +
			"a stale stapled response, make the server refresh its staple before nextUpdate (check that it can " +
			"reach its OCSP responder).",
		References: []string{
			"RFC 5280, §5.1.2.5 (nextUpdate)",
			"RFC 6960, §2.4 (OCSP response validity: thisUpdate and nextUpdate)",
			"RFC 6066, §8 (certificate status request: stapling)",
			"NIST SP 800-52 Rev. 2, §4.5.3 (revocation checking by TLS clients)",
		},
	}
}

func (revocationStale) Check(c *rules.Context) {
	stapled := staples(c.Set)
	for _, p := range c.Presentations() {
		if p.Role != "server" || p.Position != 0 {
			continue
		}
		s := stapled[stapleKey{p.Endpoint, p.Cert.SHA256}]
		if s == nil || s.OCSPStaple.NextUpdate.IsZero() || !s.OCSPStaple.NextUpdate.Before(s.LastSeen) {
			continue
		}
		st := s.OCSPStaple
		f := finding(p, s.LastSeen, fmt.Sprintf("%s stapled an OCSP response for %s that was due for an update on %s, before the handshake that carried it (%s)",
			p.Describe(), name(p), st.NextUpdate.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339)))
		f.Subject = "ocsp:" + p.Cert.SHA256.String()
		stapleEvidence(st, f.Evidence)
		c.Emit(f)
	}
	if len(c.Policy.CRLs) == 0 {
		return
	}
	// Judged as of the latest observation of a certificate the list covers: a capture
	// replayed later is judged as it was.
	asOf := map[*lint.CRL]time.Time{}
	for _, p := range c.Presentations() {
		if rv := lint.RevocationOf(p.Cert.DER, c.Policy.CRLs); rv.CRL != nil && p.LastSeen.After(asOf[rv.CRL]) {
			asOf[rv.CRL] = p.LastSeen
		}
	}
	signers := c.CRLSigners()
	for _, crl := range c.Policy.CRLs {
		at, ok := asOf[crl]
		if !ok || crl.NextUpdate.IsZero() || !crl.NextUpdate.Before(at) {
			continue
		}
		ev := map[string]any{"observed_at": rules.TimeString(at),
			"days_past": int(at.Sub(crl.NextUpdate).Hours() / 24)}
		crlEvidence(crl, signers[crl], ev)
		c.Emit(findings.Finding{
			File:    crl.File,
			Subject: "crl:" + crl.SHA256,
			Message: fmt.Sprintf("the CRL %s of %s was due for an update on %s, before the certificates it covers were seen (%s)",
				crl.File, crl.Issuer, date(crl.NextUpdate), date(at)),
			Evidence:  ev,
			Time:      at,
			FirstSeen: at,
			LastSeen:  at,
			Source:    "file",
		})
	}
}
