// Package store keeps medscan's scans in SQLite: every scan's report document (package
// findings), the findings across scans with their history, and what later scans and the
// CLI ask of them (the latest scan, the previous comparable one, the change between two,
// the CI gate, a baseline). It owns the schema, its migrations, saving and loading, and
// the history; it renders nothing.
//
// # The file
//
// Open creates or opens a medscan.db: SQLite through the pure-Go driver, in WAL mode so
// that a report can be rendered while a scan is being written, with foreign keys on, a
// busy timeout so that two writers queue rather than fail, and secure_delete so that what
// is deleted or rewritten leaves no copy in free pages. The schema is migrated by
// numbered SQL files embedded in the binary (migrations/0001_init.sql, ...), applied in
// one transaction with, where SQL cannot express a change, a step in Go (goSteps), and
// recorded both in PRAGMA user_version and in schema_migrations. A store written by a
// newer medscan is refused before anything touches the file, and so is a file that is not
// a medscan store. OpenReadOnly reads a store with no possibility of writing it, for
// reports, diffs and baselines.
//
// # Who may write, and what is left beside the file
//
// Open refuses a store this process cannot write (a read-only file or mount, a
// directory it may not create files in, a -wal or -shm file it may not write) before
// SQLite opens it (ErrNotWritable, files.go): a scan is refused before hours of capture,
// not when it is saved. What fails only at the end (a full disk) fails the one
// transaction of Save, so nothing of the scan is kept; the CLI then renders it from
// memory.
//
// In WAL mode SQLite keeps two files beside the store, the log (-wal) and its index in
// shared memory (-shm); even a read-only connection creates them when they are absent,
// and leaves them, owned by whoever read. Another user's "medscan scans" would then lock
// the owner out of the next scan (they cannot write that user's -shm), and in a
// directory the reader cannot write the read fails. So OpenReadOnly opens the file
// with mode=ro, and also immutable=1 when a side file is missing and the reader cannot
// create it or is not the store's owner: SQLite then reads the file alone and creates
// nothing. When both side files exist a writer has the store open (or crashed), and
// they are read as they are, creating nothing. We chose this over giving the files to
// the owner (fchown needs root; SQLite's unix VFS already does it for root) because it
// holds for every user. The cost: an immutable read assumes no one writes meanwhile. A
// scan that begins while another user reads may make that read fail or miss it (never
// change the file), and a log left by a writer that crashed is not read until the owner
// opens the store again.
//
// # What is kept
//
// Save writes one scan in one transaction, in multi-row INSERTs (batch.go), findings in
// fingerprint order so that each B-tree page is filled once. SaveAsStored also leaves
// the document as Load would read it back, so that a scan just run is rendered without
// being read back. A scan's observations are kept as the
// elements of its report document, as JSON in the document's field names (kinds.go), so
// that a fact added to an observation type is kept and read back without a schema
// change; the quiet hosts (findings.QuietHost), which a sweep brings by the hundred
// thousand, are kept 512 to a row.
// Findings are kept once per fingerprint across the whole store, with first_seen and
// last_seen the earliest and latest observation of them; each scan links to the findings
// it raised and keeps its own copy of their severity, message and evidence, so that an
// old scan renders as it was even after a later one has changed them. Saving the same
// capture twice therefore adds a scan, not findings. Certificates are kept once per
// SHA-256 with their DER and facts; assets (not quiet hosts) once per address, with each scan's inventory
// entry beside them (AssetKinds reads the latest kind of every address). A live scan is
// one scan rewritten in place at each commit (Checkpoint).
//
// Credentials are stored as observe gives them, a masked preview and a keyed hash. The
// key (SecretKey) is never stored: OpenKeyed reads it from a key file (internal/secretkey),
// moving out and deleting the key an older medscan kept in meta; every scan records the
// fingerprint of the key its hashes were made under (ScanKeyID), so that hashes made under
// another key are told apart.
//
// Load returns a scan's document derived, sorted and tidy (package findings): every
// string read from the file passes through observe.Clean, so that a store someone else
// wrote cannot drive a terminal or a browser through a report. Times are stored as
// fixed-width UTC text, so that comparing strings in SQL compares instants.
//
// # History
//
// Runs are of a kind (findings.KindNetwork or KindLint), and "latest" means the latest
// of a kind (network unless asked). PreviousScan pairs a scan with the latest earlier
// one of the same kind and label, or, unlabelled, of the same sources (files by absolute
// path; standard input never pairs); never two unrelated scans. Diff compares two documents by fingerprint: a finding missing from the later
// scan is fixed only when that scan assessed its rule on its target, as the rule's
// declared coverage says (findings.Coverage; coverage.go), and not assessed otherwise,
// with the reason. Gate applies --fail-on and --fail-on-new to a rendered scan;
// LoadBaseline reads a --baseline.
package store
