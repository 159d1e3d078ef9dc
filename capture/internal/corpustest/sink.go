package corpustest

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// Sink is an observe.Sink that records every observation as it was emitted, without
// aggregation, so that a test can assert exactly what a dissector said.
type Sink struct {
	mu          sync.Mutex
	HTTP        []observe.HTTPRequest
	Credentials []observe.Credential
	MQTT        []observe.MQTTConnect
	HL7         []observe.HL7Message
	DICOM       []observe.DICOMAssociation
	Names       []observe.HostName
	DHCP        []observe.DHCPLease
	Transfers   []observe.FileTransfer
	DHCPReplies []observe.DHCPReply
	Greetings   []observe.StartTLSGreeting
	Other       int // TLS, service and host observations, which these dissectors must not emit
}

// AddTLS implements observe.Sink.
func (s *Sink) AddTLS(observe.TLSSession, [][]byte, [][]byte) { s.mu.Lock(); s.Other++; s.mu.Unlock() }

// AddHTTP implements observe.Sink.
func (s *Sink) AddHTTP(r observe.HTTPRequest) { s.mu.Lock(); s.HTTP = append(s.HTTP, r); s.mu.Unlock() }

// AddCredential implements observe.Sink.
func (s *Sink) AddCredential(c observe.Credential) {
	s.mu.Lock()
	s.Credentials = append(s.Credentials, c)
	s.mu.Unlock()
}

// AddMQTT implements observe.Sink.
func (s *Sink) AddMQTT(m observe.MQTTConnect) { s.mu.Lock(); s.MQTT = append(s.MQTT, m); s.mu.Unlock() }

// AddHL7 implements observe.Sink.
func (s *Sink) AddHL7(m observe.HL7Message) { s.mu.Lock(); s.HL7 = append(s.HL7, m); s.mu.Unlock() }

// AddDICOM implements observe.Sink.
func (s *Sink) AddDICOM(a observe.DICOMAssociation) {
	s.mu.Lock()
	s.DICOM = append(s.DICOM, a)
	s.mu.Unlock()
}

// AddService implements observe.Sink.
func (s *Sink) AddService(observe.Service) { s.mu.Lock(); s.Other++; s.mu.Unlock() }

// AddHost implements observe.Sink.
func (s *Sink) AddHost(netip.Addr, string, time.Time) { s.mu.Lock(); s.Other++; s.mu.Unlock() }

// AddName implements observe.Sink.
func (s *Sink) AddName(n observe.HostName) { s.mu.Lock(); s.Names = append(s.Names, n); s.mu.Unlock() }

// AddDHCP implements observe.Sink.
func (s *Sink) AddDHCP(l observe.DHCPLease) { s.mu.Lock(); s.DHCP = append(s.DHCP, l); s.mu.Unlock() }

// AddTransfer implements observe.Sink.
func (s *Sink) AddTransfer(t observe.FileTransfer) {
	s.mu.Lock()
	s.Transfers = append(s.Transfers, t)
	s.mu.Unlock()
}

// AddProbe implements observe.Sink.
func (s *Sink) AddProbe(observe.ProbeEndpoint) { s.mu.Lock(); s.Other++; s.mu.Unlock() }

// AddProbeHost implements observe.Sink.
func (s *Sink) AddProbeHost(observe.ProbeHost) { s.mu.Lock(); s.Other++; s.mu.Unlock() }

// AddARP implements observe.Sink.
func (s *Sink) AddARP(observe.ARPClaim) { s.mu.Lock(); s.Other++; s.mu.Unlock() }

// AddDHCPReply implements observe.Sink.
func (s *Sink) AddDHCPReply(r observe.DHCPReply) {
	s.mu.Lock()
	s.DHCPReplies = append(s.DHCPReplies, r)
	s.mu.Unlock()
}

// AddGreeting implements observe.Sink.
func (s *Sink) AddGreeting(g observe.StartTLSGreeting) {
	s.mu.Lock()
	s.Greetings = append(s.Greetings, g)
	s.mu.Unlock()
}

// Dump renders everything recorded, for searching and for failure messages.
func (s *Sink) Dump() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%+v\n%+v\n%+v\n%+v\n%+v\n%d", s.HTTP, s.Credentials, s.MQTT, s.HL7, s.DICOM, s.Other)
}

// NoSecret fails the test when any planted secret appears in what was emitted.
func (s *Sink) NoSecret(t testing.TB, secrets ...string) {
	t.Helper()
	d := s.Dump()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(d, sec) {
			t.Errorf("secret %q leaked into emitted observations:\n%s", sec, d)
		}
	}
}

// Key is the fixed SecretHasher key tests use, so hashes are reproducible.
var Key = []byte("corpustest-key-0123456789abcdef")

// Harness is a dissector context wired to a recording Sink and counters.
type Harness struct {
	Sink     *Sink
	Counters map[string]uint64
	Ctx      *dissect.Context
}

// NewHarness returns a context for the given flow.
func NewHarness(flow observe.Flow) *Harness {
	h := &Harness{Sink: &Sink{}, Counters: map[string]uint64{}}
	h.Ctx = &dissect.Context{
		Flow:    flow,
		Sink:    h.Sink,
		Secrets: observe.NewSecretHasher(Key),
		Source:  observe.SourcePassive,
		Count:   func(name string, n uint64) { h.Counters[name] += n },
	}
	return h
}

// Flow returns the stream's client and server as an observe.Flow.
func (st Stream) Flow() observe.Flow { return observe.Flow{Client: st.Client, Server: st.Server} }

// Replay feeds a stream's segments to a dissector in capture order, then ends it. It
// stops feeding once the dissector reports Done, as the engine would.
func Replay(d dissect.Stream, st Stream) {
	var last time.Time
	for _, sg := range st.Segments {
		if d.Done() {
			break
		}
		dir := dissect.ClientToServer
		if sg.FromServer {
			dir = dissect.ServerToClient
		}
		d.Data(dir, sg.Payload, sg.Time)
		last = sg.Time
	}
	d.End(last)
}

// Discard is an observe.Sink that drops everything, for benchmarks.
type Discard struct{}

// AddTLS implements observe.Sink.
func (Discard) AddTLS(observe.TLSSession, [][]byte, [][]byte) {}

// AddHTTP implements observe.Sink.
func (Discard) AddHTTP(observe.HTTPRequest) {}

// AddCredential implements observe.Sink.
func (Discard) AddCredential(observe.Credential) {}

// AddMQTT implements observe.Sink.
func (Discard) AddMQTT(observe.MQTTConnect) {}

// AddHL7 implements observe.Sink.
func (Discard) AddHL7(observe.HL7Message) {}

// AddDICOM implements observe.Sink.
func (Discard) AddDICOM(observe.DICOMAssociation) {}

// AddService implements observe.Sink.
func (Discard) AddService(observe.Service) {}

// AddHost implements observe.Sink.
func (Discard) AddHost(netip.Addr, string, time.Time) {}

// AddName implements observe.Sink.
func (Discard) AddName(observe.HostName) {}

// AddDHCP implements observe.Sink.
func (Discard) AddDHCP(observe.DHCPLease) {}

// AddTransfer implements observe.Sink.
func (Discard) AddTransfer(observe.FileTransfer) {}

// AddProbe implements observe.Sink.
func (Discard) AddProbe(observe.ProbeEndpoint) {}

// AddProbeHost implements observe.Sink.
func (Discard) AddProbeHost(observe.ProbeHost) {}

// AddARP implements observe.Sink.
func (Discard) AddARP(observe.ARPClaim) {}

// AddDHCPReply implements observe.Sink.
func (Discard) AddDHCPReply(observe.DHCPReply) {}

// AddGreeting implements observe.Sink.
func (Discard) AddGreeting(observe.StartTLSGreeting) {}
