-- 0001: the first medscan store.
--
-- Times are TEXT in one fixed-width UTC form (2006-01-02T15:04:05.000000000Z) so that
-- comparing strings compares instants: first/last seen are kept with min/max in SQL.
-- Lists are JSON arrays. Addresses are text (netip form); reports sort them numerically.

CREATE TABLE schema_migrations (
	version INTEGER PRIMARY KEY,
	name    TEXT NOT NULL,
	applied TEXT NOT NULL
);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE scans (
	id           INTEGER PRIMARY KEY,
	started      TEXT,
	finished     TEXT,
	label        TEXT NOT NULL DEFAULT '',
	sources      TEXT NOT NULL DEFAULT '[]',
	complete     INTEGER NOT NULL,
	problems     TEXT NOT NULL DEFAULT '[]',
	counters     TEXT NOT NULL DEFAULT '[]',
	tool_version TEXT NOT NULL DEFAULT '',
	policy       TEXT NOT NULL DEFAULT '',
	-- rules is the JSON array of the rule IDs the scan's policy assessed; NULL when the
	-- scan did not record it (then every rule counts as assessed). History needs it:
	-- a finding of a rule the later scan did not run is not assessed, not fixed.
	rules        TEXT
);

-- Assets span every scan of the store; scan_assets is what one scan saw of them.
CREATE TABLE assets (
	id         INTEGER PRIMARY KEY,
	ip         TEXT NOT NULL UNIQUE,
	first_seen TEXT,
	last_seen  TEXT
);

CREATE TABLE asset_macs (
	asset_id   INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
	mac        TEXT NOT NULL,
	first_seen TEXT,
	last_seen  TEXT,
	PRIMARY KEY (asset_id, mac)
) WITHOUT ROWID;

-- The inventory is per scan (kind, reasons, names...), so that a host's kind can change
-- from one scan to the next and an old scan renders as it was. kind is '' when the scan
-- was not classified. names is a JSON array of {name, source}; evidence a JSON object of
-- lists (dhcp_vendor_class, user_agents, servers, cert_subjects, hl7_apps,
-- dicom_ae_titles, dicom_implementations).
CREATE TABLE scan_assets (
	scan_id      INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	asset_id     INTEGER NOT NULL REFERENCES assets(id),
	first_seen   TEXT,
	last_seen    TEXT,
	macs         TEXT NOT NULL DEFAULT '[]',
	kind         TEXT NOT NULL DEFAULT '',
	reasons      TEXT NOT NULL DEFAULT '[]',
	roles        TEXT NOT NULL DEFAULT '[]',
	names        TEXT NOT NULL DEFAULT '[]',
	manufacturer TEXT NOT NULL DEFAULT '',
	model        TEXT NOT NULL DEFAULT '',
	leased_ips   TEXT NOT NULL DEFAULT '[]',
	evidence     TEXT NOT NULL DEFAULT '{}',
	PRIMARY KEY (scan_id, asset_id)
) WITHOUT ROWID;
CREATE INDEX scan_assets_asset ON scan_assets(asset_id, scan_id);

-- Names hosts were seen to carry (DHCP option 12, DNS, mDNS, NetBIOS, LLMNR).
CREATE TABLE host_names (
	id         INTEGER PRIMARY KEY,
	scan_id    INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	ip         TEXT NOT NULL,
	mac        TEXT NOT NULL,
	name       TEXT NOT NULL,
	source     TEXT NOT NULL,
	count      INTEGER NOT NULL,
	first_seen TEXT,
	last_seen  TEXT
);
CREATE INDEX host_names_scan ON host_names(scan_id, ip);

-- DHCP leases tie a MAC to its addresses over time.
CREATE TABLE dhcp_leases (
	id            INTEGER PRIMARY KEY,
	scan_id       INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	mac           TEXT NOT NULL,
	ip            TEXT NOT NULL,
	server        TEXT NOT NULL,
	hostname      TEXT NOT NULL,
	vendor_class  TEXT NOT NULL,
	param_request TEXT NOT NULL,
	acked         INTEGER NOT NULL,
	lease_seconds INTEGER NOT NULL,
	count         INTEGER NOT NULL,
	first_seen    TEXT,
	last_seen     TEXT
);
CREATE INDEX dhcp_leases_scan ON dhcp_leases(scan_id, mac);

-- Files moved in clear over FTP or TFTP: size, digest and kind, never the file.
CREATE TABLE file_transfers (
	id          INTEGER PRIMARY KEY,
	scan_id     INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	client      TEXT NOT NULL,
	client_port INTEGER NOT NULL,
	host        TEXT NOT NULL,
	port        INTEGER NOT NULL,
	protocol    TEXT NOT NULL,
	upload      INTEGER NOT NULL,
	path        TEXT NOT NULL,
	url         TEXT NOT NULL,
	bytes       INTEGER NOT NULL,
	sha256      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	partial     INTEGER NOT NULL,
	count       INTEGER NOT NULL,
	first_seen  TEXT,
	last_seen   TEXT
);
CREATE INDEX file_transfers_scan ON file_transfers(scan_id);

CREATE TABLE services (
	id         INTEGER PRIMARY KEY,
	scan_id    INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	host       TEXT NOT NULL,
	port       INTEGER NOT NULL,
	transport  TEXT NOT NULL,
	protocol   TEXT NOT NULL,
	source     TEXT NOT NULL,
	first_seen TEXT,
	last_seen  TEXT
);
CREATE INDEX services_scan ON services(scan_id, host, port);

CREATE TABLE tls_sessions (
	id               INTEGER PRIMARY KEY,
	scan_id          INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	client           TEXT NOT NULL,
	client_port      INTEGER NOT NULL,
	host             TEXT NOT NULL,
	port             INTEGER NOT NULL,
	source           TEXT NOT NULL,
	count            INTEGER NOT NULL,
	first_seen       TEXT,
	last_seen        TEXT,
	saw_client_hello INTEGER NOT NULL,
	sslv2_hello      INTEGER NOT NULL,
	sni              TEXT NOT NULL,
	alpn_offered     TEXT NOT NULL DEFAULT '[]',
	client_version   INTEGER NOT NULL,
	offered_versions TEXT NOT NULL DEFAULT '[]',
	offered_suites   TEXT NOT NULL DEFAULT '[]',
	offered_groups   TEXT NOT NULL DEFAULT '[]',
	ja3              TEXT NOT NULL,
	ja4              TEXT NOT NULL,
	saw_server_hello INTEGER NOT NULL,
	version          INTEGER NOT NULL,
	suite            INTEGER NOT NULL,
	resumed          INTEGER NOT NULL,
	alpn             TEXT NOT NULL,
	certs_encrypted  INTEGER NOT NULL,
	server_chain     TEXT NOT NULL DEFAULT '[]',
	client_chain     TEXT NOT NULL DEFAULT '[]',
	cert_request     INTEGER NOT NULL,
	cert_request_cas TEXT NOT NULL DEFAULT '[]',
	dh_bits          INTEGER NOT NULL,
	ecdh_curve       INTEGER NOT NULL,
	alerts           TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX tls_sessions_scan ON tls_sessions(scan_id, host, port);

-- A certificate is stored once per store, by the SHA-256 of its DER; facts are filled
-- by whichever scan first had them parsed.
CREATE TABLE certificates (
	id                  INTEGER PRIMARY KEY,
	sha256              TEXT NOT NULL UNIQUE,
	der                 BLOB NOT NULL,
	has_facts           INTEGER NOT NULL DEFAULT 0,
	spki_sha256         TEXT NOT NULL DEFAULT '',
	subject             TEXT NOT NULL DEFAULT '',
	issuer              TEXT NOT NULL DEFAULT '',
	serial              TEXT NOT NULL DEFAULT '',
	not_before          TEXT,
	not_after           TEXT,
	validity_days       INTEGER NOT NULL DEFAULT 0,
	key_type            TEXT NOT NULL DEFAULT '',
	key_bits            INTEGER NOT NULL DEFAULT 0,
	rsa_exponent        INTEGER NOT NULL DEFAULT 0,
	curve               TEXT NOT NULL DEFAULT '',
	signature_algorithm TEXT NOT NULL DEFAULT '',
	signature_hash      TEXT NOT NULL DEFAULT '',
	is_ca               INTEGER NOT NULL DEFAULT 0,
	self_signed         INTEGER NOT NULL DEFAULT 0,
	dns_names           TEXT NOT NULL DEFAULT '[]',
	ip_addresses        TEXT NOT NULL DEFAULT '[]',
	ext_key_usage       TEXT NOT NULL DEFAULT '[]',
	parse_error         TEXT NOT NULL DEFAULT '',
	role                TEXT NOT NULL DEFAULT '',
	role_reasons        TEXT NOT NULL DEFAULT '[]',
	webpki              INTEGER NOT NULL DEFAULT 0,
	webpki_reason       TEXT NOT NULL DEFAULT '',
	lints               TEXT NOT NULL DEFAULT '[]',
	lint_error          TEXT NOT NULL DEFAULT '',
	first_seen          TEXT
);
CREATE INDEX certificates_spki ON certificates(spki_sha256);

-- scan_certificates links a scan to every certificate it held, including those it saw
-- nowhere on the network (read from a file).
CREATE TABLE scan_certificates (
	scan_id    INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	cert_id    INTEGER NOT NULL REFERENCES certificates(id),
	first_seen TEXT,
	PRIMARY KEY (scan_id, cert_id)
) WITHOUT ROWID;
CREATE INDEX scan_certificates_cert ON scan_certificates(cert_id);

CREATE TABLE cert_sightings (
	id       INTEGER PRIMARY KEY,
	scan_id  INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	cert_id  INTEGER NOT NULL REFERENCES certificates(id),
	host     TEXT NOT NULL,
	port     INTEGER NOT NULL,
	peer     TEXT NOT NULL,
	role     TEXT NOT NULL,
	position INTEGER NOT NULL,
	sni      TEXT NOT NULL,
	time     TEXT,
	source   TEXT NOT NULL
);
CREATE INDEX cert_sightings_scan ON cert_sightings(scan_id, cert_id);
CREATE INDEX cert_sightings_cert ON cert_sightings(cert_id);

-- Credentials are masked: a preview and a keyed hash, never the secret.
CREATE TABLE credentials (
	id          INTEGER PRIMARY KEY,
	scan_id     INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	client      TEXT NOT NULL,
	client_port INTEGER NOT NULL,
	host        TEXT NOT NULL,
	port        INTEGER NOT NULL,
	protocol    TEXT NOT NULL,
	kind        TEXT NOT NULL,
	location    TEXT NOT NULL,
	user        TEXT NOT NULL,
	preview     TEXT NOT NULL,
	hash        TEXT NOT NULL,
	count       INTEGER NOT NULL,
	first_seen  TEXT,
	last_seen   TEXT
);
CREATE INDEX credentials_scan ON credentials(scan_id);
CREATE INDEX credentials_hash ON credentials(hash);

CREATE TABLE http_requests (
	id                INTEGER PRIMARY KEY,
	scan_id           INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	client            TEXT NOT NULL,
	client_port       INTEGER NOT NULL,
	host              TEXT NOT NULL,
	port              INTEGER NOT NULL,
	count             INTEGER NOT NULL,
	first_seen        TEXT,
	last_seen         TEXT,
	method            TEXT NOT NULL,
	host_header       TEXT NOT NULL,
	path              TEXT NOT NULL,
	query_keys        TEXT NOT NULL DEFAULT '[]',
	user_agent        TEXT NOT NULL,
	content_type      TEXT NOT NULL,
	auth_scheme       TEXT NOT NULL,
	has_cookie        INTEGER NOT NULL,
	api_key_headers   TEXT NOT NULL DEFAULT '[]',
	status            INTEGER NOT NULL,
	server            TEXT NOT NULL,
	resp_content_type TEXT NOT NULL,
	body_bytes        INTEGER NOT NULL DEFAULT 0,
	body_sha256       TEXT NOT NULL DEFAULT '',
	body_kind         TEXT NOT NULL DEFAULT '',
	body_partial      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX http_requests_scan ON http_requests(scan_id);

CREATE TABLE mqtt_connects (
	id             INTEGER PRIMARY KEY,
	scan_id        INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	client         TEXT NOT NULL,
	client_port    INTEGER NOT NULL,
	host           TEXT NOT NULL,
	port           INTEGER NOT NULL,
	count          INTEGER NOT NULL,
	first_seen     TEXT,
	last_seen      TEXT,
	protocol_name  TEXT NOT NULL,
	protocol_level INTEGER NOT NULL,
	client_id      TEXT NOT NULL,
	username       TEXT NOT NULL,
	has_username   INTEGER NOT NULL,
	has_password   INTEGER NOT NULL
);
CREATE INDEX mqtt_connects_scan ON mqtt_connects(scan_id);

-- HL7 messages are counted by type; patient segments are counted, never copied.
CREATE TABLE hl7_messages (
	id                 INTEGER PRIMARY KEY,
	scan_id            INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	client             TEXT NOT NULL,
	client_port        INTEGER NOT NULL,
	host               TEXT NOT NULL,
	port               INTEGER NOT NULL,
	count              INTEGER NOT NULL,
	first_seen         TEXT,
	last_seen          TEXT,
	sending_app        TEXT NOT NULL,
	sending_facility   TEXT NOT NULL,
	receiving_app      TEXT NOT NULL,
	receiving_facility TEXT NOT NULL,
	message_type       TEXT NOT NULL,
	trigger_event      TEXT NOT NULL,
	version            TEXT NOT NULL,
	patient_segments   INTEGER NOT NULL,
	is_ack             INTEGER NOT NULL,
	ack_code           TEXT NOT NULL DEFAULT '',
	devices            TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX hl7_messages_scan ON hl7_messages(scan_id);

CREATE TABLE dicom_associations (
	id                INTEGER PRIMARY KEY,
	scan_id           INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	client            TEXT NOT NULL,
	client_port       INTEGER NOT NULL,
	host              TEXT NOT NULL,
	port              INTEGER NOT NULL,
	count             INTEGER NOT NULL,
	first_seen        TEXT,
	last_seen         TEXT,
	calling_ae        TEXT NOT NULL,
	called_ae         TEXT NOT NULL,
	result            TEXT NOT NULL,
	impl_class_uid    TEXT NOT NULL,
	impl_version      TEXT NOT NULL,
	abstract_syntaxes TEXT NOT NULL DEFAULT '[]',
	abstract_syntax_names TEXT NOT NULL DEFAULT '[]',
	accepted_contexts INTEGER NOT NULL DEFAULT 0,
	rejected_contexts INTEGER NOT NULL DEFAULT 0,
	roles             TEXT NOT NULL DEFAULT '[]',
	pdata_pdus        INTEGER NOT NULL DEFAULT 0,
	pdata_bytes       INTEGER NOT NULL DEFAULT 0,
	patient_attributes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dicom_associations_scan ON dicom_associations(scan_id);

-- findings holds each distinct finding once (by fingerprint) with its span across scans;
-- scan_findings holds what each scan said of it, so an old scan renders as it was.
CREATE TABLE findings (
	id          INTEGER PRIMARY KEY,
	fingerprint TEXT NOT NULL UNIQUE,
	rule        TEXT NOT NULL,
	severity    INTEGER NOT NULL,
	host        TEXT NOT NULL,
	port        INTEGER NOT NULL,
	subject     TEXT NOT NULL,
	message     TEXT NOT NULL,
	evidence    TEXT NOT NULL DEFAULT '{}',
	time        TEXT,
	source      TEXT NOT NULL,
	remediation TEXT NOT NULL,
	refs        TEXT NOT NULL DEFAULT '[]',
	first_seen  TEXT,
	last_seen   TEXT
);
CREATE INDEX findings_rule ON findings(rule, severity);
CREATE INDEX findings_host ON findings(host, port);

CREATE TABLE scan_findings (
	scan_id     INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	fingerprint TEXT NOT NULL REFERENCES findings(fingerprint),
	severity    INTEGER NOT NULL,
	message     TEXT NOT NULL,
	evidence    TEXT NOT NULL DEFAULT '{}',
	time        TEXT,
	source      TEXT NOT NULL,
	remediation TEXT NOT NULL,
	refs        TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (scan_id, fingerprint)
) WITHOUT ROWID;
CREATE INDEX scan_findings_fingerprint ON scan_findings(fingerprint);

-- Active probing (issue 5): what the prober learned per port, and its account of each
-- host (connections made, failures, why it stopped or never started). The TLS profile
-- is one JSON document per port: it is read whole, never queried by its parts.
CREATE TABLE probe_endpoints (
	scan_id     INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	host        TEXT NOT NULL,
	port        INTEGER NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	time        TEXT,
	outcome     TEXT NOT NULL,
	error       TEXT NOT NULL DEFAULT '',
	protocol    TEXT NOT NULL DEFAULT '',
	software    TEXT NOT NULL DEFAULT '',
	connections INTEGER NOT NULL,
	tls         TEXT,
	PRIMARY KEY (scan_id, host, port)
) WITHOUT ROWID;

CREATE TABLE probe_hosts (
	scan_id     INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	host        TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	connections INTEGER NOT NULL,
	failures    INTEGER NOT NULL,
	skipped     TEXT NOT NULL DEFAULT '',
	backed_off  INTEGER NOT NULL,
	first       TEXT,
	last        TEXT,
	PRIMARY KEY (scan_id, host)
) WITHOUT ROWID;
