-- 0008: a signature per
-- audit record (store/auditkey.go). sig is the base64 Ed25519 signature of the record's
-- hash made with the site's audit key, sig_key the SHA-256 of that key's public half;
-- both '' for a record written without the key (every record before this migration).
-- The signature is not part of the hash, so the chain reads and checks as before
-- without the key; with it, a rewritten chain shows records whose signatures fail.
ALTER TABLE audit_runs ADD COLUMN sig TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_runs ADD COLUMN sig_key TEXT NOT NULL DEFAULT '';
