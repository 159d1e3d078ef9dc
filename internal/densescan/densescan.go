// Package densescan builds the document of a scan of a large clinical network, for the
// benchmarks of the store and the writers: sites of the ward's mix (infusion pumps
// sending HL7 with patient segments in clear to an interface engine, monitors with MQTT
// passwords, a PACS taking DICOM in clear, an EHR on TLS 1.0 with a self-signed, weak,
// expired certificate), each with its own addresses and certificates, judged by the real
// inventory and rules. It builds observations directly rather than packets, so that a
// benchmark of saving, loading or rendering measures that alone. Test code only.
package densescan

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/inventory"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all" // every rule, as a scan runs them
)

// T0 is the time the generated traffic starts.
var T0 = time.Date(2026, 3, 5, 10, 20, 30, 0, time.UTC)

// FindingsPerSite is about how many findings one site raises under the default policy.
const FindingsPerSite = 39

// Set builds the observations of sites sites: twelve hosts each, one /24 per site from
// 10.1.0.0/24 on (at most 65,280 sites).
func Set(sites int) *observe.Set {
	s := observe.NewSet()
	for i := range sites {
		site(s, i)
	}
	return s
}

// Report judges Set(sites) with the default policy, as a scan does, and builds its
// document (findings.NewReport: as the store receives it).
func Report(sites int) *findings.Report {
	set := Set(sites)
	inventory.Classify(set, inventory.Options{})
	pol := rules.DefaultPolicy()
	fs := rules.Evaluate(set, pol)
	info := findings.ScanInfo{Kind: findings.KindNetwork, Started: T0, Finished: T0.Add(time.Hour), Label: "dense",
		Sources: []string{"/captures/dense.pcapng"}, Complete: true, Policy: "default", ToolVersion: "bench",
		Rules: pol.Assessed()}
	info.Counters = set.Counters
	return findings.NewReport(info, set, fs)
}

func site(s *observe.Set, n int) {
	base := netip.AddrFrom4([4]byte{10, byte(1 + n/256), byte(n % 256), 0}).As4()
	addr := func(host byte) netip.Addr { a := base; a[3] = host; return netip.AddrFrom4(a) }
	ep := func(host byte, port uint16) netip.AddrPort { return netip.AddrPortFrom(addr(host), port) }
	mac := func(oui string, host byte) string { return fmt.Sprintf("%s:%02x:%02x:%02x", oui, n/256, n%256, host) }
	t := T0.Add(time.Duration(n) * time.Second)
	engine, pacs, ehr, broker := byte(10), byte(20), byte(30), byte(40)
	for _, h := range []struct {
		host byte
		oui  string
	}{{engine, "00:50:56"}, {pacs, "00:1b:21"}, {ehr, "3c:ec:ef"}, {broker, "b8:27:eb"}} {
		s.AddHost(addr(h.host), mac(h.oui, h.host), t)
	}
	ehrDER := []byte(fmt.Sprintf("ehr certificate of site %d", n))
	for d := range 8 {
		pump := byte(100 + d)
		s.AddHost(addr(pump), mac("00:09:fb", pump), t) // a Philips OUI: a monitor maker
		fl := observe.Flow{Client: ep(pump, uint16(40000+d)), Server: ep(engine, 2575)}
		s.AddHL7(observe.HL7Message{Flow: fl, FirstSeen: t, SendingApp: "PUMP^" + fmt.Sprint(d), SendingFacility: "WARD",
			ReceivingApp: "ENGINE", ReceivingFacility: "HOSP", MessageType: "ORU", TriggerEvent: "R01", Version: "2.6",
			PatientSegments: 2, Devices: []string{fmt.Sprintf("PUMP-%d-%d", n, d)}})
		s.AddService(observe.Service{Server: ep(engine, 2575), Transport: "tcp", Protocol: "hl7-mllp",
			Source: observe.SourcePassive, FirstSeen: t, LastSeen: t})
		if d < 4 {
			mf := observe.Flow{Client: ep(pump, uint16(41000+d)), Server: ep(broker, 1883)}
			s.AddMQTT(observe.MQTTConnect{Flow: mf, FirstSeen: t, ProtocolName: "MQTT", ProtocolLevel: 4,
				ClientID: fmt.Sprintf("mon-%d", d), Username: "monitor", HasUsername: true, HasPassword: true})
			h := sha256.Sum256([]byte("the monitors' shared password"))
			s.AddCredential(observe.Credential{Flow: mf, Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT",
				User: "monitor", Preview: "mo****rd (12 chars)", Hash: fmt.Sprintf("%x", h), FirstSeen: t})
			s.AddService(observe.Service{Server: ep(broker, 1883), Transport: "tcp", Protocol: "mqtt",
				Source: observe.SourcePassive, FirstSeen: t, LastSeen: t})
		}
		if d < 2 {
			df := observe.Flow{Client: ep(pump, uint16(42000+d)), Server: ep(pacs, 104)}
			s.AddDICOM(observe.DICOMAssociation{Flow: df, FirstSeen: t, CallingAE: fmt.Sprintf("MOD%d", d),
				CalledAE: "PACS", Result: "accepted", ImplClassUID: "1.2.276.0.7230010.3.0.3.6.5", ImplVersion: "OFFIS_DCMTK_365",
				AbstractSyntaxes: []string{"1.2.840.10008.5.1.4.1.1.2"}})
			s.AddService(observe.Service{Server: ep(pacs, 104), Transport: "tcp", Protocol: "dicom",
				Source: observe.SourcePassive, FirstSeen: t, LastSeen: t})
		}
		s.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ep(pump, uint16(43000+d)), Server: ep(ehr, 443)},
			FirstSeen: t, Source: observe.SourcePassive, SawClientHello: true, SNI: fmt.Sprintf("ehr%d.hospital.example", n),
			ClientVersion: 0x0301, OfferedVersions: []uint16{0x0301}, OfferedSuites: []uint16{0x000a, 0x002f},
			SawServerHello: true, Version: 0x0301, Suite: 0x000a}, [][]byte{ehrDER}, nil)
		s.AddService(observe.Service{Server: ep(ehr, 443), Transport: "tcp", Protocol: "tls",
			Source: observe.SourcePassive, FirstSeen: t, LastSeen: t})
		if d%2 == 0 {
			// Half the pumps serve their own web interface on TLS 1.0, with a certificate
			// of their own, as the ward's pumps do.
			name := fmt.Sprintf("pump%d-%d.hospital.example", n, d)
			der := []byte("certificate of " + name)
			s.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ep(engine, uint16(44000+d)), Server: ep(pump, 443)},
				FirstSeen: t, Source: observe.SourcePassive, SawClientHello: true, SNI: name, ClientVersion: 0x0301,
				OfferedVersions: []uint16{0x0301}, OfferedSuites: []uint16{0x000a, 0x002f}, SawServerHello: true,
				Version: 0x0301, Suite: 0x000a}, [][]byte{der}, nil)
			s.AddService(observe.Service{Server: ep(pump, 443), Transport: "tcp", Protocol: "tls",
				Source: observe.SourcePassive, FirstSeen: t, LastSeen: t})
			weakCert(s, der, name, n*16+d)
		}
	}
	weakCert(s, ehrDER, fmt.Sprintf("ehr%d.hospital.example", n), n*16+15)
}

// weakCert gives the certificate der the facts lint would find in a device's own
// certificate: self-signed, RSA-1024, SHA-1, twelve years long and expired.
func weakCert(s *observe.Set, der []byte, name string, serial int) {
	c := s.Certificates[observe.CertRef(sha256.Sum256(der))]
	spki := sha256.Sum256(append([]byte("spki "), der...))
	c.Facts = &observe.CertFacts{SPKISHA256: fmt.Sprintf("%x", spki), Subject: "CN=" + name, Issuer: "CN=" + name,
		SerialHex: fmt.Sprintf("%x", serial+1), NotBefore: T0.AddDate(-12, 0, 0), NotAfter: T0.AddDate(0, -1, 0),
		ValidityDays: 4350, KeyType: "rsa", KeyBits: 1024, RSAExponent: 65537, SignatureAlgorithm: "SHA1-RSA",
		SignatureHash: "sha1", SelfSigned: true, DNSNames: []string{name}, ExtKeyUsage: []string{"serverAuth"},
		Role: "tls-server", RoleReasons: []string{"EKU serverAuth"}}
}

// Later is scan k (1, 2, ...) of the same sites after r, as a hospital's scheduled scans
// are: the same label and sources (so that store.PreviousScan pairs it with the scan
// before it), started k days after r, with a few of r's findings gone (about one in
// 400, a different few each scan: fixed, or not assessed again when the later scan did
// not show what the rule needs) and a few new ones (one in 400, at a port the earlier
// scans did not report), so that the change between two of them is not trivial. r is
// not changed; the copy shares its observations.
func Later(r *findings.Report, k int) *findings.Report {
	out := *r
	out.Scan.Started = r.Scan.Started.Add(time.Duration(k) * 24 * time.Hour)
	out.Scan.Finished = r.Scan.Finished.Add(time.Duration(k) * 24 * time.Hour)
	out.Findings = make([]findings.Finding, 0, len(r.Findings)+len(r.Findings)/400+1)
	for i, f := range r.Findings {
		switch {
		case (i+k*37)%400 == 0:
			continue // fixed in scan k
		case (i+k*53)%400 == 1:
			n := f
			n.Port = 40000 + k
			n.Message += fmt.Sprintf(" (also on port %d since scan %d)", n.Port, k)
			n.SetFingerprint()
			out.Findings = append(out.Findings, n)
		}
		out.Findings = append(out.Findings, f)
	}
	return &out
}
