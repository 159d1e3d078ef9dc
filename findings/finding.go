package findings

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Finding is one judgement about one thing on the network.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Host     string   `json:"host"` // IP address; "" for a certificate seen only in a file
	Port     int      `json:"port"` // 0 when the finding is about a host or a file
	// File names the file, and the place in it, that held what a finding about a file is
	// about ("certs/chain.pem#2", FileRef); "" for a finding about the network. It is not
	// part of the fingerprint: a certificate moved to another file is the same problem.
	File string `json:"file,omitempty"`
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

// Location is where the finding is, as reports show it: the target ("10.20.1.11:443",
// Target), else the file ("certs/chain.pem#2"), else "".
func (f Finding) Location() string {
	if f.Host != "" {
		return Target(f.Host, f.Port)
	}
	return f.File
}

// FileRef names a certificate's (or key's) place in a file, as findings and reports
// show it: the path and the 1-based position in the file ("certs/chain.pem#2" is the
// file's second certificate); position is 0-based, as in a sighting.
func FileRef(path string, position int) string {
	if path == "" {
		return ""
	}
	return path + "#" + strconv.Itoa(position+1)
}

// ParseFileRef splits what FileRef wrote into the path and the 0-based position; ok is
// false for anything else.
func ParseFileRef(ref string) (path string, position int, ok bool) {
	i := strings.LastIndexByte(ref, '#')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(ref[i+1:])
	if err != nil || n < 1 {
		return "", 0, false
	}
	return ref[:i], n - 1, true
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

// Identity is the finding's fingerprint, computed when a hand-made report (or a baseline
// from elsewhere) lacks it.
func (f Finding) Identity() string {
	if f.Fingerprint != "" {
		return f.Fingerprint
	}
	return ComputeFingerprint(f.Rule, f.Host, f.Port, f.Subject)
}
