package findings

import "time"

// Change is what changed between an earlier scan (or a baseline report) and a later one,
// finding by fingerprint (package store computes it). Its lists are never nil and are in
// report order.
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
	// CertificatesChanged are the server endpoints both scans saw that presented a
	// different leaf certificate in the later one: a renewal, a rotation, or a
	// substitution to look at. Absent when none did.
	CertificatesChanged []CertChange `json:"certificates_changed,omitempty"`
}

// CertChange is one endpoint's leaf certificates in the earlier and the later scan.
// KeyKept is true when a key of the earlier ones is still presented: renewed, not
// rotated.
type CertChange struct {
	Endpoint string        `json:"endpoint"`
	Before   []ChangedCert `json:"before"`
	After    []ChangedCert `json:"after"`
	KeyKept  bool          `json:"key_kept"`
}

// ChangedCert names a certificate of a CertChange.
type ChangedCert struct {
	SHA256     string    `json:"sha256"`
	SPKISHA256 string    `json:"spki_sha256"`
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	NotAfter   time.Time `json:"not_after"`
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
	File        string   `json:"file,omitempty"` // as in Finding
	Subject     string   `json:"subject,omitempty"`
	Message     string   `json:"message"`
	// Reason says why a finding absent from the later scan is not counted as fixed.
	Reason string `json:"reason,omitempty"`
	// Suppressed is true when a suppression set the later scan's finding aside: it is
	// listed, but no gate counts it.
	Suppressed bool `json:"suppressed,omitempty"`
}

// Changed names a finding for a Change.
func Changed(f Finding) ChangedFinding {
	return ChangedFinding{Fingerprint: f.Identity(), Rule: f.Rule, Severity: f.Severity, Host: f.Host, Port: f.Port,
		File: f.File, Subject: f.Subject, Message: f.Message}
}

// Location is where the finding is, as Finding.Location says.
func (c ChangedFinding) Location() string {
	return Finding{Host: c.Host, Port: c.Port, File: c.File}.Location()
}
