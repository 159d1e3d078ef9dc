-- 0011: certificate lint results kept between scans (the lint cache, lint/cache.go).
-- A scheduled scan of the same hospital sees nearly every certificate it saw before,
-- and parsing and linting them again was a fifth of a scan's CPU. A row keeps what
-- examining one certificate (by the SHA-256 of its DER) found with one linter
-- (lint_version: medscan's lint code, zlint's and every module's version, Go's): the
-- facts of the DER alone, and zlint's results for the role, PKI (webpki) and
-- self-signature they were chosen by, so that a certificate seen in another role is
-- linted again. The role, the PKI and the key checks are decided afresh by every scan;
-- record is JSON that only package lint reads. Nothing secret or about patients is in
-- it: what a certificate's DER says (certificates keeps the DER itself) and zlint's
-- words about it. No key to certificates or scans: a row is true whatever scan saw the
-- certificate, and a checkpoint rewriting a scan leaves it. Rows of another
-- lint_version are dropped when a certificate's row is kept again. Portable SQL only:
-- the same file runs on PostgreSQL.
CREATE TABLE lint_cache (
	cert_sha256  TEXT NOT NULL,
	lint_version TEXT NOT NULL,
	role         TEXT NOT NULL,
	webpki       INTEGER NOT NULL,
	self_signed  INTEGER NOT NULL,
	record       TEXT NOT NULL,
	PRIMARY KEY (cert_sha256, lint_version, role, webpki, self_signed)
) WITHOUT ROWID;
