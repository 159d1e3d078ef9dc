package densescan

import "testing"

// TestReportSize holds the generator to the size the benchmarks announce: every site
// raises FindingsPerSite findings of the rules a ward's devices trip, on twelve hosts.
func TestReportSize(t *testing.T) {
	r := Report(3)
	if got, want := len(r.Findings), 3*FindingsPerSite; got != want {
		t.Errorf("%d findings for 3 sites; want %d", got, want)
	}
	if len(r.Assets) != 3*12 {
		t.Errorf("%d assets for 3 sites; want 36", len(r.Assets))
	}
	rules := map[string]int{}
	for _, f := range r.Findings {
		rules[f.Rule]++
	}
	for _, id := range []string{"cleartext-hl7", "cleartext-dicom", "cleartext-credentials", "credential-shared",
		"tls-legacy-version", "cert-expired", "key-weak"} {
		if rules[id] == 0 {
			t.Errorf("no %s finding: %v", id, rules)
		}
	}
}
