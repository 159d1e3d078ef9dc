package store

import (
	"bytes"
	"context"
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

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

func TestOpenMigrateReopen(t *testing.T) {
	fileOnly(t) // reads or tampers with the SQLite file itself
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
	// Open's key is this Store's alone: never written to the file, so not the same again.
	if bytes.Equal(s2.SecretKey(), s.secret) {
		t.Fatal("Open reused a key: was it kept in the store?")
	}
	if n := count(t, s2, "SELECT count(*) FROM meta WHERE key = 'secret_key'"); n != 0 {
		t.Fatalf("Open kept a secret key in the store (%d rows)", n)
	}
	if err := s2.db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != SchemaVersion() {
		t.Fatalf("reopen re-ran migrations: %d rows, %v", n, err)
	}
	other, _ := openTemp(t)
	if bytes.Equal(other.SecretKey(), s2.SecretKey()) {
		t.Fatal("two stores share a secret key")
	}
}

func TestOpenNewerSchemaRefused(t *testing.T) {
	fileOnly(t) // reads or tampers with the SQLite file itself
	s, path := openTemp(t)
	if _, err := save(context.Background(), s, testInfo(), fullSet(), testFindings()); err != nil {
		t.Fatal(err)
	}
	// One past this binary's schema, whatever migrations it has.
	newer := SchemaVersion() + 1
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, path)
	_, err := Open(path)
	// The errors now name package store rather than findings.
	want := fmt.Sprintf("store: %s: schema version %d is newer than this medscan (%d); upgrade medscan", path, newer, SchemaVersion())
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

func TestSaveIdempotent(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	fs := testFindings()
	id1, err := save(ctx, s, testInfo(), fullSet(), fs)
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		rows, err := s.db.Query(`SELECT fingerprint, rule, severity, host, port, subject, message, time, source,
			remediation, refs, first_seen, last_seen FROM findings JOIN rule_texts ON hash = text_hash ORDER BY fingerprint`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var v [13]sql.NullString
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
	id2, err := save(ctx, s, testInfo(), fullSet(), fs)
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
	if r1.Scan.UID == r2.Scan.UID {
		t.Fatalf("two scans share the uid %q", r1.Scan.UID)
	}
	r2.Scan.ID, r2.Scan.UID = r1.Scan.ID, r1.Scan.UID
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
	later[0].Severity = findings.Critical
	id3, err := save(ctx, s, testInfo(), nil, later)
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
			if f.Message != "RC4 negotiated" || f.Severity != findings.High || !f.Time.Equal(t0) {
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
	if _, err := save(ctx, s, testInfo(), nil, earlier); err != nil {
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

func TestSaveDuplicateFingerprint(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	f := testFindings()[3]
	worse := f
	worse.Severity = findings.Critical
	worse.Message = "worse"
	id, err := save(ctx, s, testInfo(), nil, []findings.Finding{f, worse, f})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Severity != findings.Critical || r.Findings[0].Message != "worse" {
		t.Fatalf("findings %+v", r.Findings)
	}
	if r.Summary != (findings.Summary{Total: 1, Critical: 1}) {
		t.Fatalf("summary %+v", r.Summary)
	}
}

func TestSaveComputesMissingFingerprint(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	f := testFindings()[0]
	want := f.Fingerprint
	f.Fingerprint = ""
	id, err := save(ctx, s, testInfo(), nil, []findings.Finding{f})
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

func TestSaveRejectsUnencodableEvidence(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	f := testFindings()[0]
	f.Evidence = map[string]any{"bad": make(chan int)}
	if _, err := save(ctx, s, testInfo(), fullSet(), []findings.Finding{f}); err == nil {
		t.Fatal("Save accepted evidence that cannot be encoded")
	}
	if n := count(t, s, "SELECT count(*) FROM scans"); n != 0 {
		t.Fatalf("a failed Save left %d scan rows", n)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	id, err := save(ctx, s, testInfo(), fullSet(), testFindings())
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedReport(id)
	if len(got.Scan.UID) != 32 {
		t.Fatalf("uid %q: want 32 hex digits", got.Scan.UID)
	}
	want.Scan.UID = got.Scan.UID // drawn at random
	// The flows are kept in the store with the document, not only recomputed on Load.
	if n := count(t, s, "SELECT count(*) FROM observations WHERE kind = 'flow'"); n != len(want.Flows) || n == 0 {
		t.Fatalf("%d flow rows stored; want %d", n, len(want.Flows))
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		gl, wl := strings.Split(string(gj), "\n"), strings.Split(string(wj), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("Load round trip differs at JSON line %d:\n got %s\nwant %s", i+1, gl[i], wl[i])
			}
		}
		if len(gl) == len(wl) {
			t.Fatalf("Load round trip differs outside the JSON (a field tagged json:\"-\"):\n got %#v\nwant %#v", got, want)
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

// expectedReport is what Load must return for fullSet, testFindings and testInfo.
func expectedReport(id int64) *findings.Report {
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
	}
	// severity desc, rule, host, port, subject
	sorted := []findings.Finding{fs[2], fs[1], fs[3], fs[0], fs[4]}
	addr := netip.MustParseAddr
	conv := func(client, host string, port int) findings.Conversation {
		return findings.Conversation{Client: client, Host: host, Port: port}
	}
	want := &findings.Report{
		SchemaVersion: 1,
		Tool:          findings.Tool{Name: "medscan", Version: "v0.1.0"},
		// The scan's problems are the ones its description carries: the store no longer
		// merges the set's own problems in (findings.NewReport takes the ScanInfo as the
		// caller completed it), so fullSet's "truncated record" is not among them.
		Scan: findings.ScanInfo{ID: id, Kind: findings.KindNetwork, Started: t0.Add(-time.Minute),
			Finished: t0.Add(2 * time.Hour), Label: "ward 7", Sources: []string{"a.pcap", "b.pcapng"}, Complete: false,
			Policy:   "default",
			Problems: []observe.Problem{{Source: "b.pcapng", Offset: -1, Message: "bad block"}},
			Counters: []observe.Counter{{Name: "packets", Value: 1000}, {Name: "tcp_gap_bytes", Value: 7}},
			// Not in the JSON, but read back from the store.
			ToolVersion: "v0.1.0"},
		Summary:  findings.Summary{Total: 5, Critical: 1, High: 3, Low: 1},
		Findings: sorted,
		Certificates: []findings.Certificate{
			{SHA256: file, FirstSeen: t0},
			{SHA256: cli, FirstSeen: t0,
				SeenOn: []findings.Sighting{{Host: "10.0.0.20", Port: 0, CertSighting: observe.CertSighting{
					Endpoint: ap("10.0.0.20:0"), Peer: addr("10.0.0.5"), Role: "client", Time: t0, Source: "passive"}}}},
			{SHA256: ca, CertFacts: observe.CertFacts{Subject: "CN=Hospital Issuing CA", Issuer: "CN=Hospital Root",
				KeyType: "ecdsa", KeyBits: 256, Curve: "P-256", IsCA: true, SignatureHash: "sha256",
				ParseError: "x509: unhandled critical extension"}, FirstSeen: t0,
				SeenOn: []findings.Sighting{{Host: "10.0.0.5", Port: 443, CertSighting: observe.CertSighting{
					Endpoint: ap("10.0.0.5:443"), Peer: addr("10.0.0.20"), Role: "server", Position: 1,
					SNI: "pacs.example", Time: t0, Source: "passive"}}}},
			{SHA256: leaf, CertFacts: observe.CertFacts{SPKISHA256: "spki1", Subject: "CN=pacs.example",
				Issuer: "CN=Hospital Issuing CA", SerialHex: "0a1b", NotBefore: t0.AddDate(-1, 0, 0),
				NotAfter: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), ValidityDays: 2922000, KeyType: "rsa",
				KeyBits: 1024, RSAExponent: 65537, SignatureAlgorithm: "SHA1-RSA", SignatureHash: "sha1",
				DNSNames: []string{"pacs.example"}, IPAddresses: []string{"10.0.0.5"}, ExtKeyUsage: []string{"serverAuth"}},
				FirstSeen: t0,
				SeenOn: []findings.Sighting{{Host: "10.0.0.5", Port: 443, CertSighting: observe.CertSighting{
					Endpoint: ap("10.0.0.5:443"), Peer: addr("10.0.0.20"), Role: "server", Position: 0,
					SNI: "pacs.example", Time: t0, Source: "passive"}}}},
		},
		Services: []findings.Service{
			{Host: "10.0.0.5", Port: 443, Service: observe.Service{Transport: "tcp", Protocol: "tls", Source: "passive",
				FirstSeen: t0, LastSeen: t0.Add(time.Minute)}, TLSVersion: "TLSv1.2", Cipher: observe.SuiteName(0x0005)},
			{Host: "10.0.0.7", Port: 6661, Service: observe.Service{Transport: "tcp", Protocol: "hl7-mllp", Source: "passive",
				FirstSeen: t0, LastSeen: t0}},
			{Host: "10.0.0.100", Port: 8443, Service: observe.Service{Transport: "tcp", Protocol: "tls", Source: "passive",
				FirstSeen: t0, LastSeen: t0}, TLSVersion: "TLSv1.3", Cipher: observe.SuiteName(0x1301)},
		},
		TLSSessions: []findings.TLSSession{
			{Conversation: conv("10.0.0.20", "10.0.0.5", 443), Version: "TLSv1.2", Cipher: observe.SuiteName(0x0005),
				CipherID: 0x0005, CertsObservable: true, ECDHCurve: observe.GroupName(23),
				TLSSession: observe.TLSSession{Count: 3, FirstSeen: t0, LastSeen: t0.Add(time.Minute), Source: "passive",
					SawClientHello: true, SNI: "pacs.example", ALPN: []string{"h2", "http/1.1"}, ClientVersion: 0x0303,
					OfferedVersions: []uint16{0x0303, 0x0302}, OfferedSuites: []uint16{0xc02f, 0x0005},
					OfferedGroups: []uint16{23, 29}, JA3: "ja3hash", JA4: "t12d_abc_def", SawServerHello: true,
					Version: 0x0303, Suite: 0x0005, ALPNSelected: "http/1.1",
					ServerChain: []observe.CertRef{certRef(leafDER), certRef(caDER)},
					ClientChain: []observe.CertRef{certRef(cliDER)}, CertRequest: true,
					CertRequestCAs: []string{"CN=Hospital CA"}, ECDHCurve: 23,
					Alerts: []observe.Alert{{FromServer: true, Level: 2, Description: 40}}}},
			{Conversation: conv("10.0.0.21", "10.0.0.9", 443), CertsObservable: true,
				TLSSession: observe.TLSSession{Count: 1, FirstSeen: t0, LastSeen: t0, Source: "passive",
					SawClientHello: true, SNI: "lab.example"}},
			{Conversation: conv("10.0.0.20", "10.0.0.100", 8443), Version: "TLSv1.3", Cipher: observe.SuiteName(0x1301),
				CipherID: 0x1301, CertsObservable: false, ECDHCurve: observe.GroupName(29),
				TLSSession: observe.TLSSession{Count: 1, FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour),
					Source: "passive", SawClientHello: true, SawServerHello: true, Version: 0x0304, Suite: 0x1301,
					CertsEncrypted: true, ECDHCurve: 29}},
		},
		Assets: []findings.Asset{
			{Asset: observe.Asset{Addr: addr("10.0.0.5"), MACs: []string{"00:11:22:33:44:00", "00:11:22:33:44:55"},
				Vendor: "CIMSYS Inc", FirstSeen: t0, LastSeen: t0.Add(time.Second)}, MAC: "00:11:22:33:44:00"},
			{Asset: observe.Asset{Addr: addr("10.0.0.100"), FirstSeen: t0, LastSeen: t0}},
			{Asset: observe.Asset{Addr: addr("fe80::1"), MACs: []string{"aa:bb:cc:dd:ee:ff"},
				Vendor: "(locally administered)", FirstSeen: t0, LastSeen: t0}, MAC: "aa:bb:cc:dd:ee:ff"},
		},
		Credentials: []findings.Credential{{Conversation: conv("10.0.0.30", "10.0.0.8", 80),
			Credential: observe.Credential{Protocol: "http", Kind: "http-basic", Where: "Authorization", User: "admin",
				Preview: "s3****9f (24 chars)", Hash: "00112233445566778899aabbccddeeff", Count: 1, FirstSeen: t0,
				LastSeen: t0}}},
		HTTP: []findings.HTTPRequest{{Conversation: conv("10.0.0.30", "10.0.0.8", 80),
			HTTPRequest: observe.HTTPRequest{Count: 1, FirstSeen: t0, LastSeen: t0, Method: "GET",
				HostHeader: "pump.example", Path: "/api/v1/status", API: observe.APIOther, QueryKeys: []string{"token"},
				UserAgent: "curl/8", AuthScheme: "Basic", HasCookie: true, APIKeyHeaders: []string{"X-Api-Key"},
				Status: 200, Server: "nginx", RespContentType: "application/json"}}},
		MQTT: []findings.MQTTConnect{{Conversation: conv("2001:db8::2", "2001:db8::1", 1883),
			MQTTConnect: observe.MQTTConnect{Count: 1, FirstSeen: t0, LastSeen: t0, ProtocolName: "MQTT",
				ProtocolLevel: 4, ClientID: "pump-7", Username: "pump", HasUsername: true, HasPassword: true}}},
		HL7: []findings.HL7Message{{Conversation: conv("10.0.0.40", "10.0.0.7", 6661),
			HL7Message: observe.HL7Message{Count: 1, FirstSeen: t0, LastSeen: t0, SendingApp: "LAB",
				SendingFacility: "H1", ReceivingApp: "EMR", ReceivingFacility: "H1", MessageType: "ORU",
				TriggerEvent: "R01", Version: "2.5", PatientSegments: 2}}},
		DICOM: []findings.DICOMAssociation{{Conversation: conv("10.0.0.41", "10.0.0.42", 11112),
			DICOMAssociation: observe.DICOMAssociation{Count: 1, FirstSeen: t0, LastSeen: t0, CallingAE: "MODALITY",
				CalledAE: "PACS", Result: "accepted", ImplClassUID: "1.2.3", ImplVersion: "DCMTK",
				AbstractSyntaxes: []string{"1.2.840.10008.1.1"}}}},
	}
	// The flows are computed from the lists above when the scan is built, and stored.
	want.Flows = findings.BuildFlows(want)
	findings.Tidy(want) // Load returns tidy reports: lists are [], never null
	return want
}

func TestEmptyScanHasNoNullLists(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	id, err := save(ctx, s, findings.ScanInfo{Started: t0, Finished: t0, Complete: true}, nil, nil)
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
	fileOnly(t) // reads or tampers with the SQLite file itself
	s, path := openTemp(t)
	secret := []byte("Pl4nted-Secret-Value-7781")
	h := observe.NewSecretHasher(s.SecretKey())
	preview, hash := h.Hide(secret)
	set := observe.NewSet()
	set.AddCredential(observe.Credential{Flow: observe.Flow{Client: ap("10.1.1.1:1000"), Server: ap("10.1.1.2:1883")},
		FirstSeen: t0, Protocol: "mqtt", Kind: "mqtt-password", Where: "CONNECT", User: "device", Preview: preview, Hash: hash})
	if _, err := save(context.Background(), s, testInfo(), set, nil); err != nil {
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
	// LatestScanID takes a kind now ("" is a network scan), and the errors name package store.
	_, err := s.LatestScanID(ctx, "")
	if want := "store: no scan in " + path + " yet; run medscan scan first"; err == nil || err.Error() != want {
		t.Fatalf("LatestScanID on an empty store: %v; want %q", err, want)
	}
	if !errors.Is(err, ErrNoScan) {
		t.Fatal("empty-store error does not match ErrNoScan")
	}
	var ids []int64
	for range 3 {
		id, err := save(ctx, s, testInfo(), nil, nil)
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
		// The count is of runs of the kind asked for now.
		{ref: "latest~3", errWant: "no scan latest~3: the store holds 3 network run(s)"},
		{ref: fmt.Sprint(ids[1]), want: ids[1]},
		{ref: "99", errWant: "no scan with id 99"},
		{ref: "0", errWant: "bad scan reference"},
		{ref: "latest~x", errWant: "bad scan reference"},
		{ref: "latest~-1", errWant: "bad scan reference"},
		{ref: "yesterday", errWant: "bad scan reference"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			got, err := s.ResolveScan(ctx, tc.ref, "")
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
	id, err := save(ctx, writer, testInfo(), fullSet(), testFindings())
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
	latest, err := reader.LatestScanID(rctx, "")
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
	if latest, err := reader.LatestScanID(ctx, ""); err != nil || latest != id+1 {
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
				if _, err := save(ctx, s, testInfo(), fullSet(), testFindings()); err != nil {
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

func BenchmarkSave10kFindings(b *testing.B) {
	s, _ := openTemp(b)
	ctx := context.Background()
	fs := make([]findings.Finding, 10000)
	for i := range fs {
		fs[i] = findings.Finding{Rule: "tls-weak-cipher", Severity: findings.High,
			Host: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Port: 443, Message: "RC4 negotiated",
			Evidence: map[string]any{"suite": "TLS_RSA_WITH_RC4_128_SHA", "n": i}, Time: t0, Source: "passive",
			Remediation: "disable RC4", References: []string{"NIST SP 800-52r2"}}
		fs[i].SetFingerprint()
	}
	set := fullSet()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		// The old SaveScan built the document from the set on every call: so does this.
		if _, err := save(ctx, s, testInfo(), set, fs); err != nil {
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
	id, err := save(context.Background(), s, testInfo(), set, nil)
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
