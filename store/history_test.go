package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
)

// catalog is medscan's rule catalog: what the history reads each rule's coverage from.
func catalog() findings.Catalog { return rules.CatalogIndex() }

func fnd(rule, host string, port int, subject string) findings.Finding {
	f := findings.Finding{Rule: rule, Severity: findings.High, Host: host, Port: port, Subject: subject,
		Message: rule + " on " + host}
	f.SetFingerprint()
	return f
}

// observed is a complete scan report (id 2) holding the given findings and what the set
// observed.
func observed(fs []findings.Finding, set *observe.Set) *findings.Report {
	return findings.NewReport(findings.ScanInfo{ID: 2, Kind: findings.KindNetwork, Complete: true}, set, fs)
}

// tlsSet is a set holding TLS sessions, each with its server chain (DER), and services.
func tlsSet(sessions []observe.TLSSession, chains [][][]byte, services ...observe.Service) *observe.Set {
	s := observe.NewSet()
	for i, t := range sessions {
		var chain [][]byte
		if i < len(chains) {
			chain = chains[i]
		}
		s.AddTLS(t, chain, nil)
	}
	for _, v := range services {
		s.AddService(v)
	}
	return s
}

const certA = "aa00000000000000000000000000000000000000000000000000000000000000"

func TestDiff(t *testing.T) {
	tlsOld := fnd("tls-legacy-version", "10.0.0.1", 443, "")
	certOld := fnd("cert-self-signed", "10.0.0.1", 443, certA)
	hl7 := fnd("cleartext-hl7", "10.0.0.2", 2575, "")
	client := fnd("key-weak", "10.0.0.9", 0, certA)
	file := fnd("cert-expired", "", 0, certA)
	odd := fnd("snmp-community", "10.0.0.3", 161, "")
	prev := findings.NewReport(findings.ScanInfo{ID: 1, Complete: true}, nil,
		[]findings.Finding{tlsOld, certOld, hl7, client, file, odd})

	flow := observe.Flow{Client: ap("10.0.0.9:50000"), Server: ap("10.0.0.1:443")}
	handshake := observe.TLSSession{Flow: flow, SawServerHello: true, Version: 0x0303}
	handshakeChain := [][]byte{[]byte("bb")}
	tls13 := observe.TLSSession{Flow: flow, SawServerHello: true, Version: 0x0304, CertsEncrypted: true}
	asked := observe.TLSSession{Flow: observe.Flow{Client: ap("10.0.0.9:50001"), Server: ap("10.0.0.5:443")},
		SawServerHello: true, Version: 0x0303, CertRequest: true}
	hello := observe.TLSSession{Flow: flow, SawClientHello: true} // no ServerHello
	hl7svc := observe.Service{Server: ap("10.0.0.2:2575"), Transport: "tcp", Protocol: "tls"}
	fresh := fnd("tls-weak-cipher", "10.0.0.7", 443, "")

	// The old history guessed what covers a rule from its ID's prefix and could not tell
	// for an unknown family ("medscan cannot tell what covers rule snmp-community"); the
	// new one reads the rule's declared coverage from the catalog, and a rule missing from
	// it is not assessed with its own reason. The protocol rules now need the protocol (or
	// TLS) on the target rather than any traffic, and their reason says which; a finding
	// on a file is judged by a later "run" (lint runs read files).
	const notInCatalog = "rule snmp-community is not in this medscan's catalog"
	for _, tt := range []struct {
		name string
		cur  *findings.Report
		want map[string]string // rule -> "fixed", "persisting", "new" or the start of a not-assessed reason
	}{
		{"covered: everything fixed but what nothing covers",
			func() *findings.Report {
				set := tlsSet([]observe.TLSSession{handshake, asked}, [][][]byte{handshakeChain}, hl7svc)
				var ref observe.CertRef
				if err := ref.UnmarshalText([]byte(certA)); err != nil {
					t.Fatal(err)
				}
				set.Certificates[ref] = &observe.Certificate{SHA256: ref}
				return observed([]findings.Finding{fresh, hl7}, set)
			}(),
			map[string]string{"tls-legacy-version": "fixed", "cert-self-signed": "fixed", "cleartext-hl7": "persisting",
				"key-weak": "fixed", "cert-expired": "fixed", "snmp-community": notInCatalog, "tls-weak-cipher": "new"}},
		{"nothing observed: nothing fixed",
			observed(nil, nil),
			map[string]string{"tls-legacy-version": "no TLS seen on 10.0.0.1:443", "cert-self-signed": "no TLS seen",
				"cleartext-hl7":  "the later scan saw no HL7 message to 10.0.0.2:2575",
				"key-weak":       "the later scan saw no handshake in which 10.0.0.9",
				"cert-expired":   "the later run did not read the certificate",
				"snmp-community": notInCatalog}},
		{"TLS 1.3: versions judged, certificates not observable",
			observed(nil, tlsSet([]observe.TLSSession{tls13}, nil)),
			map[string]string{"tls-legacy-version": "fixed", "cert-self-signed": "the certificates of 10.0.0.1:443 were not observable",
				"cleartext-hl7": "the later scan saw no HL7 message", "key-weak": "the later scan saw no handshake",
				"cert-expired": "the later run did not read", "snmp-community": notInCatalog}},
		{"handshake without ServerHello proves nothing",
			observed(nil, tlsSet([]observe.TLSSession{hello}, nil)),
			map[string]string{"tls-legacy-version": "no completed TLS handshake with 10.0.0.1:443",
				"cert-self-signed": "the certificates of 10.0.0.1:443", "cleartext-hl7": "the later scan saw no HL7 message",
				"key-weak": "the later scan saw", "cert-expired": "the later run did not read",
				"snmp-community": notInCatalog}},
		{"incomplete later scan fixes nothing",
			func() *findings.Report {
				r := observed(nil, tlsSet([]observe.TLSSession{handshake}, [][][]byte{handshakeChain}, hl7svc))
				r.Scan.Complete = false
				return r
			}(),
			map[string]string{"tls-legacy-version": "the later scan is incomplete", "cert-self-signed": "the later scan is incomplete",
				"cleartext-hl7": "the later scan is incomplete", "key-weak": "the later scan is incomplete",
				"cert-expired": "the later scan is incomplete", "snmp-community": "the later scan is incomplete"}},
		{"a rule the later policy disabled is not assessed",
			func() *findings.Report {
				r := observed(nil, tlsSet([]observe.TLSSession{handshake}, [][][]byte{handshakeChain}, hl7svc))
				r.Scan.Rules = []string{"tls-legacy-version", "cleartext-hl7"}
				return r
			}(),
			map[string]string{"tls-legacy-version": "fixed", "cert-self-signed": "the later scan's policy did not assess cert-self-signed",
				"cleartext-hl7": "fixed", "key-weak": "the later scan's policy did not assess", "cert-expired": "the later scan's policy",
				"snmp-community": "the later scan's policy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Diff(prev, tt.cur, catalog())
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
			// Assessed says the same, finding by finding.
			for _, f := range prev.Findings {
				ok, reason := assessed(tt.cur, f, catalog())
				if w := tt.want[f.Rule]; w != "persisting" && ok != (w == "fixed") {
					t.Errorf("assessed(%s) = %v, %q; the change says %q", f.Rule, ok, reason, w)
				}
			}
		})
	}
}

// A suppressed finding of the later scan still takes part (a suppression hides, it
// does not fix) and is flagged; one of the earlier scan counts as present then.
func TestDiffSuppressed(t *testing.T) {
	a, b := fnd("cleartext-hl7", "10.0.0.2", 2575, ""), fnd("cleartext-dicom", "10.0.0.3", 104, "")
	prev := findings.NewReport(findings.ScanInfo{ID: 1, Complete: true}, nil, nil)
	prev.Suppressed = []findings.SuppressedFinding{{Finding: a}}
	cur := observed(nil, nil)
	cur.Suppressed = []findings.SuppressedFinding{{Finding: a}, {Finding: b}}
	c := Diff(prev, cur, catalog())
	if len(c.Persisting) != 1 || c.Persisting[0].Rule != "cleartext-hl7" || !c.Persisting[0].Suppressed {
		t.Errorf("persisting = %+v", c.Persisting)
	}
	if len(c.New) != 1 || c.New[0].Rule != "cleartext-dicom" || !c.New[0].Suppressed {
		t.Errorf("new = %+v", c.New)
	}
}

func saveLabeled(t *testing.T, s *Store, label string, fs []findings.Finding) int64 {
	t.Helper()
	m := testInfo()
	m.Label, m.Complete = label, true
	id, err := save(context.Background(), s, m, fullSet(), fs)
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
	e := saveLabeled(t, s, "", nil)
	// An unlabelled scan used to pair with the latest earlier scan of any label (d with
	// c); it now pairs only with an earlier unlabelled scan of the same kind that read the
	// same sources, so d has none and e pairs with d.
	for _, tt := range []struct {
		id, prev int64
		ok       bool
	}{{a, 0, false}, {b, 0, false}, {c, a, true}, {d, 0, false}, {e, d, true}} {
		p, ok, err := s.PreviousScan(ctx, tt.id)
		if err != nil || ok != tt.ok || p != tt.prev {
			t.Errorf("PreviousScan(%d) = %d, %v, %v; want %d, %v", tt.id, p, ok, err, tt.prev, tt.ok)
		}
	}
	if _, _, err := s.PreviousScan(ctx, 99); !errors.Is(err, ErrNoScan) {
		t.Errorf("PreviousScan(99) = %v, want ErrNoScan", err)
	}
	r, err := s.LoadWithChange(ctx, a, catalog())
	if err != nil || r.Change != nil {
		t.Fatalf("first scan: change %+v, err %v", r.Change, err)
	}
	r, err = s.LoadWithChange(ctx, c, catalog())
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
	if r, err = s.LoadWithChange(ctx, d, catalog()); err != nil || r.Change != nil {
		t.Errorf("unlabelled scan without a predecessor: change %+v, err %v", r.Change, err)
	}
	if msg := NothingToCompare(r.Scan); !strings.Contains(msg, "no label") || !strings.Contains(msg, "a.pcap, b.pcapng") {
		t.Errorf("NothingToCompare = %q", msg)
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
	m := testInfo()
	m.Label, m.Complete = "ward", true
	m.Rules = []string{"tls-weak-dh", "cleartext-hl7", "tls-weak-dh"}
	if id, err = save(ctx, s, m, fullSet(), testFindings()); err != nil {
		t.Fatal(err)
	}
	if r, err = s.Load(ctx, id); err != nil {
		t.Fatal(err)
	}
	if want := []string{"cleartext-hl7", "tls-weak-dh"}; !slices.Equal(r.Scan.Rules, want) {
		t.Errorf("rules = %v, want %v", r.Scan.Rules, want)
	}
	sums, err := s.ScanSummaries(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Summarize()
	if len(sums) != 2 || sums[1].Summary != r.Summary || !slices.Equal(sums[1].Scan.Rules, r.Scan.Rules) {
		t.Fatalf("summaries = %+v, want the second counted %+v", sums, r.Summary)
	}
	// A suppression counts its findings apart, as a report of the scan does.
	rule := r.Findings[0].Rule
	sums, err = s.ScanSummaries(ctx, func(f findings.Finding) bool { return f.Rule == rule })
	if err != nil {
		t.Fatal(err)
	}
	want := findings.Summary{}
	for _, f := range r.Findings {
		if f.Rule == rule {
			want.Suppressed++
		} else {
			want.Add(f.Severity, 1)
		}
	}
	if want.Suppressed == 0 || sums[1].Summary != want {
		t.Errorf("with %s suppressed: %+v, want %+v", rule, sums[1].Summary, want)
	}
}

func TestOpenReadOnly(t *testing.T) {
	fileOnly(t) // reads or tampers with the SQLite file itself
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
	if _, err := save(ctx, ro, testInfo(), fullSet(), nil); err == nil {
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
	newer := SchemaVersion() + 1 // one past this medscan's, whatever its own
	if _, err := w.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	before = fileHash(t, path)
	if _, err := OpenReadOnly(path); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d is newer", newer)) {
		t.Errorf("newer schema: %v", err)
	}
	if fileHash(t, path) != before {
		t.Error("refusing a newer schema changed the store")
	}
}
