package tlsrules

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

func init() { rules.Register(noClientAuth{}) }

// noClientAuth flags TLS servers on clinical interfaces that let any client in without a
// certificate.
type noClientAuth struct{}

func (noClientAuth) Meta() rules.Meta {
	return rules.Meta{
		ID:      "tls-no-client-auth",
		Covers:  findings.Coverage{Domain: findings.DomainAuthentication, Tags: []string{"clinical"}, Needs: []findings.Evidence{findings.SeenTLSClientAuth}, Profile: "inventory"},
		Owner:   findings.OwnerIntegration,
		Risk:    findings.RiskPatientData,
		Title:   "Clinical TLS interface without client certificates",
		Default: findings.Medium,
		Rationale: "HL7, DICOM, MQTT and FHIR interfaces accept results, images, telemetry and orders; when the " +
			"server never asks for a client certificate, TLS hides the traffic but anyone who reaches the port " +
			"can send to it, since these protocols' own identities (HL7 applications, AE titles, MQTT client " +
			"IDs) are names, not authentication.",
		Remediation: "Require client certificates on the interface (mutual TLS, as IHE ATNA's Secure Node " +
			"requires), issued per device or per system by the site's CA, and check them against an allow-list.",
		References: []string{
			"IHE ITI Technical Framework, ATNA profile: Authenticate Node (ITI-19), mutual TLS authentication",
			"HIPAA Security Rule, 45 CFR 164.312(d) (person or entity authentication)",
			"NIST SP 800-52 Rev. 2, §3.5.2 (client authentication)",
			"DICOM PS3.15 Annex B, Secure Transport Connection Profiles",
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
		},
	}
}

// clinicalPorts are the registered ports of clinical protocols over TLS, or (DICOM's
// 11112) commonly configured for it: what speaks TLS there is a clinical interface.
var clinicalPorts = map[uint16]string{
	2575:  "HL7 MLLP",
	2762:  "DICOM over TLS",
	8883:  "MQTT over TLS",
	11112: "DICOM",
}

// clinicalALPN are the ALPN protocol IDs that name a clinical or device-telemetry protocol.
var clinicalALPN = []string{"mqtt", "x-amzn-mqtt-ca"}

// clinicalNameWords start a label part of a server name that names a clinical
// interface: "fhir.example.org", "hl7engine.local", "pacs-router.example.org".
var clinicalNameWords = []string{"fhir", "hl7", "dicom", "mllp", "mqtt", "pacs"}

// clinicalName reports whether a TLS server name names a clinical service: a part of a
// label (labels split at '.', parts at '-') starts with one of clinicalNameWords.
func clinicalName(sni string) bool {
	for _, part := range strings.FieldsFunc(strings.ToLower(sni), func(r rune) bool { return r == '.' || r == '-' }) {
		for _, w := range clinicalNameWords {
			if strings.HasPrefix(part, w) {
				return true
			}
		}
	}
	return false
}

// judged reports whether a session is a full handshake in which a CertificateRequest
// would have been seen: TLS 1.2 or older (in TLS 1.3 the request is encrypted), not
// resumed (an abbreviated handshake has no CertificateRequest), and the server's
// Certificate seen (so the capture held the server's flight that a request would be in).
func judged(s *observe.TLSSession) bool {
	return s.SawServerHello && s.Version >= 0x0300 && s.Version <= 0x0303 && !s.Resumed && !s.CertsEncrypted &&
		len(s.ServerChain) > 0
}

// Check raises one finding per server endpoint that is a clinical interface and that,
// in every judged full handshake, never sent a CertificateRequest. An endpoint is a
// clinical interface when its port is in clinicalPorts, when a client offered or the
// server selected an ALPN in clinicalALPN, when a client asked for a server name that
// clinicalName accepts, or when the policy's clinical_services names it, by address and
// port or by server name and port. An endpoint seen only in TLS 1.3 or resumed
// handshakes is not judged: whether it asks for a certificate is not observable.
func (noClientAuth) Check(c *rules.Context) {
	named := map[string]bool{}
	for _, s := range c.Policy.ClinicalServices {
		named[s] = true
	}
	reasons := map[observe.Endpoint][]string{}
	requested := map[observe.Endpoint]bool{}
	for _, s := range c.Set.TLSSessions {
		ep := s.Flow.Server
		if judged(s) && s.CertRequest {
			requested[ep] = true
		}
		if why, ok := clinicalPorts[ep.Port()]; ok {
			reasons[ep] = rules.AddSorted(reasons[ep], fmt.Sprintf("port %d (%s)", ep.Port(), why))
		}
		for _, p := range append(slices.Clone(s.ALPN), s.ALPNSelected) {
			if slices.Contains(clinicalALPN, p) {
				reasons[ep] = rules.AddSorted(reasons[ep], "ALPN "+p)
			}
		}
		if s.SNI != "" && clinicalName(s.SNI) {
			reasons[ep] = rules.AddSorted(reasons[ep], "server name "+s.SNI)
		}
		addr := netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port()).String()
		if named[addr] {
			reasons[ep] = rules.AddSorted(reasons[ep], "policy clinical_services names "+addr)
		}
		if s.SNI != "" {
			byName := strings.ToLower(strings.TrimSuffix(s.SNI, ".")) + ":" + strconv.Itoa(int(ep.Port()))
			if named[byName] {
				reasons[ep] = rules.AddSorted(reasons[ep], "policy clinical_services names "+byName)
			}
		}
	}
	for _, g := range flagged(c, func(s *observe.TLSSession) bool {
		return judged(s) && !requested[s.Flow.Server] && len(reasons[s.Flow.Server]) > 0
	}) {
		host, port, w := g.base()
		why := reasons[g.ep]
		ev := g.evidence()
		ev["clinical_because"] = why
		ev["cert_request"] = false
		first, last := g.seen.First, g.seen.Last
		c.Emit(findings.Finding{
			Host:    host,
			Port:    port,
			Subject: g.subject(),
			Message: fmt.Sprintf("%s, a clinical interface (%s), completed %d TLS handshake(s) without requesting a client certificate",
				g.name(), strings.Join(why, "; "), ev["handshakes"]),
			Evidence:  ev,
			Time:      first,
			FirstSeen: first,
			LastSeen:  last,
			Source:    string(w.Source),
		})
	}
}
