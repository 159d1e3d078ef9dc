-- 0006: the scanner's own audit trail (store/audit.go). Each run that writes the store
-- appends one record: who ran it, where, the command line without secrets, medscan's
-- version, the policy's SHA-256 and the scan it stored. Records are chained: hash is the
-- SHA-256 of the record and the hash before it, so that an edited or deleted record
-- breaks the chain (medscan audit --verify). seq is given by the writer, not generated,
-- and its key makes two writers that raced for the same place retry, on SQLite and
-- PostgreSQL alike. run_scan is the scan the run stored (0 for none), deliberately not a
-- foreign key: the record of a run outlives the scan it wrote.
CREATE TABLE audit_runs (
	seq       BIGINT PRIMARY KEY,
	at        TEXT NOT NULL,
	os_user   TEXT NOT NULL,
	host      TEXT NOT NULL,
	command   TEXT NOT NULL,
	version   TEXT NOT NULL,
	policy    TEXT NOT NULL,
	run_scan  BIGINT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
