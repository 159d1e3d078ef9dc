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
	AddARP(c ARPClaim)
	AddDHCPReply(r DHCPReply)
	AddGreeting(g StartTLSGreeting)
}

// Set is the aggregating Sink: everything one scan learned. It is not safe for
// concurrent use; each capture worker owns one and Merge joins them.
//
// Every kind of observation is kept in an Index (services, hosts, certificates and
// probed hosts in maps): one entry per distinct shape, in order of arrival, repeats
// counted into it, and at most a fixed number of entries (the Max* constants), past
// which observations are only counted ("<kind>_not_kept"), so that a hostile or
// enormous capture cannot exhaust memory and the report says what was left out. The
// public lists are their indexes' own slices: read them, never reorder or append to
// them (the index finds entries by position).
type Set struct {
	TLSSessions  []*TLSSession
	Certificates map[CertRef]*Certificate
	HTTP         []*HTTPRequest
	Credentials  []*Credential
	MQTT         []*MQTTConnect
	HL7          []*HL7Message
	DICOM        []*DICOMAssociation
	Services     map[string]*Service // key: transport/endpoint/source
	Hosts        map[netip.Addr]*Host
	Names        []*HostName
	DHCP         []*DHCPLease
	Transfers    []*FileTransfer
	Probes       []*ProbeEndpoint
	ProbeHosts   map[netip.Addr]*ProbeHost
	KeyFiles     []*KeyFile // private keys found in files read for certificates
	ARP          []*ARPClaim
	DHCPReplies  []*DHCPReply
	Greetings    []*StartTLSGreeting
	Updates      []*UpdateImage // update images examined for code signing (package codesign)
	Assets       []*Asset       // the inventory, set by package inventory after the capture is read
	Volumes      []*Volume      // TCP traffic per client host and server port (AddVolume)
	Problems     []Problem
	Counters     []Counter

	// SensorPaths are the tunnels traffic reached the sensor through, by Path.
	SensorPaths map[string]*SensorPath

	// KeyRenewals are the server keys this scan saw that an endpoint kept across more
	// than one certificate, over the stored scans and this one (internal/scan fills it
	// from the store before the rules run; key-not-rotated judges it).
	KeyRenewals []*KeyRenewal

	// Fleet is what other sites' scans in the store saw of this scan's keys and secrets
	// (fleet.go); nil when the scan is judged alone.
	Fleet *Fleet

	tls   Index[string, *TLSSession]
	http  Index[string, *HTTPRequest]
	creds Index[string, *Credential]
	mqtt  Index[string, *MQTTConnect]
	hl7   Index[string, *HL7Message]
	dicom Index[string, *DICOMAssociation]
	names Index[string, *HostName]
	dhcp  Index[string, *DHCPLease]
	xfers Index[string, *FileTransfer]
	prbs  Index[Endpoint, *ProbeEndpoint]
	keys  Index[string, *KeyFile]

	arp         Index[string, *ARPClaim]
	dhcpReplies Index[string, *DHCPReply]
	greetings   Index[string, *StartTLSGreeting]
	vols        Index[volumeKey, *Volume]
	updates     map[string]*UpdateImage // Updates by origin, dir, name and SHA-256
	// updatesDropped is what the last ReplaceUpdates added to updates_not_kept, taken
	// back by the next one, which supersedes it.
	updatesDropped uint64
}

// The caps on each kind of observation a Set keeps (see Set).
const (
	MaxTLSShapes      = 50000
	MaxHTTPShapes     = 20000
	MaxCredentials    = 20000
	MaxMQTT           = 20000
	MaxHL7            = 20000
	MaxDICOM          = 20000
	MaxNames          = 100000
	MaxDHCP           = 50000
	MaxTransfers      = 20000
	MaxProbes         = 100000
	MaxServices       = 100000
	MaxHosts          = 1 << 20
	MaxCertificates   = 100000
	MaxCertSightings  = 10000 // places kept per certificate
	MaxProbeHosts     = 100000
	MaxKeyFiles       = 20000
	maxSessionAlerts  = 16
	maxHostMACs       = 64
	notKeptSuffix     = "_not_kept"
	sightingsNotKept  = "cert_sightings" + notKeptSuffix
	certsNotKept      = "certificates" + notKeptSuffix
	servicesNotKept   = "services" + notKeptSuffix
	hostsNotKept      = "hosts" + notKeptSuffix
	probeHostsNotKept = "probe_hosts" + notKeptSuffix
)

// MaxHostSensorPaths bounds the sensor paths kept per host; MaxSensorPaths those of a
// Set (beyond them, counted under sensor_paths_not_kept).
const (
	MaxHostSensorPaths = 8
	MaxSensorPaths     = 4096
	sensorPathsNotKept = "sensor_paths" + notKeptSuffix
)

// NewSet returns an empty Set.
func NewSet() *Set {
	s := &Set{
		Certificates: map[CertRef]*Certificate{},
		Services:     map[string]*Service{},
		Hosts:        map[netip.Addr]*Host{},
		ProbeHosts:   map[netip.Addr]*ProbeHost{},
		SensorPaths:  map[string]*SensorPath{},
	}
	s.tls.Max, s.http.Max, s.creds.Max = MaxTLSShapes, MaxHTTPShapes, MaxCredentials
	s.mqtt.Max, s.hl7.Max, s.dicom.Max = MaxMQTT, MaxHL7, MaxDICOM
	s.names.Max, s.dhcp.Max, s.xfers.Max, s.prbs.Max = MaxNames, MaxDHCP, MaxTransfers, MaxProbes
	s.keys.Max, s.vols.Max = MaxKeyFiles, MaxVolumes
	s.arp.Max, s.dhcpReplies.Max, s.greetings.Max = MaxARPClaims, MaxDHCPReply, MaxGreetings
	return s
}

// keep adds *v to one kind's index, or merges it into the entry its key already has
// (merge gets a copy, so that nothing of the caller's escapes on this path, the common
// one); list is the Set's public list of that kind, kept equal to the index's. A value
// the index has no room for is counted under counter. It returns the kept entry (nil
// when none) and whether *v made it.
func keep[K comparable, V any](s *Set, x *Index[K, *V], list *[]*V, counter string, key K, v *V, merge func(kept *V, v V)) (*V, bool) {
	p, added, ok := x.Add(key, newOf[V])
	switch {
	case !ok:
		s.count(counter, 1)
	case added:
		*p = *v
		*list = x.Items()
	default:
		merge(p, *v)
	}
	return p, added
}

func newOf[V any]() *V { return new(V) }

// tally fills the count and last-seen time an observation arrives without.
func tally(count *int, first time.Time, last *time.Time) {
	if *count == 0 {
		*count = 1
	}
	if last.IsZero() {
		*last = first
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

// addCert stores one DER certificate and its sighting, returning its reference (also
// when the Set has no room left for it: the session still names it).
func (s *Set) addCert(der []byte, sg CertSighting) CertRef {
	ref := CertRef(sha256.Sum256(der))
	s.addCertRef(ref, der, sg)
	return ref
}

// addCertRef is addCert for a certificate whose reference is known (merging sets).
func (s *Set) addCertRef(ref CertRef, der []byte, sg CertSighting) {
	c := s.keepCert(ref, der, sg.Time)
	if c == nil {
		return
	}
	for i := range c.Seen {
		o := &c.Seen[i]
		if o.Endpoint == sg.Endpoint && o.Role == sg.Role && o.Position == sg.Position && o.Source == sg.Source && o.File == sg.File &&
			o.Via == sg.Via && o.Target == sg.Target {
			if o.SNI == "" {
				o.SNI = sg.SNI
			}
			return
		}
	}
	if len(c.Seen) >= MaxCertSightings {
		s.count(sightingsNotKept, 1)
		return
	}
	c.Seen = append(c.Seen, sg)
}

// keepCert returns the kept certificate of ref, making it when there is room (nil when
// there is none, counted), its first-seen time the earliest of first and what it had.
func (s *Set) keepCert(ref CertRef, der []byte, first time.Time) *Certificate {
	c := s.Certificates[ref]
	if c == nil {
		if len(s.Certificates) >= MaxCertificates {
			s.count(certsNotKept, 1)
			return nil
		}
		c = &Certificate{SHA256: ref, DER: slices.Clone(der), FirstSeen: first}
		s.Certificates[ref] = c
	}
	if !first.IsZero() && (c.FirstSeen.IsZero() || first.Before(c.FirstSeen)) {
		c.FirstSeen = first
	}
	return c
}

// AddCertificate records a certificate seen outside a handshake (read from a file), with
// the sighting that says where; it returns the certificate's reference.
func (s *Set) AddCertificate(der []byte, sg CertSighting) CertRef { return s.addCert(der, sg) }

// AddTLS implements Sink.
func (s *Set) AddTLS(t TLSSession, serverChain, clientChain [][]byte) {
	t.ServerChain, t.ClientChain = nil, nil
	for i, der := range serverChain {
		t.ServerChain = append(t.ServerChain, s.addCert(der, CertSighting{
			Endpoint: t.Flow.Server, Peer: t.Flow.Client.Addr(), Role: "server", Position: i,
			Time: t.FirstSeen, Source: t.Source, SNI: t.SNI, Via: viaText(t.Flow.Via), Target: t.Flow.Target}))
	}
	for i, der := range clientChain {
		t.ClientChain = append(t.ClientChain, s.addCert(der, CertSighting{
			Endpoint: netip.AddrPortFrom(t.Flow.Client.Addr(), 0), Peer: t.Flow.Server.Addr(), Role: "client", Position: i,
			Time: t.FirstSeen, Source: t.Source}))
	}
	s.addSession(t)
}

// addSession keeps a session whose chains are already references to the Set's
// certificates.
func (s *Set) addSession(t TLSSession) {
	tally(&t.Count, t.FirstSeen, &t.LastSeen)
	key := strings.Join([]string{
		t.Flow.Client.Addr().String(), t.Flow.serverKey(), string(t.Source), t.SNI,
		strconv.Itoa(int(t.Version)), strconv.Itoa(int(t.Suite)), strconv.Itoa(int(t.SSLv2Cipher)), strconv.FormatBool(t.Resumed),
		strconv.FormatBool(t.SawClientHello), strconv.FormatBool(t.SawServerHello),
		strconv.FormatBool(t.CertRequest), strconv.Itoa(t.DHBits), strconv.Itoa(int(t.ECDHCurve)),
		refs(t.ServerChain), refs(t.ClientChain), t.JA3, u16s(t.OfferedVersions),
	}, "|")
	keep(s, &s.tls, &s.TLSSessions, "tls_shapes"+notKeptSuffix, key, &t, func(o *TLSSession, t TLSSession) {
		o.Count += t.Count
		Widen(&o.FirstSeen, &o.LastSeen, t.FirstSeen, t.LastSeen)
		if len(o.Alerts) < maxSessionAlerts {
			o.Alerts = append(o.Alerts, t.Alerts[:min(len(t.Alerts), maxSessionAlerts-len(o.Alerts))]...)
		}
		// The latest staple stands: a stale one is judged against the session that carried it.
		if t.OCSPStaple != nil && !t.LastSeen.Before(o.LastSeen) {
			o.OCSPStaple = t.OCSPStaple
		}
	})
}

// AddHTTP implements Sink.
func (s *Set) AddHTTP(r HTTPRequest) {
	tally(&r.Count, r.FirstSeen, &r.LastSeen)
	key := r.Flow.Client.Addr().String() + "|" + r.Flow.serverKey() + "|" + r.Shape()
	keep(s, &s.http, &s.HTTP, "http_shapes"+notKeptSuffix, key, &r, func(o *HTTPRequest, r HTTPRequest) {
		o.Count += r.Count
		Widen(&o.FirstSeen, &o.LastSeen, r.FirstSeen, r.LastSeen)
	})
}

// AddCredential implements Sink.
func (s *Set) AddCredential(c Credential) {
	tally(&c.Count, c.FirstSeen, &c.LastSeen)
	key := strings.Join([]string{c.Flow.Client.Addr().String(), c.Flow.serverKey(), c.Kind, c.Where, c.User, c.Hash}, "|")
	keep(s, &s.creds, &s.Credentials, "credentials"+notKeptSuffix, key, &c, func(o *Credential, c Credential) {
		o.Count += c.Count
		Widen(&o.FirstSeen, &o.LastSeen, c.FirstSeen, c.LastSeen)
	})
}

// AddMQTT implements Sink.
func (s *Set) AddMQTT(m MQTTConnect) {
	tally(&m.Count, m.FirstSeen, &m.LastSeen)
	key := strings.Join([]string{m.Flow.Client.Addr().String(), m.Flow.serverKey(), m.ProtocolName,
		strconv.Itoa(int(m.ProtocolLevel)), m.ClientID, m.Username, strconv.FormatBool(m.HasUsername),
		strconv.FormatBool(m.HasPassword)}, "|")
	keep(s, &s.mqtt, &s.MQTT, "mqtt"+notKeptSuffix, key, &m, func(o *MQTTConnect, m MQTTConnect) {
		o.Count += m.Count
		Widen(&o.FirstSeen, &o.LastSeen, m.FirstSeen, m.LastSeen)
	})
}

// AddHL7 implements Sink.
func (s *Set) AddHL7(m HL7Message) {
	tally(&m.Count, m.FirstSeen, &m.LastSeen)
	key := strings.Join([]string{m.Flow.Client.Addr().String(), m.Flow.serverKey(), m.SendingApp, m.SendingFacility,
		m.ReceivingApp, m.ReceivingFacility, m.MessageType, m.TriggerEvent, m.Version, strconv.FormatBool(m.IsAck), m.AckCode}, "|")
	kept, added := keep(s, &s.hl7, &s.HL7, "hl7"+notKeptSuffix, key, &m, func(o *HL7Message, m HL7Message) {
		o.Count += m.Count
		o.PatientSegments += m.PatientSegments
		for _, d := range m.Devices {
			if len(o.Devices) < MaxHL7Devices && !slices.Contains(o.Devices, d) {
				o.Devices = append(o.Devices, d)
			}
		}
		Widen(&o.FirstSeen, &o.LastSeen, m.FirstSeen, m.LastSeen)
	})
	if added {
		kept.Devices = slices.Clone(kept.Devices) // appended to above: not shared with the caller
	}
}

// AddDICOM implements Sink.
func (s *Set) AddDICOM(a DICOMAssociation) {
	tally(&a.Count, a.FirstSeen, &a.LastSeen)
	key := strings.Join([]string{a.Flow.Client.Addr().String(), a.Flow.serverKey(), a.CallingAE, a.CalledAE,
		a.Result, a.ImplClassUID, a.ImplVersion, strings.Join(a.AbstractSyntaxes, ","), strings.Join(a.Roles, ","),
		strconv.Itoa(a.AcceptedContexts), strconv.Itoa(a.RejectedContexts)}, "|")
	keep(s, &s.dicom, &s.DICOM, "dicom"+notKeptSuffix, key, &a, func(o *DICOMAssociation, a DICOMAssociation) {
		o.Count += a.Count
		o.PDataPDUs += a.PDataPDUs
		o.PDataBytes += a.PDataBytes
		o.PatientAttributes += a.PatientAttributes
		Widen(&o.FirstSeen, &o.LastSeen, a.FirstSeen, a.LastSeen)
	})
}

// AddService implements Sink. A port seen with a more specific protocol keeps it.
func (s *Set) AddService(v Service) {
	key := v.Transport + "/" + v.Server.String() + "/" + string(v.Source)
	if v.Via != "" {
		key += "/" + v.Via + "/" + v.Target
	}
	if o := s.Services[key]; o != nil {
		Widen(&o.FirstSeen, &o.LastSeen, v.FirstSeen, v.LastSeen)
		if o.Protocol == "" || o.Protocol == "unknown" {
			o.Protocol = v.Protocol
		}
		if o.Software == "" {
			o.Software = v.Software
		}
		// An offer outweighs a refusal or silence seen on another connection: the
		// server can do TLS.
		if v.StartTLS != "" && (o.StartTLS == "" || v.StartTLS == StartTLSOffered) {
			o.StartTLS = v.StartTLS
		}
		return
	}
	if len(s.Services) >= MaxServices {
		s.count(servicesNotKept, 1)
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
		if len(s.Hosts) >= MaxHosts {
			s.count(hostsNotKept, 1)
			return
		}
		h = &Host{Addr: addr, FirstSeen: t, LastSeen: t}
		s.Hosts[addr] = h
	}
	Widen(&h.FirstSeen, &h.LastSeen, t)
	if mac != "" && !slices.Contains(h.MACs, mac) && len(h.MACs) < maxHostMACs {
		h.MACs = append(h.MACs, mac)
		slices.Sort(h.MACs)
	}
}

// AddHostVia records that a host was seen inside the tunnel named by path (a
// SensorPath's Path), and that it exists; a host keeps at most MaxHostSensorPaths paths,
// the rest counted.
func (s *Set) AddHostVia(addr netip.Addr, path string, t time.Time) {
	s.AddHost(addr, "", t)
	h := s.Hosts[addr]
	if h == nil || path == "" || slices.Contains(h.SeenVia, path) {
		return
	}
	if len(h.SeenVia) >= MaxHostSensorPaths {
		s.count(sensorPathsNotKept, 1)
		return
	}
	h.SeenVia = append(h.SeenVia, path)
	slices.Sort(h.SeenVia)
}

// AddHostTraffic adds packets and bytes addr sent to its host (an address the Set has
// no room for is counted under hosts_not_kept by AddHost).
func (s *Set) AddHostTraffic(addr netip.Addr, packets, bytes uint64, t time.Time) {
	s.AddHost(addr, "", t)
	if h := s.Hosts[addr]; h != nil {
		h.Packets += packets
		h.Bytes += bytes
	}
}

// AddTunnelEndpoint records that addr carried the outer packets of a tunnel.
func (s *Set) AddTunnelEndpoint(addr netip.Addr, t time.Time) {
	s.AddHost(addr, "", t)
	if h := s.Hosts[addr]; h != nil {
		h.TunnelEndpoint = true
	}
}

// AddSensorPath adds the packets of one sensor path, merging by Path.
func (s *Set) AddSensorPath(p SensorPath) {
	if s.SensorPaths == nil {
		s.SensorPaths = map[string]*SensorPath{}
	}
	k := s.SensorPaths[p.Path]
	if k == nil {
		if len(s.SensorPaths) >= MaxSensorPaths {
			s.count(sensorPathsNotKept, 1)
			return
		}
		c := p
		s.SensorPaths[p.Path] = &c
		return
	}
	k.Packets += p.Packets
	Widen(&k.FirstSeen, &k.LastSeen, p.FirstSeen, p.LastSeen)
}

// ERSPANSessions counts the distinct ERSPAN session IDs among the sensor paths: how many
// SPAN sessions reach the sensor.
func (s *Set) ERSPANSessions() int {
	seen := map[int]bool{}
	for _, p := range s.SensorPaths {
		if p.Session >= 0 {
			seen[p.Session] = true
		}
	}
	return len(seen)
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
	// Certificates first, by reference and with every sighting; then the sessions, whose
	// chains name them as they are (a certificate o had no room for is still named, so a
	// chain never shifts).
	for ref, c := range o.Certificates {
		if s.keepCert(ref, c.DER, c.FirstSeen) == nil {
			continue
		}
		for _, sg := range c.Seen {
			s.addCertRef(ref, c.DER, sg)
		}
	}
	for _, t := range o.TLSSessions {
		s.addSession(*t)
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
		if s.Hosts[h.Addr] == nil && len(s.Hosts) >= MaxHosts {
			s.count(hostsNotKept, 1) // once per host left out, not once per merged fact
			continue
		}
		if len(h.MACs) == 0 {
			s.AddHost(h.Addr, "", h.FirstSeen)
		}
		for _, m := range h.MACs {
			s.AddHost(h.Addr, m, h.FirstSeen)
		}
		s.AddHost(h.Addr, "", h.LastSeen)
		for _, v := range h.SeenVia {
			s.AddHostVia(h.Addr, v, h.LastSeen)
		}
		if h.TunnelEndpoint {
			s.AddTunnelEndpoint(h.Addr, h.LastSeen)
		}
		if h.Packets != 0 || h.Bytes != 0 {
			s.AddHostTraffic(h.Addr, h.Packets, h.Bytes, h.LastSeen)
		}
	}
	for _, p := range o.SensorPaths {
		s.AddSensorPath(*p)
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
	for _, k := range o.KeyFiles {
		s.AddKeyFile(*k)
	}
	for _, c := range o.ARP {
		s.AddARP(*c)
	}
	for _, r := range o.DHCPReplies {
		s.AddDHCPReply(*r)
	}
	for _, g := range o.Greetings {
		s.AddGreeting(*g)
	}
	for _, v := range o.Volumes {
		s.AddVolume(*v)
	}
	for _, u := range o.Updates {
		s.AddUpdate(*u)
	}
	s.Problems = append(s.Problems, o.Problems...)
	for _, c := range o.Counters {
		s.AddCounter(c.Name, c.Value)
	}
}
