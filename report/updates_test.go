package report

import (
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// withUpdates is a verify-like report holding three images: verified and trusted,
// tampered, and unsigned, fetched by devices.
func withUpdates() *findings.Report {
	r := empty()
	r.Updates = []findings.UpdateImage{
		{Name: "pump-2.1.bin", Dir: "/fw", Origin: "http://10.0.0.5:80", Version: "2.1", Size: 262144, Format: "raw",
			SHA256: strings.Repeat("ab", 32), Verdict: "verified", Required: true, Clients: []string{"10.0.0.21", "10.0.0.22"},
			Source: observe.SourcePassive, Time: t0, Signatures: []observe.UpdateSignature{{Kind: "cms", File: "pump-2.1.bin.p7s",
				Verifies: true, Checked: true, Digest: "sha1", Trust: "trusted", Weaknesses: []string{"digest-sha1"},
				Signer: observe.UpdateSigner{Subject: "CN=Pump Vendor Firmware Signing,O=Pump"}}}},
		{Name: "pump-2.2.bin", Dir: "/fw", Origin: "http://10.0.0.5:80", Version: "2.2", Size: 262144, Format: "raw",
			SHA256: strings.Repeat("cd", 32), Verdict: "invalid", Required: true, Clients: []string{"10.0.0.23"},
			Source: observe.SourcePassive, Time: t0, Signatures: []observe.UpdateSignature{{Kind: "openpgp", File: "pump-2.2.bin.asc",
				Checked: true, Reason: "the signature does not match the image", Trust: "not-judged",
				Signer: observe.UpdateSigner{KeyID: "0123456789ABCDEF", UserID: "Pump Releases <r@pump.example>"}}}},
		{Name: "monitor.img", Dir: "delivery", Origin: "file", Size: 4096, Format: "squashfs", SHA256: strings.Repeat("ef", 32),
			Verdict: "unsigned", Required: true, Source: observe.SourceFile, Time: t0},
	}
	return r
}

// TestUpdatesSection renders the update images in the table and the HTML report.
func TestUpdatesSection(t *testing.T) {
	r := withUpdates()
	tbl := render(t, "table", Options{Width: 160}, r)
	golden(t, "updates_table.golden", tbl)
	for _, want := range []string{"Update images (3)", "abababababababab", "10.0.0.21, 10.0.0.22", "invalid: the"} {
		if !strings.Contains(string(tbl), want) {
			t.Errorf("table lacks %q", want)
		}
	}
	html := render(t, "html", Options{}, r)
	for _, want := range []string{`<section id="updates" class="appendix">`, `href="#updates"`, "Appendix H. Counters", "weak: digest-sha1", "<code>10.0.0.23</code>"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// Without images, no section, and the counters are appendix G.
	plain := render(t, "html", Options{}, empty())
	if strings.Contains(string(plain), `id="updates"`) || !strings.Contains(string(plain), "Appendix G. Counters") {
		t.Error("an updates section in a report without images")
	}
}
