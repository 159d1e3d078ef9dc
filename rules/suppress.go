package rules

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/medscan/medscan/findings"
)

// IgnoreFile is the suppression file medscan reads from the working directory when
// present.
const IgnoreFile = ".medscanignore.yaml"

// MaxSuppressionDays bounds how far ahead a suppression may expire: an accepted risk is
// reviewed at least once a year, so that nothing is hidden for good by a forgotten line.
const MaxSuppressionDays = 366

// Suppression sets aside the findings it matches: a risk a site has accepted, with the
// reason and the day it must be looked at again. Every selector given must match; at
// least one is required, so that no entry hides everything.
type Suppression struct {
	Rule        string       // a rule ID; "" matches any rule
	Host        netip.Prefix // an address or network; the zero Prefix matches any host
	Port        int          // 0 matches any port
	Certificate string       // a certificate's SHA-256 in lowercase hex; "" matches any
	Reason      string       // why the risk is accepted (required)
	Expires     time.Time    // the last day it suppresses, at 00:00 UTC (required)
	File        string       // where the entry was written, for messages
	Line        int
}

// suppressionKeys are the keys an entry may have, in the order messages list them.
var suppressionKeys = []string{"rule", "host", "port", "certificate", "reason", "expires"}

// Source is where the entry was written, as FILE:LINE.
func (s Suppression) Source() string { return s.File + ":" + strconv.Itoa(s.Line) }

// Ref is what a report shows beside a finding this entry suppressed.
func (s Suppression) Ref() findings.SuppressionRef {
	return findings.SuppressionRef{Reason: s.Reason, Expires: s.Expires.Format(time.DateOnly), Source: s.Source()}
}

// Expired reports whether the entry no longer suppresses at now: it suppresses through
// the whole of its Expires day, in UTC.
func (s Suppression) Expired(now time.Time) bool {
	return !now.UTC().Before(s.Expires.AddDate(0, 0, 1))
}

// Matches reports whether the entry selects the finding. A host selector never matches
// a finding without an address (a certificate read from a file), and a certificate
// selector matches the finding's subject, which certificate and key findings set to the
// certificate's SHA-256 (optionally followed by ":" and more).
func (s Suppression) Matches(f findings.Finding) bool {
	if s.Rule != "" && s.Rule != f.Rule {
		return false
	}
	if s.Port != 0 && s.Port != f.Port {
		return false
	}
	// A certificate finding's subject is the SHA-256, alone or followed by ":" and what
	// about the certificate it judges (a lint's name).
	if s.Certificate != "" {
		subj := strings.ToLower(f.Subject)
		if subj != s.Certificate && !strings.HasPrefix(subj, s.Certificate+":") {
			return false
		}
	}
	if s.Host.IsValid() {
		a, err := netip.ParseAddr(f.Host)
		if err != nil || !s.Host.Contains(a.Unmap()) {
			return false
		}
	}
	return true
}

// LoadSuppressions reads a suppression file: a YAML list of entries.
func LoadSuppressions(path string) ([]Suppression, error) {
	data, err := readBounded(path, maxPolicyFile)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return ParseSuppressionFile(path, data)
}

// ParseSuppressionFile parses the YAML of a suppression file; name is used in errors.
// An empty file holds no entries.
func ParseSuppressionFile(name string, data []byte) ([]Suppression, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("rules: %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return ParseSuppressions(name, &doc)
}

// ParseSuppressions reads a list of suppression entries from a YAML node: a suppression
// file's document, or the value of a policy's suppressions key. Each entry is a mapping
// of rule, host (an address or CIDR), port, certificate (SHA-256), reason and expires
// (YYYY-MM-DD); reason and expires are required, and so is at least one of the others.
// An unknown or repeated key, a bad value or an unknown rule is an error naming the file
// (name) and line. A null node holds no entries.
func ParseSuppressions(name string, node *yaml.Node) ([]Suppression, error) {
	fail := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("rules: %s: line %d: %s", name, n.Line, fmt.Sprintf(format, args...))
	}
	if node == nil || node.Kind == 0 { // 0: an empty document
		return nil, nil
	}
	if node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			return nil, nil
		}
		node = node.Content[0]
	}
	if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
		return nil, nil
	}
	if node.Kind != yaml.SequenceNode {
		return nil, fail(node, "want a list of suppressions (entries starting with \"- rule: …\")")
	}
	var out []Suppression
	for _, item := range node.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fail(item, "a suppression is a mapping of %s", strings.Join(suppressionKeys, ", "))
		}
		s := Suppression{File: name, Line: item.Line}
		seen := map[string]bool{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			if !slices.Contains(suppressionKeys, k.Value) {
				return nil, fail(k, "unknown key %q (want %s)", k.Value, strings.Join(suppressionKeys, ", "))
			}
			if seen[k.Value] {
				return nil, fail(k, "%s: given twice in one entry", k.Value)
			}
			seen[k.Value] = true
			if v.Kind != yaml.ScalarNode {
				return nil, fail(v, "%s: want a single value", k.Value)
			}
			if err := s.set(k.Value, strings.TrimSpace(v.Value)); err != nil {
				return nil, fail(v, "%s: %v", k.Value, err)
			}
		}
		switch {
		case s.Reason == "":
			return nil, fail(item, "reason: missing: say why the risk is accepted")
		case s.Expires.IsZero():
			return nil, fail(item, "expires: missing: give the last day (YYYY-MM-DD) it applies, at most a year ahead")
		case s.Rule == "" && !s.Host.IsValid() && s.Port == 0 && s.Certificate == "":
			return nil, fail(item, "give at least one of rule, host, port or certificate (an entry must not hide everything)")
		}
		out = append(out, s)
	}
	return out, nil
}

// set validates and stores one value of an entry.
func (s *Suppression) set(key, v string) error {
	switch key {
	case "rule":
		if _, ok := Lookup(v); !ok {
			return fmt.Errorf("unknown rule %q (medscan rules lists them)", v)
		}
		s.Rule = v
	case "host":
		if strings.Contains(v, "/") {
			p, err := netip.ParsePrefix(v)
			if err != nil {
				return fmt.Errorf("bad CIDR %q", v)
			}
			if p.Masked() != p {
				return fmt.Errorf("%s has address bits set beyond the prefix (did you mean %s?)", v, p.Masked())
			}
			// Findings carry IPv4 addresses unmapped; a ::ffff:a.b.c.d/n prefix means the same.
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			s.Host = p
			return nil
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return fmt.Errorf("bad address %q (want an IP address or a CIDR such as 10.20.0.0/16)", v)
		}
		a = a.Unmap()
		s.Host = netip.PrefixFrom(a, a.BitLen())
	case "port":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("bad port %q (want 1 to 65535)", v)
		}
		s.Port = n
	case "certificate":
		h := strings.ToLower(strings.ReplaceAll(v, ":", ""))
		if b, err := hex.DecodeString(h); err != nil || len(b) != 32 {
			return fmt.Errorf("bad SHA-256 %q (want 64 hexadecimal digits, as in the report's sha256)", v)
		}
		s.Certificate = h
	case "reason":
		s.Reason = v
	case "expires":
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return fmt.Errorf("bad date %q (want YYYY-MM-DD)", v)
		}
		s.Expires = t
	}
	return nil
}

// ActiveSuppressions returns the entries that suppress at now, and one warning for each
// expired entry, which stops suppressing (its findings count again). An entry expiring
// more than MaxSuppressionDays after now is an error naming it: it is refused rather than
// silently shortened, so the file says what is applied.
func ActiveSuppressions(list []Suppression, now time.Time) (active []Suppression, warnings []string, err error) {
	today := now.UTC().Truncate(24 * time.Hour)
	limit := today.AddDate(0, 0, MaxSuppressionDays)
	for _, s := range list {
		switch {
		case s.Expired(now):
			warnings = append(warnings, fmt.Sprintf("%s: line %d: suppression expired on %s; the finding counts again",
				s.File, s.Line, s.Expires.Format(time.DateOnly)))
		case s.Expires.After(limit):
			return nil, nil, fmt.Errorf("rules: %s: line %d: expires %s is more than %d days ahead (at most %s): "+
				"an accepted risk is reviewed at least yearly", s.File, s.Line, s.Expires.Format(time.DateOnly),
				MaxSuppressionDays, limit.Format(time.DateOnly))
		default:
			active = append(active, s)
		}
	}
	return active, warnings, nil
}

// Suppressing returns the first entry of active that matches f, as ApplySuppressions
// applies it (also to a scan streamed from the store: store.StreamOptions).
func Suppressing(active []Suppression, f findings.Finding) (findings.SuppressionRef, bool) {
	i := slices.IndexFunc(active, func(s Suppression) bool { return s.Matches(f) })
	if i < 0 {
		return findings.SuppressionRef{}, false
	}
	return active[i].Ref(), true
}

// ApplySuppressions moves every finding of r that an active entry matches (the first
// that does, in order) from r.Findings to r.Suppressed, recounts the summary, and flags
// the suppressed findings in r.Change. Nothing is deleted: a report still lists them.
func ApplySuppressions(r *findings.Report, active []Suppression) {
	if len(active) == 0 {
		return
	}
	kept := r.Findings[:0:0]
	for _, f := range r.Findings {
		ref, ok := Suppressing(active, f)
		if !ok {
			kept = append(kept, f)
			continue
		}
		r.Suppressed = append(r.Suppressed, findings.SuppressedFinding{Finding: f, Suppression: ref})
	}
	r.Findings = kept
	r.Summarize()
	if r.Change == nil {
		return
	}
	hidden := map[string]bool{}
	for _, s := range r.Suppressed {
		hidden[s.Fingerprint] = true
	}
	for _, l := range [][]findings.ChangedFinding{r.Change.New, r.Change.Persisting} {
		for i := range l {
			l[i].Suppressed = hidden[l[i].Fingerprint]
		}
	}
}
