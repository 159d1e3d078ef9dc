package observe

import (
	"net/netip"
	"time"
)

// ProbeOutcome is how a connection attempt to one port ended; outcomes are typed so a
// report can tell a closed port from a device that hung.
type ProbeOutcome string

// The outcomes of probing a port.
const (
	ProbeTLS              ProbeOutcome = "tls"               // a TLS handshake completed (or reached the server's certificate)
	ProbeOpen             ProbeOutcome = "open"              // connected, and the service is not TLS (Protocol says what it is)
	ProbeRefused          ProbeOutcome = "refused"           // connection refused
	ProbeTimeout          ProbeOutcome = "timeout"           // connect or handshake timed out
	ProbeReset            ProbeOutcome = "reset"             // the peer reset or closed the connection mid-handshake
	ProbeNotTLS           ProbeOutcome = "not-tls"           // the peer answered a ClientHello with something that is not TLS
	ProbeHandshakeFailure ProbeOutcome = "handshake-failure" // TLS alert or no acceptable version/suite
	ProbeSkipped          ProbeOutcome = "skipped"           // not probed: see Error (medical device, backed off, cap reached)
	ProbeError            ProbeOutcome = "error"             // medscan itself failed on the port's answers (a bug, recovered); see Error
)

// The kinds of failure the prober counts, per host and per port: each is one the pacer
// reacts to (a refused connect ends a run of failures, the others extend it).
const (
	FailureRefused          = "refused"           // the connect was refused
	FailureTimeout          = "timeout"           // the connect timed out
	FailureUnreachable      = "unreachable"       // the connect failed otherwise (no route, host down)
	FailureSilent           = "silent"            // the port accepted and never answered within the handshake timeout
	FailureReset            = "reset"             // the peer reset or closed the connection before answering
	FailureHandshakeTimeout = "handshake-timeout" // a later probe of a port that had answered timed out
)

// AddFailures adds the counts of b into *a, making the map when needed.
func AddFailures(a *map[string]int, b map[string]int) {
	for k, n := range b {
		if n == 0 {
			continue
		}
		if *a == nil {
			*a = map[string]int{}
		}
		(*a)[k] += n
	}
}

// ProbeEndpoint is what the active prober learned about one TCP port of one target.
type ProbeEndpoint struct {
	Server   Endpoint     `json:"-"`
	Name     string       `json:"name"` // the host name the target was given as (sent as SNI), "" for addresses
	Time     time.Time    `json:"time"`
	Outcome  ProbeOutcome `json:"outcome"`
	Error    string       `json:"error"`    // the error behind a failed outcome, kept verbatim
	Protocol string       `json:"protocol"` // service found: "tls", "http", "hl7-mllp", "dicom", "mqtt", "unknown"
	// Software is what the service said it runs, where it said so: a DICOM peer's
	// implementation version name and class UID (dcmtk, a vendor's stack).
	Software    string `json:"software"`
	Connections int    `json:"connections"` // connections made to this port
	// Failures counts this port's failures, FailureKinds the same by kind (the Failure*
	// constants); both absent from JSON when there were none.
	Failures     int            `json:"failures,omitempty"`
	FailureKinds map[string]int `json:"failure_kinds,omitempty"`
	// Profile is the probe profile the port was examined with ("inventory", "standard",
	// "thorough"): how much a later comparison may conclude from what is absent. A port
	// whose checks a cap or a failure cut short carries the profile it completed.
	Profile string `json:"profile,omitempty"`
	// TLS is what a TLS service accepted; the report shows it by name (findings).
	TLS *TLSProfile `json:"-"`
}

// TLSProfile is everything the prober learned about a TLS service: each protocol
// version and suite it accepts, what an ordinary client gets, and how it treats clients.
type TLSProfile struct {
	// Versions and Suites are what the server accepted when offered them one by one: the
	// enumeration's findings (one full handshake's under the inventory profile), not what
	// a client negotiates; the last suite found is only the last one asked about.
	Versions []uint16        // accepted, ascending (SSLv2 is 0x0002)
	Suites   []VersionSuites // accepted, per accepted version
	// NegotiatedVersion and NegotiatedSuite are what the prober's first full handshake
	// agreed: the ordinary ClientHello a client with default settings sends (crypto/tls,
	// or zcrypto's legacy one when the server refused that), so what the service gives
	// its clients. Both 0 when neither handshake completed (a server that accepts only
	// suites found by enumeration).
	NegotiatedVersion uint16
	NegotiatedSuite   uint16
	Groups            []uint16  // key exchange groups accepted (TLS 1.3 and ECDHE), ascending
	DHBits            int       // finite-field DH size offered, 0 when none
	CertRequest       bool      // the server sent a CertificateRequest
	CertRequestCAs    []string  // distinguished names it accepts, RFC 4514 strings
	CertRequired      bool      // the handshake failed or was closed for want of a client certificate
	ServerChain       []CertRef // chain of the preferred handshake, leaf first (DER in Set.Certificates)
	Renegotiation     string    // thorough: "secure", "insecure", "refused", "" not tested
	Compression       string    // thorough: "none" or the method accepted, "" not tested
	TicketLifetime    int64     // thorough: session ticket lifetime hint in seconds, -1 no ticket, 0 not tested
	OCSPStapling      string    // every profile (the first handshake asks): "yes", "no", "" not known
	FallbackSCSV      string    // thorough: "yes" (inappropriate_fallback sent), "no", "" not tested
}

// VersionSuites is the suites one version accepts, in the server's order of preference
// when ServerPreference is true, otherwise in the registry's order.
type VersionSuites struct {
	Version          uint16
	Suites           []uint32 // IANA suite IDs; for SSLv2 (Version 0x0002) the 3-byte cipher kinds
	ServerPreference bool
}

// ProbeHost is the prober's account of one host: how many connections it made, how
// many failed, and why it stopped or never started.
type ProbeHost struct {
	Addr        netip.Addr `json:"host"`
	Name        string     `json:"name"` // the host name it was given as, if any
	Connections int        `json:"connections"`
	// Failures counts every failure the pacer reacts to, FailureKinds the same by kind
	// (the Failure* constants; absent from JSON when there were none), so that a host
	// that backed off says why.
	Failures     int            `json:"failures"`
	FailureKinds map[string]int `json:"failure_kinds,omitempty"`
	Skipped      string         `json:"skipped"`    // why the host was not probed ("medical device", ...), "" when it was
	BackedOff    bool           `json:"backed_off"` // probing stopped after consecutive failures or the connection cap
	First        time.Time      `json:"first"`
	Last         time.Time      `json:"last"`
}
