package store

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// everySet is fullSet with one of each remaining kind of observation: a host name, a
// DHCP lease, a file transfer, an HTTP response carrying an image, a probe result with
// a TLS profile, a prober's host account, and an inventory entry.
func everySet() *observe.Set {
	s := fullSet()
	ip := netip.MustParseAddr
	s.AddName(observe.HostName{Addr: ip("10.0.0.5"), MAC: "00:11:22:33:44:55", Name: "pacs", Source: "dhcp", FirstSeen: t0})
	s.AddDHCP(observe.DHCPLease{MAC: "00:11:22:33:44:55", Addr: ip("10.0.0.5"), Server: ip("10.0.0.2"), Hostname: "pacs",
		VendorClass: "PACS 1.0", ParamRequest: "1,3,6", Acked: true, LeaseSeconds: 3600, FirstSeen: t0})
	s.AddTransfer(observe.FileTransfer{Flow: observe.Flow{Client: ap("10.0.0.5:1069"), Server: ap("10.0.0.40:69")},
		FirstSeen: t0, Protocol: "tftp", Path: "/{id}.bin", URL: "tftp://10.0.0.40/{id}.bin", Bytes: 70000,
		SHA256: "ab", Kind: "ext:.bin", Partial: true})
	s.AddHTTP(observe.HTTPRequest{Flow: observe.Flow{Client: ap("10.0.0.5:40000"), Server: ap("10.0.0.40:80")},
		FirstSeen: t0, Method: "GET", Path: "/fw/{id}.bin", Status: 200, RespContentType: "application/octet-stream",
		BodyBytes: 4096, BodySHA256: "cd", BodyKind: "elf"})
	s.AddHTTP(observe.HTTPRequest{Flow: observe.Flow{Client: ap("10.0.0.31:40000"), Server: ap("10.0.0.8:80")},
		FirstSeen: t0, Method: "GET", Path: "/fhir/Patient/{id}", API: observe.APIFHIR, Resource: "Patient", Status: 401})
	s.AddProbe(observe.ProbeEndpoint{Server: ap("10.0.0.5:443"), Name: "pacs.example", Time: t0, Outcome: observe.ProbeTLS,
		Protocol: "tls", Connections: 7, Profile: "thorough", TLS: &observe.TLSProfile{
			Versions: []uint16{0x0303, 0x0304},
			Suites: []observe.VersionSuites{{Version: 0x0303, Suites: []uint32{0xc02f}, ServerPreference: true},
				{Version: 0x0304, Suites: []uint32{0x1301}}},
			Groups: []uint16{23, 29}, DHBits: 2048, CertRequest: true, CertRequestCAs: []string{"CN=Hospital CA"},
			ServerChain: []observe.CertRef{certRef(leafDER), certRef(caDER)}, Renegotiation: "secure",
			Compression: "none", TicketLifetime: 7200, OCSPStapling: "no", FallbackSCSV: "yes"}})
	s.AddProbe(observe.ProbeEndpoint{Server: ap("10.0.0.42:11112"), Time: t0, Outcome: observe.ProbeOpen,
		Protocol: "dicom", Software: "OFFIS_DCMTK_365 1.2.276.0.7230010.3.0.3.6.5", Connections: 1, Profile: "standard"})
	s.AddProbeHost(observe.ProbeHost{Addr: ip("10.0.0.5"), Name: "pacs.example", Connections: 7, Failures: 1,
		BackedOff: true, First: t0, Last: t0.Add(time.Minute)})
	s.Assets = []*observe.Asset{{Addr: ip("10.0.0.5"), MACs: []string{"00:11:22:33:44:00", "00:11:22:33:44:55"},
		FirstSeen: t0, LastSeen: t0.Add(time.Second), LeasedAddrs: []netip.Addr{ip("10.0.0.6")},
		Names: []observe.AssetName{{Name: "pacs", Source: "dhcp"}}, Kind: observe.KindClinicalServer,
		Reasons: []string{"DICOM SCP"}, Roles: []string{"dicom-scp", "tls-server"}, Manufacturer: "Acme", Model: "PACS 1",
		DHCPVendorClass: []string{"PACS 1.0"}, UserAgents: []string{"curl/8"}, Servers: []string{"nginx"},
		CertSubjects: []string{"CN=pacs.example"}, HL7Apps: []string{"LAB^H1"}, DICOMAETitles: []string{"PACS"},
		DICOMImplementations: []string{"1.2.3 DCMTK"}}}
	return s
}

// TestSaveLoadEveryObservation saves a document built by findings.NewReport and reads it
// back: every observation list, and the scan's description, must come back as the same
// JSON (the store keeps the document's elements whole).
func TestSaveLoadEveryObservation(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	info := testInfo()
	info.Kind, info.Complete, info.Rules = findings.KindNetwork, true, []string{"cleartext-hl7", "tls-weak-cipher"}
	built := findings.NewReport(info, everySet(), testFindings())
	id, err := s.Save(ctx, built)
	if err != nil {
		t.Fatal(err)
	}
	built.Normalize() // what a reader gets: the store normalizes what it reads
	loaded, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	built.Scan.ID, built.Scan.UID = id, loaded.Scan.UID // the uid is drawn at random
	lists := []struct {
		name      string
		got, want any
		n         int
	}{
		{"scan", loaded.Scan, built.Scan, 1},
		{"summary", loaded.Summary, built.Summary, 1},
		{"certificates", loaded.Certificates, built.Certificates, len(built.Certificates)},
		{"services", loaded.Services, built.Services, len(built.Services)},
		{"tls_sessions", loaded.TLSSessions, built.TLSSessions, len(built.TLSSessions)},
		{"assets", loaded.Assets, built.Assets, len(built.Assets)},
		{"credentials", loaded.Credentials, built.Credentials, len(built.Credentials)},
		{"http", loaded.HTTP, built.HTTP, len(built.HTTP)},
		{"mqtt", loaded.MQTT, built.MQTT, len(built.MQTT)},
		{"hl7", loaded.HL7, built.HL7, len(built.HL7)},
		{"dicom", loaded.DICOM, built.DICOM, len(built.DICOM)},
		{"host_names", loaded.HostNames, built.HostNames, len(built.HostNames)},
		{"dhcp_leases", loaded.DHCPLeases, built.DHCPLeases, len(built.DHCPLeases)},
		{"file_transfers", loaded.Transfers, built.Transfers, len(built.Transfers)},
		{"probes", loaded.Probes, built.Probes, len(built.Probes)},
		{"probe_hosts", loaded.ProbeHosts, built.ProbeHosts, len(built.ProbeHosts)},
	}
	for _, l := range lists {
		if l.n == 0 {
			t.Errorf("%s: the built document holds none: the test does not cover it", l.name)
		}
		g, err := json.Marshal(l.got)
		if err != nil {
			t.Fatal(err)
		}
		w, err := json.Marshal(l.want)
		if err != nil {
			t.Fatal(err)
		}
		if string(g) != string(w) {
			t.Errorf("%s differs after Save and Load:\n got %s\nwant %s", l.name, g, w)
		}
	}
	// Findings too, but for their first and last seen, which the store widens across
	// scans (here both are the finding's own time).
	if len(loaded.Findings) != len(built.Findings) {
		t.Fatalf("%d findings loaded, %d saved", len(loaded.Findings), len(built.Findings))
	}
	for i := range built.Findings {
		g, w := loaded.Findings[i], built.Findings[i]
		if !g.FirstSeen.Equal(w.Time) || !g.LastSeen.Equal(w.Time) {
			t.Errorf("finding %s spans %v to %v; want its time %v", g.Rule, g.FirstSeen, g.LastSeen, w.Time)
		}
		g.FirstSeen, g.LastSeen = w.FirstSeen, w.LastSeen
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("finding differs after Save and Load:\n got %s\nwant %s", gj, wj)
		}
	}
	// The whole document, once its findings' spans are set: the JSON output of a scan
	// just run is the JSON output of the same scan read back.
	for i := range built.Findings {
		built.Findings[i].FirstSeen, built.Findings[i].LastSeen = loaded.Findings[i].FirstSeen, loaded.Findings[i].LastSeen
	}
	g, _ := json.Marshal(loaded)
	w, _ := json.Marshal(built)
	if string(g) != string(w) {
		t.Errorf("the document differs after Save and Load:\n got %s\nwant %s", g, w)
	}
}

// TestLoadSanitizes writes hostile text into a store behind medscan's back (a store
// someone else wrote, or edited) and checks that Load gives every string back through
// observe.Clean: an ANSI sequence or a bidirectional override is shown, never obeyed.
func TestLoadSanitizes(t *testing.T) {
	fileOnly(t) // reads or tampers with the SQLite file itself
	ctx := context.Background()
	s, _ := openTemp(t)
	id := mustSave(t, s, testInfo(), everySet(), testFindings())
	const ansi, rlo = "\x1b[2J", "\u202e"
	for _, q := range []string{
		`UPDATE observations SET data = json_set(data, '$.user_agent', 'curl/8' || char(27) || '[2J')
			WHERE scan_id = ?1 AND kind = 'http'`,
		`UPDATE observations SET data = json_set(data, '$.sni', 'pacs' || char(8238) || 'lmth.exe')
			WHERE scan_id = ?1 AND kind = 'tls'`,
		`UPDATE observations SET data = json_set(data, '$.tls.cert_request_cas[0]', 'CN=' || char(27) || '[31mCA')
			WHERE scan_id = ?1 AND kind = 'probe' AND json_extract(data, '$.port') = 443`,
		`UPDATE scan_findings SET message = 'RC4 ' || char(8238) || 'gnp.exe' || char(27) || '[2J',
			evidence = json_set(evidence, '$.suite', char(27) || ']0;owned' || char(7))
			WHERE scan_id = ?1`,
		`UPDATE findings SET message = 'RC4 ' || char(8238) || 'gnp.exe'`,
		`UPDATE scan_assets SET data = json_set(data, '$.reasons', json_array('DICOM' || char(27) || '[2J'))
			WHERE scan_id = ?1`,
		`UPDATE certificates SET facts = json_set(facts, '$.subject', 'CN=' || char(8238) || 'evil')
			WHERE sha256 = ?2`,
		`UPDATE scans SET label = 'ward' || char(27) || '[2J' WHERE id = ?1`,
	} {
		if _, err := s.db.Exec(q, id, hexSHA(leafDER)); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	clean := observe.Clean
	ua := ""
	for _, h := range r.HTTP {
		if strings.HasPrefix(h.UserAgent, "curl/8") {
			ua = h.UserAgent
		}
	}
	if want := clean("curl/8\x1b[2J"); ua != want || ua != `curl/8\x1b[2J` {
		t.Errorf("user agent = %q; want %q", ua, want)
	}
	if got := r.TLSSessions[0].SNI; got != clean("pacs"+rlo+"lmth.exe") || strings.Contains(got, rlo) {
		t.Errorf("SNI = %q", got)
	}
	for _, p := range r.Probes {
		if p.TLS != nil && (len(p.TLS.CertRequestCAs) == 0 || p.TLS.CertRequestCAs[0] != clean("CN=\x1b[31mCA")) {
			t.Errorf("probe CAs = %q", p.TLS.CertRequestCAs)
		}
	}
	for _, f := range r.Findings {
		if f.Message != clean("RC4 "+rlo+"gnp.exe"+ansi) || strings.ContainsAny(f.Message, "\x1b"+rlo) {
			t.Errorf("finding %s message = %q", f.Rule, f.Message)
		}
		if f.Evidence["suite"] != clean("\x1b]0;owned\x07") {
			t.Errorf("finding %s evidence = %q", f.Rule, f.Evidence["suite"])
		}
	}
	for _, a := range r.Assets {
		if len(a.Reasons) == 0 || a.Reasons[0] != clean("DICOM"+ansi) {
			t.Errorf("asset %s reasons = %q", a.IP(), a.Reasons)
		}
	}
	for _, c := range r.Certificates {
		if c.SHA256 == hexSHA(leafDER) && c.Subject != clean("CN="+rlo+"evil") {
			t.Errorf("certificate subject = %q", c.Subject)
		}
	}
	if r.Scan.Label != clean("ward"+ansi) {
		t.Errorf("label = %q", r.Scan.Label)
	}
	// Nowhere in the document: the JSON encoder would let U+202E through as it is.
	js, _ := json.Marshal(r)
	if strings.Contains(string(js), rlo) || strings.Contains(string(js), `\u001b`) {
		t.Errorf("the loaded document still holds a control or override character: %s", js)
	}
	// The listings clean what they read too.
	scans, err := s.Scans(ctx)
	if err != nil || len(scans) != 1 || scans[0].Label != clean("ward"+ansi) {
		t.Errorf("Scans = %+v, %v", scans, err)
	}
}
