-- 0010: a finding's evidence stored once. Every finding's evidence was written twice:
-- in scan_findings, the scan's own copy that Load and the report stream read, and in
-- findings, as the newest description across scans, which no query reads. On a dense
-- capture that second copy was a fifth of the store (6.3 MB of 33 MB, for 5,700
-- findings' evidence). The scan's copy stays; the store-wide row keeps what identifies
-- the finding and its first and last seen. The space the copies held is reused by
-- later saves (no VACUUM: nothing secret was in them). An older medscan refuses the
-- migrated store by its schema version, as any newer store. Portable SQL only: the
-- same file runs on PostgreSQL.
ALTER TABLE findings DROP COLUMN evidence;
