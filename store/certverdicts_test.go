package store

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/densescan"
)

// TestCertVerdictsAsLoaded: CertVerdicts, which decodes only the findings whose stored
// evidence may name a certificate, gives what filtering the latest scan's findings read
// whole gives, in the same order, for two scans; a finding whose evidence spells the
// key with an escape (a store written by another tool) still names its certificate.
func TestCertVerdictsAsLoaded(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	first := densescan.Report(4)
	var later int64
	for _, r := range []*findings.Report{first, densescan.Later(first, 1)} {
		id, err := s.Save(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		later = id
	}
	res, err := s.db.ExecContext(ctx, `UPDATE scan_findings SET evidence = replace(evidence, '"cert_sha256"', '"cert\u005fsha256"')
		WHERE scan_id = ? AND fingerprint = (SELECT min(fingerprint) FROM scan_findings WHERE scan_id = ? AND evidence LIKE '%cert_sha256%')`,
		later, later)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d rows spelled with an escape; want 1", n)
	}
	records, err := s.CertHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]findings.Finding{}
	escaped := ""
	for _, c := range records {
		rep, err := s.LoadParts(ctx, c.ScanIDs[len(c.ScanIDs)-1], PartFindings)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range rep.Findings {
			if sha, _ := f.Evidence["cert_sha256"].(string); sha == c.SHA256 {
				want[sha] = append(want[sha], f)
			}
		}
	}
	var tampered string
	if err := s.db.QueryRowContext(ctx, `SELECT evidence FROM scan_findings WHERE scan_id = ? AND evidence LIKE '%\u005f%'`,
		later).Scan(&tampered); err != nil {
		t.Fatal(err)
	}
	for sha := range want {
		if strings.Contains(tampered, sha) {
			escaped = sha
		}
	}
	if len(want) < 10 || escaped == "" {
		t.Fatalf("%d certificates with verdicts, the escaped one %q: too thin to test", len(want), escaped)
	}
	got, err := s.CertVerdicts(ctx, records)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CertVerdicts: %d certificates with verdicts (%d for the escaped one's); loaded whole: %d (%d)",
			len(got), len(got[escaped]), len(want), len(want[escaped]))
	}
}
