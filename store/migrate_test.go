package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/secretkey"
	"github.com/medscan/medscan/observe"
)

// patientData are the identifiers the legacy store below holds in raw URL paths, file
// names, asset reasons and finding messages, evidence and subjects: none may survive the
// migration anywhere in the store's files.
var patientData = []string{"WRD4471902", "QUILLFEATHER", "MARGERY", "SMITH_JOHN", "smith-john", "HOLLOWAY", "XYZ998877",
	"PUMPFW5512", "MRN60071"}

// legacyStore writes, by hand, a store of schema version 1 as the first medscan wrote
// it: scan 1 a network scan with raw paths everywhere, scan 2 a lint run (certificate
// files only), scan 3 a network scan that read a certificate file and watched a server.
func legacyStore(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	init, err := migrationFS.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	const ts = "2025-01-02T03:04:05.000000000Z"
	const later = "2025-02-02T03:04:05.000000000Z"
	apiFP := findings.ComputeFingerprint("cleartext-api", "10.0.0.8", 80, "")
	updFP := findings.ComputeFingerprint("cleartext-update", "10.0.0.40", 80, "/fw/WRD4471902.bin")
	upd2FP := findings.ComputeFingerprint("cleartext-update", "10.0.0.40", 80, "/fw/XYZ998877.bin")
	tftpFP := findings.ComputeFingerprint("cleartext-update", "10.0.0.40", 69, "PUMPFW5512.bin (upload)")
	sharedFP := findings.ComputeFingerprint("credential-shared", "10.0.0.9", 1883, "mqtt-password@10.0.0.9:1883,10.0.0.10:1883")
	certSHA := hexSHA(fileDER)
	stmts := []struct {
		q    string
		args []any
	}{
		{string(init), nil},
		{"PRAGMA user_version = 1", nil},
		{"INSERT INTO schema_migrations(version, name, applied) VALUES (1, '0001_init.sql', ?)", []any{ts}},
		{"INSERT INTO meta(key, value) VALUES ('secret_key', ?)", []any{bytes.Repeat([]byte{7}, 32)}},
		{`INSERT INTO scans(id, started, finished, label, sources, complete, tool_version, policy)
			VALUES (1, ?, ?, 'ward', '["ward.pcap"]', 1, 'v0.9.0', 'default'),
			       (2, ?, ?, '', '["certs/"]', 1, 'v0.9.0', 'default'),
			       (3, ?, ?, 'ward', '["ward2.pcap","certs/"]', 1, 'v0.9.0', 'default')`,
			[]any{ts, ts, ts, ts, later, later}},
		{`INSERT INTO http_requests(scan_id, client, client_port, host, port, count, first_seen, last_seen, method,
			host_header, path, query_keys, user_agent, content_type, auth_scheme, has_cookie, api_key_headers, status,
			server, resp_content_type) VALUES
			(1, '10.0.0.30', 40000, '10.0.0.8', 80, 3, ?, ?, 'GET', 'ehr.example', '/fhir/Patient/WRD4471902', '["_format"]',
				'curl/8', '', '', 0, '[]', 200, 'nginx', 'application/fhir+json'),
			(1, '10.0.0.30', 40001, '10.0.0.8', 80, 1, ?, ?, 'GET', 'ehr.example',
				'/api/patients/QUILLFEATHER%5EMARGERY/vitals', '["MRN60071"]', 'curl/8', '', 'Bearer', 0, '[]', 200, 'nginx',
				'application/json'),
			(1, '10.0.0.30', 40002, '10.0.0.8', 80, 2, ?, ?, 'GET', 'ehr.example', '/fhir/Patient/smith-john', '["_format"]',
				'curl/8', '', '', 0, '[]', 200, 'nginx', 'application/fhir+json')`,
			[]any{ts, ts, ts, ts, ts, later}},
		{`INSERT INTO file_transfers(scan_id, client, client_port, host, port, protocol, upload, path, url, bytes, sha256,
			kind, partial, count, first_seen, last_seen) VALUES
			(1, '10.0.0.31', 1069, '10.0.0.40', 69, 'tftp', 0, '/export/SMITH_JOHN_20260101.dcm',
				'tftp://10.0.0.40/export/SMITH_JOHN_20260101.dcm', 4096, 'ab', '', 0, 1, ?, ?),
			(1, '10.0.0.32', 1070, '10.0.0.40', 69, 'tftp', 0, 'WRD4471902.bin', 'tftp://10.0.0.40/WRD4471902.bin',
				70000, 'cd', 'ext:.bin', 0, 1, ?, ?),
			(1, '2001:db8::33', 50000, '2001:db8::40', 2121, 'ftp', 1, '/export/SMITH_JOHN_20260101.dcm',
				'ftp://[2001:db8::40]:2121/export/SMITH_JOHN_20260101.dcm', 10, 'ef', '', 0, 1, ?, ?)`,
			[]any{ts, ts, ts, ts, ts, ts}},
		{"INSERT INTO assets(id, ip, first_seen, last_seen) VALUES (1, '10.0.0.8', ?, ?), (2, '10.0.0.5', ?, ?)",
			[]any{ts, ts, ts, later}},
		{`INSERT INTO scan_assets(scan_id, asset_id, first_seen, last_seen, macs, kind, reasons, roles, manufacturer)
			VALUES (1, 1, ?, ?, '["00:50:56:8a:10:10"]', 'clinical-server',
				'["FHIR server (GET /fhir/Patient/smith-john)","answers HL7"]', '["fhir-server"]', 'Acme'),
			       (3, 2, ?, ?, '[]', 'clinical-server', '["TLS server"]', '[]', '')`,
			[]any{ts, ts, later, later}},
		{`INSERT INTO services(scan_id, host, port, transport, protocol, source, first_seen, last_seen)
			VALUES (3, '10.0.0.5', 443, 'tcp', 'tls', 'passive', ?, ?)`, []any{later, later}},
		{`INSERT INTO findings(fingerprint, rule, severity, host, port, subject, message, evidence, time, source,
			remediation, refs, first_seen, last_seen) VALUES
			(?, 'cleartext-api', 3, '10.0.0.8', 80, '', 'API call GET /ehr/api/v2/patient/name/HOLLOWAY/record sent in clear',
				'{"paths":["/ehr/api/v2/patient/name/HOLLOWAY/record"],"url":"http://10.0.0.8/ehr/api/v2/patient/name/HOLLOWAY/record","count":2}',
				?, 'passive', 'use TLS', '[]', ?, ?),
			(?, 'cleartext-update', 2, '10.0.0.40', 80, '/fw/WRD4471902.bin', 'firmware /fw/WRD4471902.bin fetched in clear',
				'{"path":"/fw/WRD4471902.bin"}', ?, 'passive', '', '[]', ?, ?),
			(?, 'cleartext-update', 3, '10.0.0.40', 80, '/fw/XYZ998877.bin', 'firmware /fw/XYZ998877.bin fetched in clear',
				'{"path":"/fw/XYZ998877.bin"}', ?, 'passive', '', '[]', ?, ?),
			(?, 'cleartext-update', 2, '10.0.0.40', 69, 'PUMPFW5512.bin (upload)', 'image PUMPFW5512.bin uploaded in clear',
				'{"direction":"upload"}', ?, 'passive', '', '[]', ?, ?),
			(?, 'credential-shared', 3, '10.0.0.9', 1883, 'mqtt-password@10.0.0.9:1883,10.0.0.10:1883',
				'2 hosts sent the same mqtt-password', '{"kind":"mqtt-password"}', ?, 'passive', '', '[]', ?, ?)`,
			[]any{apiFP, ts, ts, ts, updFP, ts, ts, ts, upd2FP, later, later, later, tftpFP, ts, ts, ts, sharedFP, ts, ts, ts}},
		{`INSERT INTO scan_findings(scan_id, fingerprint, severity, message, evidence, time, source, remediation, refs)
			SELECT 1, fingerprint, severity, message, evidence, time, source, remediation, refs FROM findings
				WHERE fingerprint IN (?, ?, ?, ?)`, []any{apiFP, updFP, tftpFP, sharedFP}},
		{`INSERT INTO scan_findings(scan_id, fingerprint, severity, message, evidence, time, source, remediation, refs)
			SELECT 3, fingerprint, severity, message, evidence, time, source, remediation, refs FROM findings
				WHERE fingerprint = ?`, []any{upd2FP}},
		{`INSERT INTO certificates(id, sha256, der, has_facts, spki_sha256, subject, issuer, key_type, key_bits,
			dns_names, first_seen) VALUES (1, ?, ?, 1, 'spki-file', 'CN=device', 'CN=device', 'rsa', 1024,
			'["device.example"]', ?)`, []any{certSHA, fileDER, ts}},
		{`INSERT INTO scan_certificates(scan_id, cert_id, first_seen) VALUES (2, 1, ?), (3, 1, ?)`, []any{ts, later}},
		{`INSERT INTO cert_sightings(scan_id, cert_id, host, port, peer, role, position, sni, time, source) VALUES
			(2, 1, '', 0, '', '', 0, '', ?, 'file'),
			(3, 1, '', 0, '', '', 0, '', ?, 'file'),
			(3, 1, '10.0.0.5', 443, '10.0.0.99', 'server', 0, '', ?, 'passive')`, []any{ts, later, later}},
	}
	for _, st := range stmts {
		if _, err := db.Exec(st.q, st.args...); err != nil {
			t.Fatalf("%.80s: %v", st.q, err)
		}
	}
}

func TestMigrateLegacyStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "legacy.db")
	legacyStore(t, path)
	// The fixture holds what the test looks for, so that its absence later means it.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range patientData {
		if !bytes.Contains(raw, []byte(p)) {
			t.Fatalf("the legacy fixture does not hold %q", p)
		}
	}
	if _, err := OpenReadOnly(path); err == nil || !strings.Contains(err.Error(), "older") {
		t.Fatalf("OpenReadOnly of a version-1 store = %v; want it to ask for a migration", err)
	}

	st, err := Open(path) // migrates
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var version int
	if err := st.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != SchemaVersion() {
		t.Fatalf("user_version = %d, %v; want %d", version, err, SchemaVersion())
	}
	if n := count(t, st, "SELECT count(*) FROM schema_migrations"); n != SchemaVersion() {
		t.Errorf("schema_migrations holds %d rows; want %d", n, SchemaVersion())
	}
	// Open does not know where the key file is: the old key stays for OpenKeyed to move
	// out (secret_test.go), and the scans made under it are marked with its fingerprint.
	if n := count(t, st, "SELECT count(*) FROM meta WHERE key = 'secret_key'"); n != 1 {
		t.Error("the migration lost the store's secret key before it was moved out")
	}
	if n := count(t, st, "SELECT count(*) FROM scans WHERE key_id = ?", secretkey.Fingerprint(bytes.Repeat([]byte{7}, 32))); n != 3 {
		t.Errorf("%d of 3 earlier scans marked with the old key's fingerprint", n)
	}
	for _, table := range []string{"http_requests", "file_transfers", "services", "tls_sessions", "probe_endpoints"} {
		if n := count(t, st, "SELECT count(*) FROM sqlite_master WHERE name = ?", table); n != 0 {
			t.Errorf("table %s survived the migration", table)
		}
	}

	// Kinds: a scan whose only certificate sightings were read from files is a lint run.
	scans, err := st.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, si := range scans {
		kinds = append(kinds, si.Kind)
	}
	if want := []string{"network", "lint", "network"}; !slices.Equal(kinds, want) {
		t.Errorf("kinds = %v; want %v", kinds, want)
	}
	if id, err := st.ResolveScan(ctx, "latest", ""); err != nil || id != 3 {
		t.Errorf("latest network scan = %d, %v; want 3", id, err)
	}
	if id, err := st.ResolveScan(ctx, "latest", findings.KindLint); err != nil || id != 2 {
		t.Errorf("latest lint run = %d, %v; want 2", id, err)
	}

	var all []byte
	reports := map[int64]*findings.Report{}
	for _, id := range []int64{1, 2, 3} {
		r, err := st.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		reports[id] = r
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, js...)
	}
	for _, p := range patientData {
		if bytes.Contains(all, []byte(p)) {
			t.Errorf("the migrated reports still hold %q", p)
		}
	}

	r := reports[1]
	// HTTP requests are observations now, their paths templated and classified.
	got := map[string]findings.HTTPRequest{}
	for _, h := range r.HTTP {
		got[h.Path] = h
	}
	// Two reads of two patients' records are one shape once templated, counted together.
	if len(r.HTTP) != 2 {
		t.Fatalf("HTTP = %+v; want the two legacy shapes", r.HTTP)
	}
	fhir, ok := got["/fhir/Patient/{id}"]
	if !ok || fhir.API != observe.APIFHIR || fhir.Resource != "Patient" || fhir.Host != "10.0.0.8" || fhir.Port != 80 ||
		fhir.Client != "10.0.0.30" || fhir.Count != 5 || fhir.Status != 200 || fhir.HostHeader != "ehr.example" ||
		!fhir.LastSeen.After(fhir.FirstSeen) ||
		!slices.Equal(fhir.QueryKeys, []string{"_format"}) {
		t.Errorf("FHIR request = %+v", fhir)
	}
	api, ok := got["/api/patients/{id}/vitals"]
	if !ok || api.API != observe.APIOther || api.Resource != "" || api.AuthScheme != "Bearer" ||
		!slices.Equal(api.QueryKeys, []string{"{id}"}) {
		t.Errorf("API request = %+v (requests %v)", api, r.HTTP)
	}
	// Transfers likewise, their URLs written as the dissectors write them: a relative TFTP
	// file name under the root, an IPv6 server in brackets, an FTP server's port when it
	// is not 21.
	urls := map[string]findings.FileTransfer{}
	for _, x := range r.Transfers {
		urls[x.URL] = x
	}
	for url, want := range map[string]struct {
		path  string
		bytes int64
	}{
		"tftp://10.0.0.40/export/{id}":          {"/export/{id}", 4096},
		"tftp://10.0.0.40/{id}.bin":             {"{id}.bin", 70000},
		"ftp://[2001:db8::40]:2121/export/{id}": {"/export/{id}", 10},
	} {
		if x, ok := urls[url]; !ok || x.Path != want.path || x.Bytes != want.bytes {
			t.Errorf("transfer %s = %+v, %v; want path %q (transfers %+v)", url, x, ok, want.path, r.Transfers)
		}
	}
	if len(r.Transfers) != 3 {
		t.Errorf("%d transfers; want 3", len(r.Transfers))
	}
	// Asset reasons, finding messages and evidence: paths replaced by their templates.
	if len(r.Assets) != 1 || !slices.Contains(r.Assets[0].Reasons, "FHIR server (GET /fhir/Patient/{id})") ||
		!slices.Contains(r.Assets[0].Reasons, "answers HL7") || r.Assets[0].Kind != observe.KindClinicalServer ||
		r.Assets[0].Manufacturer != "Acme" || r.Assets[0].MAC != "00:50:56:8a:10:10" {
		t.Errorf("assets = %+v", r.Assets)
	}
	var apiF, updF, tftpF *findings.Finding
	for i := range r.Findings {
		switch f := &r.Findings[i]; {
		case f.Rule == "cleartext-api":
			apiF = f
		case f.Rule == "cleartext-update" && f.Port == 69:
			tftpF = f
		case f.Rule == "cleartext-update":
			updF = f
		}
	}
	if apiF == nil || updF == nil || tftpF == nil {
		t.Fatalf("findings = %+v", r.Findings)
	}
	if !strings.Contains(apiF.Message, "/ehr/api/v2/patient/name/{id}/record") {
		t.Errorf("cleartext-api message = %q", apiF.Message)
	}
	if ev, _ := json.Marshal(apiF.Evidence); !strings.Contains(string(ev), "/ehr/api/v2/patient/name/{id}/record") ||
		!strings.Contains(string(ev), "http://10.0.0.8/ehr/api/v2/patient/name/{id}/record") ||
		!strings.Contains(string(ev), `"count":2`) {
		t.Errorf("cleartext-api evidence = %s", ev)
	}
	// cleartext-update findings take the template as their subject, and so a new
	// fingerprint; the two legacy ones, whose paths had the same template, are one now.
	const subject = "/fw/{id}.bin"
	fp := findings.ComputeFingerprint("cleartext-update", "10.0.0.40", 80, subject)
	if updF.Subject != subject || updF.Fingerprint != fp || updF.Message != "firmware /fw/{id}.bin fetched in clear" {
		t.Errorf("cleartext-update finding = %+v; want subject %q, fingerprint %s", updF, subject, fp)
	}
	// A relative TFTP file name is templated as any path is.
	const tftpSubject = "{id}.bin (upload)"
	if tftpF.Subject != tftpSubject || tftpF.Message != "image {id}.bin uploaded in clear" || tftpF.Fingerprint != findings.ComputeFingerprint("cleartext-update", "10.0.0.40", 69, tftpSubject) {
		t.Errorf("TFTP upload finding = %+v; want subject %q", tftpF, tftpSubject)
	}
	// credential-shared is raised per server and kind now: the old finding, whose host and
	// port were its first server's, keeps them and takes the kind as its subject.
	var shared *findings.Finding
	for i := range r.Findings {
		if r.Findings[i].Rule == "credential-shared" {
			shared = &r.Findings[i]
		}
	}
	if shared == nil || shared.Subject != "mqtt-password" ||
		shared.Fingerprint != findings.ComputeFingerprint("credential-shared", "10.0.0.9", 1883, "mqtt-password") {
		t.Errorf("credential-shared after the migration = %+v", shared)
	}
	var r3upd []findings.Finding
	for _, f := range reports[3].Findings {
		if f.Rule == "cleartext-update" {
			r3upd = append(r3upd, f)
		}
	}
	if len(r3upd) != 1 || r3upd[0].Fingerprint != fp || r3upd[0].Severity != findings.High {
		t.Errorf("scan 3's update findings = %+v; want the merged fingerprint, with its own severity", r3upd)
	}
	if n := count(t, st, "SELECT count(*) FROM findings WHERE rule = 'cleartext-update' AND port = 80"); n != 1 {
		t.Errorf("%d cleartext-update findings in the store; want the two merged into one", n)
	}
	if !updF.FirstSeen.Equal(r3upd[0].FirstSeen) || updF.FirstSeen.Format("2006-01") != "2025-01" ||
		updF.LastSeen.Format("2006-01") != "2025-02" {
		t.Errorf("merged finding spans %v to %v; want January to February", updF.FirstSeen, updF.LastSeen)
	}
	// Everything else came across: the lint run's certificate with its facts, scan 3's
	// service and sightings.
	if c := reports[2].Certificates; len(c) != 1 || c[0].Subject != "CN=device" || c[0].KeyBits != 1024 ||
		!slices.Equal(c[0].DNSNames, []string{"device.example"}) || len(c[0].SeenOn) != 1 || c[0].SeenOn[0].Source != "file" {
		t.Errorf("lint run certificates = %+v", c)
	}
	if v := reports[3].Services; len(v) != 1 || v[0].Host != "10.0.0.5" || v[0].Protocol != "tls" {
		t.Errorf("scan 3 services = %+v", v)
	}
	if err := st.db.QueryRow("PRAGMA integrity_check").Scan(new(string)); err != nil {
		t.Fatal(err)
	}
	var fkErrors int
	if err := st.db.QueryRow("SELECT count(*) FROM pragma_foreign_key_check").Scan(&fkErrors); err != nil || fkErrors != 0 {
		t.Errorf("foreign key check: %d, %v", fkErrors, err)
	}

	// And none of it is left in the files: not in the database, not in its log.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "legacy.db") {
			continue
		}
		n++
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range patientData {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s still holds %q", e.Name(), p)
			}
		}
	}
	if n == 0 {
		t.Fatal("no store file to look into")
	}
}

// TestMigrateLegacyStoreWALKept checks the same while the store is open: the
// write-ahead log of the migrating connection is emptied by the migration itself, not
// only when the last connection closes.
func TestMigrateLegacyStoreWALKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "legacy.db")
	legacyStore(t, path)
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, name := range []string{"legacy.db", "legacy.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range patientData {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s holds %q right after the migration", name, p)
			}
		}
	}
}
