package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/pcapw"
)

// rsaKexListener serves TLS 1.2 on loopback with an RSA certificate, accepting an ECDHE
// suite (preferred) and a static RSA one: a full enumeration finds the static suite, a
// single default handshake negotiates ECDHE.
func rsaKexListener(t *testing.T) int {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "ehr.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), DNSNames: []string{"ehr.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					tc.Read(make([]byte, 64))
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// comparison is medscan diff --format json.
type comparison struct {
	Previous *struct {
		ID int64 `json:"id"`
	} `json:"previous"`
	Scan struct {
		ID int64 `json:"id"`
	} `json:"scan"`
	Change *jsonChange `json:"change"`
	Reason string      `json:"reason"`
}

func parseComparison(t *testing.T, s string) comparison {
	t.Helper()
	var c comparison
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatalf("not JSON: %v\n%.1000s", err, s)
	}
	return c
}

func changedRule(l []changedFinding, rule string) *changedFinding {
	for i := range l {
		if l[i].Rule == rule {
			return &l[i]
		}
	}
	return nil
}

// TestLighterProfileDoesNotFix probes a server that accepts a static RSA suite with the
// standard profile (tls-no-forward-secrecy), then with the inventory profile, whose one
// handshake negotiates ECDHE: the finding is not assessed, never fixed, because the
// inventory profile does not list the suites a server accepts.
func TestLighterProfileDoesNotFix(t *testing.T) {
	dir := t.TempDir()
	port := rsaKexListener(t)
	target := []string{"scan", "127.0.0.1", "-p", fmt.Sprint(port), "--pause", "0", "--db", "m.db", "-q", "--format", "json"}
	first := parseReport(t, mustRun(t, dir, 0, append(target, "--profile", "standard")...).stdout)
	if !first.hasFinding("tls-no-forward-secrecy", "127.0.0.1", port) {
		t.Fatalf("the standard profile did not find the static RSA suite: %s", first.rules())
	}
	second := parseReport(t, mustRun(t, dir, 0, append(target, "--profile", "inventory")...).stdout)
	if second.hasFinding("tls-no-forward-secrecy", "127.0.0.1", port) {
		t.Fatalf("the inventory profile's one handshake chose the static RSA suite; the test needs ECDHE")
	}
	c := parseComparison(t, mustRun(t, dir, 0, "diff", "--db", "m.db", "--format", "json").stdout)
	if c.Change == nil {
		t.Fatalf("no comparison: %s", c.Reason)
	}
	if f := changedRule(c.Change.Fixed, "tls-no-forward-secrecy"); f != nil {
		t.Errorf("tls-no-forward-secrecy reported fixed by the inventory profile: %+v", f)
	}
	na := changedRule(c.Change.NotAssessed, "tls-no-forward-secrecy")
	if na == nil || !strings.Contains(na.Reason, "inventory profile") {
		t.Errorf("tls-no-forward-secrecy not assessed with the reason: %+v\n%+v", na, c.Change)
	}
	// The certificate was seen again, so its findings were assessed: what a lighter
	// profile does show is still judged.
	if f := changedRule(c.Change.NotAssessed, "cert-self-signed"); f != nil {
		t.Errorf("cert-self-signed not assessed although the chain was seen: %+v", f)
	}
	// And the standard profile again does assess it: the server did not change.
	parseReport(t, mustRun(t, dir, 0, append(target, "--profile", "standard")...).stdout)
	c = parseComparison(t, mustRun(t, dir, 0, "diff", "--db", "m.db", "--format", "json").stdout)
	if f := changedRule(c.Change.New, "tls-no-forward-secrecy"); f == nil {
		t.Errorf("after the inventory scan, the standard one shows the finding as new: %+v", c.Change)
	}
}

// writeCapture writes a capture file whose conversations fill writes.
func writeCapture(t *testing.T, path string, writes func(w *pcapw.Writer)) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapw.New(f, time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC), pcapw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	writes(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// apiCapture writes a capture of a monitor calling an API: with a bearer token or not.
func apiCapture(t *testing.T, path string, token bool) {
	t.Helper()
	writeCapture(t, path, func(w *pcapw.Writer) {
		mon := pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x21}, Addr: netip.MustParseAddrPort("10.20.1.21:41000")}
		srv := pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x40}, Addr: netip.MustParseAddrPort("10.20.0.40:8080")}
		c := w.TCP(mon, srv, pcapw.TCPOptions{})
		req := "GET /api/v1/beds HTTP/1.1\r\nHost: gw.ward\r\nAccept: application/json\r\n"
		if token {
			req += "Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig\r\n"
		}
		c.ClientSend([]byte(req + "\r\n"))
		c.ServerSend([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
		c.Close()
	})
}

// TestAPIUnauthenticatedFixed scans an API that answers without credentials, then the
// same endpoint answering a request that carries a bearer token: api-unauthenticated is
// fixed, as its declared coverage (API requests answered in clear) says.
func TestAPIUnauthenticatedFixed(t *testing.T) {
	dir := t.TempDir()
	open, authed := filepath.Join(dir, "open.pcap"), filepath.Join(dir, "authed.pcap")
	apiCapture(t, open, false)
	apiCapture(t, authed, true)
	r := parseReport(t, mustRun(t, dir, 0, "scan", "-q", "--pcap", open, "--label", "gw", "--db", "m.db", "--format", "json").stdout)
	if !r.hasFinding("api-unauthenticated", "10.20.0.40", 8080) {
		t.Fatalf("no api-unauthenticated: %s", r.rules())
	}
	mustRun(t, dir, 0, "scan", "-q", "--pcap", authed, "--label", "gw", "--db", "m.db", "--format", "json")
	c := parseComparison(t, mustRun(t, dir, 0, "diff", "--db", "m.db", "--format", "json").stdout)
	if c.Change == nil || changedRule(c.Change.Fixed, "api-unauthenticated") == nil {
		t.Fatalf("api-unauthenticated is not fixed: %+v (%s)", c.Change, c.Reason)
	}
	if f := changedRule(c.Change.NotAssessed, "api-unauthenticated"); f != nil {
		t.Errorf("api-unauthenticated not assessed: %+v", f)
	}
}

// The identifiers a privacy review planted in URL paths: a record number, a patient's
// name in an HL7-style escape, a surname.
var patientIdentifiers = []string{"WRD4471902", "QUILLFEATHER", "MARGERY", "HOLLOWAY", "smith-john", "PTNAME7731",
	"21.07.64", "_pennyworth"}

// patientPathsCapture writes a capture of a workstation fetching patients' records by
// URL, every identifier in the path.
func patientPathsCapture(t *testing.T, path string) {
	t.Helper()
	writeCapture(t, path, func(w *pcapw.Writer) {
		ws := pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x77}, Addr: netip.MustParseAddrPort("10.20.2.7:42000")}
		ehr := pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x80}, Addr: netip.MustParseAddrPort("10.20.0.80:8080")}
		// Identifiers hide in query parameter names too ("?PTNAME7731"), in what looks like a
		// version (a date of birth) and behind FHIR's '_'.
		for i, p := range []string{"/fhir/Patient/WRD4471902", "/api/patients/QUILLFEATHER%5EMARGERY/vitals",
			"/ehr/api/v2/patient/name/HOLLOWAY/record", "/fhir/Patient/smith-john", "/records/21.07.64/chart",
			"/api/_pennyworth/vitals"} {
			ws.Addr = netip.AddrPortFrom(ws.Addr.Addr(), uint16(42000+i))
			c := w.TCP(ws, ehr, pcapw.TCPOptions{})
			c.ClientSend([]byte("GET " + p + "?_format=json&mrn=WRD4471902&PTNAME7731 HTTP/1.1\r\nHost: ehr.ward\r\nAccept: application/fhir+json\r\n\r\n"))
			c.ServerSend([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 2\r\n\r\n{}"))
			c.Close()
		}
	})
}

// TestNoPatientIdentifierFromAPath scans requests whose paths carry patient identifiers
// and requires that none of them reaches the store (any table, the write-ahead log) or
// any output: JSON, HTML, CSV, SARIF, the table, the inventory. The paths are kept as
// templates, which still say what the interface is.
func TestNoPatientIdentifierFromAPath(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "records.pcap")
	patientPathsCapture(t, pcap)
	res := mustRun(t, dir, 0, "scan", "--pcap", pcap, "--db", "m.db", "--format", "json")
	outputs := map[string]string{"scan json": res.stdout, "scan stderr": res.stderr}
	for _, f := range []string{"table", "json", "html", "csv", "csv-assets", "sarif"} {
		outputs["report "+f] = mustRun(t, dir, 0, "report", "--db", "m.db", "--format", f).stdout
	}
	outputs["inventory"] = mustRun(t, dir, 0, "inventory", "--db", "m.db", "--format", "json").stdout
	for _, want := range []string{"/fhir/Patient/{id}", "/api/patients/{id}/vitals", "/ehr/api/v2/patient/name/{id}/record"} {
		if !strings.Contains(outputs["report json"], want) {
			t.Errorf("the JSON lacks the template %q", want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "m.db*"))
	if len(files) == 0 {
		t.Fatal("no store files")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		outputs["file "+filepath.Base(name)] = string(b)
	}
	for where, text := range outputs {
		for _, id := range patientIdentifiers {
			if strings.Contains(text, id) || bytes.Contains(bytes.ToLower([]byte(text)), bytes.ToLower([]byte(id))) {
				t.Errorf("%s holds the patient identifier %q", where, id)
			}
		}
	}
}

// TestLatestIsTheNetworkScan runs the README's scan, then a lint run: report --scan
// latest renders the scan, not the lint run, and --kind lint the lint run.
func TestLatestIsTheNetworkScan(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, 0, "scan", "-q", "--pcap", wardCapture(t), "--db", "m.db", "--format", "json")
	ca, _ := genCert(t, "Ward CA", true, nil, nil)
	pem := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(pem, pemBlock(ca.Raw), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, dir, 0, "lint", "-q", pem, "--db", "m.db", "--format", "json")
	r := parseReport(t, mustRun(t, dir, 0, "report", "--scan", "latest", "--db", "m.db", "--format", "json").stdout)
	if r.Scan.ID != 1 || len(r.Scan.Sources) != 1 || !strings.HasSuffix(r.Scan.Sources[0], "ward.pcapng") {
		t.Errorf("report --scan latest rendered %+v, want the ward scan (1)", r.Scan)
	}
	r = parseReport(t, mustRun(t, dir, 0, "report", "--kind", "lint", "--db", "m.db", "--format", "json").stdout)
	if r.Scan.ID != 2 {
		t.Errorf("report --kind lint rendered scan %d, want the lint run (2)", r.Scan.ID)
	}
	list := mustRun(t, dir, 0, "scans", "--db", "m.db").stdout
	if !strings.Contains(list, "network") || !strings.Contains(list, "lint") {
		t.Errorf("scans does not show the kinds:\n%s", list)
	}
	// A scan and a lint run look at different things: comparing them is refused.
	res := mustRun(t, dir, 2, "diff", "1", "2", "--db", "m.db")
	if !strings.Contains(res.stderr, "scan 1 is a network run and scan 2 a lint run") {
		t.Errorf("diff of a scan and a lint run: %s", res.stderr)
	}
}

// TestStandardInputIsNeverPaired reads one capture from standard input twice without a
// label: each is another capture as far as medscan can know, so neither is compared.
func TestStandardInputIsNeverPaired(t *testing.T) {
	dir := t.TempDir()
	capture, err := os.ReadFile(wardCapture(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res := medscan(t, dir, capture, "scan", "-q", "--pcap", "-", "--db", "m.db", "--format", "json")
		if res.code != 0 && res.code != 3 {
			t.Fatalf("scan of standard input: exit %d: %s", res.code, res.stderr)
		}
		if r := parseHistory(t, res.stdout); r.Change != nil {
			t.Errorf("a scan of standard input was compared with scan %d", r.Change.PreviousScan)
		}
	}
	res := mustRun(t, dir, 0, "diff", "--db", "m.db")
	if !strings.Contains(res.stdout, "Nothing to compare") || !strings.Contains(res.stdout, "standard input") {
		t.Errorf("diff after two scans of standard input:\n%s", res.stdout)
	}
}

// TestUnrelatedScansAreNotCompared scans two different captures without labels: diff
// says there is nothing to compare, and exits 0; neither report carries a change.
func TestUnrelatedScansAreNotCompared(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	apiCapture(t, a, false)
	hl7Capture(t, b)
	mustRun(t, dir, 0, "scan", "-q", "--pcap", a, "--db", "m.db", "--format", "json")
	r := parseHistory(t, mustRun(t, dir, 0, "scan", "-q", "--pcap", b, "--db", "m.db", "--format", "json").stdout)
	if r.Change != nil {
		t.Errorf("the second scan was compared with an unrelated one: %+v", r.Change)
	}
	res := mustRun(t, dir, 0, "diff", "--db", "m.db")
	if !strings.Contains(res.stdout, "Nothing to compare") || strings.Contains(res.stdout, "new,") {
		t.Errorf("diff of unrelated scans:\n%s", res.stdout)
	}
	// The gate still judges the later scan: with nothing to compare, every finding is new.
	for _, gate := range [][]string{{"--fail-on", "high"}, {"--fail-on-new"}} {
		if res := mustRun(t, dir, 3, append([]string{"diff", "--db", "m.db"}, gate...)...); !strings.Contains(res.stderr, "finding") {
			t.Errorf("diff %v with nothing to compare: %s", gate, res.stderr)
		}
	}
	c := parseComparison(t, mustRun(t, dir, 0, "diff", "--db", "m.db", "--format", "json").stdout)
	if c.Change != nil || c.Previous != nil || !strings.Contains(c.Reason, "no label") {
		t.Errorf("diff --format json: %+v", c)
	}
	// Two explicit scans are compared as asked.
	if c := parseComparison(t, mustRun(t, dir, 0, "diff", "1", "2", "--db", "m.db", "--format", "json").stdout); c.Change == nil {
		t.Error("diff 1 2 compared nothing")
	}
}

func pemBlock(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
