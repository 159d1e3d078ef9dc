package findings

import (
	"net/netip"
	"time"

	"github.com/medscan/medscan/observe"
)

// ReportSchemaVersion is the version of the JSON document a Report encodes to; it
// changes only when a field is renamed or removed, never when one is added.
const ReportSchemaVersion = 1

// ToolName is the name written in every report's tool section.
const ToolName = "medscan"

// Report is one scan: the document every scan writer renders and, encoded as is,
// medscan's JSON document. Build one with NewReport from a scan just run (for the store),
// or read one with the store, which normalizes it (Normalize: derived, tidy, sorted; see
// the package documentation).
type Report struct {
	SchemaVersion int           `json:"schema_version"`
	Tool          Tool          `json:"tool"`
	Scan          ScanInfo      `json:"scan"`
	Summary       Summary       `json:"summary"`
	Findings      []Finding     `json:"findings"`
	Certificates  []Certificate `json:"certificates"`
	Services      []Service     `json:"services"`
	TLSSessions   []TLSSession  `json:"tls_sessions"`
	Assets        []Asset       `json:"assets"`
	// QuietHosts are the addresses the inventory left out, each as a compact record
	// (see QuietHost); absent from JSON when there are none.
	QuietHosts  []QuietHost        `json:"quiet_hosts,omitempty"`
	Credentials []Credential       `json:"credentials"`
	HTTP        []HTTPRequest      `json:"http"`
	MQTT        []MQTTConnect      `json:"mqtt"`
	HL7         []HL7Message       `json:"hl7"`
	DICOM       []DICOMAssociation `json:"dicom"`
	HostNames   []HostName         `json:"host_names"`
	DHCPLeases  []DHCPLease        `json:"dhcp_leases"`
	Transfers   []FileTransfer     `json:"file_transfers"`
	// Flows are the data-flow map's edges, computed from the lists above (BuildFlows);
	// absent from JSON when the scan saw no conversation.
	Flows []Flow `json:"flows,omitempty"`
	// Probes and ProbeHosts are what the active prober learned and what it cost each
	// host; absent from JSON for a scan that probed nothing (a capture replay).
	Probes     []ProbeEndpoint `json:"probes,omitempty"`
	ProbeHosts []ProbeHost     `json:"probe_hosts,omitempty"`
	// SensorPaths are the tunnels the capture's traffic came through (GRE, ERSPAN
	// sessions, VXLAN, ...), by path; absent from JSON when everything was in the clear.
	SensorPaths []observe.SensorPath `json:"sensor_paths,omitempty"`
	// KeyFiles are the private keys a lint run found beside the certificates it read,
	// described, never kept; absent from JSON when there were none.
	KeyFiles []KeyFile `json:"key_files,omitempty"`
	// ARPClaims, DHCPReplies and StartTLSGreetings are what the signs of interception
	// are judged from (who claimed which address in ARP, which DHCP servers answered
	// whom, what mail servers' greetings said about STARTTLS); each absent from JSON
	// when the capture held none.
	ARPClaims         []observe.ARPClaim  `json:"arp_claims,omitempty"`
	DHCPReplies       []observe.DHCPReply `json:"dhcp_replies,omitempty"`
	StartTLSGreetings []StartTLSGreeting  `json:"starttls_greetings,omitempty"`
	// Updates are the update images examined for code signing (medscan verify, or
	// images kept from the wire), with their signatures and every device that fetched
	// them; absent from JSON when there were none.
	Updates []UpdateImage `json:"updates,omitempty"`
	// Suppressed holds the scan's findings that a suppression matched: kept and shown,
	// but outside Findings, the summary's totals and the CI gate. Absent from JSON when
	// none matched (so documents without suppressions are unchanged).
	Suppressed []SuppressedFinding `json:"suppressed,omitempty"`
	// Change compares the scan with an earlier comparable one (see store.Diff); nil,
	// and absent from JSON, when there is none.
	Change *Change `json:"change,omitempty"`
	// SeverityFilter names the severities a reader asked to see (-s): the findings,
	// suppressed findings, change lists and summary above hold those only. Absent when
	// everything is shown; never stored.
	SeverityFilter []string `json:"severity_filter,omitempty"`
	// Stream, when set, holds the findings in place of Findings (empty then): a stored
	// scan rendered as it is read (store.Stream). Never encoded: the JSON writer writes
	// its findings where Findings would be.
	Stream *FindingStream `json:"-"`
}

// Tool names the program that wrote the scan.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// The kinds of run a store keeps apart: "latest" and the history pair a scan with scans
// of its own kind.
const (
	KindNetwork = "network" // a capture, live or from files, an active probe, or both
	KindLint    = "lint"    // certificate files (and stored certificates) linted
	KindVerify  = "verify"  // update files examined for code signing (medscan verify)
)

// ScanInfo describes one scan: when, of what, and whether it read all of its input.
type ScanInfo struct {
	ID int64 `json:"id"`
	// Kind is KindNetwork or KindLint.
	Kind     string    `json:"kind"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Label    string    `json:"label"`
	Sources  []string  `json:"sources"`
	// Complete is false when a source could not be read to its end, or a probe left
	// targets or checks unassessed (all excluded, a host backed off or capped, checks
	// cut): a report must say so, because absent findings then prove nothing. Problems
	// say what was missed, per source, host or port.
	Complete bool      `json:"complete"`
	Policy   string    `json:"policy"`
	Problems []Problem `json:"problems"`
	Counters []Counter `json:"counters"`
	// Rules are the rule IDs the scan's policy assessed, sorted; nil when the scan did
	// not record them, which the history reads as "every rule". A finding of a rule
	// missing here cannot be judged fixed by this scan.
	Rules []string `json:"rules,omitempty"`
	// ToolVersion is the version of medscan that ran the scan.
	ToolVersion string `json:"-"`
	// Site names where the scan was made (--site: a hospital, a clinic); "" when the
	// sensor was given none. Scans of one site are compared with each other only.
	Site string `json:"site,omitempty"`
	// UID identifies the scan in every store it is copied to (128 random bits in hex),
	// where ID is one store's local handle: sync copies a scan once by its UID.
	UID string `json:"uid,omitempty"`
}

// RunKind is the scan's kind, KindNetwork for a scan stored before kinds were recorded.
func (s ScanInfo) RunKind() string {
	if s.Kind == "" {
		return KindNetwork
	}
	return s.Kind
}

// Problem is something wrong with the scan's input.
type Problem = observe.Problem

// Counter is a named count of what the engine saw, skipped or dropped.
type Counter = observe.Counter

// Summary counts the scan's findings by severity.
type Summary struct {
	Total    int `json:"total"`
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
	// Suppressed counts the findings set aside by suppressions; they are in none of the
	// counts above.
	Suppressed int `json:"suppressed,omitempty"`
}

// Summarize recounts r.Summary from r.Findings (by severity) and r.Suppressed, after
// findings were moved between them; from the store's counts when the findings are
// streamed (r.Stream).
func (r *Report) Summarize() {
	s := Summary{Total: len(r.Findings), Suppressed: len(r.Suppressed)}
	if r.Stream != nil {
		// The findings are in the store, counted there.
		for sev, n := range r.Stream.Counts {
			s.Total += n
			s.add(sev, n)
		}
		r.Summary = s
		return
	}
	for _, f := range r.Findings {
		s.add(f.Severity, 1)
	}
	r.Summary = s
}

// Add counts n findings of severity sev, in their severity and the total.
func (s *Summary) Add(sev Severity, n int) {
	s.Total += n
	s.add(sev, n)
}

// add counts n findings in their severity's count only.
func (s *Summary) add(sev Severity, n int) {
	switch sev {
	case Critical:
		s.Critical += n
	case High:
		s.High += n
	case Medium:
		s.Medium += n
	case Low:
		s.Low += n
	default:
		s.Info += n
	}
}

// Count returns the number of findings of one severity.
func (s Summary) Count(sev Severity) int {
	switch sev {
	case Critical:
		return s.Critical
	case High:
		return s.High
	case Medium:
		return s.Medium
	case Low:
		return s.Low
	case Info:
		return s.Info
	}
	return 0
}

// SuppressedFinding is a finding a suppression set aside, with the suppression that did.
type SuppressedFinding struct {
	Finding
	Suppression SuppressionRef `json:"suppression"`
}

// SuppressionRef says which suppression matched a finding and why it was accepted.
type SuppressionRef struct {
	Reason  string `json:"reason"`
	Expires string `json:"expires"` // YYYY-MM-DD, the last day it suppresses
	Source  string `json:"source"`  // FILE:LINE of the entry
}

// Conversation names the two sides of an observation the way the document shows them:
// the client's address, and the server's address and port.
//
// A conversation in a proxy's tunnel names the proxy too (Via, "10.0.0.5:3128"), and a
// target the client named by host name (Target, "pump.example:443"; Host and Port are then
// the proxy's): see observe.Flow.
type Conversation struct {
	Client string `json:"client"`
	Host   string `json:"host"`
	Port   int    `json:"port"`
	Via    string `json:"via_proxy,omitempty"`
	Target string `json:"target,omitempty"`
}

// conversation renders a flow, IPv4-mapped addresses unmapped.
func conversation(f observe.Flow) Conversation {
	c := Conversation{Client: AddrText(f.Client.Addr()), Host: AddrText(f.Server.Addr()), Port: int(f.Server.Port()), Target: f.Target}
	if f.Via.IsValid() {
		c.Via = Target(AddrText(f.Via.Addr()), int(f.Via.Port()))
	}
	return c
}

// AddrText is an address as the document (and the store) writes it: unmapped, "" when
// invalid.
func AddrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().String()
}

// Certificate is one distinct certificate the scan held, with its parsed facts (empty
// when it was never examined) and where this scan saw it.
type Certificate struct {
	SHA256 string `json:"sha256"`
	observe.CertFacts
	FirstSeen time.Time  `json:"first_seen"` // across every scan in the store, once stored
	SeenOn    []Sighting `json:"seen_on"`
	// DER is the certificate itself, for the store; never in a report (a reader who needs
	// it asks the store for it by SHA-256).
	DER []byte `json:"-"`
}

// Sighting is one place a certificate was presented.
type Sighting struct {
	Host string `json:"host"` // the presenting side; "" for a certificate read from a file
	Port int    `json:"port"` // 0 for a client certificate
	observe.CertSighting
}

// Service is a listening port and the protocol it spoke, with the TLS version and suite
// its clients get ("" when it spoke no TLS, or none is known): for a service seen in
// traffic, those of the most recently seen handshake on it; for a probed one, those the
// prober's ordinary handshake negotiated (ProbeTLSProfile), never one enumeration tried.
type Service struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	observe.Service
	TLSVersion string `json:"tls_version"`
	Cipher     string `json:"cipher"`
}

// TLSSession is one distinct TLS handshake shape between a client host and a server,
// with its version, suite and group named.
type TLSSession struct {
	Conversation
	Version  string `json:"version"`   // IANA name; "" when no ServerHello was seen
	Cipher   string `json:"cipher"`    // IANA name of the suite, or of the SSLv2 cipher kind
	CipherID uint32 `json:"cipher_id"` // the suite, or the SSLv2 cipher kind
	// CertsObservable is false for TLS 1.3, where certificates travel encrypted: the
	// absence of certificate findings then says nothing.
	CertsObservable bool   `json:"certs_observable"`
	ECDHCurve       string `json:"ecdh_curve"` // group name; "" when none
	observe.TLSSession
}

// Asset is an address the scan saw, with its place in the inventory (package
// inventory): kind, reasons, roles, names, maker.
type Asset struct {
	observe.Asset
	MAC string `json:"mac"` // the first of MACs, "" when none was seen
}

// QuietHost is an address the scan saw doing nothing the report says more about: no
// service, credential, certificate, name, lease or evidence of a kind, so package
// inventory made no asset of it (a source of a sweep, a host only ever sent to). It is
// kept as this compact record rather than an Asset, so that a worm's sweep of a /16
// costs memory, the store and the report tens of bytes per address instead of a whole
// inventory entry, while every address seen is still listed.
type QuietHost struct {
	Addr      netip.Addr `json:"ip"`
	MACs      []string   `json:"macs,omitempty"` // sorted; absent when none was seen (a destination only)
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
	// Packets and Bytes are what the address sent (network-layer lengths): zero for
	// an address only sent to.
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// IP is the quiet host's address as the document writes it.
func (q QuietHost) IP() string { return AddrText(q.Addr) }

// IP is the asset's address as the document writes it.
func (a Asset) IP() string { return AddrText(a.Addr) }

// Credential is a secret seen in clear, as stored: a masked preview and a keyed hash.
type Credential struct {
	Conversation
	observe.Credential
}

// StartTLSGreeting is what a server's capability list said about STARTTLS on one
// client's sessions, and what became of them.
type StartTLSGreeting struct {
	Conversation
	observe.StartTLSGreeting
}

// HTTPRequest is one HTTP request shape (its path a template) and what its response said.
type HTTPRequest struct {
	Conversation
	observe.HTTPRequest
}

// MQTTConnect is an MQTT CONNECT shape, with how often it was seen.
type MQTTConnect struct {
	Conversation
	observe.MQTTConnect
}

// HL7Message is an HL7 v2 message type seen on a flow; patient segments are counted only.
type HL7Message struct {
	Conversation
	observe.HL7Message
}

// DICOMAssociation is a DICOM association request and its answer, with how often it was seen.
type DICOMAssociation struct {
	Conversation
	observe.DICOMAssociation
}

// FileTransfer is a file moved in clear over FTP or TFTP, described, never kept.
type FileTransfer struct {
	Conversation
	observe.FileTransfer
}

// HostName is a name a host was seen to carry, and where from.
type HostName = observe.HostName

// DHCPLease is what DHCP said about one client hardware address.
type DHCPLease = observe.DHCPLease

// KeyFile is a private key found in a file read for certificates, described, never kept.
type KeyFile = observe.KeyFile

// UpdateImage is an update image examined for code signing (package codesign).
type UpdateImage = observe.UpdateImage

// ProbeHost is the prober's account of one host.
type ProbeHost = observe.ProbeHost

// ProbeEndpoint is what the active prober learned about one port, its TLS profile by name.
type ProbeEndpoint struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	observe.ProbeEndpoint
	TLS *ProbeTLSProfile `json:"tls,omitempty"`
}

// ProbeTLSProfile is every version and suite a TLS service accepted, and what an
// ordinary client negotiates with it, by IANA name (observe.TLSProfile says how each
// was learned).
type ProbeTLSProfile struct {
	Versions []string       `json:"versions"` // every version accepted, ascending
	Suites   []ProbeVersion `json:"suites"`   // the suites each accepted version accepted
	// NegotiatedVersion and NegotiatedSuite are what the first, ordinary handshake
	// agreed; "" when none completed, and in documents stored before they were recorded.
	NegotiatedVersion string   `json:"negotiated_version"`
	NegotiatedSuite   string   `json:"negotiated_suite"`
	Groups            []string `json:"groups"`
	DHBits            int      `json:"dh_bits"`
	CertRequest       bool     `json:"cert_request"`
	CertRequestCAs    []string `json:"cert_request_cas"`
	CertRequired      bool     `json:"cert_required"`
	ServerCerts       []string `json:"server_certs"` // SHA-256, leaf first
	Renegotiation     string   `json:"renegotiation,omitempty"`
	Compression       string   `json:"compression,omitempty"`
	TicketLifetime    int64    `json:"ticket_lifetime,omitempty"`
	OCSPStapling      string   `json:"ocsp_stapling,omitempty"`
	FallbackSCSV      string   `json:"fallback_scsv,omitempty"`
}

// ProbeVersion is the suites one protocol version accepted.
type ProbeVersion struct {
	Version          string   `json:"version"`
	ServerPreference bool     `json:"server_preference"`
	Suites           []string `json:"suites"`
}

// Enumerated reports whether the probe listed the versions and suites the service
// accepts, at a profile at least as thorough as want.
func (p ProbeEndpoint) Enumerated(want string) bool {
	return p.TLS != nil && len(p.TLS.Suites) > 0 && ProfileAtLeast(p.Profile, want)
}

// Examined reports whether the certificate's facts were read (by package lint): a
// certificate that did not parse has a ParseError, one that did has a key.
func (c Certificate) Examined() bool {
	return c.SPKISHA256 != "" || c.ParseError != "" || c.KeyType != "" || c.Subject != ""
}
