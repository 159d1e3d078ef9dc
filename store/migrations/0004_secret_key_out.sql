-- 0004: the key of the credential hashes leaves the store for a key file
-- (internal/secretkey); OpenKeyed moves it out and deletes it from meta. Each scan
-- records the fingerprint of the key its hashes were made under (secretkey.Fingerprint),
-- so that hashes made under another key (an old store key that a different key file
-- replaced, or one that is gone) are told apart and never compared. The step in Go
-- stamps the scans made before with the fingerprint of the store's key.
ALTER TABLE scans ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
