// Package store keeps medscan's scans in SQLite, or in PostgreSQL (a central store for
// many sensors; see "PostgreSQL" below): every scan's report document (package
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
// being read back; each finding's evidence is converted to what Load decodes as its row
// is written (asstored.go), a list several findings hold converted once and shared, a
// map that converts to itself kept as it is. The rows' JSON columns (an asset, a
// certificate's facts, an observation, a finding's evidence and its conversion) are
// encoded on a goroutine of their own a few chunks ahead of the SQL (ahead.go), so that
// encoding and SQLite's single writer overlap. While a scan is saved, ReadPrevious
// reads the scan it will be compared with (the persisting findings as identities
// only), for AttachChangeFrom once it is stored (previous.go). A scan's observations are kept as the
// elements of its report document, as JSON in the document's field names (kinds.go), so
// that a fact added to an observation type is kept and read back without a schema
// change; the quiet hosts (findings.QuietHost), which a sweep brings by the hundred
// thousand, are kept 512 to a row.
// Findings are kept once per fingerprint across the whole store, with first_seen and
// last_seen the earliest and latest observation of them; each scan links to the findings
// it raised and keeps its own copy of their severity, message and evidence, so that an
// old scan renders as it was even after a later one has changed them. The evidence is
// kept only there (migration 0010 dropped the store-wide copy, which no query read). A rule's text
// (remediation and references, the catalog's prose, most of a finding's bytes) is kept
// once in rule_texts, keyed by a hash of the text, and named from the finding rows: a
// text changed by a newer medscan is another row, so an old scan keeps the text it was
// judged with. Saving the same
// capture twice therefore adds a scan, not findings. Certificates are kept once per
// SHA-256 with their DER and facts, and what linting each found in
// lint_cache (migration 0011, LintCache and KeepLintCache): the facts of the DER and
// zlint's results per linter version, role, PKI and self-signature, so that a later scan
// or lint run does not lint again what an earlier one did (package lint's cache.go says
// what is kept and what is decided afresh; rows of another linter version are dropped
// when a certificate's row is kept again), and in meta the last batch GCD's answer over
// the store's and a scan's RSA moduli, with the set it was computed over and its product
// (KeptPrimes);
// assets (not quiet hosts) once per site and address, with each scan's inventory
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
// wrote cannot drive a terminal or a browser through a report. Stream returns the same
// document with its findings left in the store (findings.FindingStream): counted by
// severity in SQL, grouped by rule and severity in one pass over their identities, and
// read whole one row at a time, each tidied, in the document's order by an ORDER BY
// (findingOrder in load.go; the findings table's host_order column, migration 0009,
// is the host as a string whose byte order is findings.CompareHosts', order.go), so
// that rendering a scan of tens of thousands of findings holds none of them. StreamWith
// (StreamOptions) streams the document as the CLI prepares it, too: its change since the
// previous comparable scan computed by fingerprint in SQL (each finding marked new or
// persisting by whether the earlier scan holds its fingerprint; only the earlier
// scan's findings the later one lacks read whole, to be judged fixed or not assessed)
// or against a baseline document's set of fingerprints, and the suppressions in force
// applied in a first pass over the findings' identities (the few suppressed read whole,
// the counts and spans those of the others). The change's lists hold a line per
// finding (findings.ChangedFinding: identity and message, no evidence); the findings
// themselves are still read one at a time. The stream also lists the findings'
// identities with their times (FindingStream.Identities, identities.go), so that an
// incremental export (findings.Report.ChangedSince) decides which it keeps before any
// is read whole. Tests hold every streamed format to the
// bytes of the document loaded whole (Load, AttachChange or Diff, then
// rules.ApplySuppressions). The one
// SELECT of a scan's findings whole, for both, is findingQuery (load.go). Were a store
// to hold a host that observe.Clean changes, the stream would order it by its stored
// text and Load by its cleaned text; a medscan stores hosts clean. Times are stored as
// fixed-width UTC text, so that comparing strings in SQL compares instants.
//
// Both read the other lists (certificates, assets, the observation kinds) whole, on the
// one read transaction, and decode their JSON, which is most of the cost of reading a
// large scan, on every core (decode.go): each list is counted first, rows are handed
// to the decoders in batches that each fill their own stretch of the list, and a row
// that cannot be decoded fails the read as it did when rows were decoded one by one.
// The findings are read the same way, by Load and Stream alike: rows on a goroutine of
// their own, decoded in batches on every core, yielded in order a few batches ahead of
// the reader (decodeFindings). StreamWith leaves out what a writer does not read (StreamOptions.WithoutFlows): the data-flow
// map, for the formats that do not render it (report.RendersFlows). LoadParts reads only
// the parts a command shows (the inventory: assets, services and quiet hosts; the flow
// map: flows, assets, and of the findings only what a flow counts, PartFindingPlaces),
// with what they are derived from on loading (a
// service's TLS version from the sessions and probes), the kinds left out in SQL; a scan
// stored before flows were recorded is read whole for its flows, which are computed from
// every list.
//
// # PostgreSQL
//
// Open and OpenReadOnly given a postgres:// or postgresql:// URL (IsPostgresDSN) open
// that database through pgx's database/sql driver, and everything above holds there
// too, through the same code: one set of queries, written with SQLite's ? placeholders
// in SQL both engines speak, which each PostgreSQL connection rebinds to $1, $2... (?N
// to $N; dialect.go). The schema comes from the same numbered files, translated
// statement by statement (pgStatements): INTEGER becomes BIGINT (SQLite's are 64 bits),
// INTEGER PRIMARY KEY an identity column, BLOB BYTEA, TEXT TEXT COLLATE "C" (so that
// ORDER BY and the time comparisons go by bytes, as in SQLite, whatever the server's
// locale), WITHOUT ROWID is dropped, and PRAGMAs are skipped (in the Go steps too). No
// PostgreSQL store predates schema 4 (pgBaseline), so the statements of migrations up
// to it that convert an older medscan's data (INSERT, UPDATE, DELETE, with SQLite's
// JSON functions) have nothing to convert there and are skipped; later migrations must
// be portable SQL and run whole on both. The Go steps run on both. The version is the
// newest row of schema_migrations (PostgreSQL has no user_version); a newer one is
// refused as for a file, and a database holding other tables but no medscan schema is
// refused too. The migration is one serializable transaction, so that two sensors
// creating the same new store at once leave one schema: the loser runs again and finds
// it done.
//
// What is SQLite's alone stays so: WAL, the PRAGMAs, the file checks (ErrNotWritable,
// side files, immutable reads) and secure_delete. On PostgreSQL, OpenReadOnly sets
// default_transaction_read_only on every connection, so that the server refuses any
// write; who may write is the server's business (roles and grants), and Open refuses a
// role that may not write medscan's tables (checkPGWritable) as it refuses a file it
// cannot write (ErrNotWritable); what is deleted is
// reclaimed by the server's own vacuum; and the password of the URL is never printed
// (Path is the URL with it masked, RedactDSN).
//
// Many writers at once: every write transaction (Save, BeginScan, Checkpoint) runs
// SERIALIZABLE on PostgreSQL, so that sensors saving the same findings, certificates
// and assets from any number of processes behave as if one ran after the other; when
// the server reports a collision (serialization failure or deadlock) the whole
// transaction runs again from scratch, after a random pause that doubles, at most
// maxTxAttempts times (Retries counts them). The upserts are ON CONFLICT on the
// fingerprint, the SHA-256 and the address, so nothing is duplicated; scan ids come
// from an identity column, which a transaction run again leaves a gap in. A Load reads
// in one REPEATABLE READ transaction, one snapshot for all its statements, so that a
// checkpoint committed meanwhile is seen whole or not at all, as in SQLite.
// # Sites
//
// Every scan records its site (findings.ScanInfo.Site, --site; "" for none, and for the
// scans made before sites) and a uid, 128 random bits in hex drawn when it is first saved
// (the integer id is one store's handle). Certificate sightings and a scan's findings
// keep their scan's site beside them, for the queries across sites. Fingerprints do not
// depend on the site or the sensor: they name what was seen. Sync copies every scan of
// another store (a site sensor's file) into this one, each in one transaction, skipping
// those whose uid it holds, with the fingerprint of the key the scan's hashes were made
// under; findings' first and last seen widen as in any save. FleetKeys, FleetCredentials
// and FleetSenders read what other sites' current scans (the latest of each site, kind
// and label) saw of a scan's keys, secrets and clinical servers (observe.Fleet),
// bounded, and only hashes made under the same key; KeySites names every site that ever
// held a key (a shared prime is a flaw of the generator, however old the scan). ResolveSiteScan is ResolveScan
// among one site's scans. The SQL is portable (migration 0005 rebuilds the asset tables
// rather than alter a constraint in place) so that the same migration runs on
// PostgreSQL.
//
// # History
//
// Runs are of a kind (findings.KindNetwork or KindLint), and "latest" means the latest
// of a kind (network unless asked). PreviousScan pairs a scan with the latest earlier
// one of the same site, kind and label, or, unlabelled, of the same sources (files by absolute
// path; standard input never pairs); never two unrelated scans. Diff compares two documents by fingerprint: a finding missing from the later
// scan is fixed only when that scan assessed its rule on its target, as the rule's
// declared coverage says (findings.Coverage; coverage.go), and not assessed otherwise,
// with the reason. Gate applies --fail-on and --fail-on-new to a rendered scan;
// LoadBaseline reads a --baseline.
//
// # Audit trail
//
// Every run that writes the store appends a record of itself (RecordRun, audit.go): when,
// the operating-system user and host, the command line with its secrets removed (the CLI
// redacts), medscan's version, the policy file's SHA-256 and the scan it stored. Records
// are chained by SHA-256, each over its own fields and the hash before it, so AuditTrail
// detects an edited record, a deleted one, and, given a head kept outside the store, the
// deletion of the newest. The chain is not keyed: whoever can write the store can
// rewrite the chain from the record they change onward, which only the kept head reveals.
package store
