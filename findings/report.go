package findings

import "time"

// ReportSchemaVersion is the version of the JSON document a Report encodes to; it
// changes only when a field is renamed or removed, never when one is added.
const ReportSchemaVersion = 1

// Report is one scan as read back from the store: the read API every report writer
// renders from, and, encoded as is, medscan's JSON document. Lists are never nil after
// Load (so JSON has [] rather than null) and are in a stable order, so that two renders
// of the same scan are byte-identical.
type Report struct {
	SchemaVersion int                `json:"schema_version"`
	Tool          Tool               `json:"tool"`
	Scan          ScanInfo           `json:"scan"`
	Summary       Summary            `json:"summary"`
	Findings      []Finding          `json:"findings"`
	Certificates  []Certificate      `json:"certificates"`
	Services      []Service          `json:"services"`
	TLSSessions   []TLSSession       `json:"tls_sessions"`
	Assets        []Asset            `json:"assets"`
	Credentials   []Credential       `json:"credentials"`
	HTTP          []HTTPRequest      `json:"http"`
	MQTT          []MQTTConnect      `json:"mqtt"`
	HL7           []HL7Message       `json:"hl7"`
	DICOM         []DICOMAssociation `json:"dicom"`
	HostNames     []HostName         `json:"host_names"`
	DHCPLeases    []DHCPLease        `json:"dhcp_leases"`
	Transfers     []FileTransfer     `json:"file_transfers"`
	// Probes and ProbeHosts are what the active prober learned and what it cost each
	// host; absent from JSON for a scan that probed nothing (a capture replay).
	Probes     []ProbeEndpoint `json:"probes,omitempty"`
	ProbeHosts []ProbeHost     `json:"probe_hosts,omitempty"`
	// Suppressed holds the scan's findings that a suppression matched: kept and shown,
	// but outside Findings, the summary's totals and the CI gate. Absent from JSON when
	// none matched (so documents without suppressions are unchanged).
	Suppressed []SuppressedFinding `json:"suppressed,omitempty"`
	// Change compares the scan with an earlier comparable one (see Diff); nil, and
	// absent from JSON, when there is none.
	Change *Change `json:"change,omitempty"`
}

// Tool names the program that wrote the scan.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ScanInfo describes one scan: when, of what, and whether it read all of its input.
type ScanInfo struct {
	ID       int64     `json:"id"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Label    string    `json:"label"`
	Sources  []string  `json:"sources"`
	// Complete is false when a source could not be read to its end: a report must say
	// so, because absent findings then prove nothing.
	Complete bool      `json:"complete"`
	Policy   string    `json:"policy"`
	Problems []Problem `json:"problems"`
	Counters []Counter `json:"counters"`
	// Rules are the rule IDs the scan's policy assessed, sorted; nil when the scan did
	// not record them, which Diff reads as "every rule". A finding of a rule missing here
	// cannot be judged fixed by this scan.
	Rules []string `json:"rules,omitempty"`
}

// Problem is something wrong with the scan's input (observe.Problem, with JSON names).
type Problem struct {
	Source  string `json:"source"`
	Offset  int64  `json:"offset"`
	Message string `json:"message"`
	Fatal   bool   `json:"fatal"`
}

// Counter is a named count of what the engine saw, skipped or dropped.
type Counter struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

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

// Summarize recounts r.Summary from r.Findings and r.Suppressed, after findings were
// moved between them.
func (r *Report) Summarize() {
	s := Summary{Total: len(r.Findings), Suppressed: len(r.Suppressed)}
	for _, f := range r.Findings {
		switch f.Severity {
		case Critical:
			s.Critical++
		case High:
			s.High++
		case Medium:
			s.Medium++
		case Low:
			s.Low++
		default:
			s.Info++
		}
	}
	r.Summary = s
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

// Certificate is one distinct certificate the scan held, with its parsed facts (empty
// when it was never examined) and where this scan saw it.
type Certificate struct {
	SHA256             string     `json:"sha256"`
	SPKISHA256         string     `json:"spki_sha256"`
	Subject            string     `json:"subject"`
	Issuer             string     `json:"issuer"`
	Serial             string     `json:"serial"`
	NotBefore          time.Time  `json:"not_before"`
	NotAfter           time.Time  `json:"not_after"`
	ValidityDays       int        `json:"validity_days"`
	KeyType            string     `json:"key_type"`
	KeyBits            int        `json:"key_bits"`
	RSAExponent        int        `json:"rsa_exponent"`
	Curve              string     `json:"curve"`
	SignatureAlgorithm string     `json:"signature_algorithm"`
	SignatureHash      string     `json:"signature_hash"`
	IsCA               bool       `json:"is_ca"`
	SelfSigned         bool       `json:"self_signed"`
	DNSNames           []string   `json:"dns_names"`
	IPAddresses        []string   `json:"ip_addresses"`
	ExtKeyUsage        []string   `json:"ext_key_usage"`
	ParseError         string     `json:"parse_error"`
	Role               string     `json:"role"` // trust-anchor, intermediate-ca, tls-server, device-identity, code-signing, other
	RoleReasons        []string   `json:"role_reasons"`
	WebPKI             bool       `json:"webpki"` // judged as public WebPKI, so CA/Browser Forum lints applied
	WebPKIReason       string     `json:"webpki_reason"`
	Lints              []CertLint `json:"lints"` // zlint results at warn or worse
	LintError          string     `json:"lint_error"`
	FirstSeen          time.Time  `json:"first_seen"` // across every scan in the store
	SeenOn             []Sighting `json:"seen_on"`
}

// CertLint is one zlint result at warn or worse.
type CertLint struct {
	Name        string `json:"name"`   // zlint's lint name, e.g. "e_sub_cert_eku_missing"
	Status      string `json:"status"` // "warn", "error" or "fatal"
	Source      string `json:"source"` // "RFC5280", "CABF_BR", "Mozilla", ...
	Citation    string `json:"citation"`
	Description string `json:"description"`
	Details     string `json:"details"`
}

// Sighting is one place a certificate was presented.
type Sighting struct {
	Host     string    `json:"host"` // the presenting side; "" for a certificate read from a file
	Port     int       `json:"port"` // 0 for a client certificate
	Peer     string    `json:"peer"`
	Role     string    `json:"role"` // "server" or "client"
	Position int       `json:"position"`
	SNI      string    `json:"sni"`
	Time     time.Time `json:"time"`
	Source   string    `json:"source"`
}

// Service is a listening port and the protocol it spoke, with the TLS version and suite
// of the most recently seen handshake on it ("" when it spoke no TLS).
type Service struct {
	Host       string    `json:"host"`
	Port       int       `json:"port"`
	Transport  string    `json:"transport"`
	Protocol   string    `json:"protocol"`
	TLSVersion string    `json:"tls_version"`
	Cipher     string    `json:"cipher"`
	Source     string    `json:"source"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// TLSSession is one distinct TLS handshake shape between a client host and a server.
type TLSSession struct {
	Client          string    `json:"client"`
	Host            string    `json:"host"`
	Port            int       `json:"port"`
	SNI             string    `json:"sni"`
	Version         string    `json:"version"` // IANA name; "" when no ServerHello was seen
	Cipher          string    `json:"cipher"`
	VersionID       uint16    `json:"version_id"`
	CipherID        uint32    `json:"cipher_id"` // a TLS suite, or an SSLv2 cipher kind
	Count           int       `json:"count"`
	FirstSeen       time.Time `json:"first_seen"`
	LastSeen        time.Time `json:"last_seen"`
	Source          string    `json:"source"`
	Resumed         bool      `json:"resumed"`
	ALPN            string    `json:"alpn"` // the protocol the server selected
	ALPNOffered     []string  `json:"alpn_offered"`
	SawClientHello  bool      `json:"saw_client_hello"`
	SawServerHello  bool      `json:"saw_server_hello"`
	SSLv2Hello      bool      `json:"sslv2_hello"`
	ClientVersion   uint16    `json:"client_version"`
	OfferedVersions []uint16  `json:"offered_versions"`
	OfferedSuites   []uint16  `json:"offered_suites"`
	OfferedGroups   []uint16  `json:"offered_groups"`
	CertRequest     bool      `json:"cert_request"`
	CertRequestCAs  []string  `json:"cert_request_cas"`
	// CertsObservable is false for TLS 1.3, where certificates travel encrypted: the
	// absence of certificate findings then says nothing.
	CertsObservable bool     `json:"certs_observable"`
	ServerCerts     []string `json:"server_certs"` // SHA-256, leaf first
	ClientCerts     []string `json:"client_certs"`
	DHBits          int      `json:"dh_bits"`
	ECDHCurve       string   `json:"ecdh_curve"` // group name; "" when none
	ECDHCurveID     uint16   `json:"ecdh_curve_id"`
	JA3             string   `json:"ja3"`
	JA4             string   `json:"ja4"`
	Alerts          []Alert  `json:"alerts"`
}

// Alert is a TLS alert seen in clear.
type Alert struct {
	FromServer  bool  `json:"from_server"`
	Level       uint8 `json:"level"`
	Description uint8 `json:"description"`
}

// Asset is an address the scan saw, with the hardware addresses seen using it and its
// place in the inventory (package inventory): kind, reasons, roles, names, maker.
type Asset struct {
	IP   string   `json:"ip"`
	MAC  string   `json:"mac"` // the first of MACs, "" when none was seen
	MACs []string `json:"macs"`
	// Vendor is the organisation the IEEE assigned MAC's prefix to (oui.Lookup), filled
	// at Load so that a newer registry names old scans too; "" when unknown.
	Vendor    string    `json:"vendor"`
	FirstSeen time.Time `json:"first_seen"` // within this scan
	LastSeen  time.Time `json:"last_seen"`
	// LeasedIPs are the other addresses DHCP gave this asset's MACs during the scan.
	LeasedIPs []string    `json:"leased_ips"`
	Names     []AssetName `json:"names"`
	// Kind is medical-device, middleware, clinical-server, workstation, infrastructure or
	// unknown; "" when the scan was stored without an inventory.
	Kind         string   `json:"kind"`
	Reasons      []string `json:"reasons"` // why Kind, strongest first
	Roles        []string `json:"roles"`   // behaviours seen: hl7-sender, dicom-scp, dhcp-server, ...
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
	// The evidence that names the asset, each list sorted.
	DHCPVendorClass      []string `json:"dhcp_vendor_class"`
	UserAgents           []string `json:"user_agents"`
	Servers              []string `json:"servers"`       // HTTP Server headers it answered with
	CertSubjects         []string `json:"cert_subjects"` // leaf certificates it presented
	HL7Apps              []string `json:"hl7_apps"`      // sending application^facility
	DICOMAETitles        []string `json:"dicom_ae_titles"`
	DICOMImplementations []string `json:"dicom_implementations"` // implementation class UID and version name
}

// AssetName is a name an asset carries and where it was learned.
type AssetName struct {
	Name   string `json:"name"`
	Source string `json:"source"` // dhcp, dns, mdns, netbios, llmnr, tls-sni
}

// HostName is a name a host was seen to carry, and where from.
type HostName struct {
	IP        string    `json:"ip"`
	MAC       string    `json:"mac"`
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// DHCPLease is what DHCP said about one client hardware address.
type DHCPLease struct {
	MAC          string    `json:"mac"`
	IP           string    `json:"ip"` // "" when no address was assigned or asked for
	Server       string    `json:"server"`
	Hostname     string    `json:"hostname"`
	VendorClass  string    `json:"vendor_class"`
	ParamRequest string    `json:"param_request"` // option 55, comma-separated
	Acked        bool      `json:"acked"`
	LeaseSeconds uint32    `json:"lease_seconds"`
	Count        int       `json:"count"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
}

// FileTransfer is a file moved in clear over FTP or TFTP, described, never kept.
type FileTransfer struct {
	Client    string    `json:"client"`
	Host      string    `json:"host"`
	Port      int       `json:"port"`
	Protocol  string    `json:"protocol"`
	Upload    bool      `json:"upload"`
	Path      string    `json:"path"`
	URL       string    `json:"url"`
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
	Kind      string    `json:"kind"` // what identified a software image ("elf", "ext:.bin"); "" when not one
	Partial   bool      `json:"partial"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Credential is a secret seen in clear, as stored: a masked preview and a keyed hash.
type Credential struct {
	Client    string    `json:"client"`
	Host      string    `json:"host"`
	Port      int       `json:"port"`
	Protocol  string    `json:"protocol"`
	Kind      string    `json:"kind"`
	Where     string    `json:"where"`
	User      string    `json:"user"`
	Preview   string    `json:"preview"`
	Hash      string    `json:"hash"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// HTTPRequest is one HTTP request shape and what its response said.
type HTTPRequest struct {
	Client          string    `json:"client"`
	Host            string    `json:"host"` // server address; the Host header is HostHeader
	Port            int       `json:"port"`
	Count           int       `json:"count"`
	FirstSeen       time.Time `json:"first_seen"`
	LastSeen        time.Time `json:"last_seen"`
	Method          string    `json:"method"`
	HostHeader      string    `json:"host_header"`
	Path            string    `json:"path"`
	QueryKeys       []string  `json:"query_keys"`
	UserAgent       string    `json:"user_agent"`
	ContentType     string    `json:"content_type"`
	AuthScheme      string    `json:"auth_scheme"`
	HasCookie       bool      `json:"has_cookie"`
	APIKeyHeaders   []string  `json:"api_key_headers"`
	Status          int       `json:"status"`
	Server          string    `json:"server"`
	RespContentType string    `json:"resp_content_type"`
	BodyBytes       int64     `json:"body_bytes,omitempty"`   // response body bytes seen, for a software image
	BodySHA256      string    `json:"body_sha256,omitempty"`  // hex SHA-256 of a complete image body
	BodyKind        string    `json:"body_kind,omitempty"`    // what identified it: "elf", "ext:.bin", "type:application/octet-stream", ...
	BodyPartial     bool      `json:"body_partial,omitempty"` // part of the body was not captured
}

// MQTTConnect is an MQTT CONNECT shape, with how often it was seen.
type MQTTConnect struct {
	Client        string    `json:"client"`
	Host          string    `json:"host"`
	Port          int       `json:"port"`
	Count         int       `json:"count"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
	ProtocolName  string    `json:"protocol_name"`
	ProtocolLevel uint8     `json:"protocol_level"`
	ClientID      string    `json:"client_id"`
	Username      string    `json:"username"`
	HasUsername   bool      `json:"has_username"`
	HasPassword   bool      `json:"has_password"`
}

// HL7Message is an HL7 v2 message type seen on a flow; patient segments are counted only.
type HL7Message struct {
	Client            string    `json:"client"`
	Host              string    `json:"host"`
	Port              int       `json:"port"`
	Count             int       `json:"count"`
	FirstSeen         time.Time `json:"first_seen"`
	LastSeen          time.Time `json:"last_seen"`
	SendingApp        string    `json:"sending_app"`
	SendingFacility   string    `json:"sending_facility"`
	ReceivingApp      string    `json:"receiving_app"`
	ReceivingFacility string    `json:"receiving_facility"`
	MessageType       string    `json:"message_type"`
	TriggerEvent      string    `json:"trigger_event"`
	Version           string    `json:"version"`
	PatientSegments   int       `json:"patient_segments"`
	IsAck             bool      `json:"is_ack"`
	AckCode           string    `json:"ack_code"` // MSA-1 of an acknowledgement, else ""
	Devices           []string  `json:"devices"`  // PRT-16 and OBX-18 device identifiers
}

// DICOMAssociation is a DICOM association request and its answer, with how often it was seen.
type DICOMAssociation struct {
	Client           string    `json:"client"`
	Host             string    `json:"host"`
	Port             int       `json:"port"`
	Count            int       `json:"count"`
	FirstSeen        time.Time `json:"first_seen"`
	LastSeen         time.Time `json:"last_seen"`
	CallingAE        string    `json:"calling_ae"`
	CalledAE         string    `json:"called_ae"`
	Result           string    `json:"result"`
	ImplClassUID     string    `json:"impl_class_uid"`
	ImplVersion      string    `json:"impl_version"`
	AbstractSyntaxes []string  `json:"abstract_syntaxes"`
	// AbstractSyntaxNames names each of AbstractSyntaxes, or repeats an unknown UID.
	AbstractSyntaxNames []string `json:"abstract_syntax_names"`
	AcceptedContexts    int      `json:"accepted_contexts"`
	RejectedContexts    int      `json:"rejected_contexts"`
	Roles               []string `json:"roles"` // SCU/SCP role selections, "<UID>:SCU+SCP"
	PDataPDUs           int      `json:"pdata_pdus"`
	PDataBytes          int64    `json:"pdata_bytes"`
	PatientAttributes   int      `json:"patient_attributes"` // counted heuristically, never stored
}

// Normalize replaces every nil list and evidence map in r with an empty one, so that
// JSON carries [] and {} rather than null. Load returns normalized reports; writers call
// it for reports built by hand. It changes nothing else.
func (r *Report) Normalize() {
	r.Scan.Sources = nonNil(r.Scan.Sources)
	r.Scan.Problems = nonNil(r.Scan.Problems)
	r.Scan.Counters = nonNil(r.Scan.Counters)
	r.Findings = nonNil(r.Findings)
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Evidence == nil {
			f.Evidence = map[string]any{}
		}
		f.References = nonNil(f.References)
	}
	for i := range r.Suppressed {
		f := &r.Suppressed[i].Finding
		if f.Evidence == nil {
			f.Evidence = map[string]any{}
		}
		f.References = nonNil(f.References)
	}
	if c := r.Change; c != nil {
		c.New, c.Fixed = nonNil(c.New), nonNil(c.Fixed)
		c.Persisting, c.NotAssessed = nonNil(c.Persisting), nonNil(c.NotAssessed)
	}
	r.Certificates = nonNil(r.Certificates)
	for i := range r.Certificates {
		c := &r.Certificates[i]
		c.DNSNames = nonNil(c.DNSNames)
		c.IPAddresses = nonNil(c.IPAddresses)
		c.ExtKeyUsage = nonNil(c.ExtKeyUsage)
		c.SeenOn = nonNil(c.SeenOn)
		c.RoleReasons = nonNil(c.RoleReasons)
		c.Lints = nonNil(c.Lints)
	}
	r.Services = nonNil(r.Services)
	r.TLSSessions = nonNil(r.TLSSessions)
	for i := range r.TLSSessions {
		t := &r.TLSSessions[i]
		t.ALPNOffered = nonNil(t.ALPNOffered)
		t.OfferedVersions = nonNil(t.OfferedVersions)
		t.OfferedSuites = nonNil(t.OfferedSuites)
		t.OfferedGroups = nonNil(t.OfferedGroups)
		t.CertRequestCAs = nonNil(t.CertRequestCAs)
		t.ServerCerts = nonNil(t.ServerCerts)
		t.ClientCerts = nonNil(t.ClientCerts)
		t.Alerts = nonNil(t.Alerts)
	}
	r.Assets = nonNil(r.Assets)
	for i := range r.Assets {
		r.Assets[i].normalize()
	}
	r.HostNames = nonNil(r.HostNames)
	r.DHCPLeases = nonNil(r.DHCPLeases)
	r.Transfers = nonNil(r.Transfers)
	r.Credentials = nonNil(r.Credentials)
	r.HTTP = nonNil(r.HTTP)
	for i := range r.HTTP {
		r.HTTP[i].QueryKeys = nonNil(r.HTTP[i].QueryKeys)
		r.HTTP[i].APIKeyHeaders = nonNil(r.HTTP[i].APIKeyHeaders)
	}
	r.MQTT = nonNil(r.MQTT)
	r.HL7 = nonNil(r.HL7)
	for i := range r.HL7 {
		r.HL7[i].Devices = nonNil(r.HL7[i].Devices)
	}
	r.DICOM = nonNil(r.DICOM)
	for i := range r.DICOM {
		r.DICOM[i].AbstractSyntaxes = nonNil(r.DICOM[i].AbstractSyntaxes)
		r.DICOM[i].AbstractSyntaxNames = nonNil(r.DICOM[i].AbstractSyntaxNames)
		r.DICOM[i].Roles = nonNil(r.DICOM[i].Roles)
	}
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
