package coderules

import (
	"net"
	"net/url"
	"path"
	"strconv"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// references are the code-integrity sources every rule here cites.
var references = []string{
	"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (code, data and execution integrity; authenticity of software updates)",
	"IEC 62443-4-2:2019, CR 3.4 Software and information integrity (and EDR/HDR/NDR 3.10 support for updates)",
	"NIST SP 800-193, Platform Firmware Resiliency Guidelines (authenticated update mechanism)",
}

var covers = findings.Coverage{Domain: findings.DomainCodeSigning, Needs: []findings.Evidence{findings.SeenUpdateImage}}

// base is the finding every rule starts from: where the image is, and what names it.
func base(u *observe.UpdateImage) findings.Finding {
	f := findings.Finding{Subject: u.SHA256, Time: u.Time, Source: string(u.Source)}
	if u.Origin == "file" || u.Origin == "" {
		f.File = path.Join(u.Dir, u.Name)
		f.Source = string(observe.SourceFile)
	} else if ur, err := url.Parse(u.Origin); err == nil {
		host, port := ur.Hostname(), ur.Port()
		if ip := net.ParseIP(host); ip != nil {
			f.Host = host
		} else {
			f.Host = host
		}
		f.Port, _ = strconv.Atoi(port)
	}
	f.Evidence = map[string]any{
		"origin": u.Origin, "dir": u.Dir, "name": u.Name, "sha256": u.SHA256, "size": u.Size,
		"format": u.Format, "verdict": u.Verdict, "clients": u.Clients,
	}
	if u.Version != "" {
		f.Evidence["version"] = u.Version
	}
	if u.Vendor != "" {
		f.Evidence["vendor"] = u.Vendor
	}
	return f
}

// where names the image for messages: the file, or the name on its server.
func where(u *observe.UpdateImage) string {
	if u.Origin == "file" || u.Origin == "" {
		return path.Join(u.Dir, u.Name)
	}
	return u.Name + " from " + u.Origin
}

// sigEvidence describes a signature for the evidence.
func sigEvidence(s observe.UpdateSignature) map[string]any {
	e := map[string]any{"kind": s.Kind, "verifies": s.Verifies, "trust": s.Trust}
	if s.File != "" {
		e["file"] = s.File
	}
	if s.Reason != "" {
		e["reason"] = s.Reason
	}
	if s.TrustReason != "" {
		e["trust_reason"] = s.TrustReason
	}
	if s.Digest != "" {
		e["digest"] = s.Digest
	}
	if l := s.Signer.Label(); l != "" {
		e["signer"] = l
	}
	if s.Signer.CertSHA256 != "" {
		e["signer_cert_sha256"] = s.Signer.CertSHA256
		e["signer_issuer"] = s.Signer.Issuer
	}
	if s.Signer.Fingerprint != "" {
		e["signer_fingerprint"] = s.Signer.Fingerprint
	}
	if len(s.Weaknesses) > 0 {
		e["weaknesses"] = s.Weaknesses
	}
	return e
}

// best is the signature that speaks for the image: the first that verifies and is
// trusted, else the first that verifies, else the first.
func best(u *observe.UpdateImage) (observe.UpdateSignature, bool) {
	if len(u.Signatures) == 0 {
		return observe.UpdateSignature{}, false
	}
	pick := -1
	for i, s := range u.Signatures {
		if s.Verifies && s.Trust == "trusted" {
			return s, true
		}
		if s.Verifies && pick < 0 {
			pick = i
		}
	}
	if pick < 0 {
		pick = 0
	}
	return u.Signatures[pick], true
}
