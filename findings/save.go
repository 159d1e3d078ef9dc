package findings

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/observe"
)

// ScanMeta describes a scan as a whole; SaveScan stores it beside the observations.
type ScanMeta struct {
	Started, Finished time.Time
	Label             string
	Sources           []string // files read, interfaces listened on, targets probed
	// Complete is false when some source could not be read to its end.
	Complete    bool
	Problems    []observe.Problem
	Counters    []observe.Counter
	ToolVersion string
	Policy      string // a one-line description of the policy the findings were judged by
	// Rules are the rule IDs the policy assessed, so that a later comparison can tell a
	// rule turned off from a problem fixed; nil records nothing ("every rule").
	Rules []string
}

// SaveScan writes one scan's observations and findings in a single transaction,
// batching inserts with prepared statements, and returns the new scan's id.
//
// Findings are kept once per fingerprint across the store: saving the same findings
// again (the same capture scanned twice) links them to the new scan and widens their
// first/last seen, and adds no rows to the findings table. Problems and counters held
// by set are stored with the scan as well, unless meta already carries them.
func (s *Store) SaveScan(ctx context.Context, meta ScanMeta, set *observe.Set, fs []Finding) (int64, error) {
	if set == nil {
		set = observe.NewSet()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("findings: %s: saving scan: %w", s.path, err)
	}
	defer tx.Rollback()
	w := &scanWriter{ctx: ctx, tx: tx}
	id, err := w.save(meta, set, fs)
	if err != nil {
		return 0, fmt.Errorf("findings: %s: saving scan: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("findings: %s: saving scan: %w", s.path, err)
	}
	return id, nil
}

// scanWriter holds one SaveScan's (or CheckpointScan's) transaction and its prepared
// statements; scan is the id written to, zero until the scan row is inserted.
type scanWriter struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts []*sql.Stmt
	scan  int64
	buf   bytes.Buffer
}

func (w *scanWriter) prepare(query string) (*sql.Stmt, error) {
	st, err := w.tx.PrepareContext(w.ctx, query)
	if err != nil {
		return nil, fmt.Errorf("preparing %.40q: %w", query, err)
	}
	w.stmts = append(w.stmts, st)
	return st, nil
}

func (w *scanWriter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// jsonText encodes v for a JSON column; nil lists become [] so every row reads alike.
func (w *scanWriter) jsonText(v any) (string, error) {
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	out := strings.TrimSuffix(w.buf.String(), "\n")
	if out == "null" {
		return "[]", nil
	}
	return out, nil
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mergedProblems joins the meta's problems with the set's, without repeating any.
func mergedProblems(meta, set []observe.Problem) []Problem {
	out := []Problem{}
	seen := map[observe.Problem]bool{}
	for _, list := range [][]observe.Problem{meta, set} {
		for _, p := range list {
			if seen[p] {
				continue
			}
			seen[p] = true
			out = append(out, Problem{Source: p.Source, Offset: p.Offset, Message: p.Message, Fatal: p.Fatal})
		}
	}
	return out
}

// mergedCounters takes the meta's counters and adds the set's that the meta lacks.
func mergedCounters(meta, set []observe.Counter) []Counter {
	out := []Counter{}
	have := map[string]bool{}
	for _, c := range meta {
		have[c.Name] = true
		out = append(out, Counter{Name: c.Name, Value: c.Value})
	}
	for _, c := range set {
		if !have[c.Name] {
			have[c.Name] = true
			out = append(out, Counter{Name: c.Name, Value: c.Value})
		}
	}
	return out
}

// newerThen is an SQL condition: the row being inserted was observed no earlier than
// the stored one, so its description (message, evidence...) replaces the stored one.
const newerThen = "(findings.time IS NULL OR (excluded.time IS NOT NULL AND excluded.time >= findings.time))"

func minCase(table, col string) string {
	return col + " = CASE WHEN " + table + "." + col + " IS NULL OR (excluded." + col + " IS NOT NULL AND excluded." + col +
		" < " + table + "." + col + ") THEN excluded." + col + " ELSE " + table + "." + col + " END"
}

func maxCase(table, col string) string {
	return col + " = CASE WHEN " + table + "." + col + " IS NULL OR (excluded." + col + " IS NOT NULL AND excluded." + col +
		" > " + table + "." + col + ") THEN excluded." + col + " ELSE " + table + "." + col + " END"
}

func (w *scanWriter) save(meta ScanMeta, set *observe.Set, fs []Finding) (int64, error) {
	defer w.close()
	// The scan row: inserted when w.scan is zero, rewritten by a checkpoint otherwise.
	if err := w.scanRow(meta, set); err != nil {
		return 0, err
	}
	for _, step := range []func(*observe.Set) error{
		w.saveHosts, w.saveServices, w.saveCertificates, w.saveTLS, w.saveCredentials,
		w.saveHTTP, w.saveMQTT, w.saveHL7, w.saveDICOM, w.saveProbes,
	} {
		if err := step(set); err != nil {
			return 0, err
		}
	}
	if err := w.saveFindings(fs); err != nil {
		return 0, err
	}
	return w.scan, nil
}

// saveHosts stores the scan's assets: the store-wide asset and MAC rows, and the scan's
// view of each (first/last seen, MACs and its inventory entry), then the names, DHCP
// leases and file transfers the inventory was built from.
func (w *scanWriter) saveHosts(set *observe.Set) error {
	inv := inventoryOf(set)
	addrs := assetAddrs(set, inv)
	if len(addrs) == 0 {
		return w.saveInventoryLists(set)
	}
	asset, err := w.prepare(`INSERT INTO assets(ip, first_seen, last_seen) VALUES (?, ?, ?)
		ON CONFLICT(ip) DO UPDATE SET ` + minCase("assets", "first_seen") + ", " + maxCase("assets", "last_seen") +
		" RETURNING id")
	if err != nil {
		return err
	}
	mac, err := w.prepare(`INSERT INTO asset_macs(asset_id, mac, first_seen, last_seen) VALUES (?, ?, ?, ?)
		ON CONFLICT(asset_id, mac) DO UPDATE SET ` + minCase("asset_macs", "first_seen") + ", " + maxCase("asset_macs", "last_seen"))
	if err != nil {
		return err
	}
	link, err := w.prepare(`INSERT INTO scan_assets(scan_id, asset_id, first_seen, last_seen, macs, kind, reasons, roles,
		names, manufacturer, model, leased_ips, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		ip := addrText(a)
		if ip == "" {
			continue
		}
		var first, last time.Time
		var macs []string
		if h := set.Hosts[a]; h != nil {
			first, last = h.FirstSeen, h.LastSeen
			macs = slices.Clone(h.MACs)
		}
		if v := inv[a]; v != nil {
			macs = append(macs, v.MACs...) // DHCP may tie a MAC to an address the host table lacks
		}
		var id int64
		if err := asset.QueryRowContext(w.ctx, ip, dbTime(first), dbTime(last)).Scan(&id); err != nil {
			return fmt.Errorf("asset %s: %w", ip, err)
		}
		slices.Sort(macs)
		macs = slices.Compact(macs)
		for _, m := range macs {
			if _, err := mac.ExecContext(w.ctx, id, m, dbTime(first), dbTime(last)); err != nil {
				return fmt.Errorf("asset %s mac %s: %w", ip, m, err)
			}
		}
		list, err := w.jsonText(nonNil(macs))
		if err != nil {
			return err
		}
		cols, err := w.assetColumns(inv[a])
		if err != nil {
			return err
		}
		args := append([]any{w.scan, id, dbTime(first), dbTime(last), list}, cols...)
		if _, err := link.ExecContext(w.ctx, args...); err != nil {
			return fmt.Errorf("asset %s: %w", ip, err)
		}
	}
	return w.saveInventoryLists(set)
}

func (w *scanWriter) saveServices(set *observe.Set) error {
	if len(set.Services) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO services(scan_id, host, port, transport, protocol, source, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(set.Services))
	for k := range set.Services {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := set.Services[k]
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(v.Server.Addr()), int(v.Server.Port()), v.Transport, v.Protocol,
			string(v.Source), dbTime(v.FirstSeen), dbTime(v.LastSeen)); err != nil {
			return fmt.Errorf("service %s: %w", v.Server, err)
		}
	}
	return nil
}

func (w *scanWriter) saveCertificates(set *observe.Set) error {
	if len(set.Certificates) == 0 {
		return nil
	}
	factCols := []string{"spki_sha256", "subject", "issuer", "serial", "not_before", "not_after", "validity_days",
		"key_type", "key_bits", "rsa_exponent", "curve", "signature_algorithm", "signature_hash", "is_ca",
		"self_signed", "dns_names", "ip_addresses", "ext_key_usage", "parse_error",
		"role", "role_reasons", "webpki", "webpki_reason", "lints", "lint_error"}
	// Facts from the latest scan that had them win: a newer medscan may parse better.
	var upd []string
	for _, c := range factCols {
		upd = append(upd, c+" = CASE WHEN excluded.has_facts = 1 THEN excluded."+c+" ELSE certificates."+c+" END")
	}
	upsert, err := w.prepare(`INSERT INTO certificates(sha256, der, has_facts, ` + strings.Join(factCols, ", ") +
		`, first_seen) VALUES (?, ?, ?` + strings.Repeat(", ?", len(factCols)) + `, ?)
		ON CONFLICT(sha256) DO UPDATE SET ` + strings.Join(upd, ", ") +
		`, has_facts = max(certificates.has_facts, excluded.has_facts), ` + minCase("certificates", "first_seen") +
		" RETURNING id")
	if err != nil {
		return err
	}
	link, err := w.prepare(`INSERT INTO scan_certificates(scan_id, cert_id, first_seen) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	sight, err := w.prepare(`INSERT INTO cert_sightings(scan_id, cert_id, host, port, peer, role, position, sni, time, source)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	refs := make([]observe.CertRef, 0, len(set.Certificates))
	for r := range set.Certificates {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b observe.CertRef) int { return bytes.Compare(a[:], b[:]) })
	for _, ref := range refs {
		c := set.Certificates[ref]
		args := []any{ref.String(), c.DER}
		if f := c.Facts; f != nil {
			dns, err := w.jsonText(nonNil(f.DNSNames))
			if err != nil {
				return err
			}
			ips, err := w.jsonText(nonNil(f.IPAddresses))
			if err != nil {
				return err
			}
			eku, err := w.jsonText(nonNil(f.ExtKeyUsage))
			if err != nil {
				return err
			}
			rr, err := w.jsonText(nonNil(f.RoleReasons))
			if err != nil {
				return err
			}
			lints := make([]CertLint, len(f.Lints))
			for i, l := range f.Lints {
				lints[i] = CertLint(l)
			}
			ls, err := w.jsonText(lints)
			if err != nil {
				return err
			}
			args = append(args, 1, f.SPKISHA256, f.Subject, f.Issuer, f.SerialHex, dbTime(f.NotBefore), dbTime(f.NotAfter),
				f.ValidityDays, f.KeyType, f.KeyBits, f.RSAExponent, f.Curve, f.SignatureAlgorithm, f.SignatureHash,
				boolInt(f.IsCA), boolInt(f.SelfSigned), dns, ips, eku, f.ParseError,
				f.Role, rr, boolInt(f.WebPKI), f.WebPKIReason, ls, f.LintError)
		} else {
			args = append(args, 0, "", "", "", "", nil, nil, 0, "", 0, 0, "", "", "", 0, 0, "[]", "[]", "[]", "",
				"", "[]", 0, "", "[]", "")
		}
		args = append(args, dbTime(c.FirstSeen))
		var id int64
		if err := upsert.QueryRowContext(w.ctx, args...).Scan(&id); err != nil {
			return fmt.Errorf("certificate %s: %w", ref, err)
		}
		if _, err := link.ExecContext(w.ctx, w.scan, id, dbTime(c.FirstSeen)); err != nil {
			return fmt.Errorf("certificate %s: %w", ref, err)
		}
		for _, sg := range c.Seen {
			if _, err := sight.ExecContext(w.ctx, w.scan, id, addrText(sg.Endpoint.Addr()), int(sg.Endpoint.Port()),
				addrText(sg.Peer), sg.Role, sg.Position, sg.SNI, dbTime(sg.Time), string(sg.Source)); err != nil {
				return fmt.Errorf("certificate %s sighting: %w", ref, err)
			}
		}
	}
	return nil
}

func refStrings(v []observe.CertRef) []string {
	out := make([]string, len(v))
	for i, r := range v {
		out[i] = r.String()
	}
	return out
}

func (w *scanWriter) saveTLS(set *observe.Set) error {
	if len(set.TLSSessions) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO tls_sessions(scan_id, client, client_port, host, port, source, count, first_seen,
		last_seen, saw_client_hello, sslv2_hello, sni, alpn_offered, client_version, offered_versions, offered_suites,
		offered_groups, ja3, ja4, saw_server_hello, version, suite, resumed, alpn, certs_encrypted, server_chain,
		client_chain, cert_request, cert_request_cas, dh_bits, ecdh_curve, alerts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, t := range set.TLSSessions {
		alerts := make([]Alert, len(t.Alerts))
		for i, a := range t.Alerts {
			alerts[i] = Alert{FromServer: a.FromServer, Level: a.Level, Description: a.Description}
		}
		var js [8]string
		for i, v := range []any{nonNil(t.ALPN), nonNil(t.OfferedVersions), nonNil(t.OfferedSuites), nonNil(t.OfferedGroups),
			refStrings(t.ServerChain), refStrings(t.ClientChain), nonNil(t.CertRequestCAs), alerts} {
			if js[i], err = w.jsonText(v); err != nil {
				return err
			}
		}
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(t.Flow.Client.Addr()), int(t.Flow.Client.Port()),
			addrText(t.Flow.Server.Addr()), int(t.Flow.Server.Port()), string(t.Source), t.Count, dbTime(t.FirstSeen),
			dbTime(t.LastSeen), boolInt(t.SawClientHello), boolInt(t.SSLv2Hello), t.SNI, js[0], int(t.ClientVersion),
			js[1], js[2], js[3], t.JA3, t.JA4, boolInt(t.SawServerHello), int(t.Version), cipherID(t),
			boolInt(t.Resumed), t.ALPNSelected, boolInt(t.CertsEncrypted), js[4], js[5], boolInt(t.CertRequest), js[6],
			t.DHBits, int(t.ECDHCurve), js[7]); err != nil {
			return fmt.Errorf("tls session %s: %w", t.Flow, err)
		}
	}
	return nil
}

func (w *scanWriter) saveCredentials(set *observe.Set) error {
	if len(set.Credentials) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO credentials(scan_id, client, client_port, host, port, protocol, kind, location, user,
		preview, hash, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, c := range set.Credentials {
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(c.Flow.Client.Addr()), int(c.Flow.Client.Port()),
			addrText(c.Flow.Server.Addr()), int(c.Flow.Server.Port()), c.Protocol, c.Kind, c.Where, c.User, c.Preview,
			c.Hash, c.Count, dbTime(c.FirstSeen), dbTime(c.LastSeen)); err != nil {
			return fmt.Errorf("credential %s: %w", c.Flow, err)
		}
	}
	return nil
}

func (w *scanWriter) saveHTTP(set *observe.Set) error {
	if len(set.HTTP) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO http_requests(scan_id, client, client_port, host, port, count, first_seen, last_seen,
		method, host_header, path, query_keys, user_agent, content_type, auth_scheme, has_cookie, api_key_headers, status,
		server, resp_content_type, body_bytes, body_sha256, body_kind, body_partial)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, r := range set.HTTP {
		qk, err := w.jsonText(nonNil(r.QueryKeys))
		if err != nil {
			return err
		}
		ak, err := w.jsonText(nonNil(r.APIKeyHeaders))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(r.Flow.Client.Addr()), int(r.Flow.Client.Port()),
			addrText(r.Flow.Server.Addr()), int(r.Flow.Server.Port()), r.Count, dbTime(r.FirstSeen), dbTime(r.LastSeen),
			r.Method, r.Host, r.Path, qk, r.UserAgent, r.ContentType, r.AuthScheme, boolInt(r.HasCookie), ak, r.Status,
			r.Server, r.RespContentType, r.BodyBytes, r.BodySHA256, r.BodyKind, boolInt(r.BodyPartial)); err != nil {
			return fmt.Errorf("http request %s: %w", r.Flow, err)
		}
	}
	return nil
}

func (w *scanWriter) saveMQTT(set *observe.Set) error {
	if len(set.MQTT) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO mqtt_connects(scan_id, client, client_port, host, port, count, first_seen, last_seen,
		protocol_name, protocol_level, client_id, username, has_username, has_password)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, m := range set.MQTT {
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(m.Flow.Client.Addr()), int(m.Flow.Client.Port()),
			addrText(m.Flow.Server.Addr()), int(m.Flow.Server.Port()), m.Count, dbTime(m.FirstSeen), dbTime(m.LastSeen), m.ProtocolName,
			int(m.ProtocolLevel), m.ClientID, m.Username, boolInt(m.HasUsername), boolInt(m.HasPassword)); err != nil {
			return fmt.Errorf("mqtt connect %s: %w", m.Flow, err)
		}
	}
	return nil
}

func (w *scanWriter) saveHL7(set *observe.Set) error {
	if len(set.HL7) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO hl7_messages(scan_id, client, client_port, host, port, count, first_seen, last_seen,
		sending_app, sending_facility, receiving_app, receiving_facility, message_type, trigger_event, version,
		patient_segments, is_ack, ack_code, devices) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, m := range set.HL7 {
		devices, err := w.jsonText(nonNil(m.Devices))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(m.Flow.Client.Addr()), int(m.Flow.Client.Port()),
			addrText(m.Flow.Server.Addr()), int(m.Flow.Server.Port()), m.Count, dbTime(m.FirstSeen), dbTime(m.LastSeen),
			m.SendingApp, m.SendingFacility, m.ReceivingApp, m.ReceivingFacility, m.MessageType, m.TriggerEvent,
			m.Version, m.PatientSegments, boolInt(m.IsAck), m.AckCode, devices); err != nil {
			return fmt.Errorf("hl7 message %s: %w", m.Flow, err)
		}
	}
	return nil
}

func (w *scanWriter) saveDICOM(set *observe.Set) error {
	if len(set.DICOM) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO dicom_associations(scan_id, client, client_port, host, port, count, first_seen, last_seen,
		calling_ae, called_ae, result, impl_class_uid, impl_version, abstract_syntaxes, abstract_syntax_names,
		accepted_contexts, rejected_contexts, roles, pdata_pdus, pdata_bytes, patient_attributes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, a := range set.DICOM {
		as, err := w.jsonText(nonNil(a.AbstractSyntaxes))
		if err != nil {
			return err
		}
		names, err := w.jsonText(nonNil(a.AbstractSyntaxNames))
		if err != nil {
			return err
		}
		roles, err := w.jsonText(nonNil(a.Roles))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(a.Flow.Client.Addr()), int(a.Flow.Client.Port()),
			addrText(a.Flow.Server.Addr()), int(a.Flow.Server.Port()), a.Count, dbTime(a.FirstSeen), dbTime(a.LastSeen), a.CallingAE, a.CalledAE, a.Result,
			a.ImplClassUID, a.ImplVersion, as, names, a.AcceptedContexts, a.RejectedContexts, roles, a.PDataPDUs,
			a.PDataBytes, a.PatientAttributes); err != nil {
			return fmt.Errorf("dicom association %s: %w", a.Flow, err)
		}
	}
	return nil
}

// observedSpan is the earliest and latest instant a finding speaks of: its observation
// time, widened by any first/last seen its rule already set.
func observedSpan(f *Finding) (first, last time.Time) {
	for _, t := range []time.Time{f.Time, f.FirstSeen, f.LastSeen} {
		if t.IsZero() {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return first, last
}

func (w *scanWriter) saveFindings(fs []Finding) error {
	if len(fs) == 0 {
		return nil
	}
	desc := []string{"severity", "message", "evidence", "time", "source", "remediation", "refs"}
	var upd []string
	for _, c := range desc {
		upd = append(upd, c+" = CASE WHEN "+newerThen+" THEN excluded."+c+" ELSE findings."+c+" END")
	}
	upsert, err := w.prepare(`INSERT INTO findings(fingerprint, rule, severity, host, port, subject, message, evidence,
		time, source, remediation, refs, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(fingerprint) DO UPDATE SET ` + strings.Join(upd, ", ") + ", " +
		minCase("findings", "first_seen") + ", " + maxCase("findings", "last_seen"))
	if err != nil {
		return err
	}
	// A rule that reports one fingerprint twice in a scan keeps its most severe word.
	link, err := w.prepare(`INSERT INTO scan_findings(scan_id, fingerprint, severity, message, evidence, time, source,
		remediation, refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(scan_id, fingerprint) DO UPDATE SET severity = excluded.severity, message = excluded.message,
		evidence = excluded.evidence, time = excluded.time, source = excluded.source,
		remediation = excluded.remediation, refs = excluded.refs
		WHERE excluded.severity > scan_findings.severity`)
	if err != nil {
		return err
	}
	for i := range fs {
		f := &fs[i]
		fp := f.Fingerprint
		if fp == "" {
			fp = ComputeFingerprint(f.Rule, f.Host, f.Port, f.Subject)
		}
		ev := f.Evidence
		if ev == nil {
			ev = map[string]any{}
		}
		evidence, err := w.jsonText(ev)
		if err != nil {
			return fmt.Errorf("finding %s %s:%d: evidence: %w", f.Rule, f.Host, f.Port, err)
		}
		refs, err := w.jsonText(nonNil(f.References))
		if err != nil {
			return err
		}
		first, last := observedSpan(f)
		if _, err := upsert.ExecContext(w.ctx, fp, f.Rule, int(f.Severity), f.Host, f.Port, f.Subject, f.Message,
			evidence, dbTime(f.Time), f.Source, f.Remediation, refs, dbTime(first), dbTime(last)); err != nil {
			return fmt.Errorf("finding %s %s:%d: %w", f.Rule, f.Host, f.Port, err)
		}
		if _, err := link.ExecContext(w.ctx, w.scan, fp, int(f.Severity), f.Message, evidence, dbTime(f.Time), f.Source,
			f.Remediation, refs); err != nil {
			return fmt.Errorf("finding %s %s:%d: %w", f.Rule, f.Host, f.Port, err)
		}
	}
	return nil
}

// cipherID is what the store keeps as a session's cipher: the TLS suite, or for SSLv2,
// whose ciphers are 3-byte kinds outside the TLS registry, the kind the client chose.
func cipherID(t *observe.TLSSession) int {
	if t.Version == 0x0002 {
		return int(t.SSLv2Cipher)
	}
	return int(t.Suite)
}
