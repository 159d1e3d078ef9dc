package findings

import (
	"time"

	"github.com/medscan/medscan/observe"
)

// The documents besides a scan's Report that medscan renders (package report writes each
// in the formats that suit it).

// Inventory is a stored scan's assets, the ones asked for, with the services they offered.
type Inventory struct {
	Scan     ScanInfo  `json:"scan"`
	Assets   []Asset   `json:"assets"`
	Services []Service `json:"services"`
	// QuietHosts are the scan's addresses that did nothing more (Report.QuietHosts),
	// listed when every kind was asked for; absent from JSON when there are none.
	QuietHosts []QuietHost `json:"quiet_hosts,omitempty"`
}

// NewInventory is r's inventory: its assets of kind ("" for every kind, and then its
// quiet hosts too), and the services those assets offered.
func NewInventory(r *Report, kind string) *Inventory {
	doc := &Inventory{Scan: r.Scan, Assets: []Asset{}, Services: []Service{}}
	listed := map[string]bool{}
	for _, a := range r.Assets {
		if kind == "" || a.Kind == kind {
			doc.Assets = append(doc.Assets, a)
			listed[a.IP()] = true
		}
	}
	for _, s := range r.Services {
		if listed[s.Host] {
			doc.Services = append(doc.Services, s)
		}
	}
	if kind == "" {
		doc.QuietHosts = r.QuietHosts
	}
	return doc
}

// ScanList is the store's scans, oldest first, with their counts.
type ScanList struct {
	Scans []ScanEntry `json:"scans"`
}

// EntryOf is a report's line in the scan list: its description and its counts.
func EntryOf(r *Report) ScanEntry {
	s := r.Scan
	return ScanEntry{ID: s.ID, Kind: s.Kind, Started: s.Started, Finished: s.Finished, Label: s.Label, Sources: s.Sources,
		Complete: s.Complete, Policy: s.Policy, Summary: r.Summary, Site: s.Site, UID: s.UID}
}

// ScanEntry is one scan of a ScanList: its description, and the counts a report of it
// shows (suppressed findings apart).
type ScanEntry struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Label    string    `json:"label"`
	Sources  []string  `json:"sources"`
	Complete bool      `json:"complete"`
	Policy   string    `json:"policy"`
	Summary  Summary   `json:"summary"`
	Site     string    `json:"site,omitempty"` // ScanInfo.Site
	UID      string    `json:"uid,omitempty"`  // ScanInfo.UID
}

// Comparison is a Change with the two scans it compares: the document of medscan diff.
// Change is nil when there was nothing to compare with, and Reason says why.
type Comparison struct {
	SchemaVersion int      `json:"schema_version"`
	Previous      *ScanRef `json:"previous"`
	Scan          ScanRef  `json:"scan"`
	Change        *Change  `json:"change"`
	Reason        string   `json:"reason,omitempty"`
	// SeverityFilter names the severities a reader asked to see (-s); absent when the
	// change lists are whole.
	SeverityFilter []string `json:"severity_filter,omitempty"`
}

// ScanRef names one side of a Comparison.
type ScanRef struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	Started  time.Time `json:"started"`
	Label    string    `json:"label"`
	Complete bool      `json:"complete"`
	Policy   string    `json:"policy"`
}

// RefOf names a scan for a Comparison.
func RefOf(s ScanInfo) ScanRef {
	return ScanRef{ID: s.ID, Kind: s.Kind, Started: s.Started, Label: s.Label, Complete: s.Complete, Policy: s.Policy}
}

// ComparisonSchemaVersion is the version of the Comparison JSON document.
const ComparisonSchemaVersion = 1

// AuditTrail is the store's record of the runs that wrote it, oldest first: the
// document of medscan audit. Check is the verdict of --verify, nil when not asked.
type AuditTrail struct {
	Records []AuditRecord `json:"records"`
	Check   *AuditCheck   `json:"check,omitempty"`
}

// AuditRecord is one run that wrote the store. Command is the command line with every
// secret replaced (a password in a database URL, say); Policy is the SHA-256 of the
// policy file, "" for the built-in policy. Hash chains the record to the one before it
// (PrevHash), so that editing or deleting a record is detected.
type AuditRecord struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	User     string    `json:"user"`
	Host     string    `json:"host"`
	Command  []string  `json:"command"`
	Version  string    `json:"version"`
	Policy   string    `json:"policy_sha256"`
	ScanID   int64     `json:"scan_id"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
	// SignedBy identifies the audit key that signed the record (the SHA-256 of its
	// public key), "" for a record written without one.
	SignedBy string `json:"signed_by,omitempty"`
}

// AuditCheck is the verdict on a chain of audit records: Intact when every record's hash
// is its own and follows the one before, and the chain ends at Head (the expected head,
// when one was given). Problems name the records that break it. Key is the audit key the
// signatures were checked against (its identifier; "" when none was given), and Signed
// how many records carry a valid signature by it.
type AuditCheck struct {
	Intact   bool     `json:"intact"`
	Records  int      `json:"records"`
	Head     string   `json:"head"`
	Expected string   `json:"expected_head,omitempty"`
	Key      string   `json:"key,omitempty"`
	Signed   int      `json:"signed,omitempty"`
	Problems []string `json:"problems"`
}

// CertInventory is every certificate the store holds, across scans: the document of
// medscan certs. Endpoints are the server endpoints with the certificates they presented
// over time, oldest first (key rotation). Anchors names the policy's trust anchors the
// chains were judged against ("" when none were given).
type CertInventory struct {
	Certificates []CertEntry       `json:"certificates"`
	Endpoints    []EndpointHistory `json:"endpoints"`
	Anchors      []string          `json:"anchors"`
	Generated    time.Time         `json:"generated"` // the time days_left counts from
	// WithoutIdentity are the medical devices, middleware and clinical servers that have
	// no identity of their own: no certificate seen, only self-signed ones, or a key
	// another host presents too.
	WithoutIdentity []DeviceIdentity `json:"without_identity"`
}

// DeviceIdentity is one host of the inventory without a unique identity, and why.
type DeviceIdentity struct {
	Host   string `json:"host"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"` // "no certificate", "self-signed only", "shared key"
	// Certificates are the SHA-256 of the certificates it presented (none for "no
	// certificate").
	Certificates []string `json:"certificates"`
	// SharedWith are the other hosts that present its key ("shared key" only).
	SharedWith []string `json:"shared_with"`
}

// CertRecord is a stored certificate with every place it was seen, across scans
// (store.CertHistory).
type CertRecord struct {
	SHA256 string `json:"sha256"`
	DER    []byte `json:"-"`
	observe.CertFacts
	Places    []CertPlace `json:"places"`
	FirstSeen time.Time   `json:"first_seen"`
	LastSeen  time.Time   `json:"last_seen"`
	ScanIDs   []int64     `json:"scan_ids"`
	Labels    []string    `json:"labels"`
}

// CertPlace is one place a certificate was seen: a host:port (server), a client, or a
// file, with its source (passive, active, file).
type CertPlace struct {
	Where     string    `json:"where"`
	Host      string    `json:"host"`
	Port      int       `json:"port"`
	Role      string    `json:"role"`     // "server", "client", "" for a file
	Position  int       `json:"position"` // in the chain presented or the file; -1 unknown
	Source    string    `json:"source"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Scans     int       `json:"scans"`
}

// CertEntry is a certificate of the inventory: its record, the chain of issuers found
// for it (subjects, nearest first) and how that chain ends, and the verdicts of its
// latest scan.
type CertEntry struct {
	CertRecord
	// Chain are the subjects of the issuers found in the store or the anchors, nearest
	// first; ChainEnd says where it stops: "anchor" (a trust anchor of the policy),
	// "self-signed" (the certificate, or the root it reaches, signs itself and is not an
	// anchor), "issuer not in store" (no scan and no anchor holds the next issuer), or
	// "unknown" (the certificate did not parse).
	Chain []string `json:"chain"`
	// Group is what the listing groups by: the issuer, or "self-signed" for the
	// certificates that each sign themselves (a fleet of devices would otherwise be a
	// group each).
	Group    string        `json:"group"`
	ChainEnd string        `json:"chain_end"`
	Verdicts []CertVerdict `json:"verdicts"`
	Days     int           `json:"days_left"`
	// Revocation is what the policy's CRLs say of it (NewCertInventory decides): "revoked on DATE (reason) by
	// FILE", "not revoked (FILE of DATE)", or "" when no list of its issuer was given;
	// when no list revokes it, a revoked OCSP response stapled for it in its latest scan:
	// "revoked on DATE (reason) by the OCSP response HOST:PORT stapled".
	Revocation string `json:"revocation"` // until notAfter, from the time of the listing; negative when expired
}

// CertVerdict is one finding of the certificate's latest scan that names it.
type CertVerdict struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	ScanID   int64    `json:"scan_id"`
}

// EndpointHistory is what one server endpoint presented over the stored scans: each
// certificate (leaf) with its key, oldest first. KeyKept is true when a later
// certificate kept an earlier one's key: renewed without rotating the key.
type EndpointHistory struct {
	Endpoint  string         `json:"endpoint"`
	Presented []EndpointCert `json:"presented"`
	KeyKept   bool           `json:"key_kept"`
}

// EndpointCert is one leaf certificate an endpoint presented, and when.
type EndpointCert struct {
	CertSHA256 string    `json:"cert_sha256"`
	SPKISHA256 string    `json:"spki_sha256"`
	Subject    string    `json:"subject"`
	NotAfter   time.Time `json:"not_after"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}
