package lint

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
)

// examineSets returns a builder of sets with the same certificates, of every shape of every shape examination treats differently:
// CAs and leaves, RSA and ECDSA, self-signed, served in chains, a client's chain, one
// that does not parse, one signed by a compromised CA's key, and the same certificate
// read from several files.
func examineSets(t *testing.T) (build func() *observe.Set, oddKU []byte) {
	t.Helper()
	var steps []func(*observe.Set)
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	root := linttest.New(t, linttest.Spec{CN: "Hospital Root", IsCA: true, NotBefore: t0, NotAfter: t0.AddDate(20, 0, 0)})
	rsaCA := linttest.New(t, linttest.Spec{CN: "Hospital RSA CA", IsCA: true, Issuer: root, Key: linttest.RSAKey(t, 2048),
		NotBefore: t0, NotAfter: t0.AddDate(10, 0, 0)})
	file := func(der []byte, name string, pos int) {
		steps = append(steps, func(set *observe.Set) {
			set.AddCertificate(der, observe.CertSighting{Source: observe.SourceFile, File: name, Position: pos})
		})
	}
	for i := range 12 {
		cn := "pump-" + string(rune('a'+i)) + ".ward.internal"
		iss := root
		if i%2 == 0 {
			iss = rsaCA
		}
		leaf := linttest.New(t, linttest.Spec{CN: cn, Issuer: iss, NotBefore: t0, NotAfter: t0.AddDate(1+i, 0, 0),
			DNSNames: []string{cn}})
		file(leaf.DER, cn+".pem", 0)
		file(iss.DER, cn+".pem", 1)
		file(root.DER, cn+".pem", 2)
	}
	self := linttest.New(t, linttest.Spec{CN: "monitor.ward.internal", NotBefore: t0, NotAfter: t0.AddDate(30, 0, 0)})
	file(self.DER, "self.pem", 0)
	file(self.DER, "copy-of-self.pem", 0)
	file([]byte{0x30, 0x03, 0x02, 0x01, 0x01}, "broken.der", 0)
	minted, err := os.ReadFile(filepath.Join("testdata", "zlint-emudhra-ov-g3c-minted.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ders, _ := ReadCerts(minted)
	file(ders[0], "emudhra.pem", 0)
	// Three key usages that zlint lists in map order (stableDetails puts them in order).
	kuCA := mkcert(t, "Imaging CA", &x509.Certificate{IsCA: true}, nil)
	oddKU = mkcert(t, "odd-ku.ward.internal", &x509.Certificate{
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, kuCA).der
	file(oddKU, "odd-ku.pem", 0)
	server := linttest.New(t, linttest.Spec{CN: "pacs.ward.internal", Issuer: rsaCA, NotBefore: t0, NotAfter: t0.AddDate(3, 0, 0)})
	steps = append(steps, func(set *observe.Set) {
		set.AddTLS(observe.TLSSession{Flow: observe.Flow{}}, [][]byte{server.DER, rsaCA.DER}, [][]byte{self.DER})
	})
	return func() *observe.Set {
		set := observe.NewSet()
		for _, s := range steps {
			s(set)
		}
		return set
	}, oddKU
}

// Examining in parallel gives exactly the facts examining one certificate at a time
// gives, and each distinct certificate is examined once however many files held it.
func TestExamineParallelEqualsSerial(t *testing.T) {
	build, oddKU := examineSets(t)
	serial, par := build(), build()
	ExamineWith(serial, Options{Workers: 1})
	ExamineWith(par, Options{Workers: 8})
	if len(serial.Certificates) != len(par.Certificates) {
		t.Fatalf("%d certificates, %d", len(serial.Certificates), len(par.Certificates))
	}
	lints := 0
	for ref, c := range serial.Certificates {
		a, _ := json.Marshal(c.Facts)
		b, _ := json.Marshal(par.Certificates[ref].Facts)
		if string(a) != string(b) {
			t.Errorf("%s:\nserial   %s\nparallel %s", ref, a, b)
		}
		lints += len(c.Facts.Lints)
	}
	if lints == 0 {
		t.Error("no lint result at all: nothing was compared")
	}
	odd := serial.Certificates[sha256.Sum256(oddKU)].Facts
	if !slices.ContainsFunc(odd.Lints, func(l observe.CertLint) bool {
		return l.Name == "e_key_usage_and_extended_key_usage_inconsistent" && strings.Contains(l.Details, "[DigitalSignature KeyAgreement KeyEncipherment]")
	}) {
		t.Errorf("inconsistent key usage: lints %v", odd.Lints)
	}
	for _, s := range []*observe.Set{serial, par} {
		if got, want := counter(s, CounterExamined), uint64(len(s.Certificates)); got != want {
			t.Errorf("%s = %d, want %d (one per distinct certificate)", CounterExamined, got, want)
		}
		// Examining again examines nothing: every certificate has its facts.
		ExamineWith(s, Options{})
		if got := counter(s, CounterExamined); got != uint64(len(s.Certificates)) {
			t.Errorf("examined again: %s = %d", CounterExamined, got)
		}
	}
}

func counter(s *observe.Set, name string) uint64 {
	for _, c := range s.Counters {
		if c.Name == name {
			return c.Value
		}
	}
	return 0
}
