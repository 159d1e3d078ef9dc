package observe

import (
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

// Flow names a conversation by its client and server. The client is the side that
// opened it (SYN) or, when the capture starts mid-stream, the side a dissector
// recognised as the client from content.
type Flow struct {
	Client Endpoint
	Server Endpoint
}

// String renders the flow for evidence and errors.
func (f Flow) String() string { return f.Client.String() + " -> " + f.Server.String() }

// Service is a listening port seen to speak a protocol.
type Service struct {
	Server    Endpoint
	Transport string // "tcp" or "udp"
	Protocol  string // "tls", "http", "mqtt", "hl7-mllp", "dicom", "ftp", "pop3", "imap", "telnet", ...
	FirstSeen time.Time
	LastSeen  time.Time
	Source    Source
}

// Host is an address seen on the network, with the hardware addresses seen using it.
type Host struct {
	Addr      netip.Addr
	MACs      []string // lowercase, colon separated, sorted
	FirstSeen time.Time
	LastSeen  time.Time
}

// Alert is a TLS alert seen in clear.
type Alert struct {
	FromServer  bool
	Level       uint8
	Description uint8
}

// TLSSession is one distinct TLS handshake shape between a client host and a server:
// repeated handshakes with the same outcome are aggregated into Count.
type TLSSession struct {
	Flow      Flow
	FirstSeen time.Time
	LastSeen  time.Time
	Count     int
	Source    Source

	// From the ClientHello (absent when the capture missed it).
	SawClientHello  bool
	SSLv2Hello      bool     // the hello came in the SSLv2-compatible format
	SNI             string   // server_name
	ALPN            []string // offered protocols
	ClientVersion   uint16   // legacy_version of the hello
	OfferedVersions []uint16 // supported_versions, or the legacy version when absent
	OfferedSuites   []uint16 // cipher suites in order, GREASE removed
	OfferedGroups   []uint16 // supported_groups, GREASE removed
	JA3             string   // JA3 string's MD5, hex
	JA4             string   // JA4 fingerprint (a_b_c form)

	// From the ServerHello (Version == 0 when it was not seen).
	SawServerHello bool
	Version        uint16 // negotiated, taking supported_versions into account
	Suite          uint16
	SSLv2Cipher    uint32 // SSLv2 only: the cipher kind the client chose in CLIENT-MASTER-KEY
	Resumed        bool   // abbreviated handshake: the server echoed the session ID or accepted a ticket/PSK
	ALPNSelected   string

	// CertsEncrypted is true for TLS 1.3, where certificates travel encrypted and cannot
	// be observed: a report must say "not observable", never "no certificate problem".
	CertsEncrypted bool
	// ServerChain and ClientChain are SHA-256 digests of the certificates, leaf first;
	// the DER is in Set.Certificates.
	ServerChain []CertRef
	ClientChain []CertRef

	CertRequest    bool     // the server sent a CertificateRequest
	CertRequestCAs []string // distinguished names it accepts, RFC 4514 strings

	DHBits    int    // finite-field DH prime size from ServerKeyExchange, 0 if none
	ECDHCurve uint16 // named group from ServerKeyExchange (or TLS 1.3 key_share), 0 if none

	Alerts []Alert
}

// CertRef is the SHA-256 of a certificate's DER encoding.
type CertRef [32]byte

// String is the lowercase hex digest.
func (r CertRef) String() string { return fmt.Sprintf("%x", r[:]) }

// CertSighting says where a certificate was seen and who presented it.
type CertSighting struct {
	Endpoint Endpoint // the presenting side (server endpoint for server certificates)
	Peer     netip.Addr
	Role     string // "server" or "client"
	Position int    // 0 for the leaf
	Time     time.Time
	Source   Source
	SNI      string
}

// Certificate is one distinct certificate (by DER) and every place it was seen.
type Certificate struct {
	SHA256    CertRef
	DER       []byte
	FirstSeen time.Time
	Seen      []CertSighting // distinct by (Endpoint, Role, Position)
	Facts     *CertFacts     // filled by package lint; nil until examined
}

// CertFacts are the parsed facts of a certificate that rules judge. A certificate that
// does not parse still gets facts, with ParseError set and what could be read.
type CertFacts struct {
	Subject            string // RFC 4514
	Issuer             string
	SerialHex          string
	NotBefore          time.Time
	NotAfter           time.Time
	ValidityDays       int
	KeyType            string // "rsa", "ecdsa", "dsa", "ed25519", "unknown"
	KeyBits            int
	RSAExponent        int // 0 when not RSA or too large to matter
	Curve              string
	SignatureAlgorithm string // e.g. "SHA1-RSA"
	SignatureHash      string // "md2", "md5", "sha1", "sha256", ... ("" unknown)
	IsCA               bool
	SelfSigned         bool // subject equals issuer and the signature verifies with its own key
	SPKISHA256         string
	DNSNames           []string
	IPAddresses        []string
	ExtKeyUsage        []string
	ParseError         string

	// Key examination (lint.ExamineKeys, then the store-wide batch GCD), done once per
	// distinct key and copied to every certificate that carries it. Only verdicts are
	// kept: never a factor, and no big integers per certificate (the DER has the key).
	KeyFlaws     []string // "roca", "small-factor", "fermat", "blocklisted" (lint.Flaw*)
	Factorable   bool     // the RSA modulus has been factored by one of the checks
	FactorMethod string   // "shared-prime", "fermat" or "small-factor" (lint.Factor*)
	// SharedPrimeWith names the other keys this modulus shares a prime with, by SPKI
	// SHA-256 and where they were seen ("<spki> on 10.20.1.11:443 (scan 3)"), sorted.
	SharedPrimeWith []string

	// Role is what the certificate is for, decided by package lint from its extensions
	// and from where it was seen: "trust-anchor", "intermediate-ca", "tls-server",
	// "device-identity" (a TLS client or device identity leaf), "code-signing" or
	// "other"; "" when lint did not decide it (facts from elsewhere).
	Role        string
	RoleReasons []string // why, in words: "EKU serverAuth", "sent by a server at position 0"
	// WebPKI is true when the certificate was judged as public WebPKI, so that zlint's
	// CA/Browser Forum and root-programme lints ran on it; WebPKIReason says why.
	WebPKI       bool
	WebPKIReason string
	// Lints are zlint's results at warn, error or fatal for the lints that apply to
	// the role and PKI, sorted by name; nil when zlint could not run (LintError says why).
	Lints     []CertLint
	LintError string
}

// CertLint is one zlint result that found a problem.
type CertLint struct {
	Name        string // zlint's lint name, e.g. "e_sub_cert_eku_missing"
	Status      string // "warn", "error" or "fatal"
	Source      string // zlint's source: "RFC5280", "CABF_BR", "Mozilla", ...
	Citation    string
	Description string
	Details     string
}

// HTTPRequest is an HTTP/1.x request with what its response said. Repeated requests of
// the same shape (client host, server, method, host, path, auth scheme, status and body digest)
// are aggregated into Count, keeping the first one's other fields.
type HTTPRequest struct {
	Flow          Flow
	FirstSeen     time.Time
	LastSeen      time.Time
	Count         int
	Method        string
	Host          string
	Path          string   // without the query string
	QueryKeys     []string // parameter names only; values may be secrets
	UserAgent     string
	ContentType   string
	AuthScheme    string // scheme of the Authorization header, "" when none
	HasCookie     bool
	APIKeyHeaders []string // names of API-key-like headers present

	Status          int // 0 when no response was seen
	Server          string
	RespContentType string

	// The response body, filled only when it looks like a firmware or software image
	// (package httpwire says how it decides); the body itself is never kept.
	BodyBytes   int64  // body bytes seen
	BodySHA256  string // lowercase hex SHA-256 of the body, "" when BodyPartial
	BodyKind    string // "elf", "pe", "uimage", "ihex", "gzip", "tar", "zip", "ext:.bin", "type:application/octet-stream", ...
	BodyPartial bool   // part of the body was lost in the capture, or the response was 206 Partial Content
}

// Credential is a secret seen in clear, recorded without the secret: a masked preview and
// a keyed hash, so that the same secret on forty devices shows as one.
type Credential struct {
	Flow      Flow
	FirstSeen time.Time
	LastSeen  time.Time
	Count     int
	Protocol  string // "http", "mqtt", "ftp", "pop3", "imap", "telnet", "snmp"
	Kind      string // e.g. "http-basic", "http-bearer", "api-key-header", "url-secret", "mqtt-password", "ftp-password"
	Where     string // header or parameter name, command
	User      string // user name where there is one
	Preview   string // masked, e.g. "s3****9f (24 chars)"
	Hash      string // hex HMAC-SHA256 keyed per store
}

// MQTTConnect is an MQTT CONNECT packet. Connections of the same shape from one client
// host (same client id, user name and flags) are aggregated into Count.
type MQTTConnect struct {
	Flow          Flow
	FirstSeen     time.Time
	LastSeen      time.Time
	Count         int
	ProtocolName  string // "MQTT" or "MQIsdp"
	ProtocolLevel uint8  // 3 (3.1), 4 (3.1.1), 5
	ClientID      string
	Username      string
	HasUsername   bool
	HasPassword   bool
}

// HL7Message is an HL7 v2 message type seen on a flow (aggregated by type and applications).
type HL7Message struct {
	Flow              Flow
	FirstSeen         time.Time
	LastSeen          time.Time
	Count             int
	SendingApp        string
	SendingFacility   string
	ReceivingApp      string
	ReceivingFacility string
	MessageType       string // e.g. "ORU"
	TriggerEvent      string // e.g. "R01"
	Version           string
	PatientSegments   int // PID/NK1/PV1... segments counted, never copied
	IsAck             bool
	AckCode           string   // MSA-1 (AA, AE, AR, CA, CE, CR) of an acknowledgement, else ""
	Devices           []string // distinct PRT-16 and OBX-18 device identifiers, at most MaxHL7Devices
}

// MaxHL7Devices bounds the device identifiers kept per aggregated HL7Message: a device
// identifier names equipment, and a few suffice to recognise it.
const MaxHL7Devices = 16

// DICOMAssociation is a DICOM upper-layer association request and its answer.
// Associations of the same shape from one client host are aggregated into Count.
type DICOMAssociation struct {
	Flow      Flow
	FirstSeen time.Time
	LastSeen  time.Time
	Count     int
	CallingAE string
	CalledAE  string
	// Result is how the association went: "accepted", "rejected", "released" (accepted
	// and then released in order), "aborted" (A-ABORT before or after acceptance), or ""
	// when no answer was seen.
	Result           string
	ImplClassUID     string
	ImplVersion      string
	AbstractSyntaxes []string // SOP class UIDs proposed
	// AbstractSyntaxNames names each of AbstractSyntaxes (same order), or repeats the UID
	// when it is not in medscan's table.
	AbstractSyntaxNames []string
	AcceptedContexts    int      // presentation contexts the AC accepted
	RejectedContexts    int      // presentation contexts the AC rejected (any non-zero result)
	Roles               []string // SCU/SCP role selection proposals: "<SOP class UID>:SCU", ":SCP" or ":SCU+SCP"
	PDataPDUs           int      // P-DATA-TF PDUs seen in both directions
	PDataBytes          int64    // their body bytes
	// PatientAttributes counts patient-module tag prefixes (0010,0010/0020/0030) found in
	// dataset fragments: a heuristic count of patient attributes, whose values are never read.
	PatientAttributes int
}

// Problem is something wrong with the input: the scan goes on, and the report says it.
type Problem struct {
	Source  string // file name, "-" for stdin, interface name
	Offset  int64  // byte offset in the source, -1 when not applicable
	Message string
	Fatal   bool // reading this source stopped here; the scan is incomplete
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
	Name  string
	Value uint64
}
