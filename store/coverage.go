package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// seen indexes what one scan observed on each target, for the coverage checks: which of
// a rule's declared needs (findings.Evidence) the scan can show on a finding's target.
type seen struct {
	scan        findings.ScanInfo
	earlierKind string          // the kind of run the findings come from; "" when not known
	rules       map[string]bool // nil: every rule
	probes      map[target]findings.ProbeEndpoint
	passive     map[target]bool // a passive TLS handshake with a ServerHello
	fullTLS     map[target]bool // a passive full TLS <= 1.2 handshake with its server flight
	chain       map[target]bool // certificates the server presented, observable
	attempted   map[target]bool // any TLS seen at all
	asked       map[string]bool // clients asked for their certificate, observable
	tls         map[target]bool // the service speaks TLS (passive or active)
	service     map[target]bool
	hl7         map[target]bool
	dicom       map[target]bool
	http        map[target]bool
	apiAnswer   map[target]bool
	creds       map[target]map[string]bool // credential kinds sent in clear
	images      map[target]bool
	certs       map[string]bool // certificate and key digests the scan held
}

type target struct {
	host string
	port int
}

func newSeen(r *findings.Report) *seen {
	s := &seen{scan: r.Scan, probes: map[target]findings.ProbeEndpoint{}, passive: map[target]bool{},
		fullTLS: map[target]bool{}, chain: map[target]bool{}, attempted: map[target]bool{}, asked: map[string]bool{},
		tls: map[target]bool{}, service: map[target]bool{}, hl7: map[target]bool{}, dicom: map[target]bool{},
		http: map[target]bool{}, apiAnswer: map[target]bool{}, creds: map[target]map[string]bool{},
		images: map[target]bool{}, certs: map[string]bool{}}
	if r.Scan.Rules != nil {
		s.rules = map[string]bool{}
		for _, id := range r.Scan.Rules {
			s.rules[id] = true
		}
	}
	for _, p := range r.Probes {
		k := target{p.Host, p.Port}
		if o, ok := s.probes[k]; !ok || p.TLS != nil && o.TLS == nil {
			s.probes[k] = p
		}
		if p.TLS != nil {
			s.tls[k] = true
		}
	}
	for _, t := range r.TLSSessions {
		k := target{t.Host, t.Port}
		s.attempted[k] = true
		if t.Version == "" {
			continue
		}
		s.tls[k] = true
		if t.Source != observe.SourceActive {
			s.passive[k] = true
			if !t.Resumed && t.CertsObservable && t.SawServerHello {
				s.fullTLS[k] = true
			}
		}
		if t.CertsObservable && len(t.ServerChain) > 0 {
			s.chain[k] = true
		}
		if t.CertsObservable && t.CertRequest {
			s.asked[t.Client] = true
		}
	}
	for _, v := range r.Services {
		k := target{v.Host, v.Port}
		s.service[k] = true
		if v.Protocol == "tls" {
			s.tls[k] = true
		}
	}
	for _, m := range r.HL7 {
		s.hl7[target{m.Host, m.Port}] = true
	}
	for _, d := range r.DICOM {
		s.dicom[target{d.Host, d.Port}] = true
	}
	for _, h := range r.HTTP {
		k := target{h.Host, h.Port}
		s.http[k] = true
		if h.API != "" && h.Method != "" && h.Status != 0 {
			s.apiAnswer[k] = true
		}
		if h.BodyKind != "" {
			s.images[k] = true
		}
	}
	for _, t := range r.Transfers {
		if t.Kind != "" {
			s.images[target{t.Host, t.Port}] = true
		}
	}
	for _, c := range r.Credentials {
		k := target{c.Host, c.Port}
		if s.creds[k] == nil {
			s.creds[k] = map[string]bool{}
		}
		s.creds[k][c.Kind] = true
	}
	for _, c := range r.Certificates {
		s.certs[strings.ToLower(c.SHA256)] = true
		if c.SPKISHA256 != "" {
			s.certs[strings.ToLower(c.SPKISHA256)] = true
		}
	}
	return s
}

// unassessed returns "" when the scan assessed f's rule on f's target, else why not.
func (s *seen) unassessed(f findings.Finding, catalog findings.Catalog) string {
	switch {
	case !s.scan.Complete:
		return "the later scan is incomplete"
	case s.earlierKind != "" && s.earlierKind != kindOf(s.scan):
		return "the later run is a " + kindOf(s.scan) + " run and the earlier a " + s.earlierKind + " one: neither looks at what the other does"
	case s.rules != nil && !s.rules[f.Rule]:
		return "the later scan's policy did not assess " + f.Rule
	}
	info, ok := catalog[f.Rule]
	if !ok || len(info.Covers.Needs) == 0 {
		return "rule " + f.Rule + " is not in this medscan's catalog, so nothing says what assesses it"
	}
	var why []string
	for _, need := range info.Covers.Needs {
		reason := s.need(need, info, f)
		if reason == "" {
			return ""
		}
		why = append(why, reason)
	}
	return strings.Join(slices.Compact(why), "; ")
}

// need returns "" when the scan shows one need of a rule on the finding's target, else
// what it lacked.
func (s *seen) need(need findings.Evidence, info findings.RuleInfo, f findings.Finding) string {
	k := target{f.Host, f.Port}
	at := findings.Target(f.Host, f.Port)
	switch need {
	case findings.SeenTLSSuites:
		if p, ok := s.probes[k]; ok && p.Enumerated(info.Covers.Profile) {
			return ""
		}
		if f.Source != string(observe.SourceActive) && s.passive[k] {
			return ""
		}
		if p, ok := s.probes[k]; ok && p.TLS != nil {
			return fmt.Sprintf("the later scan probed %s with the %s profile, which does not list every version and suite (%s needs %s)",
				at, profileName(p.Profile), f.Rule, info.Covers.Profile)
		}
		if f.Source == string(observe.SourceActive) && s.passive[k] {
			return "the later scan only watched handshakes with " + at + ", which do not show what else the server accepts; probe it to tell"
		}
		if s.attempted[k] && !s.tls[k] {
			return "no completed TLS handshake with " + at + " in the later scan"
		}
		return s.noTLS(k, at)
	case findings.SeenTLSClientAuth:
		if p, ok := s.probes[k]; ok && p.TLS != nil && findings.ProfileAtLeast(p.Profile, info.Covers.Profile) {
			return ""
		}
		if s.fullTLS[k] {
			return ""
		}
		if s.attempted[k] {
			return "the later scan saw no full TLS 1.2 handshake with " + at + " (TLS 1.3 and resumed handshakes hide the certificate request)"
		}
		return s.noTLS(k, at)
	case findings.SeenCertificates:
		switch {
		case f.Host == "":
			subject, _, _ := strings.Cut(strings.ToLower(f.Subject), ":")
			if s.certs[subject] || s.certs[evidenceString(f, "cert_sha256")] {
				return ""
			}
			return "the later run did not read the certificate"
		case f.Port == 0:
			if s.asked[f.Host] {
				return ""
			}
			return "the later scan saw no handshake in which " + f.Host + " was asked for its certificate"
		case s.chain[k]:
			return ""
		}
		if p, ok := s.probes[k]; ok && p.TLS != nil && len(p.TLS.ServerCerts) > 0 {
			return ""
		}
		if s.attempted[k] {
			return "the certificates of " + at + " were not observable in the later scan (TLS 1.3 or resumed sessions)"
		}
		return s.noTLS(k, at)
	case findings.SeenService:
		if s.service[k] || s.tls[k] {
			return ""
		}
		return "no traffic to " + at + " in the later scan"
	case findings.SeenHL7:
		return s.protocolOrTLS(s.hl7, k, at, "HL7 message")
	case findings.SeenDICOM:
		return s.protocolOrTLS(s.dicom, k, at, "DICOM association")
	case findings.SeenHTTP:
		return s.protocolOrTLS(s.http, k, at, "HTTP request")
	case findings.SeenHTTPAPIAnswers:
		if s.apiAnswer[k] {
			return ""
		}
		if s.tls[k] {
			return "the later scan saw " + at + " only in TLS, where whether API requests carry credentials cannot be seen"
		}
		return "the later scan saw no API request to " + at + " answered in clear"
	case findings.SeenCredentialUse:
		if kind := evidenceString(f, "kind"); kind != "" && s.creds[k][kind] {
			return ""
		}
		return "the later scan saw no " + cmpOr(evidenceString(f, "kind"), "credential") + " sent to " + at + " in clear"
	case findings.SeenImageTransfer:
		if s.images[k] || s.tls[k] {
			return ""
		}
		return "the later scan saw no software image fetched from " + at + " (updates are rare: traffic without one proves nothing)"
	}
	return "medscan does not know what " + string(need) + " takes"
}

func (s *seen) protocolOrTLS(m map[target]bool, k target, at, what string) string {
	if m[k] || s.tls[k] {
		return ""
	}
	return "the later scan saw no " + what + " to " + at + ", in clear or in TLS"
}

func (s *seen) noTLS(k target, at string) string {
	if p, ok := s.probes[k]; ok && p.Outcome != "" && p.Outcome != observe.ProbeTLS {
		return "the later scan's probe of " + at + " ended " + string(p.Outcome)
	}
	return "no TLS seen on " + at + " in the later scan"
}

func profileName(p string) string {
	if p == "" {
		return "an unrecorded"
	}
	return p
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// evidenceString reads a string from a finding's evidence, lowercased for digests.
func evidenceString(f findings.Finding, key string) string {
	if v, ok := f.Evidence[key].(string); ok {
		if key == "cert_sha256" {
			return strings.ToLower(v)
		}
		return v
	}
	return ""
}
