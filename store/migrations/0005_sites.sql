-- 0005: sites. A health system's sensors (one or more per hospital or clinic) write into
-- one store, or into their own and are synced into one later (Sync). Each scan records
-- its site (--site; '' for the scans made before, and for a sensor given none) and a
-- random identifier (uid, 128 bits in hex) that stays the same in every store the scan
-- is copied to, so that copying it again adds nothing; the integer id stays the local
-- handle. The step in Go gives the scans made before their uid. The rows of one scan
-- that queries across sites read (certificate sightings, a scan's findings) carry the
-- scan's site beside them. Fingerprints do not change: they name what was seen, not who
-- saw it.
--
-- Assets were one per address across the store; two sites number their networks alike
-- (10.20.0.5 at one hospital is not 10.20.0.5 at another), so an asset is now one per
-- site and address. SQL cannot change a table's UNIQUE constraint in place on SQLite,
-- so the three asset tables are rebuilt, keeping their ids, and the new ones take the
-- old names (SQLite and PostgreSQL both carry the foreign keys through a rename).
-- Portable SQL only: the same file runs on PostgreSQL.

ALTER TABLE scans ADD COLUMN site TEXT NOT NULL DEFAULT '';
ALTER TABLE scans ADD COLUMN uid TEXT;
CREATE UNIQUE INDEX scans_uid ON scans(uid);
CREATE INDEX scans_site ON scans(site, kind, label);

ALTER TABLE cert_sightings ADD COLUMN site TEXT NOT NULL DEFAULT '';
ALTER TABLE scan_findings ADD COLUMN site TEXT NOT NULL DEFAULT '';

CREATE TABLE assets_v5 (
	id         INTEGER PRIMARY KEY,
	site       TEXT NOT NULL DEFAULT '',
	ip         TEXT NOT NULL,
	first_seen TEXT,
	last_seen  TEXT,
	UNIQUE (site, ip)
);
INSERT INTO assets_v5(id, site, ip, first_seen, last_seen) SELECT id, '', ip, first_seen, last_seen FROM assets;

CREATE TABLE asset_macs_v5 (
	asset_id   INTEGER NOT NULL REFERENCES assets_v5(id) ON DELETE CASCADE,
	mac        TEXT NOT NULL,
	first_seen TEXT,
	last_seen  TEXT,
	PRIMARY KEY (asset_id, mac)
);
INSERT INTO asset_macs_v5(asset_id, mac, first_seen, last_seen) SELECT asset_id, mac, first_seen, last_seen FROM asset_macs;

CREATE TABLE scan_assets_v5 (
	scan_id  INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	asset_id INTEGER NOT NULL REFERENCES assets_v5(id),
	kind     TEXT NOT NULL DEFAULT '',
	data     TEXT NOT NULL,
	PRIMARY KEY (scan_id, asset_id)
);
INSERT INTO scan_assets_v5(scan_id, asset_id, kind, data) SELECT scan_id, asset_id, kind, data FROM scan_assets;

DROP TABLE scan_assets;
DROP TABLE asset_macs;
DROP TABLE assets;
ALTER TABLE assets_v5 RENAME TO assets;
ALTER TABLE asset_macs_v5 RENAME TO asset_macs;
ALTER TABLE scan_assets_v5 RENAME TO scan_assets;
CREATE INDEX scan_assets_asset ON scan_assets(asset_id, scan_id);
