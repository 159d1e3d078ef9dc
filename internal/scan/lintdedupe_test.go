package scan

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/lint/linttest"
)

// A certificate that many files hold (a CA in every device's chain, a device exported
// twice) is read as often as it appears but parsed and linted once.
func TestRunFilesExaminesEachCertificateOnce(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ca := linttest.New(t, linttest.Spec{CN: "Device CA", IsCA: true, NotBefore: t0, NotAfter: t0.AddDate(20, 0, 0)})
	pemOf := func(ders ...[]byte) []byte {
		var out []byte
		for _, d := range ders {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
		}
		return out
	}
	var first []byte
	for i := range 3 {
		leaf := linttest.New(t, linttest.Spec{CN: fmt.Sprintf("pump-%d", i), Issuer: ca, NotBefore: t0, NotAfter: t0.AddDate(10, 0, 0)})
		if first == nil {
			first = leaf.DER
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("pump-%d.pem", i)), pemOf(leaf.DER, ca.DER), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "pump-0-again.der"), first, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := RunFiles(context.Background(), openStore(t), FileOptions{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, c := range res.Set.Counters {
		got[c.Name] = c.Value
	}
	if got["certificates_read"] != 7 || got[lint.CounterExamined] != 4 || len(res.Set.Certificates) != 4 {
		t.Errorf("read %d, examined %d, %d certificates; want 7, 4, 4", got["certificates_read"], got[lint.CounterExamined],
			len(res.Set.Certificates))
	}
	for ref, c := range res.Set.Certificates {
		if c.Facts == nil || c.Facts.Lints == nil {
			t.Errorf("%s: not linted", ref)
		}
	}
}
