package findings

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func fnd(rule, host string, port int, subject string) Finding {
	f := Finding{Rule: rule, Severity: High, Host: host, Port: port, Subject: subject, Message: rule + " on " + host}
	f.SetFingerprint()
	return f
}

// observed is a complete scan report holding the given findings and what it covered.
func observed(fs []Finding, sessions []TLSSession, services []Service) *Report {
	r := &Report{Scan: ScanInfo{ID: 2, Complete: true}, Findings: fs, TLSSessions: sessions, Services: services}
	r.Normalize()
	return r
}

const certA = "aa00000000000000000000000000000000000000000000000000000000000000"

func TestDiff(t *testing.T) {
	tlsOld := fnd("tls-legacy-version", "10.0.0.1", 443, "")
	certOld := fnd("cert-self-signed", "10.0.0.1", 443, certA)
	hl7 := fnd("cleartext-hl7", "10.0.0.2", 2575, "")
	client := fnd("key-weak", "10.0.0.9", 0, certA)
	file := fnd("cert-expired", "", 0, certA)
	odd := fnd("snmp-community", "10.0.0.3", 161, "")
	prev := &Report{Scan: ScanInfo{ID: 1, Complete: true}, Findings: []Finding{tlsOld, certOld, hl7, client, file, odd}}
	prev.Normalize()

	handshake := TLSSession{Client: "10.0.0.9", Host: "10.0.0.1", Port: 443, Version: "TLSv1.2", CertsObservable: true,
		ServerCerts: []string{"bb"}}
	tls13 := TLSSession{Client: "10.0.0.9", Host: "10.0.0.1", Port: 443, Version: "TLSv1.3"}
	asked := TLSSession{Client: "10.0.0.9", Host: "10.0.0.5", Port: 443, Version: "TLSv1.2", CertsObservable: true, CertRequest: true}
	hello := TLSSession{Client: "10.0.0.9", Host: "10.0.0.1", Port: 443} // no ServerHello
	hl7svc := Service{Host: "10.0.0.2", Port: 2575, Protocol: "tls"}
	fresh := fnd("tls-weak-cipher", "10.0.0.7", 443, "")

	for _, tt := range []struct {
		name string
		cur  *Report
		want map[string]string // rule -> "fixed", "persisting", "new" or the start of a not-assessed reason
	}{
		{"covered: everything fixed but what nothing covers",
			func() *Report {
				r := observed([]Finding{fresh, hl7}, []TLSSession{handshake, asked}, []Service{hl7svc})
				r.Certificates = []Certificate{{SHA256: certA}}
				return r
			}(),
			map[string]string{"tls-legacy-version": "fixed", "cert-self-signed": "fixed", "cleartext-hl7": "persisting",
				"key-weak": "fixed", "cert-expired": "fixed", "snmp-community": "medscan cannot tell", "tls-weak-cipher": "new"}},
		{"nothing observed: nothing fixed",
			observed(nil, nil, nil),
			map[string]string{"tls-legacy-version": "no TLS seen on 10.0.0.1:443", "cert-self-signed": "no TLS seen",
				"cleartext-hl7": "no traffic to 10.0.0.2:2575", "key-weak": "the later scan saw no handshake in which 10.0.0.9",
				"cert-expired": "the later scan did not read the certificate", "snmp-community": "medscan cannot tell"}},
		{"TLS 1.3: versions judged, certificates not observable",
			observed(nil, []TLSSession{tls13}, nil),
			map[string]string{"tls-legacy-version": "fixed", "cert-self-signed": "the certificates of 10.0.0.1:443 were not observable",
				"cleartext-hl7": "no traffic", "key-weak": "the later scan saw no handshake", "cert-expired": "the later scan did not read",
				"snmp-community": "medscan cannot tell"}},
		{"handshake without ServerHello proves nothing",
			observed(nil, []TLSSession{hello}, nil),
			map[string]string{"tls-legacy-version": "no completed TLS handshake with 10.0.0.1:443",
				"cert-self-signed": "the certificates of 10.0.0.1:443", "cleartext-hl7": "no traffic", "key-weak": "the later scan saw",
				"cert-expired": "the later scan did not read", "snmp-community": "medscan cannot tell"}},
		{"incomplete later scan fixes nothing",
			func() *Report {
				r := observed(nil, []TLSSession{handshake}, []Service{hl7svc})
				r.Scan.Complete = false
				return r
			}(),
			map[string]string{"tls-legacy-version": "the later scan is incomplete", "cert-self-signed": "the later scan is incomplete",
				"cleartext-hl7": "the later scan is incomplete", "key-weak": "the later scan is incomplete",
				"cert-expired": "the later scan is incomplete", "snmp-community": "the later scan is incomplete"}},
		{"a rule the later policy disabled is not assessed",
			func() *Report {
				r := observed(nil, []TLSSession{handshake}, []Service{hl7svc})
				r.Scan.Rules = []string{"tls-legacy-version", "cleartext-hl7"}
				return r
			}(),
			map[string]string{"tls-legacy-version": "fixed", "cert-self-signed": "the later scan's policy did not assess cert-self-signed",
				"cleartext-hl7": "fixed", "key-weak": "the later scan's policy did not assess", "cert-expired": "the later scan's policy",
				"snmp-community": "the later scan's policy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Diff(prev, tt.cur)
			got := map[string]string{}
			for _, f := range c.New {
				got[f.Rule] = "new"
			}
			for _, f := range c.Persisting {
				got[f.Rule] = "persisting"
			}
			for _, f := range c.Fixed {
				got[f.Rule] = "fixed"
				if f.Reason != "" {
					t.Errorf("fixed %s has a reason %q", f.Rule, f.Reason)
				}
			}
			for _, f := range c.NotAssessed {
				got[f.Rule] = f.Reason
			}
			for rule, w := range tt.want {
				if !strings.HasPrefix(got[rule], w) {
					t.Errorf("%s: got %q, want %q", rule, got[rule], w)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d findings in the change, want %d: %v", len(got), len(tt.want), got)
			}
			n := c.Counts
			if n.New != len(c.New) || n.Fixed != len(c.Fixed) || n.Persisting != len(c.Persisting) || n.NotAssessed != len(c.NotAssessed) {
				t.Errorf("counts %+v do not match the lists", n)
			}
			if c.PreviousScan != 1 {
				t.Errorf("previous_scan = %d", c.PreviousScan)
			}
		})
	}
}

// A suppressed finding of the later scan still takes part (a suppression hides, it
// does not fix) and is flagged; one of the earlier scan counts as present then.
func TestDiffSuppressed(t *testing.T) {
	a, b := fnd("cleartext-hl7", "10.0.0.2", 2575, ""), fnd("cleartext-dicom", "10.0.0.3", 104, "")
	prev := &Report{Scan: ScanInfo{ID: 1, Complete: true}, Suppressed: []SuppressedFinding{{Finding: a}}}
	cur := observed(nil, nil, nil)
	cur.Suppressed = []SuppressedFinding{{Finding: a}, {Finding: b}}
	c := Diff(prev, cur)
	if len(c.Persisting) != 1 || c.Persisting[0].Rule != "cleartext-hl7" || !c.Persisting[0].Suppressed {
		t.Errorf("persisting = %+v", c.Persisting)
	}
	if len(c.New) != 1 || c.New[0].Rule != "cleartext-dicom" || !c.New[0].Suppressed {
		t.Errorf("new = %+v", c.New)
	}
}

func saveLabeled(t *testing.T, s *Store, label string, fs []Finding) int64 {
	t.Helper()
	m := testMeta()
	m.Label, m.Complete = label, true
	id, err := s.SaveScan(context.Background(), m, fullSet(), fs)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPreviousScanAndLoadWithChange(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	fs := testFindings()
	a := saveLabeled(t, s, "ward", fs)
	b := saveLabeled(t, s, "icu", fs[:1])
	c := saveLabeled(t, s, "ward", fs[1:])
	d := saveLabeled(t, s, "", nil)
	for _, tt := range []struct {
		id, prev int64
		ok       bool
	}{{a, 0, false}, {b, 0, false}, {c, a, true}, {d, c, true}} {
		p, ok, err := s.PreviousScan(ctx, tt.id)
		if err != nil || ok != tt.ok || p != tt.prev {
			t.Errorf("PreviousScan(%d) = %d, %v, %v; want %d, %v", tt.id, p, ok, err, tt.prev, tt.ok)
		}
	}
	if _, _, err := s.PreviousScan(ctx, 99); !errors.Is(err, ErrNoScan) {
		t.Errorf("PreviousScan(99) = %v, want ErrNoScan", err)
	}
	r, err := s.LoadWithChange(ctx, a)
	if err != nil || r.Change != nil {
		t.Fatalf("first scan: change %+v, err %v", r.Change, err)
	}
	r, err = s.LoadWithChange(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Change == nil || r.Change.PreviousScan != a {
		t.Fatalf("change = %+v, want against scan %d", r.Change, a)
	}
	if r.Change.Counts.Persisting != len(fs)-1 || r.Change.Counts.New != 0 ||
		r.Change.Counts.Fixed+r.Change.Counts.NotAssessed != 1 {
		t.Errorf("counts = %+v", r.Change.Counts)
	}
}

func TestScanRulesAndSummaries(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	id := saveLabeled(t, s, "ward", testFindings())
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Scan.Rules != nil {
		t.Errorf("unrecorded rules load as %v, want nil", r.Scan.Rules)
	}
	m := testMeta()
	m.Label, m.Complete = "ward", true
	m.Rules = []string{"tls-weak-dh", "cleartext-hl7", "tls-weak-dh"}
	if id, err = s.SaveScan(ctx, m, fullSet(), testFindings()); err != nil {
		t.Fatal(err)
	}
	if r, err = s.Load(ctx, id); err != nil {
		t.Fatal(err)
	}
	if want := []string{"cleartext-hl7", "tls-weak-dh"}; !slices.Equal(r.Scan.Rules, want) {
		t.Errorf("rules = %v, want %v", r.Scan.Rules, want)
	}
	sums, err := s.ScanSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 || len(sums[1].Findings) != len(r.Findings) || !slices.Equal(sums[1].Scan.Rules, r.Scan.Rules) {
		t.Fatalf("summaries = %+v", sums)
	}
	for i, f := range sums[1].Findings {
		if f.Fingerprint != r.Findings[i].Fingerprint || f.Severity != r.Findings[i].Severity {
			t.Errorf("summary finding %d = %+v, want %+v", i, f, r.Findings[i])
		}
	}
}

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	saveLabeled(t, s, "ward", testFindings())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, path)
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Load(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.SaveScan(ctx, testMeta(), fullSet(), nil); err == nil {
		t.Error("a read-only store accepted a write")
	}
	if _, err := ro.Load(ctx, 9); !errors.Is(err, ErrNoScan) {
		t.Errorf("Load(9) = %v, want ErrNoScan", err)
	}
	ro.Close()
	if fileHash(t, path) != before {
		t.Error("reading changed the store")
	}

	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.db")
	os.WriteFile(notDB, []byte("not a database at all, just some text that is long enough to be a header"), 0o644)
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.db"), "missing.db: no such file"},
		{dir, "is a directory"},
		{notDB, "not a medscan database"},
	} {
		if _, err := OpenReadOnly(tt.path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenReadOnly(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("OpenReadOnly created a file")
	}

	// A newer schema is refused unchanged.
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec("PRAGMA user_version = 9"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	before = fileHash(t, path)
	if _, err := OpenReadOnly(path); err == nil || !strings.Contains(err.Error(), "schema version 9 is newer") {
		t.Errorf("newer schema: %v", err)
	}
	if fileHash(t, path) != before {
		t.Error("refusing a newer schema changed the store")
	}
}
