package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	ztls "github.com/zmap/zcrypto/tls"

	"github.com/medscan/medscan/capture/tlswire"
)

// The full handshakes: the one every profile starts with, made by a real TLS client so
// that a TLS 1.3 server's encrypted certificate chain, CertificateRequest and stapled
// OCSP response are read, and so that a server that demands a client certificate says
// so. Both clients ask for a stapled OCSP response (status_request) in that handshake,
// so stapling is checked without a connection of its own. crypto/tls makes it
// first (TLS 1.0 to 1.3); when the server refuses every suite crypto/tls implements,
// zcrypto, which still implements SSLv3, DHE and other legacy suites, makes a second.

// full is what one full handshake learned.
type fullHS struct {
	rec       []byte // every byte the server sent, for parseFlight and dissectServer
	local     net.Addr
	err       error
	chain     [][]byte // DER, leaf first, as the TLS client received it
	certReq   bool
	cas       []string
	required  bool   // failed or closed for want of a client certificate
	curve     uint16 // key exchange group crypto/tls reports
	ocsp      int    // 1 a stapled OCSP response, -1 none, 0 not known
	staple    []byte // the stapled OCSP response crypto/tls received (TLS 1.3's is encrypted)
	ticket    int64  // zcrypto: session ticket lifetime hint, -1 no ticket, 0 not known
	version   uint16
	completed bool
}

// recorder keeps a copy of what the server sends, bounded by maxFlight.
type recorder struct {
	net.Conn
	rec []byte
}

func (r *recorder) Read(b []byte) (int, error) {
	n, err := r.Conn.Read(b)
	if room := maxFlight - len(r.rec); room > 0 {
		r.rec = append(r.rec, b[:min(n, room)]...)
	}
	return n, err
}

// stdSuites are the TLS <= 1.2 suites crypto/tls implements, secure and insecure.
func stdSuites() []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if slices.Contains(s.SupportedVersions, tls.VersionTLS12) || slices.Contains(s.SupportedVersions, tls.VersionTLS10) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// handshakeStd makes the full handshake with crypto/tls.
func (e *enumerator) handshakeStd(ctx context.Context, conn net.Conn) fullHS {
	r := &recorder{Conn: conn}
	var f fullHS
	cfg := &tls.Config{
		InsecureSkipVerify: true, // the prober describes chains; judging them is the rules' work
		MinVersion:         tls.VersionTLS10,
		MaxVersion:         tls.VersionTLS13,
		CipherSuites:       stdSuites(),
		// Classical groups only: a post-quantum key share alone would make the hello
		// over a kilobyte, several segments for a small device to reassemble.
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
		ServerName:       sniName(e.t.Name),
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			f.certReq = true
			f.cas = dnStrings(cri.AcceptableCAs)
			return &tls.Certificate{}, nil // no certificate: whether one is required is the question
		},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			f.chain = cloneChain(raw)
			return nil
		},
	}
	// A TLS 1.3 server that accepted the empty certificate usually issues a session
	// ticket at once; the cache hears of it, which ends the wait for a verdict early.
	accepted := &ticketSignal{conn: conn}
	cfg.ClientSessionCache = accepted
	c := tls.Client(r, cfg)
	f.err = c.HandshakeContext(ctx)
	st := c.ConnectionState()
	f.completed = f.err == nil
	f.version = st.Version
	f.curve = uint16(st.CurveID)
	if f.completed {
		f.ocsp = -1
		if len(st.OCSPResponse) > 0 {
			f.ocsp = 1
			if len(st.OCSPResponse) <= tlswire.MaxStaple {
				f.staple = slices.Clone(st.OCSPResponse)
			}
		}
	}
	if f.completed && st.Version == tls.VersionTLS13 && f.certReq {
		// A TLS 1.3 client finishes before the server has read its (empty) certificate;
		// the server's verdict comes as an alert in the next record.
		accepted.arm()
		_ = conn.SetReadDeadline(time.Now().Add(e.postHandshakeWait()))
		var one [1]byte
		_, rerr := c.Read(one[:])
		if isRemoteAlert(rerr) {
			f.required = true
			f.err = rerr
		}
	} else if f.certReq && isRemoteAlert(f.err) {
		f.required = true
	}
	f.rec = r.rec
	return f
}

// handshakeZ makes the full handshake with zcrypto, for servers whose suites or version
// crypto/tls no longer implements. It offers SSLv3 to TLS 1.2 and asks for a session
// ticket, so that the thorough profile reads its lifetime hint from the same handshake.
func (e *enumerator) handshakeZ(conn net.Conn, maxVersion uint16) fullHS {
	r := &recorder{Conn: conn}
	var f fullHS
	// zcrypto drops the suites it does not implement from this list.
	var suites []uint16
	for _, id := range suitesFor(versionTLS12) {
		if suiteTier(id) <= 1 {
			suites = append(suites, id)
		}
	}
	cfg := &ztls.Config{
		InsecureSkipVerify:    true,
		MinVersion:            ztls.VersionSSL30,
		MaxVersion:            maxVersion,
		CipherSuites:          suites,
		ServerName:            sniName(e.t.Name),
		ForceSessionTicketExt: true,
		ClientDSAEnabled:      true,
		GetClientCertificate: func(cri *ztls.CertificateRequestInfo) (*ztls.Certificate, error) {
			f.certReq = true
			f.cas = dnStrings(cri.AcceptableCAs)
			return &ztls.Certificate{}, nil
		},
	}
	c := ztls.Client(r, cfg)
	f.err = c.Handshake()
	f.completed = f.err == nil
	if l := c.GetHandshakeLog(); l != nil {
		if l.ServerHello != nil {
			f.version = uint16(l.ServerHello.Version)
			if f.completed {
				f.ocsp = -1
				if l.ServerHello.OcspStapling {
					f.ocsp = 1
				}
			}
		}
		if l.ServerCertificates != nil {
			f.chain = append(f.chain, l.ServerCertificates.Certificate.Raw)
			for _, c := range l.ServerCertificates.Chain {
				f.chain = append(f.chain, c.Raw)
			}
		}
		if f.completed {
			f.ticket = -1
			if l.SessionTicket != nil {
				f.ticket = int64(l.SessionTicket.LifetimeHint)
			}
		}
	}
	if f.certReq && isRemoteAlert(f.err) {
		f.required = true
	}
	f.rec = r.rec
	return f
}

// postHandshakeWait is how long to wait for a TLS 1.3 server's verdict on an empty
// client certificate: long enough for a slow device, never past the handshake timeout.
func (e *enumerator) postHandshakeWait() time.Duration {
	w := 500 * time.Millisecond
	if e.to.Handshake > 0 {
		w = min(w, e.to.Handshake)
	}
	return w
}

// isRemoteAlert reports whether err is a TLS alert the server sent, the way both
// crypto/tls and zcrypto report one.
func isRemoteAlert(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "remote error")
}

// sniName returns the name to send as server_name: none for an address literal.
func sniName(name string) string {
	if name == "" || net.ParseIP(strings.Trim(name, "[]")) != nil {
		return ""
	}
	return name
}

// dnStrings renders DER distinguished names as RFC 4514 strings, skipping any that do
// not parse.
func dnStrings(ders [][]byte) []string {
	var out []string
	for _, der := range ders {
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(der, &rdn); err == nil && len(rest) == 0 {
			out = append(out, rdn.String())
		}
	}
	return out
}

func cloneChain(raw [][]byte) [][]byte {
	out := make([][]byte, len(raw))
	for i, c := range raw {
		out[i] = slices.Clone(c)
	}
	return out
}

// deadlineCtx is the context a handshake runs under: the caller's, bounded by the
// handshake timeout.
func deadlineCtx(ctx context.Context, to Timeouts) (context.Context, context.CancelFunc) {
	if to.Handshake > 0 {
		return context.WithTimeout(ctx, to.Handshake)
	}
	return context.WithCancel(ctx)
}

// ticketSignal is a session cache that keeps nothing: once armed, a ticket arriving
// (the server accepted the client) ends the read that waits for the server's verdict.
type ticketSignal struct {
	conn  net.Conn
	armed bool
}

func (t *ticketSignal) arm() { t.armed = true }

func (*ticketSignal) Get(string) (*tls.ClientSessionState, bool) { return nil, false }

func (t *ticketSignal) Put(_ string, cs *tls.ClientSessionState) {
	if t.armed && cs != nil {
		_ = t.conn.SetReadDeadline(time.Now())
	}
}
