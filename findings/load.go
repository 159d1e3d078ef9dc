package findings

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/internal/oui"
	"github.com/medscan/medscan/observe"
)

// ToolName is the name written in every report's tool section.
const ToolName = "medscan"

// Load reads one scan back as a Report, in a single read transaction so that a scan
// being written meanwhile cannot be seen half-way. Every list is sorted (see the
// package documentation) and non-nil.
func (s *Store) Load(ctx context.Context, scanID int64) (*Report, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("findings: %s: %w", s.path, err)
	}
	defer tx.Rollback()
	if err := s.scanExists(ctx, tx, scanID); err != nil {
		return nil, err
	}
	l := &loader{ctx: ctx, q: tx, scan: scanID}
	r := &Report{SchemaVersion: ReportSchemaVersion}
	for _, step := range []func(*Report) error{
		l.scanInfo, l.findings, l.certificates, l.tlsSessions, l.services, l.assets, l.credentials,
		l.http, l.mqtt, l.hl7, l.dicom, l.probes,
	} {
		if err := step(r); err != nil {
			return nil, fmt.Errorf("findings: %s: loading scan %d: %w", s.path, scanID, err)
		}
	}
	r.Normalize()
	return r, nil
}

// loader reads the parts of one scan.
type loader struct {
	ctx  context.Context
	q    queryer
	scan int64
	err  error // the first decoding error, reported after the row loop
}

// each runs query for this scan and calls fn for every row.
func (l *loader) each(query string, fn func(*sql.Rows) error) error {
	rows, err := l.q.QueryContext(l.ctx, query, l.scan)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return l.err
}

// t converts a stored time, remembering the first bad one.
func (l *loader) t(v sql.NullString) time.Time {
	t, err := parseTime(v)
	if err != nil && l.err == nil {
		l.err = err
	}
	return t
}

// list decodes a JSON column into a slice, remembering the first error.
func list[T any](l *loader, text string) []T {
	out := []T{}
	if text == "" {
		return out
	}
	if err := json.Unmarshal([]byte(text), &out); err != nil && l.err == nil {
		l.err = fmt.Errorf("bad JSON list %.40q in store: %w", text, err)
	}
	if out == nil {
		out = []T{}
	}
	return out
}

func (l *loader) scanInfo(r *Report) error {
	var (
		started, finished                 sql.NullString
		sources, problems, counters, tool string
		assessed                          sql.NullString
		complete                          int
	)
	si := &r.Scan
	err := l.q.QueryRowContext(l.ctx, `SELECT id, started, finished, label, sources, complete, problems, counters,
		tool_version, policy, rules FROM scans WHERE id = ?`, l.scan).Scan(&si.ID, &started, &finished, &si.Label, &sources,
		&complete, &problems, &counters, &tool, &si.Policy, &assessed)
	if err != nil {
		return err
	}
	if assessed.Valid {
		si.Rules = list[string](l, assessed.String)
	}
	si.Started, si.Finished = l.t(started), l.t(finished)
	si.Complete = complete != 0
	si.Sources = list[string](l, sources)
	si.Problems = list[Problem](l, problems)
	si.Counters = list[Counter](l, counters)
	r.Tool = Tool{Name: ToolName, Version: tool}
	return l.err
}

func (l *loader) findings(r *Report) error {
	err := l.each(`SELECT f.rule, sf.severity, f.host, f.port, f.subject, sf.message, sf.evidence, sf.time, sf.source,
		sf.remediation, sf.refs, f.fingerprint, f.first_seen, f.last_seen
		FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint WHERE sf.scan_id = ?`,
		func(rows *sql.Rows) error {
			var (
				f               Finding
				sev             int
				evidence, refs  string
				tm, first, last sql.NullString
			)
			if err := rows.Scan(&f.Rule, &sev, &f.Host, &f.Port, &f.Subject, &f.Message, &evidence, &tm, &f.Source,
				&f.Remediation, &refs, &f.Fingerprint, &first, &last); err != nil {
				return err
			}
			f.Severity = Severity(sev)
			f.Time, f.FirstSeen, f.LastSeen = l.t(tm), l.t(first), l.t(last)
			f.References = list[string](l, refs)
			// UseNumber keeps evidence numbers exactly as written (a serial, a count
			// beyond 2^53) instead of turning them into float64.
			dec := json.NewDecoder(strings.NewReader(evidence))
			dec.UseNumber()
			if err := dec.Decode(&f.Evidence); err != nil && l.err == nil {
				l.err = fmt.Errorf("finding %s: bad evidence in store: %w", f.Fingerprint, err)
			}
			if f.Evidence == nil {
				f.Evidence = map[string]any{}
			}
			r.Findings = append(r.Findings, f)
			return nil
		})
	if err != nil {
		return err
	}
	SortFindings(r.Findings)
	r.Summarize()
	return nil
}

func (l *loader) certificates(r *Report) error {
	byID := map[int64]int{}
	err := l.each(`SELECT c.id, c.sha256, c.spki_sha256, c.subject, c.issuer, c.serial, c.not_before, c.not_after,
		c.validity_days, c.key_type, c.key_bits, c.rsa_exponent, c.curve, c.signature_algorithm, c.signature_hash,
		c.is_ca, c.self_signed, c.dns_names, c.ip_addresses, c.ext_key_usage, c.parse_error,
		c.role, c.role_reasons, c.webpki, c.webpki_reason, c.lints, c.lint_error, c.first_seen
		FROM scan_certificates sc JOIN certificates c ON c.id = sc.cert_id WHERE sc.scan_id = ?`,
		func(rows *sql.Rows) error {
			var (
				c             Certificate
				id            int64
				nb, na, first sql.NullString
				ca, self      int
				dns, ips, eku string
				rr, ls        string
				web           int
			)
			if err := rows.Scan(&id, &c.SHA256, &c.SPKISHA256, &c.Subject, &c.Issuer, &c.Serial, &nb, &na,
				&c.ValidityDays, &c.KeyType, &c.KeyBits, &c.RSAExponent, &c.Curve, &c.SignatureAlgorithm,
				&c.SignatureHash, &ca, &self, &dns, &ips, &eku, &c.ParseError,
				&c.Role, &rr, &web, &c.WebPKIReason, &ls, &c.LintError, &first); err != nil {
				return err
			}
			c.NotBefore, c.NotAfter, c.FirstSeen = l.t(nb), l.t(na), l.t(first)
			c.IsCA, c.SelfSigned = ca != 0, self != 0
			c.DNSNames, c.IPAddresses, c.ExtKeyUsage = list[string](l, dns), list[string](l, ips), list[string](l, eku)
			c.RoleReasons, c.WebPKI, c.Lints = list[string](l, rr), web != 0, list[CertLint](l, ls)
			c.SeenOn = []Sighting{}
			byID[id] = len(r.Certificates)
			r.Certificates = append(r.Certificates, c)
			return nil
		})
	if err != nil {
		return err
	}
	err = l.each(`SELECT cert_id, host, port, peer, role, position, sni, time, source FROM cert_sightings
		WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			sg Sighting
			id int64
			tm sql.NullString
		)
		if err := rows.Scan(&id, &sg.Host, &sg.Port, &sg.Peer, &sg.Role, &sg.Position, &sg.SNI, &tm, &sg.Source); err != nil {
			return err
		}
		sg.Time = l.t(tm)
		if i, ok := byID[id]; ok {
			r.Certificates[i].SeenOn = append(r.Certificates[i].SeenOn, sg)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range r.Certificates {
		slices.SortFunc(r.Certificates[i].SeenOn, func(a, b Sighting) int {
			return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Role, b.Role),
				cmp.Compare(a.Position, b.Position), cmp.Compare(a.SNI, b.SNI), CompareHosts(a.Peer, b.Peer),
				cmp.Compare(a.Source, b.Source), a.Time.Compare(b.Time))
		})
	}
	slices.SortFunc(r.Certificates, func(a, b Certificate) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.SHA256, b.SHA256))
	})
	return nil
}

func (l *loader) tlsSessions(r *Report) error {
	err := l.each(`SELECT client, host, port, source, count, first_seen, last_seen, saw_client_hello, sslv2_hello, sni,
		alpn_offered, client_version, offered_versions, offered_suites, offered_groups, ja3, ja4, saw_server_hello,
		version, suite, resumed, alpn, certs_encrypted, server_chain, client_chain, cert_request, cert_request_cas,
		dh_bits, ecdh_curve, alerts FROM tls_sessions WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			t                                       TLSSession
			first, last                             sql.NullString
			sawCH, v2, sawSH, resumed, enc, certReq int
			alpn, ov, os, og, sc, cc, cas, alerts   string
		)
		if err := rows.Scan(&t.Client, &t.Host, &t.Port, &t.Source, &t.Count, &first, &last, &sawCH, &v2, &t.SNI,
			&alpn, &t.ClientVersion, &ov, &os, &og, &t.JA3, &t.JA4, &sawSH, &t.VersionID, &t.CipherID, &resumed,
			&t.ALPN, &enc, &sc, &cc, &certReq, &cas, &t.DHBits, &t.ECDHCurveID, &alerts); err != nil {
			return err
		}
		t.FirstSeen, t.LastSeen = l.t(first), l.t(last)
		t.SawClientHello, t.SSLv2Hello, t.SawServerHello = sawCH != 0, v2 != 0, sawSH != 0
		t.Resumed, t.CertRequest, t.CertsObservable = resumed != 0, certReq != 0, enc == 0
		t.ALPNOffered = list[string](l, alpn)
		t.OfferedVersions, t.OfferedSuites, t.OfferedGroups = list[uint16](l, ov), list[uint16](l, os), list[uint16](l, og)
		t.ServerCerts, t.ClientCerts = list[string](l, sc), list[string](l, cc)
		t.CertRequestCAs = list[string](l, cas)
		t.Alerts = list[Alert](l, alerts)
		// A session without a ServerHello negotiated nothing; naming suite 0 would
		// claim TLS_NULL_WITH_NULL_NULL.
		if t.SawServerHello || t.VersionID != 0 {
			t.Version = observe.VersionName(t.VersionID)
			t.Cipher = observe.SuiteName(uint16(t.CipherID))
			if t.VersionID == 0x0002 {
				t.Cipher = ""
				if t.CipherID != 0 {
					t.Cipher = observe.SSLv2CipherName(t.CipherID)
				}
			}
		}
		if t.ECDHCurveID != 0 {
			t.ECDHCurve = observe.GroupName(t.ECDHCurveID)
		}
		r.TLSSessions = append(r.TLSSessions, t)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.TLSSessions, compareSessions)
	return nil
}

func compareSessions(a, b TLSSession) int {
	if c := cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), CompareHosts(a.Client, b.Client),
		cmp.Compare(a.SNI, b.SNI), cmp.Compare(a.VersionID, b.VersionID), cmp.Compare(a.CipherID, b.CipherID),
		a.FirstSeen.Compare(b.FirstSeen), a.LastSeen.Compare(b.LastSeen), cmp.Compare(a.Source, b.Source)); c != 0 {
		return c
	}
	// Sessions that agree on all of that still differ somewhere (the Set keeps one per
	// distinct shape): compare everything, so the order never depends on row order.
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Compare(ja, jb)
}

// services reads the scan's services and names the TLS each spoke, from the sessions
// already loaded (so tlsSessions must run first).
func (l *loader) services(r *Report) error {
	type hp struct {
		host string
		port int
	}
	latest := map[hp]*TLSSession{}
	for i := range r.TLSSessions {
		t := &r.TLSSessions[i]
		if t.Version == "" {
			continue
		}
		k := hp{t.Host, t.Port}
		// Sessions are sorted, so on a tie of LastSeen the first in report order wins.
		if o := latest[k]; o == nil || t.LastSeen.After(o.LastSeen) {
			latest[k] = t
		}
	}
	err := l.each(`SELECT host, port, transport, protocol, source, first_seen, last_seen FROM services WHERE scan_id = ?`,
		func(rows *sql.Rows) error {
			var (
				v           Service
				first, last sql.NullString
			)
			if err := rows.Scan(&v.Host, &v.Port, &v.Transport, &v.Protocol, &v.Source, &first, &last); err != nil {
				return err
			}
			v.FirstSeen, v.LastSeen = l.t(first), l.t(last)
			if t := latest[hp{v.Host, v.Port}]; t != nil && v.Transport != "udp" {
				v.TLSVersion, v.Cipher = t.Version, t.Cipher
			}
			r.Services = append(r.Services, v)
			return nil
		})
	if err != nil {
		return err
	}
	slices.SortFunc(r.Services, func(a, b Service) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Transport, b.Transport),
			cmp.Compare(a.Source, b.Source), cmp.Compare(a.Protocol, b.Protocol))
	})
	return nil
}

func (l *loader) assets(r *Report) error {
	err := l.each(`SELECT a.ip, sa.macs, sa.first_seen, sa.last_seen, sa.kind, sa.reasons, sa.roles, sa.names,
		sa.manufacturer, sa.model, sa.leased_ips, sa.evidence
		FROM scan_assets sa JOIN assets a ON a.id = sa.asset_id WHERE sa.scan_id = ?`, func(rows *sql.Rows) error {
		var (
			a                                             Asset
			macs, reasons, roles, names, leased, evidence string
			first, last                                   sql.NullString
		)
		if err := rows.Scan(&a.IP, &macs, &first, &last, &a.Kind, &reasons, &roles, &names, &a.Manufacturer, &a.Model,
			&leased, &evidence); err != nil {
			return err
		}
		a.FirstSeen, a.LastSeen = l.t(first), l.t(last)
		a.MACs = list[string](l, macs)
		if len(a.MACs) > 0 {
			a.MAC = a.MACs[0]
		}
		a.Vendor = oui.Lookup(a.MAC)
		l.assetInventory(&a, leased, names, reasons, roles, evidence)
		r.Assets = append(r.Assets, a)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.Assets, func(a, b Asset) int { return CompareHosts(a.IP, b.IP) })
	// The lists the inventory was built from load with it.
	return l.inventoryLists(r)
}

func (l *loader) credentials(r *Report) error {
	err := l.each(`SELECT client, host, port, protocol, kind, location, user, preview, hash, count, first_seen, last_seen
		FROM credentials WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			c           Credential
			first, last sql.NullString
		)
		if err := rows.Scan(&c.Client, &c.Host, &c.Port, &c.Protocol, &c.Kind, &c.Where, &c.User, &c.Preview, &c.Hash,
			&c.Count, &first, &last); err != nil {
			return err
		}
		c.FirstSeen, c.LastSeen = l.t(first), l.t(last)
		r.Credentials = append(r.Credentials, c)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.Credentials, func(a, b Credential) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), CompareHosts(a.Client, b.Client),
			cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Where, b.Where),
			cmp.Compare(a.User, b.User), cmp.Compare(a.Hash, b.Hash), a.FirstSeen.Compare(b.FirstSeen))
	})
	return nil
}

func (l *loader) http(r *Report) error {
	err := l.each(`SELECT client, host, port, count, first_seen, last_seen, method, host_header, path, query_keys,
		user_agent, content_type, auth_scheme, has_cookie, api_key_headers, status, server, resp_content_type,
		body_bytes, body_sha256, body_kind, body_partial
		FROM http_requests WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			h           HTTPRequest
			first, last sql.NullString
			qk, ak      string
			cookie      int
			partial     int
		)
		if err := rows.Scan(&h.Client, &h.Host, &h.Port, &h.Count, &first, &last, &h.Method, &h.HostHeader, &h.Path, &qk,
			&h.UserAgent, &h.ContentType, &h.AuthScheme, &cookie, &ak, &h.Status, &h.Server, &h.RespContentType,
			&h.BodyBytes, &h.BodySHA256, &h.BodyKind, &partial); err != nil {
			return err
		}
		h.FirstSeen, h.LastSeen = l.t(first), l.t(last)
		h.QueryKeys, h.APIKeyHeaders = list[string](l, qk), list[string](l, ak)
		h.HasCookie, h.BodyPartial = cookie != 0, partial != 0
		r.HTTP = append(r.HTTP, h)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.HTTP, func(a, b HTTPRequest) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), CompareHosts(a.Client, b.Client),
			cmp.Compare(a.HostHeader, b.HostHeader), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method),
			cmp.Compare(a.AuthScheme, b.AuthScheme), cmp.Compare(a.Status, b.Status),
			cmp.Compare(a.BodySHA256, b.BodySHA256), a.FirstSeen.Compare(b.FirstSeen))
	})
	return nil
}

func (l *loader) mqtt(r *Report) error {
	err := l.each(`SELECT client, host, port, count, first_seen, last_seen, protocol_name, protocol_level, client_id,
		username, has_username, has_password FROM mqtt_connects WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			m           MQTTConnect
			first, last sql.NullString
			hasU, hasP  int
		)
		if err := rows.Scan(&m.Client, &m.Host, &m.Port, &m.Count, &first, &last, &m.ProtocolName, &m.ProtocolLevel, &m.ClientID, &m.Username,
			&hasU, &hasP); err != nil {
			return err
		}
		m.FirstSeen, m.LastSeen = l.t(first), l.t(last)
		m.HasUsername, m.HasPassword = hasU != 0, hasP != 0
		r.MQTT = append(r.MQTT, m)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.MQTT, func(a, b MQTTConnect) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), CompareHosts(a.Client, b.Client),
			a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.Username, b.Username))
	})
	return nil
}

func (l *loader) hl7(r *Report) error {
	err := l.each(`SELECT client, host, port, count, first_seen, last_seen, sending_app, sending_facility, receiving_app,
		receiving_facility, message_type, trigger_event, version, patient_segments, is_ack, ack_code, devices
		FROM hl7_messages WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			m           HL7Message
			first, last sql.NullString
			ack         int
			devices     string
		)
		if err := rows.Scan(&m.Client, &m.Host, &m.Port, &m.Count, &first, &last, &m.SendingApp, &m.SendingFacility,
			&m.ReceivingApp, &m.ReceivingFacility, &m.MessageType, &m.TriggerEvent, &m.Version, &m.PatientSegments,
			&ack, &m.AckCode, &devices); err != nil {
			return err
		}
		m.FirstSeen, m.LastSeen = l.t(first), l.t(last)
		m.IsAck = ack != 0
		m.Devices = list[string](l, devices)
		r.HL7 = append(r.HL7, m)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.HL7, func(a, b HL7Message) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), CompareHosts(a.Client, b.Client),
			cmp.Compare(a.MessageType, b.MessageType), cmp.Compare(a.TriggerEvent, b.TriggerEvent),
			cmp.Compare(a.SendingApp, b.SendingApp), cmp.Compare(a.SendingFacility, b.SendingFacility),
			cmp.Compare(a.ReceivingApp, b.ReceivingApp), cmp.Compare(a.ReceivingFacility, b.ReceivingFacility),
			cmp.Compare(a.Version, b.Version), cmp.Compare(boolInt(a.IsAck), boolInt(b.IsAck)), cmp.Compare(a.AckCode, b.AckCode),
			a.FirstSeen.Compare(b.FirstSeen))
	})
	return nil
}

func (l *loader) dicom(r *Report) error {
	err := l.each(`SELECT client, host, port, count, first_seen, last_seen, calling_ae, called_ae, result,
		impl_class_uid, impl_version, abstract_syntaxes, abstract_syntax_names, accepted_contexts, rejected_contexts, roles,
		pdata_pdus, pdata_bytes, patient_attributes FROM dicom_associations WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			a           DICOMAssociation
			first, last sql.NullString
			as          string
			names       string
			roles       string
		)
		if err := rows.Scan(&a.Client, &a.Host, &a.Port, &a.Count, &first, &last, &a.CallingAE, &a.CalledAE, &a.Result, &a.ImplClassUID,
			&a.ImplVersion, &as, &names, &a.AcceptedContexts, &a.RejectedContexts, &roles, &a.PDataPDUs, &a.PDataBytes,
			&a.PatientAttributes); err != nil {
			return err
		}
		a.FirstSeen, a.LastSeen = l.t(first), l.t(last)
		a.AbstractSyntaxes = list[string](l, as)
		a.AbstractSyntaxNames = list[string](l, names)
		a.Roles = list[string](l, roles)
		r.DICOM = append(r.DICOM, a)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.DICOM, func(a, b DICOMAssociation) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), CompareHosts(a.Client, b.Client),
			a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.CallingAE, b.CallingAE), cmp.Compare(a.CalledAE, b.CalledAE),
			cmp.Compare(a.Result, b.Result))
	})
	return nil
}

// CompareHosts orders addresses numerically (IPv4 before IPv6), with "" first and
// anything that is not an address after them, by text.
func CompareHosts(a, b string) int {
	pa, ea := netip.ParseAddr(a)
	pb, eb := netip.ParseAddr(b)
	switch {
	case ea == nil && eb == nil:
		return pa.Compare(pb)
	case a == "" || b == "":
		return cmp.Compare(a, b) // "" sorts first
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

// SortFindings puts findings in report order: most severe first, then by rule, host
// (numerically), port, subject and fingerprint, so that the order never depends on how
// they were produced.
func SortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Rule, b.Rule), CompareHosts(a.Host, b.Host),
			cmp.Compare(a.Port, b.Port), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
}

// Scans lists every scan in the store, oldest first, without its contents.
func (s *Store) Scans(ctx context.Context) ([]ScanInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, started, finished, label, sources, complete, problems, counters,
		policy, rules FROM scans ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("findings: %s: %w", s.path, err)
	}
	defer rows.Close()
	l := &loader{ctx: ctx}
	out := []ScanInfo{}
	for rows.Next() {
		var (
			si                          ScanInfo
			started, finished           sql.NullString
			sources, problems, counters string
			assessed                    sql.NullString
			complete                    int
		)
		if err := rows.Scan(&si.ID, &started, &finished, &si.Label, &sources, &complete, &problems, &counters,
			&si.Policy, &assessed); err != nil {
			return nil, fmt.Errorf("findings: %s: %w", s.path, err)
		}
		if assessed.Valid {
			si.Rules = list[string](l, assessed.String)
		}
		si.Started, si.Finished = l.t(started), l.t(finished)
		si.Complete = complete != 0
		si.Sources, si.Problems, si.Counters = list[string](l, sources), list[Problem](l, problems), list[Counter](l, counters)
		out = append(out, si)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("findings: %s: %w", s.path, err)
	}
	if l.err != nil {
		return nil, fmt.Errorf("findings: %s: %w", s.path, l.err)
	}
	return out, nil
}

// CertificateDER returns the DER encoding of a stored certificate, by its SHA-256 in hex.
func (s *Store) CertificateDER(ctx context.Context, sha256Hex string) ([]byte, error) {
	var der []byte
	err := s.db.QueryRowContext(ctx, "SELECT der FROM certificates WHERE sha256 = ?", strings.ToLower(sha256Hex)).Scan(&der)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("findings: %s: no certificate %s", s.path, sha256Hex)
	}
	if err != nil {
		return nil, fmt.Errorf("findings: %s: %w", s.path, err)
	}
	return der, nil
}
