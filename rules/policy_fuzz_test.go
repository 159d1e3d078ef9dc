package rules_test

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
)

// namesAnchors reports whether a YAML document has a trust_anchors key (or a merge key,
// which could bring one) anywhere: ParsePolicy reads the file it names, which a fuzzer
// must not choose (/dev/zero, /dev/stdin). Those files are lint.ReadCerts' bytes,
// fuzzed there (FuzzReadCerts).
func namesAnchors(n *yaml.Node) bool {
	return namesAnchorsSeen(n, map[*yaml.Node]bool{})
}

// namesAnchorsSeen walks each node once: an alias may point into the node that holds it
// (`&t {a: *t}`), a cycle the walk must not follow forever.
func namesAnchorsSeen(n *yaml.Node, seen map[*yaml.Node]bool) bool {
	if n == nil || seen[n] {
		return false
	}
	seen[n] = true
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "trust_anchors" || k == "<<" {
				return true
			}
		}
	}
	for _, c := range n.Content {
		if namesAnchorsSeen(c, seen) {
			return true
		}
	}
	return namesAnchorsSeen(n.Alias, seen)
}

// FuzzParsePolicy: any bytes as a policy file give a policy that keeps every promise of
// ParsePolicy, or one line naming the file with nothing a terminal could act on. Seeded
// with the example policy (the default, commented) and the files of the tests.
func FuzzParsePolicy(f *testing.F) {
	f.Add(rules.ExamplePolicy())
	f.Add([]byte("version: 1\nthresholds:\n  expiring_soon_days: 60\n  legacy_versions: [SSLv2, SSLv3]\nseverity:\n" +
		"  tls-no-forward-secrecy: low\n  cert-expired: CRITICAL\ndisabled:\n  - cert-expiring-soon\n  - cert-expiring-soon\n"))
	f.Add([]byte("version: 1\nclinical_services:\n  - 10.20.0.20:443\n  - EHR.example.org.:443\n  - '[::ffff:10.0.0.1]:2575'\n"))
	f.Add([]byte("version: 1\nwebpki: never\nsuppressions:\n  - rule: cleartext-hl7\n    host: 10.0.0.0/8\n    port: 6661\n" +
		"    reason: isolated VLAN\n    expires: 2026-06-30\n"))
	f.Add([]byte("version: 1\nthresholds:\n  min_dh_bits: \"\\e[2J\"\n"))
	f.Add([]byte("version: 1\nseverity:\n  cert-expired: [low, high]\n"))
	f.Add([]byte("version: 1\nthresholds: &t {leaf_max_days: 10, leaf_high_days: 5}\nx: *t\n"))
	f.Add([]byte("version: 1\nthresholds:\n  client_max_days: 9000\n  client_high_days: 7300\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) == nil && namesAnchors(&doc) {
			t.Skip("names a file to read")
		}
		p, err := rules.ParsePolicy("policy.yaml", data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "rules: policy.yaml: ") || observe.Clean(msg) != msg {
				t.Fatalf("error is not one clean line naming the file: %q", msg)
			}
			return
		}
		th := p.Thresholds
		for _, v := range []int{th.LeafMaxDays, th.LeafHighDays, th.IntermediateMaxDays, th.RootMaxDays,
			th.ExpiringSoonDays, th.MinDHBits, th.MinRSABits, th.CriticalRSABits, th.MinECBits,
			th.ClientMaxDays, th.ClientHighDays} {
			if v <= 0 {
				t.Fatalf("threshold %d accepted: %+v", v, th)
			}
		}
		if th.LeafHighDays < th.LeafMaxDays || th.CriticalRSABits > th.MinRSABits || th.ClientHighDays < th.ClientMaxDays {
			t.Fatalf("inverted thresholds accepted: %+v", th)
		}
		for _, v := range th.LegacyVersions {
			if !slices.Contains([]string{"SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}, v) {
				t.Fatalf("unknown legacy version %q accepted", v)
			}
		}
		for id := range p.Severity {
			if _, ok := rules.Lookup(id); !ok {
				t.Fatalf("severity of unknown rule %q accepted", id)
			}
		}
		if !slices.IsSorted(p.Disabled) || len(slices.Compact(slices.Clone(p.Disabled))) != len(p.Disabled) {
			t.Fatalf("disabled not a sorted set: %v", p.Disabled)
		}
		for _, id := range p.Disabled {
			if _, ok := rules.Lookup(id); !ok {
				t.Fatalf("unknown rule %q disabled", id)
			}
		}
		for _, s := range p.ClinicalServices {
			if s != strings.ToLower(s) || observe.Clean(s) != s || strings.TrimSpace(s) != s {
				t.Fatalf("clinical service not normalised: %q", s)
			}
		}
		for _, s := range p.Suppressions {
			if s.Reason == "" || s.Expires.IsZero() || s.Line <= 0 {
				t.Fatalf("suppression without what is required: %+v", s)
			}
		}
		if p.Anchors != nil || p.TrustAnchorsFile != "" {
			t.Fatalf("anchors loaded from a policy naming none")
		}
		// What the policy accepted, it accepts again from its own normalised entries.
		if len(p.ClinicalServices) > 0 {
			var b strings.Builder
			b.WriteString("version: 1\nclinical_services:\n")
			for _, s := range p.ClinicalServices {
				b.WriteString("  - '" + s + "'\n")
			}
			q, err := rules.ParsePolicy("again.yaml", []byte(b.String()))
			if err != nil || !slices.Equal(q.ClinicalServices, p.ClinicalServices) {
				t.Fatalf("normalised clinical services %q do not load back: %v, %v", p.ClinicalServices, q, err)
			}
		}
	})
}
