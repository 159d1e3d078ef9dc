// Package findings owns the finding model (severities, fingerprints), the SQLite store
// with its embedded, versioned migrations, and the read API that reports render from.
//
// It knows nothing of packets. It stores observations (package observe, the leaf of the
// graph) as facts beside the findings so that a report can be rendered again from the
// store alone, long after the capture is gone.
//
// # The store
//
// Open creates or opens a medscan.db: SQLite through the pure-Go driver, in WAL mode so
// that a report can be rendered while a scan is being written, with foreign keys on and a
// busy timeout so that two writers queue rather than fail. The schema is migrated by
// numbered SQL files embedded in the binary (migrations/0001_init.sql, ...), applied in
// one transaction and recorded both in PRAGMA user_version and in schema_migrations. A
// store written by a newer medscan is refused before anything touches the file, and so is
// a file that is not a medscan store.
//
// SaveScan writes one scan in one transaction. Findings are kept once per fingerprint
// across the whole store, with first_seen and last_seen the earliest and latest
// observation of them; each scan links to the findings it raised and keeps its own copy of
// their severity, message and evidence, so that an old scan renders as it was even after
// a later one has changed them. Saving the same capture twice therefore adds a scan, not
// findings. Certificates are kept once per SHA-256 with their DER; assets once per address.
// Each scan keeps its own inventory entry per asset (kind, reasons, roles, names, maker:
// scan_assets) so that a kind can change between scans, beside the host names, DHCP
// leases and file transfers it came from; AssetKinds reads the latest kind of every
// address. A live scan is one scan rewritten in place at each commit (CheckpointScan).
// Active probing adds per-port results and per-host connection accounts (probe.go).
//
// Credentials are stored as observe gives them, a masked preview and a keyed hash; the key
// (SecretKey) is a random 32 bytes created with the store and never leaves it except to
// hash, so that a copied report cannot be checked against a dictionary.
//
// # The read API
//
// Load returns a Report: the scan, its findings and everything it observed, in a stable
// order (findings by severity, most severe first, then rule, host in numeric address order,
// port and subject; certificates by subject then SHA-256; everything else by address then
// port), with times in UTC and every list non-nil, so that two renders of one scan are
// byte-identical. Its JSON encoding is medscan's JSON document; the field names are a
// contract (ReportSchemaVersion).
//
// Times are stored as fixed-width UTC text, so that comparing strings in SQL compares
// instants, and lists as JSON arrays.
//
// History: Diff compares two reports by fingerprint; a finding missing from the later scan
// is fixed only when that scan covered it (Covered: it was complete, ran the rule and saw
// the service), else it is not assessed. LoadWithChange fills Report.Change against
// PreviousScan (the same label, or any when unlabelled). OpenReadOnly reads a store with no
// possibility of writing it, for reports, diffs and baselines.
package findings
