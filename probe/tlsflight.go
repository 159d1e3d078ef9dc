package probe

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/tlswire"
	"github.com/medscan/medscan/observe"
)

// A server's first flight is read to its end and no further: the ServerHello (or
// HelloRetryRequest) for TLS 1.3, whose remainder is encrypted; ServerHelloDone for TLS
// <= 1.2; the SERVER-HELLO record for SSLv2; or an alert. framing below only finds
// where the flight ends and reads the few ServerHello fields the passive dissector does
// not report (HelloRetryRequest, renegotiation_info, compression, a stapled OCSP
// response); capture/tlswire reads everything else, exactly as it does for captured
// traffic.

// Bounds on what one probe reads.
const (
	maxFlight = 256 << 10 // a server flight, certificate chain included
	maxReply  = 512       // bytes kept from a peer that does not speak TLS
)

// hrrRandom is the ServerHello.random that marks a HelloRetryRequest (RFC 8446 4.1.3).
var hrrRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// flight is what a server's first flight said.
type flight struct {
	complete    bool     // the flight ended (hello done, alert, SSLv2 hello)
	notTLS      bool     // the first bytes are not a TLS or SSLv2 record
	hello       bool     // a ServerHello (or HelloRetryRequest, or SSLv2 SERVER-HELLO) arrived
	hrr         bool     // it was a HelloRetryRequest
	version     uint16   // negotiated, supported_versions taken into account
	suite       uint16   // chosen suite (TLS)
	group       uint16   // TLS 1.3 key_share group (of the ServerHello or HRR)
	compress    uint8    // compression method chosen
	secureReneg bool     // renegotiation_info in the ServerHello
	ocsp        bool     // a CertificateStatus message (TLS <= 1.2)
	certReq     bool     // a cleartext CertificateRequest (TLS <= 1.2)
	alert       int      // fatal or warning alert description, -1 when none
	sslv2Kinds  []uint32 // SSLv2: the cipher kinds the server shares
}

// parseFlight scans the bytes a server sent so far. It never panics on any input, and
// stops at the first malformed record (the flight is then complete or notTLS).
func parseFlight(b []byte) flight {
	f := flight{alert: -1}
	if len(b) == 0 {
		return f
	}
	if b[0]&0x80 != 0 {
		// An SSLv2 record header: two bytes, the length in the low 15 bits.
		if len(b) < 2 {
			return f
		}
		n := int(b[0]&0x7f)<<8 | int(b[1])
		if len(b) < 2+n {
			return f
		}
		kinds, ok := sslv2ServerKinds(b[2 : 2+n])
		f.complete = true
		if !ok {
			f.notTLS = true
			return f
		}
		f.hello, f.version, f.sslv2Kinds = true, versionSSL2, kinds
		return f
	}
	var hs []byte // handshake bytes carried across records
	for first := true; len(b) >= 5 || (first && len(b) > 0); first = false {
		if b[0] < 20 || b[0] > 24 || (len(b) >= 2 && b[1] != 3) {
			f.complete = true
			f.notTLS = first
			return f
		}
		if len(b) < 5 {
			return f
		}
		n := int(b[3])<<8 | int(b[4])
		if n > 1<<14+2048 {
			f.complete, f.notTLS = true, first
			return f
		}
		if len(b) < 5+n {
			return f
		}
		typ, body := b[0], b[5:5+n]
		b = b[5+n:]
		switch typ {
		case 21: // alert
			if len(body) >= 2 {
				f.alert = int(body[1])
			}
			f.complete = true
			return f
		case 22:
			hs = append(hs, body...)
			for len(hs) >= 4 {
				m := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
				if len(hs) < 4+m {
					break
				}
				mt, mb := hs[0], hs[4:4+m]
				hs = hs[4+m:]
				switch mt {
				case 2:
					if !f.serverHello(mb) {
						f.complete = true
						return f
					}
					if f.version == versionTLS13 {
						f.complete = true // the rest is encrypted
						return f
					}
				case 13:
					f.certReq = true
				case 14:
					f.complete = true
					return f
				case 22:
					f.ocsp = true
				}
			}
		default: // ChangeCipherSpec, application data, heartbeat: the clear flight is over
			f.complete = true
			return f
		}
	}
	return f
}

// serverHello reads the ServerHello fields the flight needs; false when malformed. A
// flight is a hello only by the ServerHello it read last: a second, malformed one in the
// same flight (which no server sends) leaves it none, not the first one's hello with
// the second's version half read.
func (f *flight) serverHello(b []byte) bool {
	f.hello = false
	if len(b) < 38 {
		return false
	}
	f.version = uint16(b[0])<<8 | uint16(b[1])
	f.hrr = bytes.Equal(b[2:34], hrrRandom[:])
	sid := int(b[34])
	if sid > 32 || len(b) < 35+sid+3 {
		return false
	}
	r := b[35+sid:]
	f.suite = uint16(r[0])<<8 | uint16(r[1])
	f.compress = r[2]
	r = r[3:]
	n := 0
	if len(r) >= 2 {
		n = int(r[0])<<8 | int(r[1])
		r = r[2:]
	}
	r = r[:min(n, len(r))]
	for len(r) >= 4 {
		typ := uint16(r[0])<<8 | uint16(r[1])
		l := int(r[2])<<8 | int(r[3])
		if len(r) < 4+l {
			break
		}
		data := r[4 : 4+l]
		r = r[4+l:]
		switch typ {
		case extRenegotiationInfo:
			f.secureReneg = true
		case extSupportedVersions:
			if len(data) >= 2 {
				f.version = uint16(data[0])<<8 | uint16(data[1])
			}
		case extKeyShare:
			if len(data) >= 2 {
				f.group = uint16(data[0])<<8 | uint16(data[1])
			}
		}
	}
	// A version this prober never offers is no answer it can use.
	f.hello = f.version >= versionSSL3 && f.version <= versionTLS13
	return f.hello
}

// dissectServer runs the passive TLS dissector over a server's bytes and returns the session
// it reports (chain, key exchange group, CertificateRequest and its CA names, alerts),
// with ok false when it saw no ServerHello.
func dissectServer(b []byte, flow observe.Flow, t time.Time) (observe.TLSSession, [][]byte, bool) {
	var sink sessionSink
	st := tlswire.New(&dissect.Context{Flow: flow, Sink: &sink, Source: observe.SourceActive})
	st.Data(dissect.ServerToClient, b, t)
	st.End(t)
	return sink.sess, sink.chain, sink.got && sink.sess.SawServerHello
}

// sessionSink keeps the one session a tlswire stream emits; the dissector calls nothing
// else on it.
type sessionSink struct {
	sess  observe.TLSSession
	chain [][]byte
	got   bool
}

func (s *sessionSink) AddTLS(t observe.TLSSession, serverChain, _ [][]byte) {
	s.sess, s.chain, s.got = t, serverChain, true
}
func (*sessionSink) AddHTTP(observe.HTTPRequest)           {}
func (*sessionSink) AddCredential(observe.Credential)      {}
func (*sessionSink) AddMQTT(observe.MQTTConnect)           {}
func (*sessionSink) AddHL7(observe.HL7Message)             {}
func (*sessionSink) AddDICOM(observe.DICOMAssociation)     {}
func (*sessionSink) AddService(observe.Service)            {}
func (*sessionSink) AddHost(netip.Addr, string, time.Time) {}
func (*sessionSink) AddName(observe.HostName)              {}
func (*sessionSink) AddDHCP(observe.DHCPLease)             {}
func (*sessionSink) AddTransfer(observe.FileTransfer)      {}
func (*sessionSink) AddProbe(observe.ProbeEndpoint)        {}
func (*sessionSink) AddProbeHost(observe.ProbeHost)        {}
func (*sessionSink) AddARP(observe.ARPClaim)               {}
func (*sessionSink) AddDHCPReply(observe.DHCPReply)        {}
func (*sessionSink) AddGreeting(observe.StartTLSGreeting)  {}
