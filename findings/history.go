package findings

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Change is what changed between an earlier scan (or a baseline report) and this one,
// finding by fingerprint. Its lists are never nil and are in report order.
type Change struct {
	// PreviousScan is the id of the scan compared with (in its own store, for a baseline).
	PreviousScan    int64     `json:"previous_scan"`
	PreviousStarted time.Time `json:"previous_started"`
	// Baseline names the file compared with when it was given as --baseline rather than
	// found in the store ("" then).
	Baseline    string           `json:"baseline,omitempty"`
	Counts      ChangeCounts     `json:"counts"`
	New         []ChangedFinding `json:"new"`
	Fixed       []ChangedFinding `json:"fixed"`
	Persisting  []ChangedFinding `json:"persisting"`
	NotAssessed []ChangedFinding `json:"not_assessed"`
}

// ChangeCounts are the lengths of a Change's lists.
type ChangeCounts struct {
	New         int `json:"new"`
	Fixed       int `json:"fixed"`
	Persisting  int `json:"persisting"`
	NotAssessed int `json:"not_assessed"`
}

// ChangedFinding names one finding of a Change: enough to show it without the report it
// came from (a fixed finding is in the earlier scan only).
type ChangedFinding struct {
	Fingerprint string   `json:"fingerprint"`
	Rule        string   `json:"rule"`
	Severity    Severity `json:"severity"` // in the later scan; in the earlier one when fixed or not assessed
	Host        string   `json:"host"`
	Port        int      `json:"port"`
	Subject     string   `json:"subject,omitempty"`
	Message     string   `json:"message"`
	// Reason says why a finding absent from the later scan is not counted as fixed.
	Reason string `json:"reason,omitempty"`
	// Suppressed is true when a suppression set the later scan's finding aside: it is
	// listed, but no gate counts it.
	Suppressed bool `json:"suppressed,omitempty"`
}

func changed(f Finding) ChangedFinding {
	return ChangedFinding{Fingerprint: f.Fingerprint, Rule: f.Rule, Severity: f.Severity, Host: f.Host, Port: f.Port,
		Subject: f.Subject, Message: f.Message}
}

// Diff compares an earlier report with a later one by fingerprint: a finding only in the
// later one is new, one in both persists, and one only in the earlier one is fixed when
// the later scan covered it (Covered) and not assessed otherwise. Suppressed findings of
// either report take part as findings (a suppression hides, it does not fix); the
// later report's are flagged Suppressed.
func Diff(prev, cur *Report) *Change {
	c := &Change{PreviousScan: prev.Scan.ID, PreviousStarted: prev.Scan.Started,
		New: []ChangedFinding{}, Fixed: []ChangedFinding{}, Persisting: []ChangedFinding{}, NotAssessed: []ChangedFinding{}}
	before := map[string]bool{}
	for _, f := range allFindings(prev) {
		before[fingerprintOf(f)] = true
	}
	suppressed := map[string]bool{}
	for _, s := range cur.Suppressed {
		suppressed[fingerprintOf(s.Finding)] = true
	}
	now := map[string]bool{}
	later := allFindings(cur)
	for _, f := range later {
		fp := fingerprintOf(f)
		now[fp] = true
		cf := changed(f)
		cf.Fingerprint, cf.Suppressed = fp, suppressed[fp]
		if before[fp] {
			c.Persisting = append(c.Persisting, cf)
		} else {
			c.New = append(c.New, cf)
		}
	}
	cov := newCoverage(cur)
	for _, f := range allFindings(prev) {
		fp := fingerprintOf(f)
		if now[fp] {
			continue
		}
		cf := changed(f)
		cf.Fingerprint = fp
		if reason := cov.uncovered(f); reason != "" {
			cf.Reason = reason
			c.NotAssessed = append(c.NotAssessed, cf)
		} else {
			c.Fixed = append(c.Fixed, cf)
		}
	}
	c.Counts = ChangeCounts{New: len(c.New), Fixed: len(c.Fixed), Persisting: len(c.Persisting), NotAssessed: len(c.NotAssessed)}
	return c
}

// allFindings is a report's findings and suppressed findings, in report order.
func allFindings(r *Report) []Finding {
	out := slices.Clone(r.Findings)
	for _, s := range r.Suppressed {
		out = append(out, s.Finding)
	}
	SortFindings(out)
	return out
}

// fingerprintOf is the finding's fingerprint, computed when a hand-made report (or a
// baseline from elsewhere) lacks it.
func fingerprintOf(f Finding) string {
	if f.Fingerprint != "" {
		return f.Fingerprint
	}
	return ComputeFingerprint(f.Rule, f.Host, f.Port, f.Subject)
}

// Covered reports whether a scan would have raised f again had the problem remained, and
// if not, why; Diff counts a finding missing from the later scan as fixed only then.
// Coverage is read from what the scan stored:
//   - the scan is complete (an incomplete scan proves nothing by absence);
//   - its policy assessed the rule (ScanInfo.Rules; a disabled rule assesses nothing);
//   - tls-* rules: a handshake with a ServerHello to the finding's host and port;
//   - cert-* and key-* rules: a certificate chain that host and port served in clear
//     (not TLS 1.3, not resumed), or for a client certificate (port 0) a handshake in
//     which that client was asked for its certificate with certificates observable, or
//     for a certificate read from a file (no host) the certificate itself;
//   - cleartext-* rules: any traffic to the host and port (a service that now speaks TLS
//     there is the fix; one still speaking the clear protocol was looked at);
//   - any other rule family: never covered, so that a rule this code does not know
//     cannot be reported fixed by accident.
func Covered(r *Report, f Finding) (bool, string) {
	reason := newCoverage(r).uncovered(f)
	return reason == "", reason
}

type hostPort struct {
	host string
	port int
}

// coverage indexes what one scan observed, for Covered.
type coverage struct {
	complete     bool
	rules        map[string]bool // nil: every rule
	handshake    map[hostPort]bool
	attempted    map[hostPort]bool
	chain        map[hostPort]bool
	clientAsked  map[string]bool
	service      map[hostPort]bool
	certificates map[string]bool
}

func newCoverage(r *Report) *coverage {
	c := &coverage{complete: r.Scan.Complete, handshake: map[hostPort]bool{}, attempted: map[hostPort]bool{},
		chain: map[hostPort]bool{}, clientAsked: map[string]bool{}, service: map[hostPort]bool{}, certificates: map[string]bool{}}
	if r.Scan.Rules != nil {
		c.rules = map[string]bool{}
		for _, id := range r.Scan.Rules {
			c.rules[id] = true
		}
	}
	for _, t := range r.TLSSessions {
		k := hostPort{t.Host, t.Port}
		c.attempted[k] = true
		if t.Version != "" {
			c.handshake[k] = true
		}
		if t.CertsObservable && len(t.ServerCerts) > 0 {
			c.chain[k] = true
		}
		if t.CertsObservable && t.CertRequest && t.Version != "" {
			c.clientAsked[t.Client] = true
		}
	}
	for _, s := range r.Services {
		c.service[hostPort{s.Host, s.Port}] = true
	}
	for _, cert := range r.Certificates {
		c.certificates[strings.ToLower(cert.SHA256)] = true
	}
	return c
}

// uncovered returns "" when the scan covered f, else why not.
func (c *coverage) uncovered(f Finding) string {
	target := f.Host + ":" + strconv.Itoa(f.Port)
	switch {
	case !c.complete:
		return "the later scan is incomplete"
	case c.rules != nil && !c.rules[f.Rule]:
		return "the later scan's policy did not assess " + f.Rule
	}
	k := hostPort{f.Host, f.Port}
	family, _, _ := strings.Cut(f.Rule, "-")
	switch family {
	case "tls":
		if c.handshake[k] {
			return ""
		}
		if c.attempted[k] {
			return "no completed TLS handshake with " + target + " in the later scan"
		}
		return "no TLS seen on " + target + " in the later scan"
	case "cert", "key":
		switch {
		case f.Host == "":
			if c.certificates[strings.ToLower(f.Subject)] {
				return ""
			}
			return "the later scan did not read the certificate"
		case f.Port == 0:
			if c.clientAsked[f.Host] {
				return ""
			}
			return "the later scan saw no handshake in which " + f.Host + " was asked for its certificate"
		case c.chain[k]:
			return ""
		case c.attempted[k]:
			return "the certificates of " + target + " were not observable in the later scan (TLS 1.3 or resumed sessions)"
		}
		return "no TLS seen on " + target + " in the later scan"
	case "cleartext":
		if c.service[k] {
			return ""
		}
		return "no traffic to " + target + " in the later scan"
	}
	return "medscan cannot tell what covers rule " + f.Rule
}

// PreviousScan returns the scan a history compares scan id with: the latest earlier scan
// with the same label, or, when id has no label, the latest earlier scan of any label.
// ok is false when there is none.
func (s *Store) PreviousScan(ctx context.Context, id int64) (prev int64, ok bool, err error) {
	var label string
	err = s.db.QueryRowContext(ctx, "SELECT label FROM scans WHERE id = ?", id).Scan(&label)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, noScan("findings: %s: no scan with id %d", s.path, id)
	}
	if err != nil {
		return 0, false, fmt.Errorf("findings: %s: %w", s.path, err)
	}
	var p sql.NullInt64
	if label != "" {
		err = s.db.QueryRowContext(ctx, "SELECT max(id) FROM scans WHERE id < ? AND label = ?", id, label).Scan(&p)
	} else {
		err = s.db.QueryRowContext(ctx, "SELECT max(id) FROM scans WHERE id < ?", id).Scan(&p)
	}
	if err != nil {
		return 0, false, fmt.Errorf("findings: %s: %w", s.path, err)
	}
	return p.Int64, p.Valid, nil
}

// LoadWithChange is Load with Report.Change filled against PreviousScan, when there is
// one.
func (s *Store) LoadWithChange(ctx context.Context, id int64) (*Report, error) {
	r, err := s.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	prevID, ok, err := s.PreviousScan(ctx, id)
	if err != nil || !ok {
		return r, err
	}
	prev, err := s.Load(ctx, prevID)
	if err != nil {
		return nil, err
	}
	r.Change = Diff(prev, r)
	return r, nil
}

// ScanSummary is one scan of a listing: its description and the identity and severity
// of each of its findings, from which a caller counts (after applying suppressions).
type ScanSummary struct {
	Scan     ScanInfo
	Findings []Finding // Rule, Severity, Host, Port, Subject and Fingerprint only
}

// ScanSummaries lists every scan, oldest first, with its findings' identities.
func (s *Store) ScanSummaries(ctx context.Context) ([]ScanSummary, error) {
	scans, err := s.Scans(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ScanSummary, len(scans))
	idx := map[int64]int{}
	for i, si := range scans {
		out[i] = ScanSummary{Scan: si, Findings: []Finding{}}
		idx[si.ID] = i
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sf.scan_id, f.rule, sf.severity, f.host, f.port, f.subject, f.fingerprint
		FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint`)
	if err != nil {
		return nil, fmt.Errorf("findings: %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  int64
			sev int
			f   Finding
		)
		if err := rows.Scan(&id, &f.Rule, &sev, &f.Host, &f.Port, &f.Subject, &f.Fingerprint); err != nil {
			return nil, fmt.Errorf("findings: %s: %w", s.path, err)
		}
		f.Severity = Severity(sev)
		if i, ok := idx[id]; ok {
			out[i].Findings = append(out[i].Findings, f)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("findings: %s: %w", s.path, err)
	}
	for i := range out {
		SortFindings(out[i].Findings)
	}
	return out, nil
}
