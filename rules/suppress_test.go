package rules_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
)

const sha = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

func TestParseSuppressionFile(t *testing.T) {
	good := `# accepted risks of ward 7
- rule: cleartext-hl7
  host: 10.20.0.0/24
  port: 6661
  reason: interface engine on an isolated VLAN
  expires: 2026-06-30
- certificate: A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90
  host: "::ffff:10.20.1.11"
  reason: vendor replaces the pump firmware in Q3
  expires: 2026-09-30
`
	got, err := rules.ParseSuppressionFile("ignore.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d entries", len(got))
	}
	a, b := got[0], got[1]
	if a.Rule != "cleartext-hl7" || a.Host != netip.MustParsePrefix("10.20.0.0/24") || a.Port != 6661 ||
		a.Expires != time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC) || a.Line != 2 || a.Source() != "ignore.yaml:2" {
		t.Errorf("first entry = %+v", a)
	}
	if b.Certificate != sha || b.Host != netip.MustParsePrefix("10.20.1.11/32") || b.Line != 7 {
		t.Errorf("second entry = %+v", b)
	}
	for _, empty := range []string{"", "# nothing yet\n", "~\n"} {
		if got, err := rules.ParseSuppressionFile("e.yaml", []byte(empty)); err != nil || len(got) != 0 {
			t.Errorf("%q: %v, %v", empty, got, err)
		}
	}
}

func TestParseSuppressionErrors(t *testing.T) {
	const tail = "  reason: r\n  expires: 2026-01-31\n"
	for _, tt := range []struct{ body, want string }{
		{"- rule: key-weak\n  rulez: x\n" + tail, `rules: .medscanignore.yaml: line 2: unknown key "rulez" (want rule, host, port, certificate, reason, expires)`},
		{"- rule: key-weak\n  reason: r\n  expires: 2026-02-30\n", `rules: .medscanignore.yaml: line 3: expires: bad date "2026-02-30" (want YYYY-MM-DD)`},
		{"- rule: key-weak\n  reason: r\n  expires: 31/01/2026\n", `line 3: expires: bad date "31/01/2026"`},
		{"- host: 10.0.0.0/33\n" + tail, `line 1: host: bad CIDR "10.0.0.0/33"`},
		{"- host: 10.0.0.1/8\n" + tail, `line 1: host: 10.0.0.1/8 has address bits set beyond the prefix (did you mean 10.0.0.0/8?)`},
		{"- host: pump-11\n" + tail, `line 1: host: bad address "pump-11"`},
		{"- port: 70000\n" + tail, `line 1: port: bad port "70000" (want 1 to 65535)`},
		{"- certificate: abcd\n" + tail, `line 1: certificate: bad SHA-256 "abcd"`},
		{"- rule: tls-weak-everything\n" + tail, `line 1: rule: unknown rule "tls-weak-everything"`},
		{"- rule: key-weak\n  expires: 2026-01-31\n", `line 1: reason: missing`},
		{"- rule: key-weak\n  reason: \"  \"\n  expires: 2026-01-31\n", `line 1: reason: missing`},
		{"- rule: key-weak\n  reason: r\n", `line 1: expires: missing`},
		{"- " + strings.TrimPrefix(tail, "  "), `line 1: give at least one of rule, host, port or certificate`},
		{"- rule: key-weak\n  rule: tls-weak-dh\n" + tail, `line 2: rule: given twice`},
		{"- rule: [key-weak]\n" + tail, `line 1: rule: want a single value`},
		{"rule: key-weak\n", `line 1: want a list of suppressions`},
		{"- key-weak\n", `line 1: a suppression is a mapping`},
		{"- rule: key-weak\n\treason: r\n", `rules: .medscanignore.yaml: `},
	} {
		_, err := rules.ParseSuppressionFile(".medscanignore.yaml", []byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q:\n got  %v\n want %s", tt.body, err, tt.want)
		}
	}
}

func TestSuppressionMatches(t *testing.T) {
	hl7 := findings.Finding{Rule: "cleartext-hl7", Host: "10.20.0.10", Port: 6661}
	cert := findings.Finding{Rule: "cert-self-signed", Host: "10.20.1.11", Port: 443, Subject: sha}
	lint := findings.Finding{Rule: "key-weak", Host: "10.20.1.11", Port: 443, Subject: sha + ":e_some_lint"}
	file := findings.Finding{Rule: "cert-expired", Subject: sha}
	v6 := findings.Finding{Rule: "tls-weak-dh", Host: "2001:db8::5", Port: 443}
	pfx := netip.MustParsePrefix
	for _, tt := range []struct {
		name string
		s    rules.Suppression
		f    findings.Finding
		want bool
	}{
		{"rule matches", rules.Suppression{Rule: "cleartext-hl7"}, hl7, true},
		{"rule differs", rules.Suppression{Rule: "cleartext-dicom"}, hl7, false},
		{"host in CIDR", rules.Suppression{Host: pfx("10.20.0.0/24")}, hl7, true},
		{"host outside CIDR", rules.Suppression{Host: pfx("10.20.1.0/24")}, hl7, false},
		{"single host", rules.Suppression{Host: pfx("10.20.1.11/32"), Port: 443}, cert, true},
		{"port differs", rules.Suppression{Host: pfx("10.20.1.11/32"), Port: 8443}, cert, false},
		{"certificate", rules.Suppression{Certificate: sha}, cert, true},
		{"certificate with a lint suffix", rules.Suppression{Certificate: sha}, lint, true},
		{"certificate on a finding without one", rules.Suppression{Certificate: sha}, hl7, false},
		{"certificate read from a file", rules.Suppression{Certificate: sha}, file, true},
		{"host never matches a file finding", rules.Suppression{Host: pfx("0.0.0.0/0")}, file, false},
		{"IPv6 prefix", rules.Suppression{Host: pfx("2001:db8::/32")}, v6, true},
		{"IPv4 prefix and an IPv6 host", rules.Suppression{Host: pfx("0.0.0.0/0")}, v6, false},
		{"every selector must match", rules.Suppression{Rule: "cert-self-signed", Host: pfx("10.20.1.11/32"), Port: 443, Certificate: sha}, cert, true},
		{"one selector off", rules.Suppression{Rule: "cert-expired", Host: pfx("10.20.1.11/32"), Port: 443, Certificate: sha}, cert, false},
	} {
		if got := tt.s.Matches(tt.f); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestActiveSuppressions(t *testing.T) {
	now := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	list := []rules.Suppression{
		{Rule: "key-weak", Expires: day("2026-02-01"), File: "i.yaml", Line: 1}, // its last day: still in force
		{Rule: "tls-weak-dh", Expires: day("2026-01-31"), File: "i.yaml", Line: 7},
		{Rule: "cert-expired", Expires: day("2027-02-01"), File: "i.yaml", Line: 12}, // 365 days ahead
	}
	active, warnings, err := rules.ActiveSuppressions(list, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 2 || active[0].Rule != "key-weak" || active[1].Rule != "cert-expired" {
		t.Errorf("active = %+v", active)
	}
	want := "i.yaml: line 7: suppression expired on 2026-01-31; the finding counts again"
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
	far := []rules.Suppression{{Rule: "key-weak", Expires: day("2027-02-03"), File: "i.yaml", Line: 3}}
	if _, _, err := rules.ActiveSuppressions(far, now); err == nil ||
		!strings.Contains(err.Error(), "i.yaml: line 3: expires 2027-02-03 is more than 366 days ahead (at most 2027-02-02)") {
		t.Errorf("too far ahead: %v", err)
	}
}

func TestApplySuppressions(t *testing.T) {
	hl7 := findings.Finding{Rule: "cleartext-hl7", Severity: findings.Critical, Host: "10.20.0.10", Port: 6661}
	dicom := findings.Finding{Rule: "cleartext-dicom", Severity: findings.High, Host: "10.20.0.30", Port: 104}
	hl7.SetFingerprint()
	dicom.SetFingerprint()
	r := &findings.Report{Findings: []findings.Finding{hl7, dicom},
		Change: &findings.Change{New: []findings.ChangedFinding{{Fingerprint: hl7.Fingerprint}, {Fingerprint: dicom.Fingerprint}}}}
	r.Summarize()
	s := rules.Suppression{Rule: "cleartext-hl7", Reason: "isolated VLAN", Expires: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC),
		File: ".medscanignore.yaml", Line: 4}
	rules.ApplySuppressions(r, []rules.Suppression{s})
	if len(r.Findings) != 1 || r.Findings[0].Rule != "cleartext-dicom" {
		t.Errorf("findings = %+v", r.Findings)
	}
	if len(r.Suppressed) != 1 || r.Suppressed[0].Rule != "cleartext-hl7" ||
		r.Suppressed[0].Suppression != (findings.SuppressionRef{Reason: "isolated VLAN", Expires: "2026-06-30", Source: ".medscanignore.yaml:4"}) {
		t.Errorf("suppressed = %+v", r.Suppressed)
	}
	if r.Summary != (findings.Summary{Total: 1, High: 1, Suppressed: 1}) {
		t.Errorf("summary = %+v", r.Summary)
	}
	if !r.Change.New[0].Suppressed || r.Change.New[1].Suppressed {
		t.Errorf("change flags = %+v", r.Change.New)
	}
	// No entry, no change.
	before := len(r.Findings)
	rules.ApplySuppressions(r, nil)
	if len(r.Findings) != before {
		t.Error("no suppressions changed the report")
	}
}

// FuzzParseSuppressionFile: any bytes give entries or an error naming the file, never a
// panic, and every entry has what ParseSuppressions promises.
func FuzzParseSuppressionFile(f *testing.F) {
	f.Add([]byte("- rule: cleartext-hl7\n  host: 10.0.0.0/8\n  port: 6661\n  reason: r\n  expires: 2026-01-31\n"))
	f.Add([]byte("- certificate: " + sha + "\n  reason: r\n  expires: 2026-01-31\n"))
	f.Add([]byte("- {rule: key-weak, reason: r, expires: 2026-01-31}\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := rules.ParseSuppressionFile("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "rules: f.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, s := range got {
			if s.Reason == "" || s.Expires.IsZero() || s.Line <= 0 ||
				(s.Rule == "" && !s.Host.IsValid() && s.Port == 0 && s.Certificate == "") {
				t.Fatalf("entry without what is required: %+v", s)
			}
		}
	})
}
