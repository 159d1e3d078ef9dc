package rules_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
)

func writePolicy(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExamplePolicyLoadsBackToDefault(t *testing.T) {
	ex := rules.ExamplePolicy()
	if !strings.Contains(string(ex), "#    tls-weak-cipher: high") {
		t.Errorf("example does not list the catalog:\n%s", ex)
	}
	p, err := rules.LoadPolicy(writePolicy(t, string(ex)))
	if err != nil {
		t.Fatalf("example policy does not load: %v\n%s", err, ex)
	}
	// Uncommenting the examples must give a valid policy too.
	edited := strings.ReplaceAll(string(ex), "#  tls-no-forward-secrecy: low", "  tls-no-forward-secrecy: low")
	edited = strings.ReplaceAll(edited, "#  - cert-expiring-soon", "  - cert-expiring-soon")
	q, err := rules.LoadPolicy(writePolicy(t, edited))
	if err != nil || q.Severity["tls-no-forward-secrecy"] != findings.Low || !q.IsDisabled("cert-expiring-soon") {
		t.Errorf("uncommented example: %v, %+v", err, q)
	}
	d := rules.DefaultPolicy()
	if !reflect.DeepEqual(p.Thresholds, d.Thresholds) || p.Version != d.Version ||
		len(p.Severity) != 0 || len(p.Disabled) != 0 {
		t.Errorf("example loads to %+v, want %+v", p, d)
	}
	if d.Describe() != "default" || !strings.HasPrefix(p.Describe(), "file ") || !strings.Contains(p.Describe(), " sha256:") {
		t.Errorf("Describe: %q, %q", d.Describe(), p.Describe())
	}
}

func TestLoadPolicy(t *testing.T) {
	p, err := rules.LoadPolicy(writePolicy(t, `version: 1
thresholds:
  expiring_soon_days: 60
  legacy_versions: [SSLv2, SSLv3]
severity:
  tls-no-forward-secrecy: low
  cert-expired: CRITICAL
disabled:
  - cert-expiring-soon
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Thresholds.ExpiringSoonDays != 60 || p.Thresholds.LeafMaxDays != 825 ||
		!reflect.DeepEqual(p.Thresholds.LegacyVersions, []string{"SSLv2", "SSLv3"}) {
		t.Errorf("thresholds %+v", p.Thresholds)
	}
	if p.Severity["tls-no-forward-secrecy"] != findings.Low || p.Severity["cert-expired"] != findings.Critical {
		t.Errorf("severity %v", p.Severity)
	}
	if !p.IsDisabled("cert-expiring-soon") || p.IsDisabled("cert-expired") || p.IsLegacy("TLSv1.0") || !p.IsLegacy("SSLv3") {
		t.Errorf("disabled %v legacy %v", p.Disabled, p.Thresholds.LegacyVersions)
	}
}

// Client (device identity) certificates have their own lifetime limits, read from the
// policy and defaulting to ten and twenty years.
func TestLoadPolicyClientLimits(t *testing.T) {
	if d := rules.DefaultPolicy().Thresholds; d.ClientMaxDays != 3650 || d.ClientHighDays != 7300 {
		t.Errorf("defaults %d, %d", d.ClientMaxDays, d.ClientHighDays)
	}
	p, err := rules.LoadPolicy(writePolicy(t, "version: 1\nthresholds:\n  client_max_days: 1825\n  client_high_days: 3650\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Thresholds.ClientMaxDays != 1825 || p.Thresholds.ClientHighDays != 3650 || p.Thresholds.LeafMaxDays != 825 {
		t.Errorf("thresholds %+v", p.Thresholds)
	}
	// One key alone keeps the other's default, as long as they stay in order.
	p, err = rules.LoadPolicy(writePolicy(t, "version: 1\nthresholds:\n  client_high_days: 10950\n"))
	if err != nil || p.Thresholds.ClientMaxDays != 3650 || p.Thresholds.ClientHighDays != 10950 {
		t.Errorf("%v %+v", err, p)
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"misspelt key", "version: 1\nthresholds:\n  leaf_max_days: 800\n  expiring_sooon: 10\n",
			`policy.yaml: line 4: thresholds: unknown key "expiring_sooon" (did you mean expiring_soon_days?)`},
		{"unknown top-level key", "version: 1\nsuppress: []\n", `policy.yaml: line 2: unknown key "suppress" (did you mean suppressions?)`},
		{"unknown key, nothing near", "version: 1\nzzz: 1\n", `policy.yaml: line 2: unknown key "zzz" (want one of version, thresholds, severity, disabled, webpki, trust_anchors, clinical_services, revocation, suppressions, code_signing)`},
		{"unknown rule in severity", "version: 1\nseverity:\n  tls-weak-ciphers: low\n",
			`policy.yaml: line 3: severity: unknown rule "tls-weak-ciphers"`},
		{"unknown severity", "version: 1\nseverity:\n  tls-weak-cipher: severe\n",
			`policy.yaml: line 3: severity: tls-weak-cipher: unknown severity "severe"`},
		{"unknown disabled rule", "version: 1\ndisabled:\n  - cert-expired\n  - cert-expird\n",
			`policy.yaml: line 4: disabled: unknown rule "cert-expird"`},
		{"missing version", "thresholds:\n  min_dh_bits: 1024\n", `policy.yaml: version: missing`},
		{"future version", "version: 2\n", `policy.yaml: line 1: version: want 1, not 2`},
		{"negative threshold", "version: 1\nthresholds:\n  min_dh_bits: -1\n", `line 3: thresholds.min_dh_bits: want a positive number`},
		{"inverted leaf thresholds", "version: 1\nthresholds:\n  leaf_high_days: 100\n", `leaf_high_days (100) is below leaf_max_days (825)`},
		{"inverted client thresholds", "version: 1\nthresholds:\n  client_max_days: 9000\n", `line 3: thresholds.client_high_days (7300) is below client_max_days (9000)`},
		{"zero client limit", "version: 1\nthresholds:\n  client_max_days: 0\n", `line 3: thresholds.client_max_days: want a positive number, not 0`},
		{"unknown version name", "version: 1\nthresholds:\n  legacy_versions: [TLSv1]\n", `unknown version "TLSv1"`},
		{"wrong type", "version: 1\nthresholds:\n  leaf_max_days: lots\n", `policy.yaml: line 3: thresholds.leaf_max_days: want a whole number, got "lots"`},
		{"not yaml", "version: [1\n", `policy.yaml: `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.LoadPolicy(writePolicy(t, tc.body))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "rules: ") {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := rules.LoadPolicy(filepath.Join(t.TempDir(), "absent.yaml")); err == nil {
		t.Error("missing file loaded")
	}
}

// TestPolicyTypeErrors is the last part of defect 13 of issue 12: a value of the wrong
// type leaked yaml.v3's internals ("cannot unmarshal !!str `lots` into int"). Each error
// names the file, the line, the key path, what the key wants and what the file gave,
// whatever the type, in one line with nothing a terminal could act on.
func TestPolicyTypeErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"int", "version: 1\nthresholds:\n  min_rsa_bits: 2048\n  leaf_max_days: lots\n",
			`line 4: thresholds.leaf_max_days: want a whole number, got "lots"`},
		{"int given a fraction", "version: 1\nthresholds:\n  min_dh_bits: 2048.5\n",
			`line 3: thresholds.min_dh_bits: want a whole number, got "2048.5"`},
		{"int given a list", "version: 1\nthresholds:\n  min_ec_bits:\n    - 256\n",
			`line 4: thresholds.min_ec_bits: want a whole number, got a list`},
		{"version", "version: one\n", `line 1: version: want a whole number, got "one"`},
		{"client limit given text", "version: 1\nthresholds:\n  client_max_days: ten years\n",
			`line 3: thresholds.client_max_days: want a whole number, got "ten years"`},
		{"client limit given a list", "version: 1\nthresholds:\n  client_high_days: [7300]\n",
			`line 3: thresholds.client_high_days: want a whole number, got a list`},
		{"bool", "version: 1\nthresholds:\n  devid_no_expiry: sometimes\n",
			`line 3: thresholds.devid_no_expiry: want true or false, got "sometimes"`},
		{"list given text", "version: 1\ndisabled: cert-expired\n", `line 2: disabled: want a list, got "cert-expired"`},
		{"list item given a mapping", "version: 1\nthresholds:\n  legacy_versions:\n    - SSLv3\n    - {name: TLSv1.0}\n",
			`line 5: thresholds.legacy_versions[1]: want a single value, got a mapping`},
		{"map given a list", "version: 1\nseverity:\n  - cert-expired: low\n", `line 3: severity: want a mapping of keys to values, got a list`},
		{"map value given a list", "version: 1\nseverity:\n  cert-expired: [low, high]\n",
			`line 3: severity.cert-expired: want a single value, got a list`},
		{"section given text", "version: 1\nthresholds: strict\n", `line 2: thresholds: want a mapping of keys (leaf_max_days, `},
		{"text given a mapping", "version: 1\nwebpki:\n  auto: true\n", `line 3: webpki: want a single value, got a mapping`},
		{"escapes shown, not obeyed", "version: 1\nthresholds:\n  min_dh_bits: \"\\e[2J\"\n",
			`line 3: thresholds.min_dh_bits: want a whole number, got "\x1b[2J"`},
		{"suppression date", "version: 1\nsuppressions:\n  - rule: cert-expired\n    reason: r\n    expires: next week\n",
			`line 5: expires: bad date "next week" (want YYYY-MM-DD)`},
		{"suppression port", "version: 1\nsuppressions:\n  - port: lots\n    reason: r\n    expires: 2026-01-01\n",
			`line 3: port: bad port "lots" (want 1 to 65535)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writePolicy(t, tc.body)
			_, err := rules.LoadPolicy(path)
			if err == nil {
				t.Fatal("no error")
			}
			if want := "rules: " + path + ": " + tc.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n got %q\nwant %q", err, want)
			}
			if strings.ContainsAny(err.Error(), "\n\x1b") || strings.Contains(err.Error(), "unmarshal") || strings.Contains(err.Error(), "!!") {
				t.Errorf("error %q: not one clean line in the user's terms", err)
			}
		})
	}
}

func TestPolicyTrustAnchorsAndWebPKI(t *testing.T) {
	wd, _ := os.Getwd()
	ca, err := os.ReadFile(filepath.Join(wd, "..", "fixtures", "ward-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("roots.pem", string(ca))
	write("empty.pem", "")
	p, err := rules.LoadPolicy(write("ok.yaml", "version: 1\ntrust_anchors: roots.pem\nwebpki: never\n"))
	if err != nil || p.Anchors.Len() != 1 || p.TrustAnchorsFile != filepath.Join(dir, "roots.pem") || p.WebPKI != "never" {
		t.Fatalf("%v %+v", err, p)
	}
	if d := rules.DefaultPolicy(); d.Anchors != nil || d.WebPKI != "auto" || !d.Thresholds.DevIDNoExpiry {
		t.Errorf("default %+v", d)
	}
	for _, tc := range []struct{ body, want string }{
		{"version: 1\ntrust_anchors: missing.pem\n", "missing.pem"},
		{"version: 1\ntrust_anchors: empty.pem\n", "empty.pem: no certificate"},
		{"version: 1\nwebpki: sometimes\n", `line 2: webpki: want auto, always or never, not "sometimes"`},
	} {
		_, err := rules.LoadPolicy(write("bad.yaml", tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.body, err, tc.want)
		}
	}
}

func TestPolicyClinicalServices(t *testing.T) {
	p, err := rules.ParsePolicy("policy.yaml", []byte("version: 1\nclinical_services:\n  - 10.20.0.20:443\n"+
		"  - EHR.Example.org.:443\n  - \"[2001:db8::7]:2575\"\n  - 10.20.0.20:443\n  - \"[::ffff:10.0.0.1]:6661\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.20.0.20:443", "ehr.example.org:443", "[2001:db8::7]:2575", "10.0.0.1:6661"}
	if !reflect.DeepEqual(p.ClinicalServices, want) {
		t.Errorf("clinical_services %q, want %q", p.ClinicalServices, want)
	}
	if d := rules.DefaultPolicy(); d.ClinicalServices != nil {
		t.Errorf("default names clinical services: %q", d.ClinicalServices)
	}
	ex := strings.ReplaceAll(string(rules.ExamplePolicy()), "#  - 10.20.0.20:443", "  - 10.20.0.20:443")
	if q, err := rules.ParsePolicy("example.yaml", []byte(ex)); err != nil || !reflect.DeepEqual(q.ClinicalServices, []string{"10.20.0.20:443"}) {
		t.Errorf("uncommented example: %v, %+v", err, q)
	}
	for _, tc := range []struct{ entry, want string }{
		{"10.20.0.20", `line 4: clinical_services: "10.20.0.20": want host:port`},
		{"10.20.0.20:0", `line 4: clinical_services: "10.20.0.20:0": port "0": want a number from 1 to 65535`},
		{"10.20.0.20:https", `port "https"`},
		{"ehr_server:443", `host "ehr_server": want an IP address or a server name`},
		{"-ehr.example.org:443", `host "-ehr.example.org"`},
		{"\"[fe80::1%eth0]:443\"", `a zone is not an address`},
		{"\":443\"", `host "": want an IP address or a server name`},
	} {
		_, err := rules.ParsePolicy("policy.yaml", []byte("version: 1\nclinical_services:\n  - 10.0.0.1:443\n  - "+tc.entry+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "rules: policy.yaml: ") {
			t.Errorf("%s: %v, want %q", tc.entry, err, tc.want)
		}
	}
}
