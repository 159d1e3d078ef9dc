package main

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/certs"
)

// TestCertsHTMLGolden renders medscan certs -f html over a store of several scans: the
// ward, and one EHR endpoint seen three times (a self-signed certificate, then the site
// CA's on the same key, then the site CA's on a new key), judged with a policy whose
// trust anchor is the site root and whose CRL revokes the second certificate. The page
// is compared with testdata/certs.html (-update rewrites it); --as-of fixes the date
// days and the calendar count from.
func TestCertsHTMLGolden(t *testing.T) {
	work := t.TempDir()
	db := filepath.Join(work, "m.db")
	const server = "10.30.0.5:443"
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }
	rootKey, err := certs.ECDSAKey("certs-html-root")
	if err != nil {
		t.Fatal(err)
	}
	oldKey, err := certs.ECDSAKey("certs-html-old")
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := certs.ECDSAKey("certs-html-new")
	if err != nil {
		t.Fatal(err)
	}
	root, err := certs.SelfSigned(certs.Spec{Label: "certs-html-root", Subject: pkix.Name{CommonName: "Ward Site Root CA",
		Organization: []string{"Example Hospital"}}, NotBefore: day(2024, 1, 1), NotAfter: day(2044, 1, 1), Key: rootKey,
		CA: true, MaxPathLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	name := pkix.Name{CommonName: "ehr.hospital.example", Organization: []string{"Example Hospital"}}
	selfSigned, err := certs.SelfSigned(certs.Spec{Label: "certs-html-self", Subject: name, DNSNames: []string{"ehr.hospital.example"},
		NotBefore: day(2025, 1, 1), NotAfter: day(2026, 3, 1), Key: oldKey, ServerAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := root.Issue(certs.Spec{Label: "certs-html-renewed", Subject: name, DNSNames: []string{"ehr.hospital.example"},
		NotBefore: day(2026, 2, 1), NotAfter: day(2027, 2, 1), Key: oldKey, ServerAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := root.Issue(certs.Spec{Label: "certs-html-rotated", Subject: name, DNSNames: []string{"ehr.hospital.example"},
		NotBefore: day(2026, 10, 1), NotAfter: day(2027, 4, 1), Key: newKey, ServerAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []struct {
		at   time.Time
		leaf *certs.Issued
	}{{day(2026, 1, 10), selfSigned}, {day(2026, 6, 10), renewed}, {day(2026, 11, 10), rotated}} {
		path := filepath.Join(work, "ehr-"+string(rune('a'+i))+".pcapng")
		trust := root
		if s.leaf == selfSigned {
			trust = selfSigned
		}
		writeTLSChainCapture(t, path, s.at, server, trust, s.leaf)
		if res := medscan(t, work, nil, "scan", "-q", "--db", db, "--pcap", path, "-o", filepath.Join(work, "s.json")); res.code != 0 {
			t.Fatalf("scan %d: %d %s", i, res.code, res.stderr)
		}
	}
	if res := medscan(t, work, nil, "scan", "-q", "--db", db, "--pcap", wardCapture(t), "-o", filepath.Join(work, "w.json")); res.code != 0 {
		t.Fatalf("ward scan: %d %s", res.code, res.stderr)
	}
	// The site's policy: the root as its trust anchor, and its CRL, which revokes the
	// renewed certificate (the one that kept the old key).
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(7), ThisUpdate: day(2026, 11, 1),
		NextUpdate: day(2026, 12, 15), RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: renewed.Cert.SerialNumber,
			RevocationTime: day(2026, 10, 2), ReasonCode: 4}}}, root.Cert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"site-root.pem": root.PEM(), "site.crl": pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}),
		"site.yaml": []byte("version: 1\ntrust_anchors: site-root.pem\nrevocation:\n  crls: [site.crl]\n")} {
		if err := os.WriteFile(filepath.Join(work, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res := medscan(t, work, nil, "certs", "--db", db, "--policy", filepath.Join(work, "site.yaml"), "--as-of", "2026-12-01", "-f", "html")
	if res.code != 0 {
		t.Fatalf("certs -f html: %d %s", res.code, res.stderr)
	}
	got := strings.ReplaceAll(res.stdout, work, "WORK")
	for _, want := range []string{"Issued by CN=Ward Site Root CA", "site PKI: leads to a trust anchor", "revoked on 2026-10-02",
		"same key as before: renewed, not rotated", "Dec 26", "self-signed: nothing vouches for them", "no certificate"} {
		if !strings.Contains(got, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(got, "<script") || !strings.Contains(got, `http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;`) {
		t.Error("the page has a script or lacks its Content-Security-Policy")
	}
	golden := filepath.Join("testdata", "certs.html")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%s (run go test -run TestCertsHTMLGolden -update): %v", golden, err)
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("certs -f html differs from %s (run with -update and review the diff)", golden)
	}
	// The same page from -o's extension, written to the file.
	out := filepath.Join(work, "certs.html")
	if res := medscan(t, work, nil, "certs", "--db", db, "--policy", filepath.Join(work, "site.yaml"), "--as-of", "2026-12-01",
		"-o", out); res.code != 0 {
		t.Fatalf("certs -o certs.html: %d %s", res.code, res.stderr)
	}
	if b, err := os.ReadFile(out); err != nil || strings.ReplaceAll(string(b), work, "WORK") != got {
		t.Errorf("certs -o certs.html wrote another page (%v)", err)
	}
	if res := medscan(t, work, nil, "certs", "--db", db, "--as-of", "next week"); res.code != 2 || !strings.Contains(res.stderr, "--as-of") {
		t.Errorf("--as-of 'next week': %d %s; want a usage error naming the flag", res.code, res.stderr)
	}
}
