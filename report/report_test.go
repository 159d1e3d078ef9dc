package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2024, 3, 5, 10, 20, 30, 123456789, time.UTC)

// fixture is a hand-built Report exercising every section: an incomplete scan, long
// messages, IPv6, a certificate seen in many places, one never examined, a TLS 1.3
// session whose certificates could not be seen, and a control character off the wire.
func fixture() *findings.Report {
	fs := []findings.Finding{
		{Rule: "cleartext-hl7", Severity: findings.Critical, Host: "10.0.0.7", Port: 6661,
			Message:  "HL7 v2 ORU^R01 messages with patient segments travel in clear over MLLP between LAB and EMR",
			Evidence: map[string]any{"patient_segments": 4, "messages": 12}, Time: t0, Source: "passive",
			Remediation: "Wrap MLLP in TLS.", References: []string{"HIPAA 45 CFR 164.312(e)"},
			FirstSeen: t0, LastSeen: t0.Add(time.Hour)},
		{Rule: "tls-weak-cipher", Severity: findings.High, Host: "10.0.0.5", Port: 443,
			Message:  "the server negotiated TLS_RSA_WITH_RC4_128_MD5, an RC4 suite with an MD5 MAC",
			Evidence: map[string]any{"suite": "TLS_RSA_WITH_RC4_128_MD5"}, Time: t0, Source: "passive",
			Remediation: "Disable RC4.", References: []string{"NIST SP 800-52r2 3.3.1"}, FirstSeen: t0, LastSeen: t0},
		{Rule: "cleartext-credentials", Severity: findings.High, Host: "2001:db8::1", Port: 1883,
			Subject: "00112233445566778899aabbccddeeff", Message: "MQTT CONNECT carries a user name and password in clear",
			Time: t0, Source: "passive", FirstSeen: t0, LastSeen: t0},
		{Rule: "cert-expiring-soon", Severity: findings.Low, Host: "10.0.0.10", Port: 8443,
			Message: "the certificate expires in 12 days", Time: t0, Source: "passive", FirstSeen: t0, LastSeen: t0},
	}
	for i := range fs {
		fs[i].SetFingerprint()
	}
	var many []findings.Sighting
	for i := range 6 {
		host := "10.0.1." + string(rune('1'+i))
		many = append(many, findings.Sighting{Host: host, Port: 443, CertSighting: observe.CertSighting{
			Endpoint: netip.MustParseAddrPort(host + ":443"), Peer: netip.MustParseAddr("10.0.0.20"), Role: "server",
			Position: 1, Time: t0, Source: "passive"}})
	}
	conv := func(client, host string, port int) findings.Conversation {
		return findings.Conversation{Client: client, Host: host, Port: port}
	}
	addr := netip.MustParseAddr
	return &findings.Report{
		SchemaVersion: findings.ReportSchemaVersion,
		Tool:          findings.Tool{Name: "medscan", Version: "v0.1.0"},
		Scan: findings.ScanInfo{ID: 3, Kind: findings.KindNetwork, Started: t0.Add(-time.Minute), Finished: t0.Add(2 * time.Hour),
			Label: "ward 7", Sources: []string{"captures/ward7.pcap", "captures/icu.pcapng"}, Complete: false, Policy: "default",
			Problems: []findings.Problem{
				{Source: "captures/icu.pcapng", Offset: 81920, Message: "truncated record", Fatal: true},
				{Source: "captures/ward7.pcap", Offset: -1, Message: "12 packets with a bad IPv4 checksum"},
			},
			Counters: []findings.Counter{{Name: "packets", Value: 18250}, {Name: "tcp_gap_bytes", Value: 512},
				{Name: "flows_evicted", Value: 0}, {Name: "http_shapes_not_kept", Value: 3}}},
		Summary:  findings.Summary{Total: 4, Critical: 1, High: 2, Low: 1},
		Findings: fs,
		Certificates: []findings.Certificate{
			{SHA256: strings.Repeat("ab", 32), SeenOn: []findings.Sighting{{CertSighting: observe.CertSighting{Source: "file", Role: "server"}}}},
			{SHA256: strings.Repeat("01", 32), CertFacts: observe.CertFacts{SPKISHA256: strings.Repeat("02", 32),
				Subject: "CN=Hospital Issuing CA,O=St. Example Hospital,L=Springfield,ST=Illinois,C=US",
				Issuer:  "CN=Hospital Root CA,O=St. Example Hospital,C=US", SerialHex: "0a1b2c",
				NotBefore: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
				ValidityDays: 7305, KeyType: "rsa", KeyBits: 4096, SignatureAlgorithm: "SHA256-RSA", SignatureHash: "sha256",
				IsCA: true}, FirstSeen: t0, SeenOn: many},
			{SHA256: strings.Repeat("cd", 32), CertFacts: observe.CertFacts{SPKISHA256: strings.Repeat("03", 32),
				Subject: "CN=pacs\x1b[2J.example", Issuer: "CN=Hospital Issuing CA", SerialHex: "01",
				NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
				ValidityDays: 3653, KeyType: "ecdsa", KeyBits: 384, Curve: "P-384", SignatureAlgorithm: "ECDSA-SHA384",
				SignatureHash: "sha384", DNSNames: []string{"pacs.example"}, ExtKeyUsage: []string{"serverAuth"}},
				FirstSeen: t0, SeenOn: []findings.Sighting{
					{Host: "10.0.0.5", Port: 443, CertSighting: observe.CertSighting{Peer: addr("10.0.0.20"), Role: "server",
						SNI: "pacs.example", Time: t0, Source: "passive"}},
					{Host: "2001:db8::5", Port: 443, CertSighting: observe.CertSighting{Peer: addr("2001:db8::20"), Role: "server",
						Time: t0, Source: "passive"}},
				}},
		},
		Services: []findings.Service{
			{Host: "10.0.0.5", Port: 443, Service: observe.Service{Transport: "tcp", Protocol: "tls", Source: "passive",
				FirstSeen: t0, LastSeen: t0}, TLSVersion: "TLSv1.2", Cipher: "TLS_RSA_WITH_RC4_128_MD5"},
			{Host: "10.0.0.7", Port: 6661, Service: observe.Service{Transport: "tcp", Protocol: "hl7-mllp", Source: "passive",
				FirstSeen: t0, LastSeen: t0.Add(time.Hour)}},
			{Host: "10.0.0.10", Port: 8443, Service: observe.Service{Transport: "tcp", Protocol: "tls", Source: "passive",
				FirstSeen: t0, LastSeen: t0}, TLSVersion: "TLSv1.3", Cipher: "TLS_CHACHA20_POLY1305_SHA256"},
			{Host: "2001:db8::1", Port: 1883, Service: observe.Service{Transport: "tcp", Protocol: "mqtt", Source: "passive",
				FirstSeen: t0, LastSeen: t0}},
			{Host: "2001:db8::5", Port: 443, Service: observe.Service{Transport: "tcp", Protocol: "tls", Source: "active",
				FirstSeen: t0, LastSeen: t0}, TLSVersion: "TLSv1.2", Cipher: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
		},
		TLSSessions: []findings.TLSSession{
			{Conversation: conv("10.0.0.20", "10.0.0.5", 443), Version: "TLSv1.2", Cipher: "TLS_RSA_WITH_RC4_128_MD5",
				CipherID: 0x0004, CertsObservable: true, TLSSession: observe.TLSSession{SNI: "pacs.example", Version: 0x0303,
					Suite: 0x0004, Count: 2, FirstSeen: t0, LastSeen: t0, Source: "passive", SawClientHello: true,
					SawServerHello: true, ClientVersion: 0x0303, OfferedVersions: []uint16{0x0303},
					OfferedSuites: []uint16{0x0004, 0x0005},
					ServerChain:   []observe.CertRef{certRef(0xcd), certRef(0x01)}, JA3: "0123456789abcdef0123456789abcdef"}},
			{Conversation: conv("10.0.0.21", "10.0.0.10", 8443), Version: "TLSv1.3", Cipher: "TLS_CHACHA20_POLY1305_SHA256",
				CipherID: 0x1303, ECDHCurve: "x25519", TLSSession: observe.TLSSession{Version: 0x0304, Suite: 0x1303, Count: 5,
					FirstSeen: t0, LastSeen: t0.Add(time.Minute), Source: "passive", ALPN: []string{"h2"}, SawClientHello: true,
					SawServerHello: true, OfferedVersions: []uint16{0x0304}, OfferedSuites: []uint16{0x1301, 0x1303},
					OfferedGroups: []uint16{29}, CertsEncrypted: true, ECDHCurve: 29}},
		},
		Assets: []findings.Asset{
			{MAC: "00:11:22:33:44:55", Asset: observe.Asset{Addr: addr("10.0.0.5"), MACs: []string{"00:11:22:33:44:55"},
				Vendor: "Baxter International Inc", FirstSeen: t0, LastSeen: t0, LeasedAddrs: []netip.Addr{addr("10.0.0.6")},
				Names: []observe.AssetName{{Name: "pump-0011", Source: "dhcp"}, {Name: "pump-0011.example", Source: "dns"},
					{Name: "PUMP11", Source: "netbios"}},
				Kind: "medical-device",
				Reasons: []string{"sends HL7 ORU^R01 to 10.0.0.7:6661",
					"OUI 00:11:22 registered to 'Baxter International Inc', a medical device maker",
					"DHCP vendor class 'Baxter Sigma Spectrum 8.01' names Baxter"},
				Roles: []string{"dhcp-client", "hl7-sender", "tls-server"}, Manufacturer: "Baxter", Model: "Sigma Spectrum 8.01",
				DHCPVendorClass: []string{"Baxter Sigma Spectrum 8.01"},
				Servers:         []string{"pump-ui/2.1 <b>"}, CertSubjects: []string{"CN=pump-0011,O=Infusion Systems"},
				HL7Apps: []string{"PUMP\x1b[2J^4WEST"}}},
			{Asset: observe.Asset{Addr: addr("2001:db8::1"), FirstSeen: t0, LastSeen: t0,
				Kind: "middleware", Reasons: []string{"receives HL7 ORU^R01 from 2 hosts (10.0.0.40, 10.0.0.41) and sends on to 10.0.0.7:6661 (HL7)"},
				Roles: []string{"hl7-receiver", "hl7-sender", "mqtt-broker"}}},
		},
		Credentials: []findings.Credential{{Conversation: conv("2001:db8::2", "2001:db8::1", 1883),
			Credential: observe.Credential{Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT", User: "pump",
				Preview: "**** (6 chars)", Hash: "00112233445566778899aabbccddeeff", Count: 1, FirstSeen: t0, LastSeen: t0}}},
		HTTP: []findings.HTTPRequest{{Conversation: conv("10.0.0.30", "10.0.0.8", 80), HTTPRequest: observe.HTTPRequest{
			Count: 4, FirstSeen: t0, LastSeen: t0, Method: "GET", HostHeader: "pump.example", Path: "/api/status?<x>",
			API: observe.APIOther, QueryKeys: []string{"token"}, Status: 200}}},
		MQTT: []findings.MQTTConnect{{Conversation: conv("2001:db8::2", "2001:db8::1", 1883), MQTTConnect: observe.MQTTConnect{
			Count: 1, FirstSeen: t0, LastSeen: t0, ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "pump-7", Username: "pump",
			HasUsername: true, HasPassword: true}}},
		HL7: []findings.HL7Message{{Conversation: conv("10.0.0.40", "10.0.0.7", 6661), HL7Message: observe.HL7Message{
			Count: 12, FirstSeen: t0, LastSeen: t0.Add(time.Hour), SendingApp: "LAB", ReceivingApp: "EMR", MessageType: "ORU",
			TriggerEvent: "R01", Version: "2.5", PatientSegments: 4}}},
		DICOM: []findings.DICOMAssociation{{Conversation: conv("10.0.0.41", "10.0.0.42", 11112),
			DICOMAssociation: observe.DICOMAssociation{Count: 1, FirstSeen: t0, LastSeen: t0, CallingAE: "MODALITY",
				CalledAE: "PACS", Result: "accepted", AbstractSyntaxes: []string{"1.2.840.10008.1.1"}}}},
		HostNames: []findings.HostName{{Addr: addr("10.0.0.5"), MAC: "00:11:22:33:44:55", Name: "pump-0011", Source: "dhcp",
			Count: 2, FirstSeen: t0, LastSeen: t0}},
		DHCPLeases: []findings.DHCPLease{{MAC: "00:11:22:33:44:55", Addr: addr("10.0.0.5"), Server: addr("10.0.0.2"),
			Hostname: "pump-0011", VendorClass: "Baxter Sigma Spectrum 8.01", ParamRequest: "1,3,6,15", Acked: true,
			LeaseSeconds: 28800, Count: 1, FirstSeen: t0, LastSeen: t0}},
		Transfers: []findings.FileTransfer{{Conversation: conv("10.0.0.5", "10.0.0.60", 69), FileTransfer: observe.FileTransfer{
			Protocol: "tftp", Path: "/fw/pump.bin", URL: "tftp://10.0.0.60/fw/pump.bin", Bytes: 131072,
			SHA256: strings.Repeat("ef", 32), Kind: "ext:.bin", Count: 1, FirstSeen: t0, LastSeen: t0}}},
	}
}

// certRef is a certificate digest of 32 equal bytes.
func certRef(b byte) observe.CertRef {
	var r observe.CertRef
	for i := range r {
		r[i] = b
	}
	return r
}

// empty is a complete scan that found nothing, built with nil lists throughout.
func empty() *findings.Report {
	return &findings.Report{SchemaVersion: findings.ReportSchemaVersion, Tool: findings.Tool{Name: "medscan", Version: "v0.1.0"},
		Scan: findings.ScanInfo{ID: 1, Kind: findings.KindNetwork, Started: t0, Finished: t0.Add(time.Second), Complete: true}}
}

func render(t *testing.T, format string, opts Options, r *findings.Report) []byte {
	t.Helper()
	w, err := Scan.New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n(run go test -update if the change is intended)",
					name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: %d lines, want %d", name, len(gl), len(wl))
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format string
		opts   Options
		report func() *findings.Report
	}{
		{"table.golden", "table", Options{}, fixture},
		{"table_narrow.golden", "table", Options{Width: 72}, fixture},
		{"table_empty.golden", "table", Options{}, empty},
		{"json.golden", "json", Options{}, fixture},
		{"json_empty.golden", "json", Options{}, empty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.format, tc.opts, tc.report())
			golden(t, tc.name, got)
			if again := render(t, tc.format, tc.opts, tc.report()); !bytes.Equal(got, again) {
				t.Fatal("two renders of the same report differ")
			}
		})
	}
}

func TestTableFitsWidth(t *testing.T) {
	for _, w := range []int{0, 100, 80, 72} {
		out := render(t, "table", Options{Width: w}, fixture())
		limit := w
		if limit == 0 {
			limit = DefaultWidth
		}
		for i, line := range strings.Split(string(out), "\n") {
			if n := utf8.RuneCountInString(line); n > limit {
				t.Errorf("width %d: line %d is %d columns: %q", w, i+1, n, line)
			}
		}
	}
}

func TestTableContent(t *testing.T) {
	out := string(render(t, "table", Options{Verbose: true}, fixture()))
	for _, want := range []string{
		"scan 3", "captures/ward7.pcap, captures/icu.pcapng", "INCOMPLETE",
		"captures/icu.pcapng: offset 81920: truncated record (reading stopped here)",
		"tcp_gap_bytes", "http_shapes_not_kept", "[2001:db8::1]:1883", "TLS_RSA_WITH_RC4_128_MD5",
		"(+2 more)", "not examined", `CN=pacs\x1b[2J.example`, "Not observable", "10.0.0.10:8443",
		"2024-03-05T10:20:30Z to 2024-03-05T11:20:30Z (1h0m0s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if strings.Contains(out, "flows_evicted") {
		t.Error("table lists a zero counter")
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Error("table has an escape character without Options.Color")
	}
	// Most severe first.
	if c, h, l := strings.Index(out, "critical"), strings.Index(out, "high "), strings.Index(out, "low "); !(c < h && h < l) {
		t.Errorf("findings out of order: critical@%d high@%d low@%d", c, h, l)
	}
	colored := string(render(t, "table", Options{Color: true}, fixture()))
	if !strings.Contains(colored, "\x1b[1;31mcritical\x1b[0m") || !strings.Contains(colored, "\x1b[1;31mINCOMPLETE\x1b[0m") {
		t.Error("Options.Color does not colour severities")
	}
	if strings.Contains(colored, "\x1b[2J") {
		t.Error("an escape sequence from the network reached the output")
	}
}

func TestJSONNoNullLists(t *testing.T) {
	for name, r := range map[string]*findings.Report{"fixture": fixture(), "empty": empty()} {
		out := render(t, "json", Options{}, r)
		if bytes.Contains(out, []byte("null")) {
			t.Errorf("%s: JSON has null: %s", name, out)
		}
		if !bytes.HasSuffix(out, []byte("}\n")) {
			t.Errorf("%s: JSON does not end in a newline", name)
		}
		// The document decodes back into the Report it came from.
		var back findings.Report
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var again bytes.Buffer
		enc := json.NewEncoder(&again)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again.Bytes()) {
			t.Errorf("%s: JSON does not round-trip", name)
		}
	}
}

func TestJSONFieldNames(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(render(t, "json", Options{}, fixture()), &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		return out
	}
	has := func(where string, m any, names ...string) {
		t.Helper()
		got := keys(m)
		for _, n := range names {
			if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+n+" ") {
				t.Errorf("%s lacks %q (has %v)", where, n, got)
			}
		}
	}
	has("document", doc, "schema_version", "tool", "scan", "summary", "findings", "certificates", "services",
		"tls_sessions", "assets", "credentials", "http", "mqtt", "hl7", "dicom")
	has("scan", doc["scan"], "id", "started", "finished", "label", "sources", "complete", "policy", "problems", "counters")
	has("summary", doc["summary"], "total", "critical", "high", "medium", "low", "info")
	has("certificate", doc["certificates"].([]any)[1], "sha256", "spki_sha256", "subject", "issuer", "serial",
		"not_before", "not_after", "validity_days", "key_type", "key_bits", "signature_algorithm", "signature_hash",
		"is_ca", "self_signed", "dns_names", "parse_error", "seen_on")
	has("sighting", doc["certificates"].([]any)[1].(map[string]any)["seen_on"].([]any)[0], "host", "port", "role",
		"position", "sni")
	has("service", doc["services"].([]any)[0], "host", "port", "transport", "protocol", "tls_version", "cipher")
	has("tls session", doc["tls_sessions"].([]any)[0], "client", "host", "port", "sni", "version", "cipher", "count",
		"first_seen", "last_seen", "resumed", "alpn", "cert_request", "cert_request_cas", "certs_observable",
		"server_certs", "client_certs", "dh_bits", "ecdh_curve", "ja3", "ja4")
	has("asset", doc["assets"].([]any)[0], "ip", "mac", "macs", "first_seen", "last_seen")
	has("credential", doc["credentials"].([]any)[0], "client", "host", "port", "protocol", "kind", "where", "user",
		"preview", "hash", "count")
	has("finding", doc["findings"].([]any)[0], "rule", "severity", "host", "port", "message", "evidence", "time",
		"source", "remediation", "references", "fingerprint", "first_seen", "last_seen")
	if s := doc["findings"].([]any)[0].(map[string]any)["time"]; s != "2024-03-05T10:20:30.123456789Z" {
		t.Errorf("time rendered as %v; want RFC 3339 UTC with nanoseconds", s)
	}
}

func TestNew(t *testing.T) {
	got := Scan.Formats()
	if !slices.IsSorted(got) || !slices.Contains(got, "json") || !slices.Contains(got, "table") {
		t.Fatalf("Formats() = %v; want a sorted list holding json and table", got)
	}
	for _, name := range []string{"json", "table", "JSON", " table "} {
		if _, err := Scan.New(name, Options{}); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
	_, err := Scan.New("pdf", Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown report format "pdf"`) || !strings.Contains(err.Error(), strings.Join(Scan.Formats(), ", ")) {
		t.Fatalf("New(pdf) = %v; want an error listing the formats", err)
	}
	for _, f := range Scan.Formats() {
		w, _ := Scan.New(f, Options{})
		if err := w.Write(&bytes.Buffer{}, nil); err == nil {
			t.Errorf("%s writer accepted a nil report", f)
		}
	}
	// Every document has the formats the CLI offers for it.
	for name, formats := range map[string][]string{
		"inventory": Inventory.Formats(), "scan list": ScanList.Formats(), "comparison": Comparison.Formats(),
		"catalog": Catalog.Formats(),
	} {
		if !slices.Contains(formats, "table") || !slices.Contains(formats, "json") {
			t.Errorf("%s formats %v: want table and json", name, formats)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    int
		want []string
	}{
		{"", 10, []string{""}},
		{"short", 10, []string{"short"}},
		{"one two three four", 9, []string{"one two", "three", "four"}},
		{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 20,
			[]string{"TLS_ECDHE_ECDSA_", "WITH_CHACHA20_", "POLY1305_SHA256"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"a b c d e f", 3, []string{"a b", "c d", "e f"}},
		{"line one\nline two", 20, []string{"line one", "line two"}},
		{"x", 0, []string{"x"}},
		// Defect 5 of issue 12: the suite and the words after it, all of them.
		{"negotiated TLS_RSA_WITH_AES_128_GCM_SHA256, whose RSA key exchange", 24,
			[]string{"negotiated TLS_RSA_WITH_", "AES_128_GCM_SHA256,", "whose RSA key exchange"}},
	} {
		if got := wrap(tc.in, tc.w); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("wrap(%q, %d) = %q; want %q", tc.in, tc.w, got, tc.want)
		}
	}
}

func TestBound(t *testing.T) {
	if s := strings.Repeat("é", maxCell); bound(s) != s {
		t.Error("a cell of maxCell characters was cut")
	}
	long := strings.Repeat("é", maxCell) + "abc"
	got := bound(long)
	if !strings.HasPrefix(got, strings.Repeat("é", maxCell)+" [cut here: 3 more characters;") {
		t.Errorf("bound cut %q to %q", long[len(long)-10:], got[len(got)-80:])
	}
}

// TestTerm checks the terminal's text is the one sanitizer's (observe.Clean).
func TestTerm(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CN=pacs.example", "CN=pacs.example"},
		{"a\x1b[31mb", `a\x1b[31mb`},
		{"tab\there", "tab here"},
		{"bad\xffutf8", `bad\xffutf8`},
		{"rtl\u202eoverride", `rtl\u202eoverride`},
		{"new\nline", `new\x0aline`},
		{"Zürich", "Zürich"},
	} {
		if got := term(tc.in); got != tc.want {
			t.Errorf("term(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzWrap(f *testing.F) {
	for _, s := range []string{"", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "CN=a\x1b[2J,O=b", "a b\nc\td", "日本語のテキスト"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, w int) {
		w = w%200 + 1
		if w < 1 {
			w = -w + 1
		}
		c := term(s)
		for _, r := range c {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
				t.Fatalf("term(%q) kept %U", s, r)
			}
		}
		lines := wrap(c, w)
		for _, l := range lines {
			// A single wide rune may exceed a one- or two-column line; nothing else may.
			if width(l) > w && utf8.RuneCountInString(l) > 1 {
				t.Fatalf("wrap(%q, %d): line %q is %d wide", c, w, l, width(l))
			}
		}
		// Only the spaces it breaks at may go.
		if got, want := squeeze(strings.Join(lines, "")), squeeze(c); got != want {
			t.Fatalf("wrap(%q, %d) lost text: %q", c, w, lines)
		}
	})
}

// TestSeenVia checks that the tunnels an asset was seen through show wherever assets
// are shown: the scan table (capped, with a count of the rest), the inventory table,
// the HTML report (a column, only when some asset has a path) and the JSON.
func TestSeenVia(t *testing.T) {
	r := fixture()
	paths := []string{"ERSPAN session 7 from 10.1.1.1 to 10.9.9.9", "GRE key 42 192.0.2.1↔192.0.2.2",
		"VXLAN VNI 100 10.0.0.1↔10.0.0.2"}
	r.Assets[0].SeenVia = paths
	table := string(render(t, "table", Options{}, r))
	// Cells wrap, so only what fits on one line is looked for.
	for _, want := range []string{"seen via ERSPAN session 7", "seen via GRE key 42", "(+1 more paths)"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	html := string(render(t, "html", Options{}, r))
	if !strings.Contains(html, "<th>Seen via</th>") {
		t.Error("HTML has no Seen via column")
	}
	for _, p := range paths {
		if !strings.Contains(html, p) {
			t.Errorf("HTML lacks %q", p)
		}
	}
	if plain := string(render(t, "html", Options{}, fixture())); strings.Contains(plain, "Seen via") {
		t.Error("HTML shows a Seen via column though no asset was seen through a tunnel")
	}
	js := string(render(t, "json", Options{}, r))
	if !strings.Contains(js, `"seen_via": [`) || strings.Count(js, `"seen_via"`) != 1 {
		t.Errorf("JSON has %d seen_via lists, want the one asset's", strings.Count(js, `"seen_via"`))
	}
	w, err := Inventory.New("table", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, findings.NewInventory(r, "")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "seen via ERSPAN") {
		t.Errorf("inventory table lacks the sensor path:\n%s", b.String())
	}
}
