package findings

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Severity orders findings; the CI gate (--fail-on) compares against it.
type Severity int

// The severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String is the lowercase name used in reports, policies and flags.
func (s Severity) String() string {
	if s < Info || s > Critical {
		return "severity(" + strconv.Itoa(int(s)) + ")"
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", name, strings.Join(severityNames[:], ", "))
}

// MarshalText writes the name, so JSON and YAML carry "high", not 3.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one judgement about one thing on the network.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Host     string   `json:"host"` // IP address; "" for a certificate seen only in a file
	Port     int      `json:"port"` // 0 when the finding is about a host or a file
	// Subject names what the finding is about beyond host and port, when one host and port
	// can carry several (a certificate's SHA-256, a credential's keyed hash). It is part of
	// the fingerprint.
	Subject     string         `json:"subject,omitempty"`
	Message     string         `json:"message"`
	Evidence    map[string]any `json:"evidence"`
	Time        time.Time      `json:"time"`   // when it was observed (capture time for passive data)
	Source      string         `json:"source"` // passive, active or file
	Remediation string         `json:"remediation"`
	References  []string       `json:"references"`
	Fingerprint string         `json:"fingerprint"`
	FirstSeen   time.Time      `json:"first_seen"` // across every scan in the store
	LastSeen    time.Time      `json:"last_seen"`
}

// ComputeFingerprint derives the stable identity of a finding from its rule, host, port
// and subject: the same problem seen again, in this scan or a later one, has the same
// fingerprint, which is what history, suppressions and SARIF build on.
func ComputeFingerprint(rule, host string, port int, subject string) string {
	h := sha256.Sum256([]byte(rule + "\x00" + host + "\x00" + strconv.Itoa(port) + "\x00" + subject))
	return hex.EncodeToString(h[:16])
}

// SetFingerprint fills f.Fingerprint from its identity fields.
func (f *Finding) SetFingerprint() {
	f.Fingerprint = ComputeFingerprint(f.Rule, f.Host, f.Port, f.Subject)
}
