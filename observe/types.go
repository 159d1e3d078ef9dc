package observe

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"time"
)

// Source says how an observation was obtained; findings keep it so a reader knows
// whether medscan watched (passive), asked (active) or read a file.
type Source string

// The sources of observations.
const (
	SourcePassive Source = "passive"
	SourceActive  Source = "active"
	SourceFile    Source = "file"
)

// Endpoint is one side of a conversation: an address and a transport port.
type Endpoint = netip.AddrPort

// The observation types carry JSON names: their JSON form is how the store keeps them and
// how the report document (package findings) shows them, so that a fact added here is
// stored and reported without being copied anywhere. Flows and endpoints are left out of
// that form (json:"-"): the store keeps them in columns of their own and the report shows
// them as client, host and port.

// Flow names a conversation by its client and server. The client is the side that
// opened it (SYN) or, when the capture starts mid-stream, the side a dissector
// recognised as the client from content.
//
// A conversation carried in a proxy's tunnel (HTTP CONNECT, SOCKS4/4a/5) is about the
// tunnel's target, not the proxy: Server is the target the client named, and Via the
// proxy's endpoint the bytes were seen going to. A target named by a host name
// (CONNECT pump.example:443, a SOCKS5 domain, SOCKS4a) has no address on the wire: then
// Server stays the proxy's endpoint (the only address seen; Via equals it) and Target
// holds the name and port, "pump.example:443", which every record that names the
// server carries beside it.
type Flow struct {
	Client Endpoint
	Server Endpoint
	Via    Endpoint // the proxy whose tunnel carried the conversation; zero when direct
	Target string   // "host:port" of a tunnel's target named by host name; "" otherwise
}

// String renders the flow for evidence and errors.
func (f Flow) String() string { return f.Client.String() + " -> " + f.ServerName() }

// ServerName is how the server is named to a reader: "10.20.1.7:443", or for a
// tunnel's target "10.20.1.7:443 via proxy 10.0.0.5:3128" and "pump.example:443 via
// proxy 10.0.0.5:3128".
func (f Flow) ServerName() string {
	switch {
	case f.Target != "":
		return f.Target + " via proxy " + f.Via.String()
	case f.Via.IsValid():
		return f.Server.String() + " via proxy " + f.Via.String()
	}
	return f.Server.String()
}

// serverKey is the server part of an aggregation key: a tunnel's target by name, or
// through a proxy, is kept apart from the proxy itself and from a direct conversation.
func (f Flow) serverKey() string {
	if !f.Via.IsValid() {
		return f.Server.String()
	}
	return f.Server.String() + "|" + f.Via.String() + "|" + f.Target
}

// Service is a listening port seen to speak a protocol.
type Service struct {
	Server    Endpoint `json:"-"`
	Transport string   `json:"transport"` // "tcp" or "udp"
	Protocol  string   `json:"protocol"`  // "tls", "http", "mqtt", "hl7-mllp", "dicom", "ftp", "pop3", "imap", "smtp", "mysql", "postgresql", "ldap", "xmpp", "telnet", ...
	// Via and Target say that the service was reached through a proxy's tunnel (see
	// Flow): Via the proxy, Target the service's name and port when the client named it
	// by host name (Server is then the proxy's endpoint).
	Via       string    `json:"via_proxy,omitempty"`
	Target    string    `json:"target,omitempty"`
	Source    Source    `json:"source"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Software is what the server named itself in the protocol's greeting (a MySQL or
	// MariaDB version such as "5.5.5-10.11.6-MariaDB", PostgreSQL's server_version),
	// cleaned and bounded; "" when the protocol names nothing or it was not seen.
	Software string `json:"software,omitempty"`
	// StartTLS is what the server said about upgrading the connection to TLS in place,
	// for protocols that can: StartTLSOffered, StartTLSNotOffered, StartTLSRefused, or
	// "" when nothing told.
	StartTLS string `json:"starttls,omitempty"`
}

// What a server said about upgrading to TLS in place (Service.StartTLS).
const (
	StartTLSOffered    = "offered"     // advertised it (MySQL CLIENT_SSL, XMPP <starttls/>) or accepted a request
	StartTLSNotOffered = "not-offered" // its greeting lists what it can do, and TLS is not among it
	StartTLSRefused    = "refused"     // a client asked and the server declined (PostgreSQL 'N', an LDAP or XMPP failure)
)

// Host is an address seen on the network, with the hardware addresses seen using it.
type Host struct {
	Addr      netip.Addr
	MACs      []string // lowercase, colon separated, sorted
	FirstSeen time.Time
	LastSeen  time.Time
	// SeenVia are the sensor paths (SensorPath.Path) of the tunnels the address was seen
	// inside, sorted, at most MaxHostSensorPaths; empty for an address seen in the clear.
	SeenVia []string
	// TunnelEndpoint is true when the address sent or received the outer packets of a
	// tunnel the engine opened: it carries the sensor's copy of the traffic (a switch's
	// ERSPAN source, a VTEP), which is not a host of the network inside the tunnel.
	TunnelEndpoint bool
	// Packets and Bytes count what the address sent (as a source: IP packets, at the
	// network layer, and ARP messages), so that a host seen doing nothing else still
	// says how much it did.
	Packets, Bytes uint64
}

// SensorPath is one way traffic reached the sensor inside a tunnel: the outer addresses
// and identifier of each level of encapsulation, outermost first, rendered as Path (for
// instance "ERSPAN session 7 from 10.1.1.1 to 10.9.9.9", "VXLAN VNI 100 10.0.0.1↔10.0.0.2":
// both directions of a tunnel are one path, an ERSPAN session's one direction names its
// switch; levels joined by " / "). Packets counts the packets that came that way.
type SensorPath struct {
	Path string `json:"path"`
	// Encap names the innermost level's encapsulation: "gre", "erspan-i", "erspan-ii",
	// "erspan-iii", "vxlan", "geneve", "gtp-u", "ipip", "6in4", "4in6", "6in6".
	Encap string `json:"encap"`
	// Session is the ERSPAN session ID of the innermost level, -1 when it has none
	// (ERSPAN type I and every other encapsulation).
	Session int `json:"session"`
	// Source is the outer source address of the innermost level for ERSPAN (the
	// mirroring switch), the lower of its two outer addresses for the others.
	Source    netip.Addr `json:"source"`
	Packets   uint64     `json:"packets"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
}

// Alert is a TLS alert seen in clear.
type Alert struct {
	FromServer  bool  `json:"from_server"`
	Level       uint8 `json:"level"`
	Description uint8 `json:"description"`
}

// TLSSession is one distinct TLS handshake shape between a client host and a server:
// repeated handshakes with the same outcome are aggregated into Count.
type TLSSession struct {
	Flow      Flow      `json:"-"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Source    Source    `json:"source"`

	// From the ClientHello (absent when the capture missed it).
	SawClientHello  bool     `json:"saw_client_hello"`
	SSLv2Hello      bool     `json:"sslv2_hello"`      // the hello came in the SSLv2-compatible format
	SNI             string   `json:"sni"`              // server_name
	ALPN            []string `json:"alpn_offered"`     // offered protocols
	ClientVersion   uint16   `json:"client_version"`   // legacy_version of the hello
	OfferedVersions []uint16 `json:"offered_versions"` // supported_versions, or the legacy version when absent
	OfferedSuites   []uint16 `json:"offered_suites"`   // cipher suites in order, GREASE removed
	OfferedGroups   []uint16 `json:"offered_groups"`   // supported_groups, GREASE removed
	JA3             string   `json:"ja3"`              // JA3 string's MD5, hex
	JA4             string   `json:"ja4"`              // JA4 fingerprint (a_b_c form)

	// From the ServerHello (Version == 0 when it was not seen).
	SawServerHello bool   `json:"saw_server_hello"`
	Version        uint16 `json:"version_id"` // negotiated, taking supported_versions into account
	Suite          uint16 `json:"suite_id"`
	SSLv2Cipher    uint32 `json:"sslv2_cipher_id,omitempty"` // SSLv2 only: the cipher kind the client chose in CLIENT-MASTER-KEY
	Resumed        bool   `json:"resumed"`                   // abbreviated handshake: the server echoed the session ID or accepted a ticket/PSK
	ALPNSelected   string `json:"alpn"`

	// CertsEncrypted is true for TLS 1.3, where certificates travel encrypted and cannot
	// be observed: a report must say "not observable", never "no certificate problem".
	CertsEncrypted bool `json:"certs_encrypted"`
	// ServerChain and ClientChain are SHA-256 digests of the certificates, leaf first;
	// the DER is in Set.Certificates.
	ServerChain []CertRef `json:"server_certs"`
	ClientChain []CertRef `json:"client_certs"`

	CertRequest    bool     `json:"cert_request"`     // the server sent a CertificateRequest
	CertRequestCAs []string `json:"cert_request_cas"` // distinguished names it accepts, RFC 4514 strings

	DHBits    int    `json:"dh_bits"`       // finite-field DH prime size from ServerKeyExchange, 0 if none
	ECDHCurve uint16 `json:"ecdh_curve_id"` // named group from ServerKeyExchange (or TLS 1.3 key_share), 0 if none

	Alerts []Alert `json:"alerts"`

	// OCSPStaple is the OCSP response the server stapled (TLS 1.2 CertificateStatus),
	// nil when it stapled none; of sessions of one shape, the latest's.
	OCSPStaple *OCSPStaple `json:"ocsp_staple,omitempty"`

	// ServerAnchoring and ClientAnchoring say whether each side's chain, as this session
	// sent it, leads to one of the site's trust anchors (lint.AnchorSessions); nil when
	// the chain was not seen or the scan's policy named no anchors.
	ServerAnchoring *Anchoring `json:"server_anchoring,omitempty"`
	ClientAnchoring *Anchoring `json:"client_anchoring,omitempty"`
}

// The states of a chain judged against the site's trust anchors (Anchoring.Status).
const (
	AnchorAnchored   = "anchored"    // a path leads to a trust anchor and the leaf was valid then
	AnchorSelfSigned = "self-signed" // the chain ends in a self-signed certificate that is no anchor
	AnchorOtherCA    = "other-ca"    // issued by a CA that does not lead to the anchors
	AnchorExpired    = "expired"     // the leaf, or a certificate of the path, outside its validity when seen
	AnchorUnreadable = "unreadable"  // the leaf could not be read
)

// Anchoring is one chain judged against the site's trust anchors, at the time the
// session was seen.
type Anchoring struct {
	Status string `json:"status"`
	// Anchor is the subject of the anchor reached (Status anchored).
	Anchor string `json:"anchor,omitempty"`
	// Reason says in words why no path was found, or why the leaf did not count.
	Reason string `json:"reason,omitempty"`
}

// OCSPStaple is what a stapled OCSP response says of the server's certificate (RFC
// 6960), read by the capture engine (capture/tlswire); the response itself is not kept.
type OCSPStaple struct {
	// Status is "good", "revoked" or "unknown", or "" when the response could not be
	// read (Error says why: a malformed response, or a responder error such as
	// tryLater).
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Serial     string    `json:"serial"` // of the certificate it speaks of, hex
	ProducedAt time.Time `json:"produced_at"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"` // zero when the response has none
	RevokedAt  time.Time `json:"revoked_at"`
	Reason     string    `json:"reason,omitempty"`
	// Verified is true when the response's signature verified with the issuer the
	// server sent in its chain (or a responder certificate that issuer delegated to).
	Verified bool `json:"verified"`
	// ForLeaf is true when its serial is the leaf's the server presented.
	ForLeaf bool `json:"for_leaf"`
}

// CertRef is the SHA-256 of a certificate's DER encoding.
type CertRef [32]byte

// String is the lowercase hex digest.
func (r CertRef) String() string { return fmt.Sprintf("%x", r[:]) }

// MarshalText writes the lowercase hex digest, so JSON carries the digest a reader
// compares with sha256sum.
func (r CertRef) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a hex digest.
func (r *CertRef) UnmarshalText(b []byte) error {
	if len(b) != 2*len(r) {
		return fmt.Errorf("observe: certificate digest %.80q: want %d hex digits", b, 2*len(r))
	}
	_, err := hex.Decode(r[:], b)
	if err != nil {
		return fmt.Errorf("observe: certificate digest %.80q: %w", b, err)
	}
	return nil
}

// CertSighting says where a certificate was seen and who presented it.
type CertSighting struct {
	Endpoint Endpoint   `json:"-"` // the presenting side (server endpoint for server certificates)
	Peer     netip.Addr `json:"peer"`
	Role     string     `json:"role"`     // "server" or "client"
	Position int        `json:"position"` // 0 for the leaf
	SNI      string     `json:"sni"`
	Time     time.Time  `json:"time"`
	Source   Source     `json:"source"`
	// File is the file the certificate was read from, as the user named it (see
	// internal/scan: cleaned, with forward slashes), Position its place in the file; ""
	// for a certificate seen on the network.
	File string `json:"file,omitempty"`
	// Via is the proxy ("10.0.0.5:3128") whose tunnel carried the handshake, and Target
	// the tunnel's target when named by host name ("pump.example:443"; Endpoint is then
	// the proxy's): see Flow.
	Via    string `json:"via_proxy,omitempty"`
	Target string `json:"target,omitempty"`
}

// viaText is a proxy endpoint as records write it: "" when direct.
func viaText(ep Endpoint) string {
	if !ep.IsValid() {
		return ""
	}
	return ep.String()
}

// Certificate is one distinct certificate (by DER) and every place it was seen.
type Certificate struct {
	SHA256    CertRef
	DER       []byte
	FirstSeen time.Time
	Seen      []CertSighting // distinct by (Endpoint, Role, Position, Source, File)
	Facts     *CertFacts     // filled by package lint; nil until examined
}

// CertFacts are the parsed facts of a certificate that rules judge. A certificate that
// does not parse still gets facts, with ParseError set and what could be read.
type CertFacts struct {
	SPKISHA256         string    `json:"spki_sha256"`
	Subject            string    `json:"subject"` // RFC 4514
	Issuer             string    `json:"issuer"`
	SerialHex          string    `json:"serial"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	ValidityDays       int       `json:"validity_days"`
	KeyType            string    `json:"key_type"` // "rsa", "ecdsa", "dsa", "ed25519", "unknown"
	KeyBits            int       `json:"key_bits"`
	RSAExponent        int       `json:"rsa_exponent"` // 0 when not RSA or too large to matter
	Curve              string    `json:"curve"`
	SignatureAlgorithm string    `json:"signature_algorithm"` // e.g. "SHA1-RSA"
	SignatureHash      string    `json:"signature_hash"`      // "md2", "md5", "sha1", "sha256", ... ("" unknown)
	IsCA               bool      `json:"is_ca"`
	SelfSigned         bool      `json:"self_signed"` // subject equals issuer and the signature verifies with its own key
	DNSNames           []string  `json:"dns_names"`
	IPAddresses        []string  `json:"ip_addresses"`
	ExtKeyUsage        []string  `json:"ext_key_usage"`
	ParseError         string    `json:"parse_error"`

	// Key examination (lint.ExamineKeys, then the store-wide batch GCD), done once per
	// distinct key and copied to every certificate that carries it. Only verdicts are
	// kept: never a factor, and no big integers per certificate (the DER has the key).
	KeyFlaws     []string `json:"key_flaws"`               // "roca", "small-factor", "fermat", "blocklisted" (lint.Flaw*)
	Factorable   bool     `json:"factorable,omitempty"`    // the RSA modulus has been factored by one of the checks
	FactorMethod string   `json:"factor_method,omitempty"` // "shared-prime", "fermat" or "small-factor" (lint.Factor*)
	// SharedPrimeWith names the other keys this modulus shares a prime with, by SPKI
	// SHA-256 and where they were seen ("<spki> on 10.20.1.11:443 (scan 3)"), sorted.
	SharedPrimeWith []string `json:"shared_prime_with,omitempty"`

	// Role is what the certificate is for, decided by package lint from its extensions
	// and from where it was seen: "trust-anchor", "intermediate-ca", "tls-server",
	// "device-identity" (a TLS client or device identity leaf), "code-signing" or
	// "other"; "" when lint did not decide it (facts from elsewhere).
	Role        string   `json:"role"`
	RoleReasons []string `json:"role_reasons"` // why, in words: "EKU serverAuth", "sent by a server at position 0"
	// WebPKI is true when the certificate was judged as public WebPKI, so that zlint's
	// CA/Browser Forum and root-programme lints ran on it; WebPKIReason says why.
	WebPKI       bool   `json:"webpki"`
	WebPKIReason string `json:"webpki_reason"`
	// Lints are zlint's results at warn, error or fatal for the lints that apply to
	// the role and PKI, sorted by name; nil when zlint could not run (LintError says why).
	Lints     []CertLint `json:"lints"`
	LintError string     `json:"lint_error"`
}

// CertLint is one zlint result that found a problem.
type CertLint struct {
	Name        string `json:"name"`   // zlint's lint name, e.g. "e_sub_cert_eku_missing"
	Status      string `json:"status"` // "warn", "error" or "fatal"
	Source      string `json:"source"` // zlint's source: "RFC5280", "CABF_BR", "Mozilla", ...
	Citation    string `json:"citation"`
	Description string `json:"description"`
	Details     string `json:"details"`
}

// What an HTTP request was, as the dissector decides it from its headers and path
// (HTTPRequest.API).
const (
	APIFHIR  = "fhir" // a FHIR REST interaction
	APIOther = "api"  // a REST, JSON, XML or SOAP call that is not FHIR
)

// HTTPRequest is an HTTP/1.x request with what its response said. Repeated requests of
// one client host to one server with the same Shape are aggregated into Count, keeping
// the first one's other fields.
type HTTPRequest struct {
	Flow       Flow      `json:"-"`
	Count      int       `json:"count"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Method     string    `json:"method"`
	HostHeader string    `json:"host_header"`
	// Path is the path template, never the path: every segment that may identify a
	// patient or a record is "{id}" (PathTemplate). The raw path never leaves the
	// dissector, and the query string's values are never kept.
	Path string `json:"path"`
	// API is what the request was, decided once by the dissector: APIFHIR, APIOther, or
	// "" for a page, an image or a download. Resource is the FHIR resource type it named
	// ("Observation", "metadata"), "" when none.
	API           string   `json:"api"`
	Resource      string   `json:"fhir_resource"`
	QueryKeys     []string `json:"query_keys"` // parameter names only; values may be secrets
	UserAgent     string   `json:"user_agent"`
	ContentType   string   `json:"content_type"`
	AuthScheme    string   `json:"auth_scheme"` // scheme of the Authorization header, "" when none
	HasCookie     bool     `json:"has_cookie"`
	APIKeyHeaders []string `json:"api_key_headers"` // names of API-key-like headers present

	Status          int    `json:"status"` // 0 when no response was seen
	Server          string `json:"server"`
	RespContentType string `json:"resp_content_type"`

	// The response body, filled only when it looks like a firmware or software image
	// (package httpwire says how it decides); the body itself is never kept.
	BodyBytes   int64  `json:"body_bytes,omitempty"`   // body bytes seen
	BodySHA256  string `json:"body_sha256,omitempty"`  // lowercase hex SHA-256 of the body, "" when BodyPartial
	BodyKind    string `json:"body_kind,omitempty"`    // "elf", "pe", "uimage", "ihex", "gzip", "tar", "zip", "ext:.bin", "type:application/octet-stream", ...
	BodyPartial bool   `json:"body_partial,omitempty"` // part of the body was lost in the capture, or the response was 206 Partial Content
	// BodyEncoded: the body crossed the wire under a Content-Encoding (or a
	// Transfer-Encoding other than chunked), so BodyBytes and BodySHA256 are those of the
	// encoded bytes, not of the image a vendor publishes. A gzip body kept and decoded
	// names its image through UpdateImage.WireSHA256.
	BodyEncoded bool `json:"body_encoded,omitempty"`

	// BodySecretKeys are the names of the password-like fields (IsSecretBodyKey) of a
	// form or JSON request body, whose values the dissector reported as credentials;
	// never a value.
	BodySecretKeys []string `json:"body_secret_keys,omitempty"`
	// Login is true for a request that logs in (a password-like body field, or a POST or
	// PUT to a login path: IsLoginPath): it presents a credential rather than lacking one.
	Login bool `json:"login,omitempty"`
	// Descriptor says the request fetched a device description rather than called an
	// API: DescriptorUPnP or DescriptorDIAL, "" otherwise. Such a request has no API.
	Descriptor string `json:"descriptor,omitempty"`
}

// Credential is a secret seen in clear, recorded without the secret: a masked preview and
// a keyed hash, so that the same secret on forty devices shows as one.
type Credential struct {
	Flow      Flow      `json:"-"`
	Protocol  string    `json:"protocol"` // "http", "mqtt", "ftp", "pop3", "imap", "smtp", "mysql", "postgresql", "ldap", "xmpp", "telnet", "snmp"
	Kind      string    `json:"kind"`     // e.g. "http-basic", "http-bearer", "api-key-header", "url-secret", "mqtt-password", "ftp-password"
	Where     string    `json:"where"`    // header or parameter name, command
	User      string    `json:"user"`     // user name where there is one
	Preview   string    `json:"preview"`  // masked, e.g. "s3****9f (24 chars)"
	Hash      string    `json:"hash"`     // hex HMAC-SHA256 keyed by the key file (internal/secretkey)
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// MQTTConnect is an MQTT CONNECT packet. Connections of the same shape from one client
// host (same client id, user name and flags) are aggregated into Count.
type MQTTConnect struct {
	Flow          Flow      `json:"-"`
	Count         int       `json:"count"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
	ProtocolName  string    `json:"protocol_name"`  // "MQTT" or "MQIsdp"
	ProtocolLevel uint8     `json:"protocol_level"` // 3 (3.1), 4 (3.1.1), 5
	ClientID      string    `json:"client_id"`
	Username      string    `json:"username"`
	HasUsername   bool      `json:"has_username"`
	HasPassword   bool      `json:"has_password"`
}

// HL7Message is an HL7 v2 message type seen on a flow (aggregated by type and applications).
type HL7Message struct {
	Flow              Flow      `json:"-"`
	Count             int       `json:"count"`
	FirstSeen         time.Time `json:"first_seen"`
	LastSeen          time.Time `json:"last_seen"`
	SendingApp        string    `json:"sending_app"`
	SendingFacility   string    `json:"sending_facility"`
	ReceivingApp      string    `json:"receiving_app"`
	ReceivingFacility string    `json:"receiving_facility"`
	MessageType       string    `json:"message_type"`  // e.g. "ORU"
	TriggerEvent      string    `json:"trigger_event"` // e.g. "R01"
	Version           string    `json:"version"`
	PatientSegments   int       `json:"patient_segments"` // PID/NK1/PV1... segments counted, never copied
	IsAck             bool      `json:"is_ack"`
	AckCode           string    `json:"ack_code"` // MSA-1 (AA, AE, AR, CA, CE, CR) of an acknowledgement, else ""
	Devices           []string  `json:"devices"`  // distinct PRT-16 and OBX-18 device identifiers, at most MaxHL7Devices
}

// MaxHL7Devices bounds the device identifiers kept per aggregated HL7Message: a device
// identifier names equipment, and a few suffice to recognise it.
const MaxHL7Devices = 16

// DICOMAssociation is a DICOM upper-layer association request and its answer.
// Associations of the same shape from one client host are aggregated into Count.
type DICOMAssociation struct {
	Flow      Flow      `json:"-"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	CallingAE string    `json:"calling_ae"`
	CalledAE  string    `json:"called_ae"`
	// Result is how the association went: "accepted", "rejected", "released" (accepted
	// and then released in order), "aborted" (A-ABORT before or after acceptance), or ""
	// when no answer was seen.
	Result           string   `json:"result"`
	ImplClassUID     string   `json:"impl_class_uid"`
	ImplVersion      string   `json:"impl_version"`
	AbstractSyntaxes []string `json:"abstract_syntaxes"` // SOP class UIDs proposed
	// AbstractSyntaxNames names each of AbstractSyntaxes (same order), or repeats the UID
	// when it is not in medscan's table.
	AbstractSyntaxNames []string `json:"abstract_syntax_names"`
	AcceptedContexts    int      `json:"accepted_contexts"` // presentation contexts the AC accepted
	RejectedContexts    int      `json:"rejected_contexts"` // presentation contexts the AC rejected (any non-zero result)
	Roles               []string `json:"roles"`             // SCU/SCP role selection proposals: "<SOP class UID>:SCU", ":SCP" or ":SCU+SCP"
	PDataPDUs           int      `json:"pdata_pdus"`        // P-DATA-TF PDUs seen in both directions
	PDataBytes          int64    `json:"pdata_bytes"`       // their body bytes
	// PatientAttributes counts patient-module tag prefixes (0010,0010/0020/0030) found in
	// dataset fragments: a heuristic count of patient attributes, whose values are never read.
	PatientAttributes int `json:"patient_attributes"`
}

// Problem is something wrong with the input: the scan goes on, and the report says it.
type Problem struct {
	Source  string `json:"source"` // file name, "-" for stdin, interface name
	Offset  int64  `json:"offset"` // byte offset in the source, -1 when not applicable
	Message string `json:"message"`
	Fatal   bool   `json:"fatal"` // reading this source stopped here; the scan is incomplete
	// NotAssessed marks a probe's gap (a host backed off, a port whose checks a cap
	// cut, targets all excluded): what it names was not assessed, and the rest of the
	// scan was. A later comparison judges such a scan target by target instead of
	// calling everything "not assessed".
	NotAssessed bool `json:"not_assessed,omitempty"`
}

// Error renders the problem as the one-line message the CLI prints.
func (p Problem) Error() string {
	if p.Offset >= 0 {
		return fmt.Sprintf("%s: offset %d: %s", p.Source, p.Offset, p.Message)
	}
	return p.Source + ": " + p.Message
}

// Counter is a named count of what the engine saw, skipped or dropped.
type Counter struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}
