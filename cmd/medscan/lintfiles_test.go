package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/internal/testproc"
)

// findingsOf decodes the findings of a JSON report as generic maps, so that a test reads
// exactly what a consumer of the JSON would.
func findingsOf(t *testing.T, out string) []map[string]any {
	t.Helper()
	var doc struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("report is not JSON: %v\n%.2000s", err, out)
	}
	return doc.Findings
}

// Issue 12, defects 11 and 12, through the binary on the ward capture: the cleartext-hl7
// evidence lists the HL7 device identities as [] (never null) under a name that says
// what they are, in JSON and HTML; a pump's self-signed certificate is reported as
// self-signed, not also by zlint for lacking the authority key identifier a self-signed
// certificate may omit.
func TestWardHL7DeviceIDsAndSelfSignedPumps(t *testing.T) {
	work := t.TempDir()
	db := filepath.Join(work, "m.db")
	res := medscan(t, work, nil, "scan", "--pcap", wardCapture(t), "--db", db, "--format", "json")
	if res.code != 0 {
		t.Fatalf("scan: exit %d\n%s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, `"devices": null`) || strings.Contains(res.stdout, `"devices":null`) {
		t.Errorf("a null devices list in the JSON report")
	}
	hl7, selfSigned := 0, 0
	for _, f := range findingsOf(t, res.stdout) {
		ev, _ := f["evidence"].(map[string]any)
		switch f["rule"] {
		case "cleartext-hl7":
			hl7++
			ids, ok := ev["hl7_device_ids"].([]any)
			if !ok || ids == nil {
				t.Errorf("cleartext-hl7 hl7_device_ids %#v, want a list", ev["hl7_device_ids"])
			}
			if _, old := ev["devices"]; old {
				t.Errorf("cleartext-hl7 still names its HL7 device identities \"devices\"")
			}
		case "cert-self-signed":
			selfSigned++
		case "cert-lint":
			if ev["lint"] == "e_ext_authority_key_identifier_no_key_identifier" {
				t.Errorf("a self-signed certificate failed for lacking an AKI: %v", f["message"])
			}
		}
	}
	if hl7 == 0 || selfSigned != 4 {
		t.Errorf("%d cleartext-hl7 findings, %d cert-self-signed (want the 4 pumps)", hl7, selfSigned)
	}
	res = medscan(t, work, nil, "report", "--scan", "latest", "--db", db, "--format", "html")
	if res.code != 0 {
		t.Fatalf("report html: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "<dt>HL7 device identities</dt>") || strings.Contains(res.stdout, ">devices<") {
		t.Errorf("the HTML evidence does not name the HL7 device identities as such")
	}
}

// Issue 12, defect 1: every finding about a certificate read from a file names the file
// and the certificate's place in it, in the table, JSON, CSV and SARIF; lint --scan of a
// capture's scan keeps the host and port each certificate was seen on.
func TestLintFindingsNameTheirFile(t *testing.T) {
	work := t.TempDir()
	ca, caKey := genCert(t, "Lint CA", true, nil, nil)
	leaf, _ := genCert(t, "device-7", false, ca, caKey)
	self, _ := genCert(t, "pump-self", false, nil, nil)
	writeIn(t, filepath.Join(work, "certs", "chain.pem"), pemCerts(leaf.Raw, ca.Raw, self.Raw))
	db := filepath.Join(work, "m.db")
	const where = "certs/chain.pem#3" // the self-signed leaf, third in the bundle
	res := medscan(t, work, nil, "lint", "certs", "--db", db, "--format", "json")
	if res.code != 0 {
		t.Fatalf("lint: exit %d\n%s", res.code, res.stderr)
	}
	found := false
	for _, f := range findingsOf(t, res.stdout) {
		if f["file"] == nil || f["file"] == "" {
			t.Errorf("a file finding without its file: %v", f)
		}
		if f["rule"] == "cert-self-signed" {
			found = true
			if f["file"] != where || f["host"] != "" {
				t.Errorf("cert-self-signed at %v (host %q), want %s", f["file"], f["host"], where)
			}
		}
	}
	if !found {
		t.Fatalf("no cert-self-signed for the self-signed leaf:\n%s", res.stdout)
	}
	for _, tc := range []struct{ format, want string }{
		{"table", "| " + where},
		{"csv", "," + where + "\n"},
		{"sarif", `"uri": "certs/chain.pem"`},
		{"html", where},
	} {
		res := medscan(t, work, nil, "report", "--kind", "lint", "--scan", "latest", "--db", db, "--format", tc.format)
		if res.code != 0 || !strings.Contains(res.stdout, tc.want) {
			t.Errorf("%s: exit %d, no %q in\n%.3000s", tc.format, res.code, tc.want, res.stdout)
		}
		if tc.format == "sarif" && strings.Contains(res.stdout, "medscan:certificate/") {
			t.Errorf("sarif: a file finding located by a medscan: URI")
		}
	}

	// lint --scan of a capture's scan: the pumps' findings keep their host and port.
	res = medscan(t, work, nil, "scan", "--pcap", wardCapture(t), "--db", db, "-o", filepath.Join(work, "scan.json"))
	if res.code != 0 {
		t.Fatalf("scan: exit %d\n%s", res.code, res.stderr)
	}
	res = medscan(t, work, nil, "lint", "--scan", "latest", "--db", db, "--format", "json")
	if res.code != 0 {
		t.Fatalf("lint --scan: exit %d\n%s", res.code, res.stderr)
	}
	pumps := map[string]bool{}
	for _, f := range findingsOf(t, res.stdout) {
		if f["rule"] == "cert-self-signed" {
			pumps[fmt.Sprintf("%v:%v", f["host"], f["port"])] = true
			if msg, _ := f["message"].(string); strings.HasPrefix(msg, "file") {
				t.Errorf("lint --scan lost the host: %s", msg)
			}
		}
	}
	for _, p := range []string{"10.20.1.11:443", "10.20.1.12:443", "10.20.1.13:443", "10.20.1.14:443"} {
		if !pumps[p] {
			t.Errorf("lint --scan: no cert-self-signed on %s (got %v)", p, pumps)
		}
	}
}

// pemCerts is DER certificates as one PEM bundle.
func pemCerts(ders ...[]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	return out
}

// writeIn writes a file, making its folder.
func writeIn(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 12, defect 2: a folder of a device's PKI material (certificates, their private
// keys, an encrypted key, requests, a README) lints clean: the keys, requests and other
// files are skipped and counted on stderr and in the report's counters, the run is
// complete and exits 0; a non-certificate file named on the command line is skipped
// with a warning.
func TestLintSkipsKeysAndOtherFiles(t *testing.T) {
	work := t.TempDir()
	material := filepath.Join(testproc.RepoRoot(t), "lint", "testdata", "material")
	copyIn := func(from, to string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(material, from))
		if err != nil {
			t.Fatal(err)
		}
		writeIn(t, filepath.Join(work, "certs", to), data)
	}
	ca, caKey := genCert(t, "Device CA", true, nil, nil)
	leaf, _ := genCert(t, "device-9", false, ca, caKey)
	writeIn(t, filepath.Join(work, "certs", "chain.pem"), pemCerts(leaf.Raw, ca.Raw))
	copyIn("pkcs8.pem", "dev.key")        // a private key
	copyIn("encrypted.der", "dev-enc.p8") // an encrypted one, DER
	copyIn("request.der", "dev.csr.der")  // a request, DER: no broken certificate
	copyIn("request.csr", "renew.csr")    // a request, PEM
	writeIn(t, filepath.Join(work, "certs", "README"), []byte("PKI material of pump 9\n"))
	db := filepath.Join(work, "m.db")
	res := medscan(t, work, nil, "lint", "certs", "--db", db, "--format", "json")
	if res.code != 0 {
		t.Fatalf("lint: exit %d\n%s", res.code, res.stderr)
	}
	const want = "medscan: skipped: 2 private keys (1 encrypted), 2 CSRs, 1 other file"
	if !strings.Contains(res.stderr, want) || strings.Contains(res.stderr, "not a certificate") {
		t.Errorf("stderr lacks %q or names a problem:\n%s", want, res.stderr)
	}
	var doc struct {
		Scan struct {
			Complete bool  `json:"complete"`
			Problems []any `json:"problems"`
			Counters []struct {
				Name  string `json:"name"`
				Value int    `json:"value"`
			} `json:"counters"`
		} `json:"scan"`
		Certificates []any `json:"certificates"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	counters := map[string]int{}
	for _, c := range doc.Scan.Counters {
		counters[c.Name] = c.Value
	}
	if !doc.Scan.Complete || len(doc.Scan.Problems) != 0 || len(doc.Certificates) != 2 ||
		counters["skipped_private_keys"] != 1 || counters["skipped_encrypted_private_keys"] != 1 ||
		counters["skipped_csrs"] != 2 || counters["skipped_other_files"] != 1 {
		t.Errorf("complete %v, problems %v, %d certificates, counters %v", doc.Scan.Complete, doc.Scan.Problems,
			len(doc.Certificates), counters)
	}
	for _, f := range findingsOf(t, res.stdout) {
		if strings.Contains(fmt.Sprint(f["subject"]), "medscan_x509_parse") {
			t.Errorf("a request or key read as a broken certificate: %v", f["message"])
		}
	}

	// Named on the command line: skipped with a warning, still no error.
	res = medscan(t, work, nil, "lint", "certs/chain.pem", "certs/README", "certs/dev.key", "--db", db, "-o", filepath.Join(work, "r.json"))
	if res.code != 0 || !strings.Contains(res.stderr, "medscan: warning: certs/README: not a certificate file, skipped") ||
		!strings.Contains(res.stderr, "medscan: warning: certs/dev.key: a private key, not a certificate, skipped") {
		t.Errorf("explicit files: exit %d\n%s", res.code, res.stderr)
	}

	// openssl's own output, when it is installed, the same way.
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Log("openssl not installed: the committed files above stand for it")
		return
	}
	dir := filepath.Join(work, "ossl")
	writeIn(t, filepath.Join(dir, "README.md"), []byte("# keys\n"))
	cmd := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key",
		"-subj", "/CN=srv", "-days", "30", "-out", "srv.pem")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	res = medscan(t, work, nil, "lint", "ossl", "--db", db, "-o", filepath.Join(work, "o.json"))
	if res.code != 0 || !strings.Contains(res.stderr, "skipped: 1 private key, 1 other file") {
		t.Errorf("openssl folder: exit %d\n%s", res.code, res.stderr)
	}
}

// Rule key-file-exposed through the binary, on a folder with a certificate, its key in
// clear, an encrypted key, a request and a README: one low finding for the plain key,
// naming its certificate, and one info for the encrypted key, both at their file in every
// format; nothing for the request or the README; the key's bytes in no output and not in
// the store; a later run of the folder without the key says it was fixed.
func TestLintKeyFileExposed(t *testing.T) {
	work := t.TempDir()
	ca, caKey := genCert(t, "Device CA", true, nil, nil)
	leaf, leafKey := genCert(t, "pump-0013", false, ca, caKey)
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	encDER, err := os.ReadFile(filepath.Join(testproc.RepoRoot(t), "lint", "testdata", "material", "encrypted.der"))
	if err != nil {
		t.Fatal(err)
	}
	csr, err := os.ReadFile(filepath.Join(testproc.RepoRoot(t), "lint", "testdata", "material", "request.csr"))
	if err != nil {
		t.Fatal(err)
	}
	writeIn(t, filepath.Join(work, "certs", "chain.pem"), pemCerts(leaf.Raw, ca.Raw))
	writeIn(t, filepath.Join(work, "certs", "dev.key"), keyPEM)
	writeIn(t, filepath.Join(work, "certs", "dev-enc.p8"), encDER)
	writeIn(t, filepath.Join(work, "certs", "renew.csr"), csr)
	writeIn(t, filepath.Join(work, "certs", "README"), []byte("PKI material of pump 13\n"))
	db := filepath.Join(work, "m.db")
	res := medscan(t, work, nil, "lint", "certs", "--db", db, "--format", "json")
	if res.code != 0 {
		t.Fatalf("lint: exit %d\n%s", res.code, res.stderr)
	}
	got := map[string]string{}
	for _, f := range findingsOf(t, res.stdout) {
		if f["rule"] != "key-file-exposed" {
			continue
		}
		file, _ := f["file"].(string)
		if _, dup := got[file]; dup || f["host"] != "" {
			t.Errorf("key-file-exposed twice at %q, or at host %v", file, f["host"])
		}
		got[file] = fmt.Sprintf("%v: %v", f["severity"], f["message"])
	}
	want := map[string]string{
		"certs/dev.key":    "low: private key (ECDSA P-256) readable in certs/dev.key, the key of certificate CN=pump-0013",
		"certs/dev-enc.p8": "info: encrypted private key of unknown type in certs/dev-enc.p8; whose key it is cannot be read without the passphrase",
	}
	if len(got) != len(want) {
		t.Errorf("key-file-exposed findings %v, want %v", got, want)
	}
	for file, w := range want {
		if got[file] != w {
			t.Errorf("%s: %q, want %q", file, got[file], w)
		}
	}
	var doc struct {
		KeyFiles []struct {
			File         string   `json:"file"`
			Encrypted    bool     `json:"encrypted"`
			Certificates []string `json:"certificates"`
		} `json:"key_files"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	leafSHA := sha256.Sum256(leaf.Raw)
	if len(doc.KeyFiles) != 2 || doc.KeyFiles[1].File != "certs/dev.key" ||
		!slices.Equal(doc.KeyFiles[1].Certificates, []string{hex.EncodeToString(leafSHA[:])}) || !doc.KeyFiles[0].Encrypted {
		t.Errorf("key_files %+v", doc.KeyFiles)
	}

	// Every format names the file; none holds the key, and neither does the store.
	secrets := map[string][]byte{"the key's DER": keyDER, "the encrypted key's DER": encDER,
		"the key's base64": []byte(base64.StdEncoding.EncodeToString(keyDER)),
		"the key's hex":    []byte(hex.EncodeToString(keyDER))}
	for i, line := range strings.Split(string(keyPEM), "\n") {
		if len(line) == 64 { // a full line of the PEM body
			secrets[fmt.Sprintf("line %d of the key's PEM", i)] = []byte(line)
		}
	}
	if len(secrets) < 6 {
		t.Fatalf("the key's PEM has %d full lines: the test would prove little", len(secrets)-4)
	}
	leak := func(where string, data []byte) {
		t.Helper()
		for what, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s holds %s", where, what)
			}
		}
	}
	leak("the JSON report", []byte(res.stdout))
	for _, tc := range []struct{ format, want string }{
		{"table", "certs/dev.key"},
		{"json", `"file": "certs/dev.key"`},
		{"csv", ",certs/dev.key\n"},
		{"sarif", `"uri": "certs/dev.key"`},
		{"html", "certs/dev.key"},
	} {
		res := medscan(t, work, nil, "report", "--kind", "lint", "--scan", "latest", "--db", db, "--format", tc.format)
		if res.code != 0 || !strings.Contains(res.stdout, tc.want) || !strings.Contains(res.stdout, "key-file-exposed") {
			t.Errorf("%s: exit %d, no %q or no key-file-exposed in\n%.3000s", tc.format, res.code, tc.want, res.stdout)
		}
		leak(tc.format+" report", []byte(res.stdout+res.stderr))
	}
	stored, _ := filepath.Glob(db + "*") // the database, its WAL and shared memory
	for _, file := range stored {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		leak(filepath.Base(file), data)
	}
	if len(stored) == 0 {
		t.Fatal("no store written")
	}

	// The rule is in the catalog.
	if res := medscan(t, work, nil, "rules"); res.code != 0 || !strings.Contains(res.stdout, "key-file-exposed") {
		t.Errorf("medscan rules: exit %d, no key-file-exposed", res.code)
	}

	// The key removed and the folder linted again: fixed; the encrypted one persists.
	if err := os.Remove(filepath.Join(work, "certs", "dev.key")); err != nil {
		t.Fatal(err)
	}
	if res := medscan(t, work, nil, "lint", "certs", "--db", db, "-o", filepath.Join(work, "again.json")); res.code != 0 {
		t.Fatalf("lint again: exit %d\n%s", res.code, res.stderr)
	}
	res = medscan(t, work, nil, "diff", "--kind", "lint", "--db", db, "--format", "json")
	if res.code != 0 {
		t.Fatalf("diff: exit %d\n%s", res.code, res.stderr)
	}
	var diff struct {
		Change struct {
			Fixed []struct {
				Rule string `json:"rule"`
				File string `json:"file"`
			} `json:"fixed"`
			Persisting []struct {
				Rule string `json:"rule"`
				File string `json:"file"`
			} `json:"persisting"`
		} `json:"change"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &diff); err != nil {
		t.Fatalf("diff is not JSON: %v\n%.2000s", err, res.stdout)
	}
	fixed, persisting := "", ""
	change := diff.Change
	for _, f := range change.Fixed {
		if f.Rule == "key-file-exposed" {
			fixed += f.File + " "
		}
	}
	for _, f := range change.Persisting {
		if f.Rule == "key-file-exposed" {
			persisting += f.File + " "
		}
	}
	if fixed != "certs/dev.key " || persisting != "certs/dev-enc.p8 " {
		t.Errorf("diff: key-file-exposed fixed %q, persisting %q\n%.3000s", fixed, persisting, res.stdout)
	}
}
