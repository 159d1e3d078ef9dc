package findings

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/observe/oui"
)

// NewReport builds the document of a scan just run, for the store: info as the caller
// completed it (times, sources, problems, counters, policy), everything the set
// observed, and the findings the rules raised on it, derived (Derive) but in the set's
// order and as the producers wrote it: a reader gets it from the store, which
// normalizes every document it reads (Normalize). A live scan builds one at every
// checkpoint, so it does no more than that.
func NewReport(info ScanInfo, set *observe.Set, fs []Finding) *Report {
	if set == nil {
		set = observe.NewSet()
	}
	r := &Report{SchemaVersion: ReportSchemaVersion, Scan: info,
		Findings: slices.Clone(fs), Certificates: make([]Certificate, 0, len(set.Certificates)),
		Services: make([]Service, 0, len(set.Services)), TLSSessions: make([]TLSSession, 0, len(set.TLSSessions)),
		Credentials: make([]Credential, 0, len(set.Credentials)), HTTP: make([]HTTPRequest, 0, len(set.HTTP)),
		MQTT: make([]MQTTConnect, 0, len(set.MQTT)), HL7: make([]HL7Message, 0, len(set.HL7)),
		DICOM: make([]DICOMAssociation, 0, len(set.DICOM)), HostNames: make([]observe.HostName, 0, len(set.Names)),
		DHCPLeases: make([]observe.DHCPLease, 0, len(set.DHCP)), Transfers: make([]FileTransfer, 0, len(set.Transfers)),
		Probes: make([]ProbeEndpoint, 0, len(set.Probes)), ProbeHosts: make([]observe.ProbeHost, 0, len(set.ProbeHosts))}
	for ref, c := range set.Certificates {
		cert := Certificate{SHA256: ref.String(), FirstSeen: c.FirstSeen, DER: c.DER}
		if c.Facts != nil {
			cert.CertFacts = *c.Facts
		}
		for _, sg := range c.Seen {
			cert.SeenOn = append(cert.SeenOn, Sighting{Host: AddrText(sg.Endpoint.Addr()), Port: int(sg.Endpoint.Port()),
				CertSighting: sg})
		}
		r.Certificates = append(r.Certificates, cert)
	}
	for _, v := range set.Services {
		r.Services = append(r.Services, Service{Host: AddrText(v.Server.Addr()), Port: int(v.Server.Port()), Service: *v})
	}
	for _, t := range set.TLSSessions {
		r.TLSSessions = append(r.TLSSessions, TLSSession{Conversation: conversation(t.Flow), TLSSession: *t})
	}
	r.Assets, r.QuietHosts = assets(set)
	for _, p := range set.SensorPaths {
		r.SensorPaths = append(r.SensorPaths, *p)
	}
	for _, c := range set.Credentials {
		r.Credentials = append(r.Credentials, Credential{conversation(c.Flow), *c})
	}
	for _, h := range set.HTTP {
		r.HTTP = append(r.HTTP, HTTPRequest{conversation(h.Flow), *h})
	}
	for _, m := range set.MQTT {
		r.MQTT = append(r.MQTT, MQTTConnect{conversation(m.Flow), *m})
	}
	for _, m := range set.HL7 {
		r.HL7 = append(r.HL7, HL7Message{conversation(m.Flow), *m})
	}
	for _, d := range set.DICOM {
		r.DICOM = append(r.DICOM, DICOMAssociation{conversation(d.Flow), *d})
	}
	for _, n := range set.Names {
		r.HostNames = append(r.HostNames, *n)
	}
	for _, l := range set.DHCP {
		r.DHCPLeases = append(r.DHCPLeases, *l)
	}
	for _, t := range set.Transfers {
		r.Transfers = append(r.Transfers, FileTransfer{conversation(t.Flow), *t})
	}
	for _, p := range set.Probes {
		r.Probes = append(r.Probes, ProbeEndpoint{Host: AddrText(p.Server.Addr()), Port: int(p.Server.Port()),
			ProbeEndpoint: *p})
	}
	for _, h := range set.ProbeHosts {
		r.ProbeHosts = append(r.ProbeHosts, *h)
	}
	for _, u := range set.Updates {
		r.Updates = append(r.Updates, *u)
	}
	for _, k := range set.KeyFiles {
		r.KeyFiles = append(r.KeyFiles, *k)
	}
	for _, c := range set.ARP {
		r.ARPClaims = append(r.ARPClaims, *c)
	}
	for _, d := range set.DHCPReplies {
		r.DHCPReplies = append(r.DHCPReplies, *d)
	}
	for _, g := range set.Greetings {
		r.StartTLSGreetings = append(r.StartTLSGreetings, StartTLSGreeting{conversation(g.Flow), *g})
	}
	r.Derive()
	r.Flows = BuildFlows(r)
	AddFlowVolumes(r.Flows, set.Volumes)
	return r
}

// Normalize makes a document what every reader may expect: derived (Derive), tidy
// (Tidy: every string through the one sanitizer, before it is compared), in the
// document's order (Sort) and counted (Summarize). The store normalizes every document
// it reads, and every baseline.
func (r *Report) Normalize() {
	r.Derive()
	if r.Flows == nil && r.Scan.RunKind() == KindNetwork {
		// A document stored before flows were recorded: they are computed from its lists.
		r.Flows = BuildFlows(r)
	}
	Tidy(r)
	r.Sort()
	r.Summarize()
}

// assets is the inventory the set was classified into (package inventory), and every
// other address the host table holds, as a quiet host. A set that was never classified
// (set.Assets nil) has no inventory to be quiet beside: each address is an unclassified
// asset then, as before quiet hosts were told apart.
func assets(set *observe.Set) ([]Asset, []QuietHost) {
	inv := make(map[netip.Addr]bool, len(set.Assets))
	out := make([]Asset, 0, len(set.Assets))
	for _, a := range set.Assets {
		inv[a.Addr] = true
		out = append(out, Asset{Asset: *a})
	}
	var quiet []QuietHost
	if n := len(set.Hosts) - len(inv); n > 0 {
		quiet = make([]QuietHost, 0, n)
	}
	for addr, h := range set.Hosts {
		if inv[addr] || inv[addr.Unmap()] {
			continue // an IPv4-mapped address is its IPv4 asset's (inventory unmaps)
		}
		if set.Assets == nil {
			out = append(out, Asset{Asset: observe.Asset{Addr: addr, MACs: slices.Clone(h.MACs), FirstSeen: h.FirstSeen,
				LastSeen: h.LastSeen, SeenVia: slices.Clone(h.SeenVia)}})
			continue
		}
		quiet = append(quiet, QuietHost{Addr: addr, MACs: slices.Clone(h.MACs), FirstSeen: h.FirstSeen, LastSeen: h.LastSeen,
			Packets: h.Packets, Bytes: h.Bytes})
	}
	return out, quiet
}

// probeProfile names a prober's TLS profile for readers.
func probeProfile(p *observe.TLSProfile) *ProbeTLSProfile {
	if p == nil {
		return nil
	}
	out := &ProbeTLSProfile{
		DHBits: p.DHBits, CertRequest: p.CertRequest, CertRequestCAs: slices.Clone(p.CertRequestCAs),
		CertRequired: p.CertRequired, Renegotiation: p.Renegotiation, Compression: p.Compression,
		TicketLifetime: p.TicketLifetime, OCSPStapling: p.OCSPStapling, FallbackSCSV: p.FallbackSCSV,
	}
	for _, r := range p.ServerChain {
		out.ServerCerts = append(out.ServerCerts, r.String())
	}
	for _, v := range p.Versions {
		out.Versions = append(out.Versions, observe.VersionName(v))
	}
	if p.NegotiatedVersion != 0 {
		out.NegotiatedVersion, out.NegotiatedSuite = observe.VersionName(p.NegotiatedVersion), observe.SuiteName(p.NegotiatedSuite)
	}
	for _, vs := range p.Suites {
		pv := ProbeVersion{Version: observe.VersionName(vs.Version), ServerPreference: vs.ServerPreference}
		for _, s := range vs.Suites {
			if vs.Version == 0x0002 {
				pv.Suites = append(pv.Suites, observe.SSLv2CipherName(s))
			} else {
				pv.Suites = append(pv.Suites, observe.SuiteName(uint16(s)))
			}
		}
		out.Suites = append(out.Suites, pv)
	}
	for _, g := range p.Groups {
		out.Groups = append(out.Groups, observe.GroupName(g))
	}
	return out
}

// Derive fills what the document computes for readers from what was observed: names of
// TLS versions, suites and groups, whether certificates were observable, each service's
// latest TLS version and suite, each asset's first MAC and its registrant (from the
// registry this medscan carries, so that a newer registry names old scans too).
// NewReport derives every document it builds, and Normalize every one read back.
func (r *Report) Derive() {
	for i := range r.TLSSessions {
		t := &r.TLSSessions[i]
		o := &t.TLSSession
		t.Version, t.Cipher, t.CipherID, t.ECDHCurve = "", "", uint32(o.Suite), ""
		t.CertsObservable = !o.CertsEncrypted
		if o.Version == 0x0002 {
			t.CipherID = o.SSLv2Cipher
		}
		// A session without a ServerHello negotiated nothing; naming suite 0 would claim
		// TLS_NULL_WITH_NULL_NULL.
		if o.SawServerHello || o.Version != 0 {
			t.Version = observe.VersionName(o.Version)
			t.Cipher = observe.SuiteName(o.Suite)
			if o.Version == 0x0002 {
				t.Cipher = ""
				if o.SSLv2Cipher != 0 {
					t.Cipher = observe.SSLv2CipherName(o.SSLv2Cipher)
				}
			}
		}
		if o.ECDHCurve != 0 {
			t.ECDHCurve = observe.GroupName(o.ECDHCurve)
		}
	}
	// A probed service's sessions are the enumeration's, one per suite tried: the one
	// seen last says nothing of what clients get, which its probe says (below).
	latest := map[Conversation]*TLSSession{}
	for i := range r.TLSSessions {
		t := &r.TLSSessions[i]
		if t.Version == "" || t.Source == observe.SourceActive {
			continue
		}
		// A target named by host name behind a proxy shares the proxy's host and port,
		// not its service.
		k := Conversation{Host: t.Host, Port: t.Port, Target: t.Target}
		// On a tie of LastSeen the first in report order wins.
		if o := latest[k]; o == nil || t.LastSeen.After(o.LastSeen) || t.LastSeen.Equal(o.LastSeen) && compareSessions(*t, *o) < 0 {
			latest[k] = t
		}
	}
	for i := range r.Probes {
		// A probe read back from the store has only its named profile (the raw one is
		// not in the document), which stays as it is.
		if p := &r.Probes[i]; p.ProbeEndpoint.TLS != nil {
			p.TLS = probeProfile(p.ProbeEndpoint.TLS)
		}
	}
	negotiated := map[Conversation]*ProbeTLSProfile{}
	for i := range r.Probes {
		if p := &r.Probes[i]; p.TLS != nil {
			negotiated[Conversation{Host: p.Host, Port: p.Port}] = p.TLS
		}
	}
	for i := range r.Services {
		s := &r.Services[i]
		s.TLSVersion, s.Cipher = "", ""
		k := Conversation{Host: s.Host, Port: s.Port, Target: s.Target}
		switch {
		case s.Transport == "udp":
		case s.Source == observe.SourceActive:
			if p := negotiated[k]; p != nil {
				s.TLSVersion, s.Cipher = p.NegotiatedVersion, p.NegotiatedSuite
			}
		case latest[k] != nil:
			s.TLSVersion, s.Cipher = latest[k].Version, latest[k].Cipher
		}
	}
	for i := range r.Assets {
		a := &r.Assets[i]
		a.MAC = ""
		if len(a.MACs) > 0 {
			a.MAC = a.MACs[0]
		}
		a.Vendor = oui.Lookup(a.MAC)
	}
	// A document from before kinds of run (a baseline, an old store) is a network scan.
	r.Scan.Kind = cmp.Or(r.Scan.Kind, KindNetwork)
	// The tool is the scan's (a JSON document, a baseline, carries only the former).
	r.Tool.Name = cmp.Or(r.Tool.Name, ToolName)
	r.Tool.Version = cmp.Or(r.Scan.ToolVersion, r.Tool.Version)
	r.Scan.ToolVersion = r.Tool.Version
	if r.SchemaVersion == 0 {
		r.SchemaVersion = ReportSchemaVersion
	}
}
