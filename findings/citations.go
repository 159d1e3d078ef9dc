package findings

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A rule's references (RuleInfo.References) are sentences for people: "NIST SP 800-52
// Rev. 2, §3.5 (server certificate validation)". Tools that file findings by framework
// (OCSF's compliance.standards, DefectDojo's cwe) need the standards, weaknesses and
// vulnerabilities they cite by name; Cite reads them from the references, here and
// nowhere else, so that the catalog stays the one place a rule's citations are written.

// EvidenceCVE is the evidence key under which a rule names the published
// vulnerabilities (CVE IDs, a list of strings) a finding is an instance of: a ROCA key
// is CVE-2017-15361. A rule sets it only when the CVE applies to that finding, not
// merely to the rule (key-weak cites ROCA, but a 1024-bit key is not ROCA).
const EvidenceCVE = "cve"

// Citations are what a rule's references cite, by name.
type Citations struct {
	// Standards are the distinct standards, regulations and guidance documents cited
	// ("NIST SP 800-52 Rev. 2", "HIPAA Security Rule", "RFC 8996"), in reference order.
	Standards []string
	// Requirements are the references that cite a standard, whole: the clause and what
	// it requires ("HIPAA Security Rule, 45 CFR 164.312(e)(1) (transmission security)").
	Requirements []string
	// CWEs are the CWE numbers cited ("CWE-321" is 321).
	CWEs []int
	// CVEs are the CVE IDs the rule cites; a finding's own are Finding.CVEs.
	CVEs []string
}

// standardPatterns recognise the start of a reference that cites a standard, and give
// the standard's name: the match, or the fixed name when one is set (two wordings of
// one FDA guidance are one standard).
var standardPatterns = []struct {
	re   *regexp.Regexp
	name string
}{
	{regexp.MustCompile(`^NIST SP [0-9]+-[0-9A-Za-z]+( Part [0-9]+)?( Rev\. [0-9]+)?`), ""},
	{regexp.MustCompile(`^FIPS [0-9]+(-[0-9]+)?`), ""},
	{regexp.MustCompile(`^RFC [0-9]+`), ""},
	{regexp.MustCompile(`^HIPAA Security Rule`), ""},
	{regexp.MustCompile(`^FDA, Cybersecurity in Medical Devices`), "FDA, Cybersecurity in Medical Devices: Premarket Submissions (2023)"},
	{regexp.MustCompile(`^DICOM PS3\.[0-9]+`), ""},
	{regexp.MustCompile(`^IHE [A-Z]+ Technical Framework`), ""},
	{regexp.MustCompile(`^CA/Browser Forum Baseline Requirements`), ""},
	{regexp.MustCompile(`^IEC [0-9-]+(:[0-9]{4})?`), ""},
	{regexp.MustCompile(`^IEEE [0-9.]+[A-Za-z]*(-[0-9]{4})?`), ""},
	{regexp.MustCompile(`^ISO(/IEC)? [0-9-]+(:[0-9]{4})?`), ""},
	{regexp.MustCompile(`^OWASP [A-Za-z ]+Top 10( [0-9]{4})?`), ""},
	{regexp.MustCompile(`^HL7 FHIR R[0-9]+`), ""},
}

var (
	cweRef = regexp.MustCompile(`\bCWE-([0-9]{1,5})\b`)
	cveRef = regexp.MustCompile(`\bCVE-[0-9]{4}-[0-9]{4,7}\b`)
)

// Cite reads the citations of a rule's references. A reference may cite several
// documents separated by "; " ("RFC 7617, §4 (…); RFC 6750, §5.3 (…)"); each is read.
func Cite(references []string) Citations {
	var c Citations
	for _, ref := range references {
		cites := false
		for part := range strings.SplitSeq(ref, "; ") {
			part = strings.TrimSpace(part)
			for _, p := range standardPatterns {
				m := p.re.FindString(part)
				if m == "" {
					continue
				}
				name := m
				if p.name != "" {
					name = p.name
				}
				if !slices.Contains(c.Standards, name) {
					c.Standards = append(c.Standards, name)
				}
				cites = true
				break
			}
		}
		if cites {
			c.Requirements = append(c.Requirements, ref)
		}
		for _, m := range cweRef.FindAllStringSubmatch(ref, -1) {
			if n, err := strconv.Atoi(m[1]); err == nil && !slices.Contains(c.CWEs, n) {
				c.CWEs = append(c.CWEs, n)
			}
		}
		for _, m := range cveRef.FindAllString(ref, -1) {
			if !slices.Contains(c.CVEs, m) {
				c.CVEs = append(c.CVEs, m)
			}
		}
	}
	return c
}

// CVEs are the published vulnerabilities this finding is an instance of, as its rule
// recorded them (EvidenceCVE), well-formed IDs only, in order and without repeats; nil
// for a finding of a posture check. The evidence is a []string when the rule made the
// finding and a []any when the store read it back from JSON: both are read.
func (f Finding) CVEs() []string {
	var raw []string
	switch v := f.Evidence[EvidenceCVE].(type) {
	case []string:
		raw = v
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				raw = append(raw, s)
			}
		}
	case string:
		raw = []string{v}
	}
	var out []string
	for _, s := range raw {
		if s != "" && cveRef.FindString(s) == s && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
