-- 0003: a certificate read from a file names the file (observe.CertSighting.File), so
-- that every finding about it can say where it is. Sightings of older lint runs keep
-- '' (the file was not recorded).

ALTER TABLE cert_sightings ADD COLUMN file TEXT NOT NULL DEFAULT '';

-- And the finding about such a certificate names it, per scan (a later run may find the
-- same certificate, the same fingerprint, in another file): findings.Finding.File.
ALTER TABLE scan_findings ADD COLUMN file TEXT NOT NULL DEFAULT '';
