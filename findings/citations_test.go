package findings_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
)

func TestCite(t *testing.T) {
	tests := []struct {
		name      string
		refs      []string
		standards []string
		reqs      int
		cwes      []int
		cves      []string
	}{
		{"a NIST clause", []string{"NIST SP 800-52 Rev. 2, §3.5 (server certificate validation)"},
			[]string{"NIST SP 800-52 Rev. 2"}, 1, nil, nil},
		{"two documents in one reference", []string{"RFC 7617, §4 (Basic); RFC 6750, §5.3 (bearer tokens require TLS)"},
			[]string{"RFC 7617", "RFC 6750"}, 1, nil, nil},
		{"two wordings of the FDA guidance are one standard", []string{
			"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023), Appendix 1 (authentication)",
			"FDA, Cybersecurity in Medical Devices premarket guidance (2023), Appendix 1 (authentication: unique per device)"},
			[]string{"FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023)"}, 2, nil, nil},
		{"a part and revision", []string{"NIST SP 800-57 Part 1 Rev. 5, §5.3 (cryptoperiods)"},
			[]string{"NIST SP 800-57 Part 1 Rev. 5"}, 1, nil, nil},
		{"a CWE is a weakness, not a standard", []string{"CWE-321: Use of Hard-coded Cryptographic Key"}, nil, 0, []int{321}, nil},
		{"CVEs and a paper", []string{"CVE-2017-15361 (ROCA); Nemec et al., The Return of Coppersmith's Attack, ACM CCS 2017"},
			nil, 0, nil, []string{"CVE-2017-15361"}},
		{"a paper alone cites nothing", []string{"Adrian et al., Imperfect Forward Secrecy (CCS 2015)"}, nil, 0, nil, nil},
		{"the IEEE and IEC", []string{"IEEE 802.1AR-2018, §6 (unique device identifiers)", "IEC 81001-5-1:2021, Health software"},
			[]string{"IEEE 802.1AR-2018", "IEC 81001-5-1:2021"}, 2, nil, nil},
		{"nothing", nil, nil, 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := findings.Cite(tc.refs)
			if !slices.Equal(c.Standards, tc.standards) || len(c.Requirements) != tc.reqs || !slices.Equal(c.CWEs, tc.cwes) ||
				!slices.Equal(c.CVEs, tc.cves) {
				t.Errorf("Cite = %+v", c)
			}
		})
	}
}

// TestCatalogCitesStandards holds every rule of the catalog to citing at least one
// standard by a name Cite reads, so that no OCSF compliance finding falls back to its
// bare references.
func TestCatalogCitesStandards(t *testing.T) {
	for _, ri := range rules.CatalogIndex().Sorted() {
		if c := findings.Cite(ri.References); len(c.Standards) == 0 {
			t.Errorf("%s cites no standard Cite knows: %q", ri.ID, ri.References)
		}
	}
}

func TestFindingCVEs(t *testing.T) {
	for _, tc := range []struct {
		ev   any
		want []string
	}{
		{[]string{"CVE-2017-15361"}, []string{"CVE-2017-15361"}},
		{[]any{"CVE-2022-26320", "CVE-2022-26320", 7}, []string{"CVE-2022-26320"}},
		{"CVE-2017-15361", []string{"CVE-2017-15361"}},
		{[]any{"not a CVE", "CVE-2017-15361; rm -rf", ""}, nil},
		{[]string{""}, nil},
		{nil, nil},
	} {
		f := findings.Finding{Evidence: map[string]any{findings.EvidenceCVE: tc.ev}}
		if got := f.CVEs(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: CVEs() = %v, want %v", fmt.Sprint(tc.ev), got, tc.want)
		}
	}
}
