package store

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// seen indexes what one scan observed on each target, for the coverage checks: which of
// a rule's declared needs (findings.Evidence) the scan can show on a finding's target.
// What was captured and what a probe found are kept apart: a probe's result counts only
// for rules that declare a probe profile.
type seen struct {
	scan   findings.ScanInfo
	rules  map[string]bool // nil: every rule
	probes map[target]findings.ProbeEndpoint

	// Captured traffic.
	negotiated map[target]set            // clients whose handshake the server completed
	fullTLS    map[target]bool           // a full TLS <= 1.2 handshake with its server flight
	chain      map[target]bool           // certificates the server presented, observable
	attempted  map[target]bool           // any TLS seen at all, passively or actively
	asked      set                       // clients asked for their certificate, observable
	tls        map[target]bool           // the service speaks TLS
	services   map[target]set            // protocols spoken in clear
	hl7        map[target]bool           // HL7 messages
	dicom      map[target]bool           // DICOM associations
	http       map[target]bool           // HTTP requests
	fhir       map[target]bool           // FHIR requests
	api        map[target]bool           // API requests other than FHIR
	apiAnswer  map[target]bool           // API or FHIR requests answered
	mqtt       map[target]bool           // MQTT connections
	creds      map[target]map[string]set // credential kind -> clients that sent it in clear
	images     map[target]bool           // software images transferred
	arp        set                       // addresses claimed in ARP
	dhcpFrom   set                       // DHCP servers that replied
	dhcpTo     set                       // clients (MACs) DHCP servers replied to
	greetings  map[target]bool           // capability lists read (STARTTLS offered or not)

	// Certificates and keys, from any source.
	certs    set            // certificate and key digests the scan held
	fileKeys set            // keys of certificates read from files
	updates  set            // update images examined, by updateKey
	leafKeys map[target]set // keys the target presented as its own (a client's at port 0)
}

// set is a set of strings.
type set map[string]bool

// add puts v into the set at m[k], making it.
func add[K comparable](m map[K]set, k K, v string) {
	if m[k] == nil {
		m[k] = set{}
	}
	m[k][v] = true
}

type target struct {
	host string
	port int
}

// coverageKinds are the observation kinds (kinds.go) newSeen reads, beside the scan's
// description and certificates: all that a comparison reads of the later scan's
// observations (Store.Compare). Keep the two together.
var coverageKinds = []string{"arp_claim", "dhcp_reply", "starttls_greeting", "update", "probe", "tls", "service", "hl7",
	"dicom", "mqtt", "http", "transfer", "credential"}

func newSeen(r *findings.Report) *seen {
	s := &seen{scan: r.Scan, probes: map[target]findings.ProbeEndpoint{}, negotiated: map[target]set{},
		fullTLS: map[target]bool{}, chain: map[target]bool{}, attempted: map[target]bool{}, asked: set{},
		tls: map[target]bool{}, services: map[target]set{}, hl7: map[target]bool{}, dicom: map[target]bool{},
		http: map[target]bool{}, fhir: map[target]bool{}, api: map[target]bool{}, apiAnswer: map[target]bool{},
		mqtt: map[target]bool{}, creds: map[target]map[string]set{}, images: map[target]bool{}, certs: set{},
		fileKeys: set{}, leafKeys: map[target]set{},
		arp: set{}, dhcpFrom: set{}, dhcpTo: set{}, greetings: map[target]bool{}, updates: set{}}
	for _, c := range r.ARPClaims {
		s.arp[findings.AddrText(c.Addr)] = true
	}
	for _, d := range r.DHCPReplies {
		s.dhcpFrom[findings.AddrText(d.Server)] = true
		s.dhcpTo[d.ClientMAC] = true
	}
	for _, g := range r.StartTLSGreetings {
		s.greetings[target{g.Host, g.Port}] = true
	}
	for _, u := range r.Updates {
		s.updates[updateKey(u.Origin, u.Dir, u.Name)] = true
	}
	if r.Scan.Rules != nil {
		s.rules = map[string]bool{}
		for _, id := range r.Scan.Rules {
			s.rules[id] = true
		}
	}
	for _, p := range r.Probes {
		k := target{p.Host, p.Port}
		s.probes[k] = p // one per port: the Set kept the most telling
		if p.Outcome != "" {
			s.attempted[k] = true
		}
	}
	for _, t := range r.TLSSessions {
		k := target{t.Host, t.Port}
		s.attempted[k] = true
		if t.Version == "" || t.Source == observe.SourceActive {
			continue
		}
		s.tls[k] = true
		add(s.negotiated, k, t.Client)
		if !t.Resumed && t.CertsObservable && t.SawServerHello {
			s.fullTLS[k] = true
		}
		if t.CertsObservable && len(t.ServerChain) > 0 {
			s.chain[k] = true
		}
		if t.CertsObservable && t.CertRequest {
			s.asked[t.Client] = true
		}
	}
	for _, v := range r.Services {
		if v.Source == observe.SourceActive {
			continue
		}
		k := target{v.Host, v.Port}
		if v.Protocol == "tls" {
			s.tls[k] = true
		} else {
			add(s.services, k, v.Protocol)
		}
	}
	for _, m := range r.HL7 {
		s.hl7[target{m.Host, m.Port}] = true
	}
	for _, d := range r.DICOM {
		s.dicom[target{d.Host, d.Port}] = true
	}
	for _, m := range r.MQTT {
		s.mqtt[target{m.Host, m.Port}] = true
	}
	for _, h := range r.HTTP {
		k := target{h.Host, h.Port}
		s.http[k] = true
		if h.API == observe.APIFHIR {
			s.fhir[k] = true
		}
		if h.API == observe.APIOther {
			s.api[k] = true
		}
		if h.API != "" {
			if h.Method != "" && h.Status != 0 {
				s.apiAnswer[k] = true
			}
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
			s.creds[k] = map[string]set{}
		}
		add(s.creds[k], c.Kind, c.Client)
	}
	for _, c := range r.Certificates {
		sha, spki := strings.ToLower(c.SHA256), strings.ToLower(c.SPKISHA256)
		s.certs[sha] = true
		for _, on := range c.SeenOn {
			if r.Scan.Kind == findings.KindLint && on.Host != "" {
				// A lint run of a stored scan (lint --scan) shows what that scan saw
				// each host present, without its sessions.
				if on.Role == "client" {
					s.asked[on.Host] = true
				} else {
					s.chain[target{on.Host, on.Port}] = true
				}
			}
		}
		if spki == "" {
			continue
		}
		s.certs[spki] = true
		for _, on := range c.SeenOn {
			switch {
			case on.Host == "":
				s.fileKeys[spki] = true
			case on.Position == 0:
				add(s.leafKeys, target{on.Host, on.Port}, spki)
			}
		}
	}
	return s
}

// unassessed returns "" when the scan assessed f's rule on f's target, else why not.
func (s *seen) unassessed(f findings.Finding, catalog findings.Catalog) string {
	switch {
	case !s.scan.Complete && !onlyProbeGaps(s.scan.Problems):
		return "the later scan is incomplete"
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
	profile := info.Covers.Profile
	probe, probed := s.probes[k]
	probedTLS := probed && probe.TLS != nil && profile != "" && findings.ProfileAtLeast(probe.Profile, profile)
	switch need {
	case findings.SeenTLSSuites:
		if probed && profile != "" && probe.Enumerated(profile) {
			return ""
		}
		if f.Source != string(observe.SourceActive) && len(s.negotiated[k]) > 0 {
			clients := findings.EvidenceStrings(f.Evidence, "clients")
			if len(clients) == 0 || slices.ContainsFunc(clients, func(c string) bool { return s.negotiated[k][c] }) {
				return ""
			}
			return fmt.Sprintf("the later scan saw handshakes with %s only from other clients than %s, and a server answers each client from what it offers",
				at, strings.Join(clients, ", "))
		}
		if probed && probe.TLS != nil {
			return fmt.Sprintf("the later scan probed %s with the %s profile, which does not list every version and suite (%s needs %s)",
				at, profileName(probe.Profile), f.Rule, profile)
		}
		if f.Source == string(observe.SourceActive) && len(s.negotiated[k]) > 0 {
			return "the later scan only watched handshakes with " + at + ", which do not show what else the server accepts; probe it to tell"
		}
		if s.attempted[k] && !s.tls[k] && !probed {
			return "no completed TLS handshake with " + at + " in the later scan"
		}
		return s.noTLS(k, at)
	case findings.SeenTLSClientAuth:
		if probedTLS || s.fullTLS[k] {
			return ""
		}
		if s.attempted[k] {
			return "the later scan saw no full TLS 1.2 handshake with " + at + " (TLS 1.3 and resumed handshakes hide the certificate request)"
		}
		return s.noTLS(k, at)
	case findings.SeenCertificates:
		if f.Host == "" {
			subject, _, _ := strings.Cut(strings.ToLower(f.Subject), ":")
			if s.certs[subject] || s.certs[strings.ToLower(findings.EvidenceString(f.Evidence, "cert_sha256"))] {
				return ""
			}
			return "the later run did not read the certificate"
		}
		return s.certsOf(k, at, profile)
	case findings.SeenKeyHolders:
		spki := strings.ToLower(f.Subject)
		switch {
		case f.Host == "" && !s.fileKeys[spki]:
			return "the later run read no certificate file holding the key"
		case f.Host != "":
			if why := s.certsOf(k, at, profile); why != "" {
				return why
			}
		}
		if len(s.leafKeys[k]) > 0 && !s.leafKeys[k][spki] {
			return "" // the target holds another key now
		}
		role := "server"
		if f.Port == 0 {
			role = "client"
		}
		self := findings.Holder(f.Host, f.Port, role, f.File)
		var others []string
		for _, h := range findings.EvidenceStrings(f.Evidence, "shared_by") {
			if h == self {
				continue
			}
			others = append(others, h)
			if s.holderSeen(h, spki, profile) {
				return ""
			}
		}
		if len(others) == 0 {
			return "" // one holder, several identities: its certificates show them all
		}
		return "the later scan saw the key on " + at + " but none of the others that held it (" +
			strings.Join(others, ", ") + "), so whether they still do is not known"
	case findings.SeenCredentialExchange:
		kind, proto := findings.EvidenceString(f.Evidence, "kind"), findings.EvidenceString(f.Evidence, "protocol")
		switch {
		case len(s.creds[k][kind]) > 0, s.tls[k], s.services[k][proto]:
			return ""
		case proto == "http" && s.http[k], proto == "mqtt" && s.mqtt[k]:
			return ""
		}
		return "the later scan saw no " + cmp.Or(proto, "login") + " traffic to " + at + ", in clear or in TLS"
	case findings.SeenSharedCredentialUse:
		kind, clients := findings.EvidenceString(f.Evidence, "kind"), findings.EvidenceStrings(f.Evidence, "clients")
		n := 0
		for _, c := range clients {
			if s.creds[k][kind][c] {
				n++
			}
		}
		if n >= min(2, len(clients)) && n > 0 {
			return ""
		}
		return fmt.Sprintf("the later scan saw %d of the %d hosts that shared the %s send one to %s in clear; it takes two to tell whether they still share it",
			n, len(clients), cmp.Or(kind, "credential"), at)
	case findings.SeenHL7:
		return s.protocolOrTLS(s.hl7, k, at, "HL7 message")
	case findings.SeenDICOM:
		return s.protocolOrTLS(s.dicom, k, at, "DICOM association")
	case findings.SeenFHIR:
		return s.protocolOrTLS(s.fhir, k, at, "FHIR request")
	case findings.SeenAPI:
		return s.protocolOrTLS(s.api, k, at, "API request other than FHIR")
	case findings.SeenHTTPAPIAnswers:
		if s.apiAnswer[k] {
			return ""
		}
		if s.tls[k] {
			return "the later scan saw " + at + " only in TLS, where whether API requests carry credentials cannot be seen"
		}
		return "the later scan saw no API request to " + at + " answered in clear"
	case findings.SeenARPClaims:
		if s.arp[f.Host] {
			return ""
		}
		return "the later scan saw no ARP claim to " + f.Host
	case findings.SeenDHCPReplies:
		if s.dhcpFrom[f.Host] || slices.ContainsFunc(findings.EvidenceStrings(f.Evidence, "clients"), func(c string) bool { return s.dhcpTo[c] }) {
			return ""
		}
		return "the later scan saw no DHCP reply from " + f.Host + " nor to the clients it answered"
	case findings.SeenStartTLSGreetings:
		if s.greetings[k] {
			return ""
		}
		return "the later scan read no capability list (EHLO reply) of " + at
	case findings.SeenKeyFileFolder:
		paths := findings.EvidenceStrings(f.Evidence, "paths")
		if len(paths) == 0 {
			return "the finding does not say where the key lay"
		}
		for _, p := range paths {
			if !s.readPlace(p) {
				return "the later run did not read " + p + " or a folder holding it"
			}
		}
		return ""
	case findings.SeenUpdateImage:
		origin, dir, name := findings.EvidenceString(f.Evidence, "origin"), findings.EvidenceString(f.Evidence, "dir"), findings.EvidenceString(f.Evidence, "name")
		if name == "" {
			return "the finding does not name the image"
		}
		if s.updates[updateKey(origin, dir, name)] {
			return ""
		}
		return "the later run examined no image " + name + " from " + cmp.Or(origin, "there") + " (updates are rare: a run without one proves nothing)"
	case findings.SeenImageTransfer:
		if s.images[k] || s.tls[k] {
			return ""
		}
		return "the later scan saw no software image fetched from " + at + " (updates are rare: traffic without one proves nothing)"
	}
	return "medscan does not know what " + string(need) + " takes"
}

// certsOf returns "" when the scan shows the certificates target k presents (a server's
// chain, or a client's when it was asked for one), else why not.
func (s *seen) certsOf(k target, at, profile string) string {
	if k.port == 0 {
		if s.asked[k.host] {
			return ""
		}
		return "the later scan saw no handshake in which " + k.host + " was asked for its certificate"
	}
	if s.chain[k] {
		return ""
	}
	if p, ok := s.probes[k]; ok && p.TLS != nil && len(p.TLS.ServerCerts) > 0 && profile != "" &&
		findings.ProfileAtLeast(p.Profile, profile) {
		return ""
	}
	if s.attempted[k] {
		return "the certificates of " + at + " were not observable in the later scan (TLS 1.3 or resumed sessions)"
	}
	return s.noTLS(k, at)
}

// holderSeen reports whether the scan showed what a holder named in key-shared's
// evidence (findings.Holder) presents: its certificates, or for "file", the key read
// from a file again.
func (s *seen) holderSeen(h, spki, profile string) bool {
	host, port, role, ok := findings.ParseHolder(h)
	switch {
	case !ok:
		return false
	case host == "":
		return s.fileKeys[spki]
	case role == "client":
		return s.asked[host]
	}
	return s.certsOf(target{host, port}, h, profile) == ""
}

// readPlace reports whether the scan, a lint run, read the file at path (absolute): one
// of its sources is the file, or a folder above it with no hidden name on the way down
// (a lint run walks past hidden files and folders), so that a key no longer found there
// is gone.
func (s *seen) readPlace(path string) bool {
	if s.scan.RunKind() != findings.KindLint {
		return false
	}
	for _, src := range s.scan.Sources {
		if !filepath.IsAbs(src) {
			continue // standard input, a stored scan ("scan:3")
		}
		rel, err := filepath.Rel(src, path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		hidden := rel != "." && slices.ContainsFunc(strings.Split(filepath.ToSlash(rel), "/"), func(name string) bool {
			return len(name) > 1 && name[0] == '.'
		})
		if !hidden {
			return true
		}
	}
	return false
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

// onlyProbeGaps reports whether a scan is incomplete only because its probe left hosts
// or ports unassessed, each named by a problem. Every other input was read to its end,
// so the scan is judged target by target: a host that backed off shows no evidence of
// what a rule needs and stays "not assessed", and a host that was probed can show a
// finding fixed.
func onlyProbeGaps(problems []observe.Problem) bool {
	gaps := false
	for _, p := range problems {
		if !p.NotAssessed {
			return false
		}
		gaps = true
	}
	return gaps
}

// updateKey names an update image across runs: where it came from and its file name.
func updateKey(origin, dir, name string) string { return origin + "\x00" + dir + "\x00" + name }
