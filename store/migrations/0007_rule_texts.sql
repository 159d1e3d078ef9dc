-- 0007: a rule's text stored once. Every finding carried its rule's remediation and
-- references (about 6 KB of the catalog's prose) twice, in findings and in
-- scan_findings: most of a large store, and most of the bytes a save writes. The text
-- now lives once in rule_texts, keyed by a hash of the text itself (ruleTextHash), and
-- finding rows name it (text_hash). The key is the text's, not the rule's: a rule whose
-- advice changes in a later medscan gets a second row, and an older scan keeps the text
-- it was judged with. Rows of rule_texts are never deleted: they are the catalog's
-- prose, not anything observed. The step in Go (migrate0007.go) hashes the texts the
-- finding rows hold, which portable SQL cannot, fills rule_texts and text_hash, and then
-- drops the old columns. Portable SQL only: the same file runs on PostgreSQL.
CREATE TABLE rule_texts (
	hash        TEXT PRIMARY KEY,
	remediation TEXT NOT NULL,
	refs        TEXT NOT NULL
) WITHOUT ROWID;
ALTER TABLE findings ADD COLUMN text_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE scan_findings ADD COLUMN text_hash TEXT NOT NULL DEFAULT '';
-- Two indexes of findings no query reads (findings are read by scan, through
-- scan_findings, and by fingerprint), each written at every finding a scan saves.
DROP INDEX findings_rule;
DROP INDEX findings_host;
