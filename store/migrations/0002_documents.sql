-- 0002: one finding model (package findings) and the store beside it.
--
-- A scan is kept as its report document: the observation lists live in one table,
-- observations, one row per element, as JSON in the document's own field names, so that
-- a fact added to an observation type needs no schema change. An asset's inventory entry and a certificate's facts are JSON
-- likewise. Scans record their kind (network or lint), which "latest" and the history
-- keep apart. A step in Go (store's migrate0002.go) then templates the paths of HTTP
-- requests and file transfers (observe.PathTemplate), the raw paths an older medscan
-- kept being patient data, and wherever else older medscan wrote them.

ALTER TABLE scans ADD COLUMN kind TEXT NOT NULL DEFAULT 'network';
-- A lint run read certificate files: file sightings, and nothing from the network.
UPDATE scans SET kind = 'lint'
	WHERE EXISTS (SELECT 1 FROM cert_sightings g WHERE g.scan_id = scans.id AND g.source = 'file')
	AND NOT EXISTS (SELECT 1 FROM cert_sightings g WHERE g.scan_id = scans.id AND g.source != 'file')
	AND NOT EXISTS (SELECT 1 FROM tls_sessions t WHERE t.scan_id = scans.id)
	AND NOT EXISTS (SELECT 1 FROM services v WHERE v.scan_id = scans.id)
	AND NOT EXISTS (SELECT 1 FROM scan_assets a WHERE a.scan_id = scans.id);
CREATE INDEX scans_kind ON scans(kind, label);

CREATE TABLE observations (
	scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	kind    TEXT NOT NULL,
	seq     INTEGER NOT NULL,
	data    TEXT NOT NULL,
	PRIMARY KEY (scan_id, kind, seq)
) WITHOUT ROWID;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'service', id, json_object('host', host, 'port', port, 'transport', transport,
	'protocol', protocol, 'source', source, 'first_seen', first_seen, 'last_seen', last_seen)
FROM services;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'tls', id, json_object('client', client, 'host', host, 'port', port, 'count', count,
	'first_seen', first_seen, 'last_seen', last_seen, 'source', source,
	'saw_client_hello', json(iif(saw_client_hello, 'true', 'false')), 'sslv2_hello', json(iif(sslv2_hello, 'true', 'false')),
	'sni', sni, 'alpn_offered', json(alpn_offered), 'client_version', client_version,
	'offered_versions', json(offered_versions), 'offered_suites', json(offered_suites),
	'offered_groups', json(offered_groups), 'ja3', ja3, 'ja4', ja4,
	'saw_server_hello', json(iif(saw_server_hello, 'true', 'false')), 'version_id', version,
	'suite_id', iif(version = 2, 0, suite), 'sslv2_cipher_id', iif(version = 2, suite, 0),
	'resumed', json(iif(resumed, 'true', 'false')), 'alpn', alpn,
	'certs_encrypted', json(iif(certs_encrypted, 'true', 'false')), 'server_certs', json(server_chain),
	'client_certs', json(client_chain), 'cert_request', json(iif(cert_request, 'true', 'false')),
	'cert_request_cas', json(cert_request_cas), 'dh_bits', dh_bits, 'ecdh_curve_id', ecdh_curve, 'alerts', json(alerts))
FROM tls_sessions;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'credential', id, json_object('client', client, 'host', host, 'port', port,
	'protocol', protocol, 'kind', kind, 'where', location, 'user', user, 'preview', preview, 'hash', hash,
	'count', count, 'first_seen', first_seen, 'last_seen', last_seen)
FROM credentials;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'mqtt', id, json_object('client', client, 'host', host, 'port', port, 'count', count,
	'first_seen', first_seen, 'last_seen', last_seen, 'protocol_name', protocol_name, 'protocol_level', protocol_level,
	'client_id', client_id, 'username', username, 'has_username', json(iif(has_username, 'true', 'false')),
	'has_password', json(iif(has_password, 'true', 'false')))
FROM mqtt_connects;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'hl7', id, json_object('client', client, 'host', host, 'port', port, 'count', count,
	'first_seen', first_seen, 'last_seen', last_seen, 'sending_app', sending_app, 'sending_facility', sending_facility,
	'receiving_app', receiving_app, 'receiving_facility', receiving_facility, 'message_type', message_type,
	'trigger_event', trigger_event, 'version', version, 'patient_segments', patient_segments,
	'is_ack', json(iif(is_ack, 'true', 'false')), 'ack_code', ack_code, 'devices', json(devices))
FROM hl7_messages;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'dicom', id, json_object('client', client, 'host', host, 'port', port, 'count', count,
	'first_seen', first_seen, 'last_seen', last_seen, 'calling_ae', calling_ae, 'called_ae', called_ae,
	'result', result, 'impl_class_uid', impl_class_uid, 'impl_version', impl_version,
	'abstract_syntaxes', json(abstract_syntaxes), 'abstract_syntax_names', json(abstract_syntax_names),
	'accepted_contexts', accepted_contexts, 'rejected_contexts', rejected_contexts, 'roles', json(roles),
	'pdata_pdus', pdata_pdus, 'pdata_bytes', pdata_bytes, 'patient_attributes', patient_attributes)
FROM dicom_associations;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'name', id, json_object('ip', ip, 'mac', mac, 'name', name, 'source', source,
	'count', count, 'first_seen', first_seen, 'last_seen', last_seen)
FROM host_names;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'dhcp', id, json_object('mac', mac, 'ip', ip, 'server', server, 'hostname', hostname,
	'vendor_class', vendor_class, 'param_request', param_request, 'acked', json(iif(acked, 'true', 'false')),
	'lease_seconds', lease_seconds, 'count', count, 'first_seen', first_seen, 'last_seen', last_seen)
FROM dhcp_leases;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'probe', row_number() OVER (PARTITION BY scan_id ORDER BY host, port),
	json_object('host', host, 'port', port, 'name', name, 'time', time, 'outcome', outcome, 'error', error,
	'protocol', protocol, 'software', software, 'connections', connections, 'tls', json(tls))
FROM probe_endpoints;

INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'probe_host', row_number() OVER (PARTITION BY scan_id ORDER BY host),
	json_object('host', host, 'name', name, 'connections', connections, 'failures', failures, 'skipped', skipped,
	'backed_off', json(iif(backed_off, 'true', 'false')), 'first', first, 'last', last)
FROM probe_hosts;

DROP TABLE services;
DROP TABLE tls_sessions;
DROP TABLE credentials;
DROP TABLE mqtt_connects;
DROP TABLE hl7_messages;
DROP TABLE dicom_associations;
DROP TABLE host_names;
DROP TABLE dhcp_leases;
DROP TABLE probe_endpoints;
DROP TABLE probe_hosts;
-- HTTP requests and file transfers likewise, their raw paths still in them: the step in
-- Go that follows templates them, and merges the ones that are one shape once templated.
INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'http', id, json_object('client', client, 'host', host, 'port', port, 'count', count,
	'first_seen', first_seen, 'last_seen', last_seen, 'method', method, 'host_header', host_header, 'path', path,
	'query_keys', json(query_keys), 'user_agent', user_agent, 'content_type', content_type, 'auth_scheme', auth_scheme,
	'has_cookie', json(iif(has_cookie, 'true', 'false')), 'api_key_headers', json(api_key_headers), 'status', status,
	'server', server, 'resp_content_type', resp_content_type, 'body_bytes', body_bytes, 'body_sha256', body_sha256,
	'body_kind', body_kind, 'body_partial', json(iif(body_partial, 'true', 'false')))
FROM http_requests;
INSERT INTO observations(scan_id, kind, seq, data)
SELECT scan_id, 'transfer', id, json_object('client', client, 'host', host, 'port', port, 'protocol', protocol,
	'upload', json(iif(upload, 'true', 'false')), 'path', path, 'bytes', bytes, 'sha256', sha256, 'kind', kind,
	'partial', json(iif(partial, 'true', 'false')), 'count', count, 'first_seen', first_seen, 'last_seen', last_seen)
FROM file_transfers;
DROP TABLE http_requests;
DROP TABLE file_transfers;

-- An asset's inventory entry, whole.
CREATE TABLE scan_assets_v2 (
	scan_id  INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
	asset_id INTEGER NOT NULL REFERENCES assets(id),
	kind     TEXT NOT NULL DEFAULT '',
	data     TEXT NOT NULL,
	PRIMARY KEY (scan_id, asset_id)
) WITHOUT ROWID;
INSERT INTO scan_assets_v2(scan_id, asset_id, kind, data)
SELECT sa.scan_id, sa.asset_id, sa.kind, json_patch(json_object('ip', a.ip, 'macs', json(sa.macs),
	'first_seen', sa.first_seen, 'last_seen', sa.last_seen, 'leased_ips', json(sa.leased_ips), 'names', json(sa.names),
	'kind', sa.kind, 'reasons', json(sa.reasons), 'roles', json(sa.roles), 'manufacturer', sa.manufacturer,
	'model', sa.model), iif(json_valid(sa.evidence), sa.evidence, '{}'))
FROM scan_assets sa JOIN assets a ON a.id = sa.asset_id;
DROP TABLE scan_assets;
ALTER TABLE scan_assets_v2 RENAME TO scan_assets;
CREATE INDEX scan_assets_asset ON scan_assets(asset_id, scan_id);

-- A certificate's facts, whole; the columns queries use stay.
ALTER TABLE certificates ADD COLUMN facts TEXT NOT NULL DEFAULT '{}';
UPDATE certificates SET facts = json_object('spki_sha256', spki_sha256, 'subject', subject, 'issuer', issuer,
	'serial', serial, 'not_before', not_before, 'not_after', not_after, 'validity_days', validity_days,
	'key_type', key_type, 'key_bits', key_bits, 'rsa_exponent', rsa_exponent, 'curve', curve,
	'signature_algorithm', signature_algorithm, 'signature_hash', signature_hash,
	'is_ca', json(iif(is_ca, 'true', 'false')), 'self_signed', json(iif(self_signed, 'true', 'false')),
	'dns_names', json(dns_names), 'ip_addresses', json(ip_addresses), 'ext_key_usage', json(ext_key_usage),
	'parse_error', parse_error, 'role', role, 'role_reasons', json(role_reasons),
	'webpki', json(iif(webpki, 'true', 'false')), 'webpki_reason', webpki_reason, 'lints', json(lints),
	'lint_error', lint_error)
WHERE has_facts = 1;
ALTER TABLE certificates DROP COLUMN issuer;
ALTER TABLE certificates DROP COLUMN serial;
ALTER TABLE certificates DROP COLUMN not_before;
ALTER TABLE certificates DROP COLUMN not_after;
ALTER TABLE certificates DROP COLUMN validity_days;
ALTER TABLE certificates DROP COLUMN key_bits;
ALTER TABLE certificates DROP COLUMN rsa_exponent;
ALTER TABLE certificates DROP COLUMN curve;
ALTER TABLE certificates DROP COLUMN signature_algorithm;
ALTER TABLE certificates DROP COLUMN signature_hash;
ALTER TABLE certificates DROP COLUMN is_ca;
ALTER TABLE certificates DROP COLUMN self_signed;
ALTER TABLE certificates DROP COLUMN dns_names;
ALTER TABLE certificates DROP COLUMN ip_addresses;
ALTER TABLE certificates DROP COLUMN ext_key_usage;
ALTER TABLE certificates DROP COLUMN parse_error;
ALTER TABLE certificates DROP COLUMN role;
ALTER TABLE certificates DROP COLUMN role_reasons;
ALTER TABLE certificates DROP COLUMN webpki;
ALTER TABLE certificates DROP COLUMN webpki_reason;
ALTER TABLE certificates DROP COLUMN lints;
ALTER TABLE certificates DROP COLUMN lint_error;
