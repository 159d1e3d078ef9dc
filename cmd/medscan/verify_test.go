package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
)

// verifyFixture writes a vendor delivery: a CMS-signed image, an unsigned one, a
// tampered one (signed, then changed), the vendor's root and a policy naming it.
func verifyFixture(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Pump Vendor Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, _ := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Pump Firmware Signing"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(2 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	leafDER, _ := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	leaf, _ := x509.ParseCertificate(leafDER)
	sign := func(data []byte) []byte {
		sd, err := pkcs7.NewSignedData(data)
		if err != nil {
			t.Fatal(err)
		}
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		if err := sd.AddSigner(leaf, leafKey, pkcs7.SignerInfoConfig{}); err != nil {
			t.Fatal(err)
		}
		sd.Detach()
		out, err := sd.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	img := make([]byte, 150_000)
	rand.Read(img)
	w := func(name string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w("good/pump-2.1.bin", img)
	w("good/pump-2.1.bin.p7s", sign(img))
	w("bad/pump-2.1.bin", append([]byte{1}, img[1:]...))
	w("bad/pump-2.1.bin.p7s", sign(img))
	w("bad/monitor-1.0.img", img[:100_000])
	w("root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}))
	w("policy.yaml", []byte("version: 1\ncode_signing: {anchors: [root.pem]}\n"))
	return dir
}

type verifyReport struct {
	Scan     struct{ Kind string } `json:"scan"`
	Findings []struct {
		Rule, Severity, File string
	} `json:"findings"`
	Updates []struct {
		Name, Dir, Verdict, SHA256 string
		Signatures                 []struct {
			Kind, Trust string
			Verifies    bool
			Signer      struct{ Subject string }
		}
	} `json:"updates"`
}

// TestVerifyCommand runs medscan verify through the binary: findings, the updates list,
// exit codes with --fail-on, the stored run of kind verify and its report again.
func TestVerifyCommand(t *testing.T) {
	dir := verifyFixture(t)
	db := filepath.Join(t.TempDir(), "m.db")

	res := medscan(t, dir, nil, "verify", "good", "bad", "--policy", "policy.yaml", "--db", db, "-f", "json", "--fail-on", "high")
	if res.code != 3 {
		t.Fatalf("verify: exit %d, want 3 (findings at or above high)\n%s", res.code, res.stderr)
	}
	var r verifyReport
	if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
		t.Fatalf("not JSON: %v\n%.1000s", err, res.stdout)
	}
	if r.Scan.Kind != "verify" {
		t.Errorf("scan kind %q, want verify", r.Scan.Kind)
	}
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Rule+" "+f.Severity+" "+f.File)
	}
	slices.Sort(got)
	want := []string{
		"update-inconsistent high bad/pump-2.1.bin",
		"update-signature-invalid critical bad/pump-2.1.bin",
		"update-unsigned high bad/monitor-1.0.img",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	verdicts := map[string]string{}
	for _, u := range r.Updates {
		verdicts[u.Dir+"/"+u.Name] = u.Verdict
		if u.Dir == "good" {
			if len(u.Signatures) != 1 || !u.Signatures[0].Verifies || u.Signatures[0].Trust != "trusted" ||
				u.Signatures[0].Signer.Subject != "CN=Pump Firmware Signing" {
				t.Errorf("good image's signature %+v", u.Signatures)
			}
		}
	}
	if verdicts["good/pump-2.1.bin"] != "verified" || verdicts["bad/pump-2.1.bin"] != "invalid" || verdicts["bad/monitor-1.0.img"] != "unsigned" || len(verdicts) != 3 {
		t.Errorf("verdicts %v", verdicts)
	}

	// The good folder alone passes the gate; without the policy its signer is not judged.
	// The run is the site's given by --site.
	res = medscan(t, dir, nil, "verify", "good", "--db", db, "--fail-on", "high", "-f", "json", "--site", "north")
	if res.code != 0 {
		t.Fatalf("verify good: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, `"site": "north"`) {
		t.Errorf("verify --site north: the run's site is not north:\n%.600s", res.stdout)
	}
	if !strings.Contains(res.stdout, `"trust": "not-judged"`) {
		t.Errorf("without anchors the signer should be not judged:\n%.2000s", res.stdout)
	}

	// Stored as verify runs, apart from network scans; reported again from the store.
	res = medscan(t, dir, nil, "scans", "--db", db, "--kind", "verify", "-f", "json")
	if res.code != 0 || strings.Count(res.stdout, `"kind": "verify"`) != 2 {
		t.Errorf("scans --kind verify: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = medscan(t, dir, nil, "report", "--db", db, "--kind", "verify", "--scan", "latest~1", "-f", "json")
	if res.code != 0 || !strings.Contains(res.stdout, `"update-signature-invalid"`) || !strings.Contains(res.stdout, `"updates"`) {
		t.Errorf("report --kind verify: exit %d\n%.2000s%s", res.code, res.stdout, res.stderr)
	}

	// Usage and input errors.
	if res = medscan(t, dir, nil, "verify", "--db", db); res.code != 2 || !strings.Contains(res.stderr, "nothing to verify") {
		t.Errorf("verify without files: exit %d, %s", res.code, res.stderr)
	}
	if res = medscan(t, dir, nil, "verify", "missing.bin", "--db", db); res.code != 1 || !strings.Contains(res.stderr, "missing.bin") {
		t.Errorf("verify missing.bin: exit %d, %s", res.code, res.stderr)
	}
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("version: 1\ncode_signing:\n  anchors: [nothere.pem]\n"), 0o644)
	if res = medscan(t, dir, nil, "verify", "good", "--policy", "broken.yaml", "--db", db); res.code == 0 || !strings.Contains(res.stderr, "broken.yaml: line 3: code_signing: anchors: nothere.pem") {
		t.Errorf("verify with a broken anchor: exit %d, %s", res.code, res.stderr)
	}
}

// TestVerifyHistory: an unsigned image signed by the next delivery is fixed; an image
// the later run did not examine is not assessed.
func TestVerifyHistory(t *testing.T) {
	dir := verifyFixture(t)
	db := filepath.Join(t.TempDir(), "m.db")
	if res := medscan(t, dir, nil, "verify", "bad", "--policy", "policy.yaml", "--db", db, "-q"); res.code != 0 {
		t.Fatalf("verify: exit %d\n%s", res.code, res.stderr)
	}
	// The vendor replaces the tampered image and the unsigned one by good, signed ones.
	good, _ := os.ReadFile(filepath.Join(dir, "good", "pump-2.1.bin"))
	sig, _ := os.ReadFile(filepath.Join(dir, "good", "pump-2.1.bin.p7s"))
	os.WriteFile(filepath.Join(dir, "bad", "pump-2.1.bin"), good, 0o644)
	os.WriteFile(filepath.Join(dir, "bad", "pump-2.1.bin.p7s"), sig, 0o644)
	os.Remove(filepath.Join(dir, "bad", "monitor-1.0.img"))
	if res := medscan(t, dir, nil, "verify", "bad", "--policy", "policy.yaml", "--db", db, "-q"); res.code != 0 {
		t.Fatalf("verify again: exit %d\n%s", res.code, res.stderr)
	}
	res := medscan(t, dir, nil, "diff", "--kind", "verify", "--db", db, "-f", "json")
	if res.code != 0 {
		t.Fatalf("diff: exit %d\n%s", res.code, res.stderr)
	}
	var doc struct {
		Change struct {
			Fixed       []struct{ Rule string } `json:"fixed"`
			NotAssessed []struct {
				Rule   string `json:"rule"`
				Reason string `json:"reason"`
			} `json:"not_assessed"`
		} `json:"change"`
	}
	d := &doc.Change
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("diff JSON: %v\n%s", err, res.stdout)
	}
	var fixed, unassessed []string
	for _, f := range d.Fixed {
		fixed = append(fixed, f.Rule)
	}
	for _, f := range d.NotAssessed {
		unassessed = append(unassessed, f.Rule)
	}
	if !slices.Contains(fixed, "update-signature-invalid") {
		t.Errorf("fixed %v, want update-signature-invalid among them\n%s", fixed, res.stdout)
	}
	if !slices.Contains(unassessed, "update-unsigned") {
		t.Errorf("not assessed %v, want update-unsigned (its image was not examined again)\n%s", unassessed, res.stdout)
	}
}
