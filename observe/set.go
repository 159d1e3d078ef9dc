package observe

import (
	"crypto/sha256"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sink receives observations as dissectors and probes produce them. Implementations
// aggregate; callers may reuse nothing they passed in except where noted.
type Sink interface {
	// TLS records a handshake. serverChain and clientChain are the DER certificates as
	// sent, leaf first; the sink keeps its own copies.
	AddTLS(s TLSSession, serverChain, clientChain [][]byte)
	AddHTTP(r HTTPRequest)
	AddCredential(c Credential)
	AddMQTT(m MQTTConnect)
	AddHL7(m HL7Message)
	AddDICOM(a DICOMAssociation)
	AddService(s Service)
	AddHost(addr netip.Addr, mac string, t time.Time)
	AddName(n HostName)
	AddDHCP(l DHCPLease)
	AddTransfer(t FileTransfer)
	AddProbe(p ProbeEndpoint)
	AddProbeHost(h ProbeHost)
}

// Set is the aggregating Sink: everything one scan learned. It is not safe for
// concurrent use; each capture worker owns one and Merge joins them.
type Set struct {
	TLSSessions  []*TLSSession
	Certificates map[CertRef]*Certificate
	HTTP         []*HTTPRequest
	Credentials  []*Credential
	MQTT         []*MQTTConnect
	HL7          []*HL7Message
	DICOM        []*DICOMAssociation
	Services     map[string]*Service // key: transport/endpoint
	Hosts        map[netip.Addr]*Host
	Names        []*HostName
	DHCP         []*DHCPLease
	Transfers    []*FileTransfer
	Probes       []*ProbeEndpoint
	ProbeHosts   map[netip.Addr]*ProbeHost
	Assets       []*Asset // the inventory, set by package inventory after the capture is read
	Problems     []Problem
	Counters     []Counter

	tlsIdx  map[string]*TLSSession
	httpIdx map[string]*HTTPRequest
	credIdx map[string]*Credential
	hl7Idx  map[string]*HL7Message
	mqttIdx map[string]*MQTTConnect
	dcmIdx  map[string]*DICOMAssociation
	nameIdx map[string]*HostName
	dhcpIdx map[string]*DHCPLease
	xferIdx map[string]*FileTransfer
	prbIdx  map[Endpoint]*ProbeEndpoint
}

// MaxHTTPShapes caps how many distinct request shapes a Set keeps, so that a crawler's
// million distinct paths cannot exhaust memory; past it, requests are only counted.
const MaxHTTPShapes = 20000

// NewSet returns an empty Set.
func NewSet() *Set {
	return &Set{
		Certificates: map[CertRef]*Certificate{},
		Services:     map[string]*Service{},
		Hosts:        map[netip.Addr]*Host{},
		tlsIdx:       map[string]*TLSSession{},
		httpIdx:      map[string]*HTTPRequest{},
		credIdx:      map[string]*Credential{},
		hl7Idx:       map[string]*HL7Message{},
		mqttIdx:      map[string]*MQTTConnect{},
		dcmIdx:       map[string]*DICOMAssociation{},
		ProbeHosts:   map[netip.Addr]*ProbeHost{},
		nameIdx:      map[string]*HostName{},
		dhcpIdx:      map[string]*DHCPLease{},
		xferIdx:      map[string]*FileTransfer{},
		prbIdx:       map[Endpoint]*ProbeEndpoint{},
	}
}

func span(first, last *time.Time, t time.Time) {
	if first.IsZero() || t.Before(*first) {
		*first = t
	}
	if t.After(*last) {
		*last = t
	}
}

func u16s(v []uint16) string {
	var b strings.Builder
	for _, x := range v {
		b.WriteString(strconv.Itoa(int(x)))
		b.WriteByte(',')
	}
	return b.String()
}

func refs(v []CertRef) string {
	var b strings.Builder
	for _, r := range v {
		b.Write(r[:4])
	}
	return b.String()
}

// addCert stores one DER certificate and its sighting, returning its reference.
func (s *Set) addCert(der []byte, sg CertSighting) CertRef {
	ref := CertRef(sha256.Sum256(der))
	c := s.Certificates[ref]
	if c == nil {
		c = &Certificate{SHA256: ref, DER: slices.Clone(der), FirstSeen: sg.Time}
		s.Certificates[ref] = c
	}
	if !sg.Time.IsZero() && (c.FirstSeen.IsZero() || sg.Time.Before(c.FirstSeen)) {
		c.FirstSeen = sg.Time
	}
	for i := range c.Seen {
		o := &c.Seen[i]
		if o.Endpoint == sg.Endpoint && o.Role == sg.Role && o.Position == sg.Position && o.Source == sg.Source {
			if o.SNI == "" {
				o.SNI = sg.SNI
			}
			return ref
		}
	}
	if len(c.Seen) < 10000 {
		c.Seen = append(c.Seen, sg)
	}
	return ref
}

// AddTLS implements Sink.
func (s *Set) AddTLS(t TLSSession, serverChain, clientChain [][]byte) {
	t.ServerChain, t.ClientChain = nil, nil
	for i, der := range serverChain {
		t.ServerChain = append(t.ServerChain, s.addCert(der, CertSighting{
			Endpoint: t.Flow.Server, Peer: t.Flow.Client.Addr(), Role: "server", Position: i,
			Time: t.FirstSeen, Source: t.Source, SNI: t.SNI}))
	}
	for i, der := range clientChain {
		t.ClientChain = append(t.ClientChain, s.addCert(der, CertSighting{
			Endpoint: netip.AddrPortFrom(t.Flow.Client.Addr(), 0), Peer: t.Flow.Server.Addr(), Role: "client", Position: i,
			Time: t.FirstSeen, Source: t.Source}))
	}
	if t.Count == 0 {
		t.Count = 1
	}
	if t.LastSeen.IsZero() {
		t.LastSeen = t.FirstSeen
	}
	key := strings.Join([]string{
		t.Flow.Client.Addr().String(), t.Flow.Server.String(), string(t.Source), t.SNI,
		strconv.Itoa(int(t.Version)), strconv.Itoa(int(t.Suite)), strconv.Itoa(int(t.SSLv2Cipher)), strconv.FormatBool(t.Resumed),
		strconv.FormatBool(t.SawClientHello), strconv.FormatBool(t.SawServerHello),
		strconv.FormatBool(t.CertRequest), strconv.Itoa(t.DHBits), strconv.Itoa(int(t.ECDHCurve)),
		refs(t.ServerChain), refs(t.ClientChain), t.JA3, u16s(t.OfferedVersions),
	}, "|")
	if o := s.tlsIdx[key]; o != nil {
		o.Count += t.Count
		span(&o.FirstSeen, &o.LastSeen, t.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, t.LastSeen)
		if len(o.Alerts) < 16 {
			o.Alerts = append(o.Alerts, t.Alerts...)
		}
		return
	}
	p := new(TLSSession)
	*p = t
	s.tlsIdx[key] = p
	s.TLSSessions = append(s.TLSSessions, p)
}

// AddHTTP implements Sink.
func (s *Set) AddHTTP(r HTTPRequest) {
	if r.Count == 0 {
		r.Count = 1
	}
	if r.LastSeen.IsZero() {
		r.LastSeen = r.FirstSeen
	}
	key := strings.Join([]string{r.Flow.Client.Addr().String(), r.Flow.Server.String(), r.Method, r.Host, r.Path,
		r.AuthScheme, strconv.Itoa(r.Status), r.BodySHA256}, "|")
	if o := s.httpIdx[key]; o != nil {
		o.Count += r.Count
		span(&o.FirstSeen, &o.LastSeen, r.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, r.LastSeen)
		return
	}
	if len(s.HTTP) >= MaxHTTPShapes {
		s.count("http_shapes_not_kept", 1)
		return
	}
	p := new(HTTPRequest)
	*p = r
	s.httpIdx[key] = p
	s.HTTP = append(s.HTTP, p)
}

// AddCredential implements Sink.
func (s *Set) AddCredential(c Credential) {
	if c.Count == 0 {
		c.Count = 1
	}
	if c.LastSeen.IsZero() {
		c.LastSeen = c.FirstSeen
	}
	key := strings.Join([]string{c.Flow.Client.Addr().String(), c.Flow.Server.String(), c.Kind, c.Where, c.User, c.Hash}, "|")
	if o := s.credIdx[key]; o != nil {
		o.Count += c.Count
		span(&o.FirstSeen, &o.LastSeen, c.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, c.LastSeen)
		return
	}
	p := new(Credential)
	*p = c
	s.credIdx[key] = p
	s.Credentials = append(s.Credentials, p)
}

// AddMQTT implements Sink.
func (s *Set) AddMQTT(m MQTTConnect) {
	if m.Count == 0 {
		m.Count = 1
	}
	if m.LastSeen.IsZero() {
		m.LastSeen = m.FirstSeen
	}
	key := strings.Join([]string{m.Flow.Client.Addr().String(), m.Flow.Server.String(), m.ProtocolName,
		strconv.Itoa(int(m.ProtocolLevel)), m.ClientID, m.Username, strconv.FormatBool(m.HasUsername),
		strconv.FormatBool(m.HasPassword)}, "|")
	if o := s.mqttIdx[key]; o != nil {
		o.Count += m.Count
		span(&o.FirstSeen, &o.LastSeen, m.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, m.LastSeen)
		return
	}
	p := new(MQTTConnect)
	*p = m
	s.mqttIdx[key] = p
	s.MQTT = append(s.MQTT, p)
}

// AddHL7 implements Sink.
func (s *Set) AddHL7(m HL7Message) {
	if m.Count == 0 {
		m.Count = 1
	}
	if m.LastSeen.IsZero() {
		m.LastSeen = m.FirstSeen
	}
	key := strings.Join([]string{m.Flow.Client.Addr().String(), m.Flow.Server.String(), m.SendingApp, m.SendingFacility,
		m.ReceivingApp, m.ReceivingFacility, m.MessageType, m.TriggerEvent, m.Version, strconv.FormatBool(m.IsAck), m.AckCode}, "|")
	if o := s.hl7Idx[key]; o != nil {
		o.Count += m.Count
		o.PatientSegments += m.PatientSegments
		for _, d := range m.Devices {
			if len(o.Devices) < MaxHL7Devices && !slices.Contains(o.Devices, d) {
				o.Devices = append(o.Devices, d)
			}
		}
		span(&o.FirstSeen, &o.LastSeen, m.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, m.LastSeen)
		return
	}
	p := new(HL7Message)
	*p = m
	p.Devices = slices.Clone(m.Devices) // appended to above: not shared with the caller
	s.hl7Idx[key] = p
	s.HL7 = append(s.HL7, p)
}

// AddDICOM implements Sink.
func (s *Set) AddDICOM(a DICOMAssociation) {
	if a.Count == 0 {
		a.Count = 1
	}
	if a.LastSeen.IsZero() {
		a.LastSeen = a.FirstSeen
	}
	key := strings.Join([]string{a.Flow.Client.Addr().String(), a.Flow.Server.String(), a.CallingAE, a.CalledAE,
		a.Result, a.ImplClassUID, a.ImplVersion, strings.Join(a.AbstractSyntaxes, ","), strings.Join(a.Roles, ","),
		strconv.Itoa(a.AcceptedContexts), strconv.Itoa(a.RejectedContexts)}, "|")
	if o := s.dcmIdx[key]; o != nil {
		o.Count += a.Count
		o.PDataPDUs += a.PDataPDUs
		o.PDataBytes += a.PDataBytes
		o.PatientAttributes += a.PatientAttributes
		span(&o.FirstSeen, &o.LastSeen, a.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, a.LastSeen)
		return
	}
	p := new(DICOMAssociation)
	*p = a
	s.dcmIdx[key] = p
	s.DICOM = append(s.DICOM, p)
}

// AddService implements Sink. A port seen with a more specific protocol keeps it.
func (s *Set) AddService(v Service) {
	key := v.Transport + "/" + v.Server.String() + "/" + string(v.Source)
	if o := s.Services[key]; o != nil {
		span(&o.FirstSeen, &o.LastSeen, v.FirstSeen)
		span(&o.FirstSeen, &o.LastSeen, v.LastSeen)
		if o.Protocol == "" || o.Protocol == "unknown" {
			o.Protocol = v.Protocol
		}
		return
	}
	if v.LastSeen.IsZero() {
		v.LastSeen = v.FirstSeen
	}
	p := new(Service)
	*p = v
	s.Services[key] = p
}

// AddHost implements Sink. An empty mac records the address alone.
func (s *Set) AddHost(addr netip.Addr, mac string, t time.Time) {
	h := s.Hosts[addr]
	if h == nil {
		h = &Host{Addr: addr, FirstSeen: t, LastSeen: t}
		s.Hosts[addr] = h
	}
	span(&h.FirstSeen, &h.LastSeen, t)
	if mac != "" && !slices.Contains(h.MACs, mac) && len(h.MACs) < 64 {
		h.MACs = append(h.MACs, mac)
		slices.Sort(h.MACs)
	}
}

// Problem records a problem with the input.
func (s *Set) Problem(p Problem) { s.Problems = append(s.Problems, p) }

func (s *Set) count(name string, n uint64) {
	for i := range s.Counters {
		if s.Counters[i].Name == name {
			s.Counters[i].Value += n
			return
		}
	}
	s.Counters = append(s.Counters, Counter{Name: name, Value: n})
}

// AddCounter adds n to the named counter.
func (s *Set) AddCounter(name string, n uint64) {
	if n != 0 {
		s.count(name, n)
	}
}

// Merge adds everything in o to s (for joining per-worker sets).
func (s *Set) Merge(o *Set) {
	for _, t := range o.TLSSessions {
		var sc, cc [][]byte
		for _, r := range t.ServerChain {
			sc = append(sc, o.Certificates[r].DER)
		}
		for _, r := range t.ClientChain {
			cc = append(cc, o.Certificates[r].DER)
		}
		s.AddTLS(*t, sc, cc)
	}
	for ref, c := range o.Certificates {
		for _, sg := range c.Seen {
			s.addCert(c.DER, sg)
		}
		if s.Certificates[ref] == nil {
			s.addCert(c.DER, CertSighting{Time: c.FirstSeen})
		}
	}
	for _, r := range o.HTTP {
		s.AddHTTP(*r)
	}
	for _, c := range o.Credentials {
		s.AddCredential(*c)
	}
	for _, m := range o.MQTT {
		s.AddMQTT(*m)
	}
	for _, m := range o.HL7 {
		s.AddHL7(*m)
	}
	for _, a := range o.DICOM {
		s.AddDICOM(*a)
	}
	for _, v := range o.Services {
		s.AddService(*v)
	}
	for _, h := range o.Hosts {
		if len(h.MACs) == 0 {
			s.AddHost(h.Addr, "", h.FirstSeen)
		}
		for _, m := range h.MACs {
			s.AddHost(h.Addr, m, h.FirstSeen)
		}
		s.AddHost(h.Addr, "", h.LastSeen)
	}
	for _, n := range o.Names {
		s.AddName(*n)
	}
	for _, l := range o.DHCP {
		s.AddDHCP(*l)
	}
	for _, t := range o.Transfers {
		s.AddTransfer(*t)
	}
	for _, p := range o.Probes {
		s.AddProbe(*p)
	}
	for _, h := range o.ProbeHosts {
		s.AddProbeHost(*h)
	}
	s.Problems = append(s.Problems, o.Problems...)
	for _, c := range o.Counters {
		s.AddCounter(c.Name, c.Value)
	}
}
