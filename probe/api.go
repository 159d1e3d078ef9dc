package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/medscan/medscan/observe"
)

// Profile says how much the prober asks of each service.
type Profile string

// The profiles, from gentlest to most complete.
const (
	// ProfileInventory makes one handshake per port: version, suite, chain and
	// whether a client certificate is requested.
	ProfileInventory Profile = "inventory"
	// ProfileStandard adds every accepted protocol version from SSLv2 to TLS 1.3,
	// every accepted suite per version with the server's preference, key exchange
	// groups and DH size; and DICOM service detection.
	ProfileStandard Profile = "standard"
	// ProfileThorough adds secure renegotiation, compression, session ticket
	// lifetime, OCSP stapling and TLS_FALLBACK_SCSV.
	ProfileThorough Profile = "thorough"
)

// ParseProfile checks a --profile value.
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(s); p {
	case ProfileInventory, ProfileStandard, ProfileThorough:
		return p, nil
	}
	return "", fmt.Errorf("invalid profile %q: want inventory, standard or thorough", s)
}

// Dialer opens TCP connections to one host on the prober's behalf. The pacing dialer
// behind it enforces politeness (one connection at a time per host, a pause between
// connections, a global rate, a cap per host, backing off after failures), so code
// that speaks protocols never dials on its own: every connection goes through a
// Dialer and is counted there.
type Dialer interface {
	// Dial connects to port on the dialer's host. The connection must be closed by the
	// caller before the next Dial (Dial waits for it otherwise). Each call counts as one
	// connection, whether or not it succeeds.
	Dial(ctx context.Context, port uint16) (net.Conn, error)
}

// Timeouts bound every wait on a peer; a device that hangs costs at most these.
type Timeouts struct {
	Connect   time.Duration // TCP connect
	Handshake time.Duration // a whole TLS handshake or service exchange, from connect
}

// TLSTarget is one port to enumerate.
type TLSTarget struct {
	Server netip.AddrPort
	Name   string // host name sent as SNI; "" for a target given as an address
}

// Handshake is one handshake that reached a ServerHello, described as the passive
// engine would have seen it (Source active), so that the same rules judge it.
type Handshake struct {
	Session     observe.TLSSession
	ServerChain [][]byte // DER, leaf first
}

// TLSResult is what EnumerateTLS learned about one port.
type TLSResult struct {
	Outcome observe.ProbeOutcome // ProbeTLS when at least one handshake reached a ServerHello
	Err     error                // the error behind a failed outcome
	// Reply holds the first bytes (at most 512) a peer that does not speak TLS sent back
	// to the ClientHello: "HTTP/1.1 400", a DICOM A-ABORT... Service detection reads it.
	Reply       []byte
	Profile     observe.TLSProfile
	Handshakes  []Handshake
	Connections int
	// Timeouts counts the probes that timed out after the port had been reached.
	Timeouts int
	// Cut is what stopped the enumeration before the profile's end (ErrConnCap,
	// ErrBackedOff, ErrTimeouts, a connect that failed), nil when nothing did; an
	// interruption by the context is not a cut. NotAssessed then names the profile's
	// checks left undone ("suites", "renegotiation", "tickets"...), and Completed is the
	// largest profile whose checks were all made, what a later comparison may rely on.
	Cut         error
	NotAssessed []string
	Completed   Profile
}
