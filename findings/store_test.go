package findings

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/medscan/medscan/observe"
)

var t0 = time.Date(2024, 3, 5, 10, 20, 30, 123456789, time.UTC)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "medscan.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// fixture DER blobs: the store keeps DER as bytes and never parses it.
var (
	leafDER = []byte("leaf certificate DER bytes")
	caDER   = []byte("intermediate certificate DER bytes")
	cliDER  = []byte("client certificate DER bytes")
	fileDER = []byte("certificate read from a file")
)

func hexSHA(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

// fullSet builds a Set holding one of every observation, with facts on two certificates.
func fullSet() *observe.Set {
	s := observe.NewSet()
	flow := observe.Flow{Client: ap("10.0.0.20:50000"), Server: ap("10.0.0.5:443")}
	s.AddTLS(observe.TLSSession{
		Flow: flow, FirstSeen: t0, LastSeen: t0.Add(time.Minute), Count: 3, Source: observe.SourcePassive,
		SawClientHello: true, SNI: "pacs.example", ALPN: []string{"h2", "http/1.1"}, ClientVersion: 0x0303,
		OfferedVersions: []uint16{0x0303, 0x0302}, OfferedSuites: []uint16{0xc02f, 0x0005}, OfferedGroups: []uint16{23, 29},
		JA3: "ja3hash", JA4: "t12d_abc_def", SawServerHello: true, Version: 0x0303, Suite: 0x0005,
		ALPNSelected: "http/1.1", CertRequest: true, CertRequestCAs: []string{"CN=Hospital CA"},
		DHBits: 0, ECDHCurve: 23, Alerts: []observe.Alert{{FromServer: true, Level: 2, Description: 40}},
	}, [][]byte{leafDER, caDER}, [][]byte{cliDER})
	// A TLS 1.3 session on another server, later, with nothing observable.
	s.AddTLS(observe.TLSSession{
		Flow: observe.Flow{Client: ap("10.0.0.20:50001"), Server: ap("10.0.0.100:8443")}, FirstSeen: t0.Add(time.Hour),
		Source: observe.SourcePassive, SawClientHello: true, SawServerHello: true, Version: 0x0304, Suite: 0x1301,
		CertsEncrypted: true, ECDHCurve: 29,
	}, nil, nil)
	// A handshake whose ServerHello was never seen.
	s.AddTLS(observe.TLSSession{
		Flow: observe.Flow{Client: ap("10.0.0.21:40000"), Server: ap("10.0.0.9:443")}, FirstSeen: t0,
		Source: observe.SourcePassive, SawClientHello: true, SNI: "lab.example",
	}, nil, nil)
	leaf := s.Certificates[observe.CertRef(sha256.Sum256(leafDER))]
	leaf.Facts = &observe.CertFacts{
		Subject: "CN=pacs.example", Issuer: "CN=Hospital Issuing CA", SerialHex: "0a1b", NotBefore: t0.AddDate(-1, 0, 0),
		NotAfter: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), ValidityDays: 2922000, KeyType: "rsa", KeyBits: 1024,
		RSAExponent: 65537, SignatureAlgorithm: "SHA1-RSA", SignatureHash: "sha1", SPKISHA256: "spki1",
		DNSNames: []string{"pacs.example"}, IPAddresses: []string{"10.0.0.5"}, ExtKeyUsage: []string{"serverAuth"},
	}
	ca := s.Certificates[observe.CertRef(sha256.Sum256(caDER))]
	ca.Facts = &observe.CertFacts{
		Subject: "CN=Hospital Issuing CA", Issuer: "CN=Hospital Root", KeyType: "ecdsa", KeyBits: 256, Curve: "P-256",
		IsCA: true, SignatureHash: "sha256", ParseError: "x509: unhandled critical extension",
	}
	// A certificate that the Set holds without any sighting (read from a file).
	ref := observe.CertRef(sha256.Sum256(fileDER))
	s.Certificates[ref] = &observe.Certificate{SHA256: ref, DER: fileDER, FirstSeen: t0}

	s.AddService(observe.Service{Server: ap("10.0.0.5:443"), Transport: "tcp", Protocol: "tls", FirstSeen: t0,
		LastSeen: t0.Add(time.Minute), Source: observe.SourcePassive})
	s.AddService(observe.Service{Server: ap("10.0.0.100:8443"), Transport: "tcp", Protocol: "tls", FirstSeen: t0,
		Source: observe.SourcePassive})
	s.AddService(observe.Service{Server: ap("10.0.0.7:6661"), Transport: "tcp", Protocol: "hl7-mllp", FirstSeen: t0,
		Source: observe.SourcePassive})
	s.AddHost(netip.MustParseAddr("10.0.0.5"), "00:11:22:33:44:55", t0)
	s.AddHost(netip.MustParseAddr("10.0.0.5"), "00:11:22:33:44:00", t0.Add(time.Second))
	s.AddHost(netip.MustParseAddr("10.0.0.100"), "", t0)
	s.AddHost(netip.MustParseAddr("fe80::1"), "aa:bb:cc:dd:ee:ff", t0)
	s.AddCredential(observe.Credential{Flow: observe.Flow{Client: ap("10.0.0.30:1234"), Server: ap("10.0.0.8:80")},
		FirstSeen: t0, Protocol: "http", Kind: "http-basic", Where: "Authorization", User: "admin",
		Preview: "s3****9f (24 chars)", Hash: "00112233445566778899aabbccddeeff"})
	s.AddHTTP(observe.HTTPRequest{Flow: observe.Flow{Client: ap("10.0.0.30:1234"), Server: ap("10.0.0.8:80")},
		FirstSeen: t0, Method: "GET", Host: "pump.example", Path: "/api/v1/status", QueryKeys: []string{"token"},
		UserAgent: "curl/8", ContentType: "", AuthScheme: "Basic", HasCookie: true, APIKeyHeaders: []string{"X-Api-Key"},
		Status: 200, Server: "nginx", RespContentType: "application/json"})
	s.AddMQTT(observe.MQTTConnect{Flow: observe.Flow{Client: ap("[2001:db8::2]:40000"), Server: ap("[2001:db8::1]:1883")},
		FirstSeen: t0, ProtocolName: "MQTT", ProtocolLevel: 4, ClientID: "pump-7", Username: "pump", HasUsername: true,
		HasPassword: true})
	s.AddHL7(observe.HL7Message{Flow: observe.Flow{Client: ap("10.0.0.40:3000"), Server: ap("10.0.0.7:6661")},
		FirstSeen: t0, SendingApp: "LAB", SendingFacility: "H1", ReceivingApp: "EMR", ReceivingFacility: "H1",
		MessageType: "ORU", TriggerEvent: "R01", Version: "2.5", PatientSegments: 2})
	s.AddDICOM(observe.DICOMAssociation{Flow: observe.Flow{Client: ap("10.0.0.41:5000"), Server: ap("10.0.0.42:11112")},
		FirstSeen: t0, CallingAE: "MODALITY", CalledAE: "PACS", Result: "accepted", ImplClassUID: "1.2.3",
		ImplVersion: "DCMTK", AbstractSyntaxes: []string{"1.2.840.10008.1.1"}})
	s.Problem(observe.Problem{Source: "a.pcap", Offset: 4096, Message: "truncated record", Fatal: true})
	s.AddCounter("tcp_gap_bytes", 512)
	return s
}

func testFindings() []Finding {
	fs := []Finding{
		{Rule: "tls-weak-cipher", Severity: High, Host: "10.0.0.5", Port: 443, Message: "RC4 negotiated",
			Evidence: map[string]any{"suite": "TLS_RSA_WITH_RC4_128_SHA", "count": 3, "big": uint64(1) << 60},
			Time:     t0, Source: "passive", Remediation: "disable RC4", References: []string{"NIST SP 800-52r2"}},
		{Rule: "cert-weak-signature", Severity: High, Host: "10.0.0.5", Port: 443, Subject: hexSHA(leafDER),
			Message: "SHA-1 signature", Time: t0, Source: "passive", Remediation: "reissue"},
		{Rule: "cleartext-hl7", Severity: Critical, Host: "10.0.0.7", Port: 6661, Message: "HL7 in clear",
			Evidence: map[string]any{"patient_segments": 2}, Time: t0.Add(time.Second), Source: "passive",
			Remediation: "use TLS", References: []string{"HIPAA 45 CFR 164.312(e)"}},
		{Rule: "tls-legacy-version", Severity: High, Host: "10.0.0.10", Port: 443, Message: "TLS 1.0", Time: t0,
			Source: "passive"},
		{Rule: "cert-expiring-soon", Severity: Low, Host: "10.0.0.5", Port: 443, Message: "expires", Time: t0,
			Source: "passive"},
	}
	for i := range fs {
		fs[i].SetFingerprint()
	}
	return fs
}

func testMeta() ScanMeta {
	return ScanMeta{Started: t0.Add(-time.Minute), Finished: t0.Add(2 * time.Hour), Label: "ward 7",
		Sources: []string{"a.pcap", "b.pcapng"}, Complete: false,
		Problems:    []observe.Problem{{Source: "b.pcapng", Offset: -1, Message: "bad block", Fatal: false}},
		Counters:    []observe.Counter{{Name: "packets", Value: 1000}, {Name: "tcp_gap_bytes", Value: 7}},
		ToolVersion: "v0.1.0", Policy: "default"}
}

func TestOpenMigrateReopen(t *testing.T) {
	s, path := openTemp(t)
	var version int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != SchemaVersion() {
		t.Fatalf("user_version = %d, %v; want %d", version, err, SchemaVersion())
	}
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v; want 1", fk, err)
	}
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != SchemaVersion() {
		t.Fatalf("schema_migrations rows = %d, %v", n, err)
	}
	key := s.SecretKey()
	if len(key) != 32 || bytes.Equal(key, make([]byte, 32)) {
		t.Fatalf("secret key %x", key)
	}
	key[0] ^= 0xff // SecretKey returns a copy
	if bytes.Equal(key, s.SecretKey()) {
		t.Fatal("SecretKey exposes the store's own slice")
	}
	if s.Path() != path {
		t.Fatalf("Path() = %q", s.Path())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !bytes.Equal(s2.SecretKey(), s.secret) {
		t.Fatal("secret key changed on reopen")
	}
	if err := s2.db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != SchemaVersion() {
		t.Fatalf("reopen re-ran migrations: %d rows, %v", n, err)
	}
	other, _ := openTemp(t)
	if bytes.Equal(other.SecretKey(), s2.SecretKey()) {
		t.Fatal("two stores share a secret key")
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestOpenNewerSchemaRefused(t *testing.T) {
	s, path := openTemp(t)
	if _, err := s.SaveScan(context.Background(), testMeta(), fullSet(), testFindings()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("PRAGMA user_version = 7"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, path)
	_, err := Open(path)
	want := fmt.Sprintf("findings: %s: schema version 7 is newer than this medscan (%d); upgrade medscan", path, SchemaVersion())
	if err == nil || err.Error() != want {
		t.Fatalf("Open = %v; want %q", err, want)
	}
	if fileHash(t, path) != before {
		t.Fatal("refusing a newer schema changed the file")
	}
	for _, suffix := range []string{"-wal", "-journal"} {
		if fi, err := os.Stat(path + suffix); err == nil && fi.Size() > 0 {
			t.Fatalf("%s left behind with %d bytes", suffix, fi.Size())
		}
	}
}

func TestOpenNotAStore(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, bytes.Repeat([]byte("this is not a database\n"), 200), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE patients(name TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	missingDir := filepath.Join(dir, "no", "such", "dir", "medscan.db")
	for _, tc := range []struct {
		name, path, want string
	}{
		{"text file", text, "not a medscan database (not an SQLite file)"},
		{"other sqlite", foreign, "an SQLite database that is not a medscan store"},
		{"missing directory", missingDir, missingDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before [32]byte
			if _, err := os.Stat(tc.path); err == nil {
				before = fileHash(t, tc.path)
			}
			s, err := Open(tc.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q; want it to name %s and say %q", err, tc.path, tc.want)
			}
			if _, err := os.Stat(tc.path); err == nil && fileHash(t, tc.path) != before {
				t.Fatal("file changed")
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		ok    bool
	}{
		{"sequence", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0002_b.sql": {}}, true},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0003_b.sql": {}}, false},
		{"no number", fstest.MapFS{"migrations/init.sql": {}}, false},
		{"from two", fstest.MapFS{"migrations/0002_a.sql": {}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadMigrations(tc.files)
			if (err == nil) != tc.ok {
				t.Fatalf("loadMigrations: %v", err)
			}
		})
	}
	if SchemaVersion() < 1 {
		t.Fatal("no embedded migration")
	}
}

func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSaveScanIdempotent(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	fs := testFindings()
	id1, err := s.SaveScan(ctx, testMeta(), fullSet(), fs)
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		rows, err := s.db.Query(`SELECT fingerprint, rule, severity, host, port, subject, message, evidence, time, source,
			remediation, refs, first_seen, last_seen FROM findings ORDER BY fingerprint`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var v [14]sql.NullString
			ptrs := make([]any, len(v))
			for i := range v {
				ptrs[i] = &v[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, v)
		}
		return b.String()
	}
	first := snapshot()
	id2, err := s.SaveScan(ctx, testMeta(), fullSet(), fs)
	if err != nil {
		t.Fatal(err)
	}
	if id2 == id1 {
		t.Fatal("second scan reused the id")
	}
	if got := snapshot(); got != first {
		t.Fatalf("findings table changed on a repeated scan:\n%s\nvs\n%s", first, got)
	}
	if n := count(t, s, "SELECT count(*) FROM findings"); n != len(fs) {
		t.Fatalf("%d finding rows; want %d", n, len(fs))
	}
	for _, id := range []int64{id1, id2} {
		if n := count(t, s, "SELECT count(*) FROM scan_findings WHERE scan_id = ?", id); n != len(fs) {
			t.Fatalf("scan %d lists %d findings; want %d", id, n, len(fs))
		}
	}
	if n := count(t, s, "SELECT count(*) FROM certificates"); n != 4 {
		t.Fatalf("%d certificate rows; want 4", n)
	}
	if n := count(t, s, "SELECT count(*) FROM assets"); n != 3 {
		t.Fatalf("%d asset rows; want 3", n)
	}
	r1, err := s.Load(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.Load(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	r2.Scan.ID = r1.Scan.ID
	j1, _ := json.Marshal(r1)
	j2, _ := json.Marshal(r2)
	if !bytes.Equal(j1, j2) {
		t.Fatalf("the same capture saved twice renders differently:\n%s\n%s", j1, j2)
	}

	// A later scan sees the RC4 finding later, with another message: last_seen moves,
	// first_seen stays, and the earlier scans still render as they were.
	later := testFindings()[:1]
	later[0].Time = t0.Add(48 * time.Hour)
	later[0].Message = "RC4 still negotiated"
	later[0].Severity = Critical
	id3, err := s.SaveScan(ctx, testMeta(), nil, later)
	if err != nil {
		t.Fatal(err)
	}
	r3, err := s.Load(ctx, id3)
	if err != nil {
		t.Fatal(err)
	}
	if len(r3.Findings) != 1 {
		t.Fatalf("scan 3 has %d findings", len(r3.Findings))
	}
	f := r3.Findings[0]
	if !f.FirstSeen.Equal(t0) || !f.LastSeen.Equal(later[0].Time) || f.Message != "RC4 still negotiated" {
		t.Fatalf("after a later sighting: first %v last %v message %q", f.FirstSeen, f.LastSeen, f.Message)
	}
	r1b, err := s.Load(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r1b.Findings {
		if f.Fingerprint == later[0].Fingerprint {
			if f.Message != "RC4 negotiated" || f.Severity != High || !f.Time.Equal(t0) {
				t.Fatalf("old scan no longer renders as it was: %+v", f)
			}
			if !f.LastSeen.Equal(later[0].Time) {
				t.Fatalf("old scan's last_seen %v; want the store-wide %v", f.LastSeen, later[0].Time)
			}
		}
	}
	// An older capture scanned afterwards moves first_seen back and leaves the
	// newest description in place.
	earlier := testFindings()[:1]
	earlier[0].Time = t0.Add(-24 * time.Hour)
	earlier[0].Message = "old message"
	if _, err := s.SaveScan(ctx, testMeta(), nil, earlier); err != nil {
		t.Fatal(err)
	}
	var msg, firstSeen, lastSeen string
	if err := s.db.QueryRow("SELECT message, first_seen, last_seen FROM findings WHERE fingerprint = ?",
		earlier[0].Fingerprint).Scan(&msg, &firstSeen, &lastSeen); err != nil {
		t.Fatal(err)
	}
	if msg != "RC4 still negotiated" || firstSeen != dbTime(earlier[0].Time) || lastSeen != dbTime(later[0].Time) {
		t.Fatalf("after an older sighting: %q %s %s", msg, firstSeen, lastSeen)
	}
}

func TestSaveScanDuplicateFingerprint(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	f := testFindings()[3]
	worse := f
	worse.Severity = Critical
	worse.Message = "worse"
	id, err := s.SaveScan(ctx, testMeta(), nil, []Finding{f, worse, f})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Severity != Critical || r.Findings[0].Message != "worse" {
		t.Fatalf("findings %+v", r.Findings)
	}
	if r.Summary != (Summary{Total: 1, Critical: 1}) {
		t.Fatalf("summary %+v", r.Summary)
	}
}

func TestSaveScanComputesMissingFingerprint(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	f := testFindings()[0]
	want := f.Fingerprint
	f.Fingerprint = ""
	id, err := s.SaveScan(ctx, testMeta(), nil, []Finding{f})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Findings[0].Fingerprint != want {
		t.Fatalf("fingerprint %q; want %q", r.Findings[0].Fingerprint, want)
	}
}

func TestSaveScanRejectsUnencodableEvidence(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	f := testFindings()[0]
	f.Evidence = map[string]any{"bad": make(chan int)}
	if _, err := s.SaveScan(ctx, testMeta(), fullSet(), []Finding{f}); err == nil {
		t.Fatal("SaveScan accepted evidence that cannot be encoded")
	}
	if n := count(t, s, "SELECT count(*) FROM scans"); n != 0 {
		t.Fatalf("a failed SaveScan left %d scan rows", n)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	id, err := s.SaveScan(ctx, testMeta(), fullSet(), testFindings())
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedReport(id)
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		gl, wl := strings.Split(string(gj), "\n"), strings.Split(string(wj), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("Load round trip differs at JSON line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("Load round trip differs (%d vs %d JSON lines):\n got %s\nwant %s", len(gl), len(wl), gj, wj)
	}
	if _, err := s.Load(ctx, id+10); !errors.Is(err, ErrNoScan) {
		t.Fatalf("Load of a missing scan: %v", err)
	}
	der, err := s.CertificateDER(ctx, hexSHA(leafDER))
	if err != nil || !bytes.Equal(der, leafDER) {
		t.Fatalf("CertificateDER = %q, %v", der, err)
	}
	if _, err := s.CertificateDER(ctx, hexSHA([]byte("nope"))); err == nil {
		t.Fatal("CertificateDER of an unknown certificate succeeded")
	}
	scans, err := s.Scans(ctx)
	if err != nil || len(scans) != 1 || !reflect.DeepEqual(scans[0], want.Scan) {
		t.Fatalf("Scans = %+v, %v", scans, err)
	}
}

// expectedReport is what Load must return for fullSet, testFindings and testMeta.
func expectedReport(id int64) *Report {
	leaf, ca, cli, file := hexSHA(leafDER), hexSHA(caDER), hexSHA(cliDER), hexSHA(fileDER)
	fs := testFindings()
	for i := range fs {
		f := &fs[i]
		f.FirstSeen, f.LastSeen = f.Time, f.Time
		ev := map[string]any{}
		for k, v := range f.Evidence {
			if _, ok := v.(string); ok {
				ev[k] = v
			} else {
				ev[k] = json.Number(fmt.Sprint(v))
			}
		}
		f.Evidence = ev
		if f.References == nil {
			f.References = []string{}
		}
	}
	// severity desc, rule, host, port, subject
	sorted := []Finding{fs[2], fs[1], fs[3], fs[0], fs[4]}
	want := &Report{
		SchemaVersion: 1,
		Tool:          Tool{Name: "medscan", Version: "v0.1.0"},
		Scan: ScanInfo{ID: id, Started: t0.Add(-time.Minute), Finished: t0.Add(2 * time.Hour), Label: "ward 7",
			Sources: []string{"a.pcap", "b.pcapng"}, Complete: false, Policy: "default",
			Problems: []Problem{{Source: "b.pcapng", Offset: -1, Message: "bad block"},
				{Source: "a.pcap", Offset: 4096, Message: "truncated record", Fatal: true}},
			Counters: []Counter{{Name: "packets", Value: 1000}, {Name: "tcp_gap_bytes", Value: 7}}},
		Summary:  Summary{Total: 5, Critical: 1, High: 3, Low: 1},
		Findings: sorted,
		Certificates: []Certificate{
			{SHA256: file, DNSNames: []string{}, IPAddresses: []string{}, ExtKeyUsage: []string{}, FirstSeen: t0,
				SeenOn: []Sighting{}},
			{SHA256: cli, DNSNames: []string{}, IPAddresses: []string{}, ExtKeyUsage: []string{}, FirstSeen: t0,
				SeenOn: []Sighting{{Host: "10.0.0.20", Port: 0, Peer: "10.0.0.5", Role: "client", Time: t0, Source: "passive"}}},
			{SHA256: ca, Subject: "CN=Hospital Issuing CA", Issuer: "CN=Hospital Root", KeyType: "ecdsa", KeyBits: 256,
				Curve: "P-256", IsCA: true, SignatureHash: "sha256", ParseError: "x509: unhandled critical extension",
				DNSNames: []string{}, IPAddresses: []string{}, ExtKeyUsage: []string{}, FirstSeen: t0,
				SeenOn: []Sighting{{Host: "10.0.0.5", Port: 443, Peer: "10.0.0.20", Role: "server", Position: 1,
					SNI: "pacs.example", Time: t0, Source: "passive"}}},
			{SHA256: leaf, SPKISHA256: "spki1", Subject: "CN=pacs.example", Issuer: "CN=Hospital Issuing CA",
				Serial: "0a1b", NotBefore: t0.AddDate(-1, 0, 0), NotAfter: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
				ValidityDays: 2922000, KeyType: "rsa", KeyBits: 1024, RSAExponent: 65537, SignatureAlgorithm: "SHA1-RSA",
				SignatureHash: "sha1", DNSNames: []string{"pacs.example"}, IPAddresses: []string{"10.0.0.5"},
				ExtKeyUsage: []string{"serverAuth"}, FirstSeen: t0,
				SeenOn: []Sighting{{Host: "10.0.0.5", Port: 443, Peer: "10.0.0.20", Role: "server", Position: 0,
					SNI: "pacs.example", Time: t0, Source: "passive"}}},
		},
		Services: []Service{
			{Host: "10.0.0.5", Port: 443, Transport: "tcp", Protocol: "tls", TLSVersion: "TLSv1.2",
				Cipher: observe.SuiteName(0x0005), Source: "passive", FirstSeen: t0, LastSeen: t0.Add(time.Minute)},
			{Host: "10.0.0.7", Port: 6661, Transport: "tcp", Protocol: "hl7-mllp", Source: "passive", FirstSeen: t0,
				LastSeen: t0},
			{Host: "10.0.0.100", Port: 8443, Transport: "tcp", Protocol: "tls", TLSVersion: "TLSv1.3",
				Cipher: observe.SuiteName(0x1301), Source: "passive", FirstSeen: t0, LastSeen: t0},
		},
		TLSSessions: []TLSSession{
			{Client: "10.0.0.20", Host: "10.0.0.5", Port: 443, SNI: "pacs.example", Version: "TLSv1.2",
				Cipher: observe.SuiteName(0x0005), VersionID: 0x0303, CipherID: 0x0005, Count: 3, FirstSeen: t0,
				LastSeen: t0.Add(time.Minute), Source: "passive", ALPN: "http/1.1", ALPNOffered: []string{"h2", "http/1.1"},
				SawClientHello: true, SawServerHello: true, ClientVersion: 0x0303, OfferedVersions: []uint16{0x0303, 0x0302},
				OfferedSuites: []uint16{0xc02f, 0x0005}, OfferedGroups: []uint16{23, 29}, CertRequest: true,
				CertRequestCAs: []string{"CN=Hospital CA"}, CertsObservable: true, ServerCerts: []string{leaf, ca},
				ClientCerts: []string{cli}, ECDHCurve: observe.GroupName(23), ECDHCurveID: 23, JA3: "ja3hash",
				JA4: "t12d_abc_def", Alerts: []Alert{{FromServer: true, Level: 2, Description: 40}}},
			{Client: "10.0.0.21", Host: "10.0.0.9", Port: 443, SNI: "lab.example", Count: 1, FirstSeen: t0, LastSeen: t0,
				Source: "passive", ALPNOffered: []string{}, SawClientHello: true, OfferedVersions: []uint16{},
				OfferedSuites: []uint16{}, OfferedGroups: []uint16{}, CertRequestCAs: []string{}, CertsObservable: true,
				ServerCerts: []string{}, ClientCerts: []string{}, Alerts: []Alert{}},
			{Client: "10.0.0.20", Host: "10.0.0.100", Port: 8443, Version: "TLSv1.3", Cipher: observe.SuiteName(0x1301),
				VersionID: 0x0304, CipherID: 0x1301, Count: 1, FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour),
				Source: "passive", ALPNOffered: []string{}, SawClientHello: true, SawServerHello: true,
				OfferedVersions: []uint16{}, OfferedSuites: []uint16{}, OfferedGroups: []uint16{},
				CertRequestCAs: []string{}, CertsObservable: false, ServerCerts: []string{}, ClientCerts: []string{},
				ECDHCurve: observe.GroupName(29), ECDHCurveID: 29, Alerts: []Alert{}},
		},
		Assets: []Asset{
			{IP: "10.0.0.5", MAC: "00:11:22:33:44:00", MACs: []string{"00:11:22:33:44:00", "00:11:22:33:44:55"},
				Vendor: "CIMSYS Inc", FirstSeen: t0, LastSeen: t0.Add(time.Second)},
			{IP: "10.0.0.100", MACs: []string{}, FirstSeen: t0, LastSeen: t0},
			{IP: "fe80::1", MAC: "aa:bb:cc:dd:ee:ff", MACs: []string{"aa:bb:cc:dd:ee:ff"}, Vendor: "(locally administered)", FirstSeen: t0, LastSeen: t0},
		},
		Credentials: []Credential{{Client: "10.0.0.30", Host: "10.0.0.8", Port: 80, Protocol: "http", Kind: "http-basic",
			Where: "Authorization", User: "admin", Preview: "s3****9f (24 chars)", Hash: "00112233445566778899aabbccddeeff",
			Count: 1, FirstSeen: t0, LastSeen: t0}},
		HTTP: []HTTPRequest{{Client: "10.0.0.30", Host: "10.0.0.8", Port: 80, Count: 1, FirstSeen: t0, LastSeen: t0,
			Method: "GET", HostHeader: "pump.example", Path: "/api/v1/status", QueryKeys: []string{"token"},
			UserAgent: "curl/8", AuthScheme: "Basic", HasCookie: true, APIKeyHeaders: []string{"X-Api-Key"}, Status: 200,
			Server: "nginx", RespContentType: "application/json"}},
		MQTT: []MQTTConnect{{Client: "2001:db8::2", Host: "2001:db8::1", Port: 1883, Count: 1, FirstSeen: t0, LastSeen: t0, ProtocolName: "MQTT",
			ProtocolLevel: 4, ClientID: "pump-7", Username: "pump", HasUsername: true, HasPassword: true}},
		HL7: []HL7Message{{Client: "10.0.0.40", Host: "10.0.0.7", Port: 6661, Count: 1, FirstSeen: t0, LastSeen: t0,
			SendingApp: "LAB", SendingFacility: "H1", ReceivingApp: "EMR", ReceivingFacility: "H1", MessageType: "ORU",
			TriggerEvent: "R01", Version: "2.5", PatientSegments: 2}},
		DICOM: []DICOMAssociation{{Client: "10.0.0.41", Host: "10.0.0.42", Port: 11112, Count: 1, FirstSeen: t0, LastSeen: t0, CallingAE: "MODALITY",
			CalledAE: "PACS", Result: "accepted", ImplClassUID: "1.2.3", ImplVersion: "DCMTK",
			AbstractSyntaxes: []string{"1.2.840.10008.1.1"}}},
	}
	want.Normalize() // Load returns normalized reports: lists are [], never null
	return want
}

func TestEmptyScanHasNoNullLists(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	id, err := s.SaveScan(ctx, ScanMeta{Started: t0, Finished: t0, Complete: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("null")) {
		t.Fatalf("empty scan JSON has null: %s", b)
	}
}

func TestCredentialSecretNeverStored(t *testing.T) {
	s, path := openTemp(t)
	secret := []byte("Pl4nted-Secret-Value-7781")
	h := observe.NewSecretHasher(s.SecretKey())
	preview, hash := h.Hide(secret)
	set := observe.NewSet()
	set.AddCredential(observe.Credential{Flow: observe.Flow{Client: ap("10.1.1.1:1000"), Server: ap("10.1.1.2:1883")},
		FirstSeen: t0, Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT", User: "device", Preview: preview, Hash: hash})
	if _, err := s.SaveScan(context.Background(), testMeta(), set, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var all []byte
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	for _, needle := range [][]byte{secret, secret[2 : len(secret)-2], []byte("Secret-Value")} {
		if bytes.Contains(all, needle) {
			t.Fatalf("store files contain %q", needle)
		}
	}
	for _, needle := range []string{hash, preview} {
		if !bytes.Contains(all, []byte(needle)) {
			t.Fatalf("store files lack %q: the test looks in the wrong place", needle)
		}
	}
}

func TestResolveScan(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	_, err := s.LatestScanID(ctx)
	if want := "findings: no scan in " + path + " yet; run medscan scan first"; err == nil || err.Error() != want {
		t.Fatalf("LatestScanID on an empty store: %v; want %q", err, want)
	}
	if !errors.Is(err, ErrNoScan) {
		t.Fatal("empty-store error does not match ErrNoScan")
	}
	var ids []int64
	for range 3 {
		id, err := s.SaveScan(ctx, testMeta(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, tc := range []struct {
		ref     string
		want    int64
		errWant string
	}{
		{ref: "latest", want: ids[2]},
		{ref: " latest ", want: ids[2]},
		{ref: "latest~0", want: ids[2]},
		{ref: "latest~1", want: ids[1]},
		{ref: "latest~2", want: ids[0]},
		{ref: "latest~3", errWant: "no scan latest~3: the store holds 3 scan(s)"},
		{ref: fmt.Sprint(ids[1]), want: ids[1]},
		{ref: "99", errWant: "no scan with id 99"},
		{ref: "0", errWant: "bad scan reference"},
		{ref: "latest~x", errWant: "bad scan reference"},
		{ref: "latest~-1", errWant: "bad scan reference"},
		{ref: "yesterday", errWant: "bad scan reference"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			got, err := s.ResolveScan(ctx, tc.ref)
			if tc.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errWant) {
					t.Fatalf("ResolveScan(%q) = %d, %v; want error %q", tc.ref, got, err, tc.errWant)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ResolveScan(%q) = %d, %v; want %d", tc.ref, got, err, tc.want)
			}
		})
	}
}

func TestReadWhileWriting(t *testing.T) {
	writer, path := openTemp(t)
	ctx := context.Background()
	id, err := writer.SaveScan(ctx, testMeta(), fullSet(), testFindings())
	if err != nil {
		t.Fatal(err)
	}
	// Hold a write transaction open, with an uncommitted scan in it.
	tx, err := writer.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("INSERT INTO scans(complete) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	reader, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	// Far below busy_timeout: a reader that had to wait for the writer would fail.
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	latest, err := reader.LatestScanID(rctx)
	if err != nil || latest != id {
		t.Fatalf("LatestScanID during a write = %d, %v; want the committed %d", latest, err, id)
	}
	r, err := reader.Load(rctx, id)
	if err != nil || len(r.Findings) != len(testFindings()) {
		t.Fatalf("Load during a write: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("reads waited %v for the writer", d)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if latest, err := reader.LatestScanID(ctx); err != nil || latest != id+1 {
		t.Fatalf("after commit LatestScanID = %d, %v", latest, err)
	}
}

func TestSecondWriterWaits(t *testing.T) {
	a, path := openTemp(t)
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	errs := make(chan error, 2)
	for _, s := range []*Store{a, b} {
		go func() {
			for range 5 {
				if _, err := s.SaveScan(ctx, testMeta(), fullSet(), testFindings()); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, a, "SELECT count(*) FROM scans"); n != 10 {
		t.Fatalf("%d scans; want 10", n)
	}
	if n := count(t, a, "SELECT count(*) FROM findings"); n != len(testFindings()) {
		t.Fatalf("%d findings; want %d", n, len(testFindings()))
	}
}

func TestCompareHosts(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"10.0.0.9", "10.0.0.10", -1},
		{"10.0.0.10", "9.0.0.1", 1},
		{"", "1.1.1.1", -1},
		{"1.1.1.1", "", 1},
		{"255.255.255.255", "::1", -1},
		{"::2", "::10", -1},
		{"1.1.1.1", "host.example", -1},
		{"a.example", "b.example", -1},
		{"10.0.0.1", "10.0.0.1", 0},
	} {
		if got := CompareHosts(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareHosts(%q, %q) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestSortFindings(t *testing.T) {
	fs := []Finding{
		{Rule: "b", Severity: Low, Host: "10.0.0.2"},
		{Rule: "a", Severity: Low, Host: "10.0.0.10", Port: 2},
		{Rule: "a", Severity: Low, Host: "10.0.0.10", Port: 1, Subject: "y"},
		{Rule: "a", Severity: Low, Host: "10.0.0.10", Port: 1, Subject: "x"},
		{Rule: "a", Severity: Low, Host: "10.0.0.9", Port: 9},
		{Rule: "z", Severity: Critical, Host: "10.0.0.1"},
	}
	SortFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s/%s/%s/%d/%s", f.Severity, f.Rule, f.Host, f.Port, f.Subject))
	}
	want := []string{"critical/z/10.0.0.1/0/", "low/a/10.0.0.9/9/", "low/a/10.0.0.10/1/x", "low/a/10.0.0.10/1/y",
		"low/a/10.0.0.10/2/", "low/b/10.0.0.2/0/"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
}

func TestDBTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want any
	}{
		{time.Time{}, nil},
		{time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)), "2024-01-02T02:04:05.000000006Z"},
		{time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), "9999-12-31T23:59:59.999999999Z"},
	} {
		if got := dbTime(tc.in); got != tc.want {
			t.Errorf("dbTime(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
	// String order must be time order, fractions included.
	a, b := dbTime(t0).(string), dbTime(t0.Add(time.Nanosecond)).(string)
	c := dbTime(t0.Truncate(time.Second).Add(time.Second)).(string)
	if !(a < b && b < c) {
		t.Fatalf("time text does not sort: %s %s %s", a, b, c)
	}
}

func BenchmarkSaveScan10kFindings(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	fs := make([]Finding, 10000)
	for i := range fs {
		fs[i] = Finding{Rule: "tls-weak-cipher", Severity: High, Host: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			Port: 443, Message: "RC4 negotiated", Evidence: map[string]any{"suite": "TLS_RSA_WITH_RC4_128_SHA", "n": i},
			Time: t0, Source: "passive", Remediation: "disable RC4", References: []string{"NIST SP 800-52r2"}}
		fs[i].SetFingerprint()
	}
	set := fullSet()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := s.SaveScan(ctx, testMeta(), set, fs); err != nil {
			b.Fatal(err)
		}
	}
}

// SSLv2 names its ciphers with 3-byte kinds outside the TLS registry; the store keeps the
// kind the client chose and reports it by its SSLv2 name, never as a TLS suite.
func TestSSLv2SessionCipher(t *testing.T) {
	s, _ := openTemp(t)
	set := observe.NewSet()
	t0 := time.Date(2004, 5, 1, 0, 0, 0, 0, time.UTC)
	set.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ap("10.0.0.9:1025"), Server: ap("10.0.0.1:443")},
		FirstSeen: t0, SawServerHello: true, Version: 0x0002, SSLv2Cipher: 0x010080}, nil, nil)
	set.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ap("10.0.0.9:1026"), Server: ap("10.0.0.2:443")},
		FirstSeen: t0, SawServerHello: true, Version: 0x0002}, nil, nil)
	id, err := s.SaveScan(context.Background(), testMeta(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ts := range rep.TLSSessions {
		got[ts.Host] = ts.Version + " " + ts.Cipher
	}
	if got["10.0.0.1"] != "SSLv2 SSL2_RC4_128_WITH_MD5" || got["10.0.0.2"] != "SSLv2 " {
		t.Errorf("sessions = %q", got)
	}
}
