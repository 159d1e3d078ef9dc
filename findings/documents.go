package findings

import "time"

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
		Complete: s.Complete, Policy: s.Policy, Summary: r.Summary}
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
