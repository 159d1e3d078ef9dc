//go:build unix

package browsertest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/scan"
	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/report"
	"github.com/medscan/medscan/store"
)

// certsHTML is the certificate inventory page (medscan certs -f html) of a store holding
// the ward's scan, built as the certs command builds it, as of a fixed date.
func certsHTML(t *testing.T) string {
	t.Helper()
	root, dir := testproc.RepoRoot(t), t.TempDir()
	st, err := store.Open(filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	fixed := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	if _, err := scan.Run(ctx, st, scan.Options{Pcaps: []string{filepath.Join(root, "fixtures", "ward.pcapng")},
		Label: "4-west", ToolVersion: "test", Clock: func() time.Time { return fixed }}); err != nil {
		t.Fatal(err)
	}
	records, err := st.CertHistory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	verdicts, err := st.CertVerdicts(ctx, records)
	if err != nil {
		t.Fatal(err)
	}
	assetKinds, err := st.AssetKinds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for addr, k := range assetKinds {
		kinds[findings.AddrText(addr)] = k
	}
	inv := findings.NewCertInventory(records, verdicts, nil, nil, kinds, fixed)
	w, err := report.Certs.New("html", report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, inv); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestCertsPage opens the certificate inventory page in Chromium: it draws (the
// screenshot is not blank) with no console error under its Content-Security-Policy,
// and prints on A4 with every table's column headers, no word cut at the right edge or
// outside the page, and the page's title and "Page N of M" on every page.
func TestCertsPage(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := certsHTML(t)
	ths := headers(page)
	if len(ths) < 15 {
		t.Fatalf("only %d table headers in the certificate page", len(ths))
	}
	file := writePage(t, dir, "certs.html", page)
	shot, errs := screenshot(t, bin, file)
	if len(errs) > 0 {
		t.Errorf("console errors while drawing:\n%s", strings.Join(errs, "\n"))
	}
	if nonWhite, colours := ink(t, shot); !notBlank(nonWhite, colours) {
		t.Errorf("the screenshot looks blank: %.4f of pixels inked, %d colours", nonWhite, colours)
	}
	pdf, errs := printPDF(t, bin, writePage(t, dir, "certs-A4.html", withStyle(t, page, "@page { size: A4; }")))
	if len(errs) > 0 {
		t.Errorf("console errors while printing:\n%s", strings.Join(errs, "\n"))
	}
	p := readPDF(t, pdf)
	p.checkPages(t, "A4", ths, "Certificate inventory")
	for _, want := range []string{"1. Expiry calendar", "2. Certificates by issuing CA", "Self-signed: each certificate signed by its own key",
		"4. Rotation history", "5. Devices without an identity", "CN=pump-0011"} {
		if !strings.Contains(p.text, want) {
			t.Errorf("the printed page lacks %q", want)
		}
	}
}
