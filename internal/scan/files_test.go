package scan

import (
	"context"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/ward"
	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/rules"
)

// wardPolicy is a policy naming the ward's site root as the trust anchor, by a path
// relative to the policy file, as a site would write it.
func wardPolicy(t *testing.T) *rules.Policy {
	t.Helper()
	dir := t.TempDir()
	wd, _ := os.Getwd()
	ca, err := os.ReadFile(filepath.Join(wd, "..", "..", "fixtures", "ward-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site-roots.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(p, []byte("version: 1\ntrust_anchors: site-roots.pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, err := rules.LoadPolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

func TestWardTrustAnchors(t *testing.T) {
	st := openStore(t)
	res, err := Run(context.Background(), st, Options{Pcaps: []string{wardFile(t)}, Policy: wardPolicy(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range ward.QuietEndpoints {
		for _, f := range res.Findings {
			if f.Host == q.Host && f.Port == q.Port {
				t.Errorf("quiet endpoint %s:%d: %s %s", q.Host, q.Port, f.Rule, f.Message)
			}
		}
	}
	untrusted := map[string]bool{}
	for _, f := range res.Findings {
		if f.Rule == "cert-untrusted" {
			untrusted[fmt.Sprintf("%s:%d", f.Host, f.Port)] = true
		}
	}
	for _, pump := range []string{"10.20.1.11:443", "10.20.1.12:443", "10.20.1.13:443", "10.20.1.14:443"} {
		if !untrusted[pump] {
			t.Errorf("pump %s: no cert-untrusted (got %v)", pump, untrusted)
		}
	}
	// Without anchors, medscan does not judge trust at all.
	res, err = Run(context.Background(), openStore(t), Options{Pcaps: []string{wardFile(t)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Rule == "cert-untrusted" {
			t.Errorf("cert-untrusted without trust anchors: %s", f.Message)
		}
	}
}

func TestRunFiles(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ca := linttest.New(t, linttest.Spec{CN: "Files CA", IsCA: true, NotBefore: t0, NotAfter: t0.AddDate(10, 0, 0)})
	leaf := linttest.New(t, linttest.Spec{CN: "files.example", Issuer: ca, NotBefore: t0, NotAfter: t0.AddDate(5, 0, 0),
		DNSNames: []string{"files.example"}})
	pemOf := func(ders ...[]byte) []byte {
		var b strings.Builder
		for _, d := range ders {
			b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d}))
		}
		return []byte(b.String())
	}
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("bundle.pem", pemOf(leaf.DER, ca.DER))
	write("sub/leaf.der", leaf.DER)
	write("sub/notes.txt", []byte("not a certificate"))
	write(".hidden/x.pem", []byte("ignored"))
	var reported []string
	st := openStore(t)
	fixed := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	res, err := RunFiles(context.Background(), st, FileOptions{Paths: []string{dir},
		FileError: func(err error) { reported = append(reported, err.Error()) },
		Clock:     func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	// A file that is no certificate (notes.txt) is skipped and counted, not a problem.
	if !res.Complete || len(reported) != 0 || SkippedSummary(res.Set.Counters) != "1 other file" {
		t.Errorf("complete=%v reported=%v skipped=%q", res.Complete, reported, SkippedSummary(res.Set.Counters))
	}
	if len(res.Set.Certificates) != 2 {
		t.Errorf("%d certificates, want 2", len(res.Set.Certificates))
	}
	long := false
	for _, f := range res.Findings {
		if f.Host != "" || f.Port != 0 || f.Source != "file" {
			t.Errorf("file finding with an endpoint: %+v", f)
		}
		if f.Rule == "cert-long-lived" && strings.HasPrefix(f.Subject, fmt.Sprintf("%x", sha256.Sum256(leaf.DER))) {
			long = true
		}
	}
	if !long {
		t.Errorf("5-year leaf not long-lived: %v", res.Findings)
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scan.Problems) != 0 || len(rep.Certificates) != 2 {
		t.Errorf("stored problems %v, %d certificates", rep.Scan.Problems, len(rep.Certificates))
	}

	// The same certificates again, from the store.
	res2, err := RunFiles(context.Background(), st, FileOptions{FromScan: res.ScanID})
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Complete || len(res2.Set.Certificates) != 2 {
		t.Errorf("from store: complete=%v, %d certificates", res2.Complete, len(res2.Set.Certificates))
	}
}
