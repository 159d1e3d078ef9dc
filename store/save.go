package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// Save writes one scan, its report document (package findings), in a single
// transaction, batching inserts with prepared statements, and returns the new scan's id.
//
// Findings are kept once per fingerprint across the store: saving the same findings
// again (the same capture scanned twice) links them to the new scan and widens their
// first/last seen, and adds no rows to the findings table. Certificates are kept once per
// SHA-256, with their DER; assets once per address. Only the document's findings are
// stored: suppressions are applied when a scan is rendered, never kept.
func (s *Store) Save(ctx context.Context, r *findings.Report) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: %s: saving scan: %w", s.path, err)
	}
	defer tx.Rollback()
	w := &scanWriter{ctx: ctx, tx: tx, keyID: s.keyID}
	id, err := w.save(r)
	if err != nil {
		return 0, fmt.Errorf("store: %s: saving scan: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: %s: saving scan: %w", s.path, err)
	}
	return id, nil
}

// scanWriter holds one Save's (or Checkpoint's) transaction and its prepared
// statements; scan is the id written to, zero until the scan row is inserted.
type scanWriter struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts []*sql.Stmt
	scan  int64
	keyID string // the fingerprint of the key the scan's credential hashes were made under
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
func (w *scanWriter) jsonText(v any) (string, error) { return encodeJSON(&w.buf, v) }

// jsonText is scanWriter.jsonText for a one-off value (the migrations).
func jsonText(v any) (string, error) {
	var buf bytes.Buffer
	return encodeJSON(&buf, v)
}

func encodeJSON(buf *bytes.Buffer, v any) (string, error) {
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	out := strings.TrimSuffix(buf.String(), "\n")
	if out == "null" {
		return "[]", nil
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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

func (w *scanWriter) save(r *findings.Report) (int64, error) {
	defer w.close()
	// The scan row: inserted when w.scan is zero, rewritten by a checkpoint otherwise.
	if err := w.scanRow(r.Scan); err != nil {
		return 0, err
	}
	for _, step := range []func(*findings.Report) error{w.saveAssets, w.saveCertificates, w.saveObservations} {
		if err := step(r); err != nil {
			return 0, err
		}
	}
	if err := w.saveFindings(r.Findings); err != nil {
		return 0, err
	}
	return w.scan, nil
}

// scanRow writes the scan row: a new one when w.scan is zero (w.scan is then set to its
// id), otherwise it rewrites row w.scan.
func (w *scanWriter) scanRow(info findings.ScanInfo) error {
	var cols [3]string
	for i, v := range []any{info.Sources, info.Problems, info.Counters} {
		var err error
		if cols[i], err = w.jsonText(v); err != nil {
			return err
		}
	}
	var ruleIDs any // NULL when the caller recorded none
	if info.Rules != nil {
		ids := slices.Clone(info.Rules)
		slices.Sort(ids)
		var err error
		if ruleIDs, err = w.jsonText(slices.Compact(ids)); err != nil {
			return err
		}
	}
	args := []any{dbTime(info.Started), dbTime(info.Finished), info.Label, cols[0], boolInt(info.Complete), cols[1],
		cols[2], info.ToolVersion, info.Policy, ruleIDs, info.RunKind()}
	if w.scan != 0 {
		res, err := w.tx.ExecContext(w.ctx, `UPDATE scans SET started = ?, finished = ?, label = ?, sources = ?,
			complete = ?, problems = ?, counters = ?, tool_version = ?, policy = ?, rules = ?, kind = ? WHERE id = ?`,
			append(args, w.scan)...)
		if err != nil {
			return fmt.Errorf("scan row: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("scan row %d: not rewritten (%d rows, %v)", w.scan, n, err)
		}
		return nil
	}
	res, err := w.tx.ExecContext(w.ctx, `INSERT INTO scans(started, finished, label, sources, complete, problems, counters,
		tool_version, policy, rules, kind, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, w.keyID)...)
	if err != nil {
		return fmt.Errorf("scan row: %w", err)
	}
	w.scan, err = res.LastInsertId()
	return err
}

// saveAssets stores the store-wide asset and MAC rows, and the scan's view of each asset
// (its inventory entry, whole).
func (w *scanWriter) saveAssets(r *findings.Report) error {
	if len(r.Assets) == 0 {
		return nil
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
	link, err := w.prepare(`INSERT INTO scan_assets(scan_id, asset_id, kind, data) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := range r.Assets {
		a := &r.Assets[i]
		ip := a.IP()
		if ip == "" {
			continue
		}
		var id int64
		if err := asset.QueryRowContext(w.ctx, ip, dbTime(a.FirstSeen), dbTime(a.LastSeen)).Scan(&id); err != nil {
			return fmt.Errorf("asset %s: %w", ip, err)
		}
		for _, m := range a.MACs {
			if _, err := mac.ExecContext(w.ctx, id, m, dbTime(a.FirstSeen), dbTime(a.LastSeen)); err != nil {
				return fmt.Errorf("asset %s mac %s: %w", ip, m, err)
			}
		}
		data, err := w.jsonText(a)
		if err != nil {
			return fmt.Errorf("asset %s: %w", ip, err)
		}
		if _, err := link.ExecContext(w.ctx, w.scan, id, a.Kind, data); err != nil {
			return fmt.Errorf("asset %s: %w", ip, err)
		}
	}
	return nil
}

// saveCertificates stores each certificate once per store (its DER and facts), links it
// to the scan, and records where the scan saw it.
func (w *scanWriter) saveCertificates(r *findings.Report) error {
	if len(r.Certificates) == 0 {
		return nil
	}
	// Facts from the latest scan that had them win: a newer medscan may parse better.
	upsert, err := w.prepare(`INSERT INTO certificates(sha256, der, has_facts, spki_sha256, key_type, subject, facts,
		first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(sha256) DO UPDATE SET
			spki_sha256 = CASE WHEN excluded.has_facts = 1 THEN excluded.spki_sha256 ELSE certificates.spki_sha256 END,
			key_type = CASE WHEN excluded.has_facts = 1 THEN excluded.key_type ELSE certificates.key_type END,
			subject = CASE WHEN excluded.has_facts = 1 THEN excluded.subject ELSE certificates.subject END,
			facts = CASE WHEN excluded.has_facts = 1 THEN excluded.facts ELSE certificates.facts END,
			der = CASE WHEN length(certificates.der) = 0 THEN excluded.der ELSE certificates.der END,
			has_facts = max(certificates.has_facts, excluded.has_facts), ` + minCase("certificates", "first_seen") +
		" RETURNING id")
	if err != nil {
		return err
	}
	link, err := w.prepare(`INSERT INTO scan_certificates(scan_id, cert_id, first_seen) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	sight, err := w.prepare(`INSERT INTO cert_sightings(scan_id, cert_id, host, port, peer, role, position, sni, time, source, file)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := range r.Certificates {
		c := &r.Certificates[i]
		facts, err := w.jsonText(&c.CertFacts)
		if err != nil {
			return fmt.Errorf("certificate %s: %w", c.SHA256, err)
		}
		der := c.DER
		if der == nil {
			der = []byte{}
		}
		var id int64
		if err := upsert.QueryRowContext(w.ctx, strings.ToLower(c.SHA256), der, boolInt(c.Examined()), c.SPKISHA256,
			c.KeyType, c.Subject, facts, dbTime(c.FirstSeen)).Scan(&id); err != nil {
			return fmt.Errorf("certificate %s: %w", c.SHA256, err)
		}
		if _, err := link.ExecContext(w.ctx, w.scan, id, dbTime(c.FirstSeen)); err != nil {
			return fmt.Errorf("certificate %s: %w", c.SHA256, err)
		}
		for _, sg := range c.SeenOn {
			if _, err := sight.ExecContext(w.ctx, w.scan, id, sg.Host, sg.Port, findings.AddrText(sg.Peer), sg.Role, sg.Position,
				sg.SNI, dbTime(sg.Time), string(sg.Source), sg.File); err != nil {
				return fmt.Errorf("certificate %s sighting: %w", c.SHA256, err)
			}
		}
	}
	return nil
}

// saveObservations stores every observation list of the document (see kinds).
func (w *scanWriter) saveObservations(r *findings.Report) error {
	var st *sql.Stmt
	for _, k := range kinds {
		rows := k.rows(r)
		if len(rows) == 0 {
			continue
		}
		if st == nil {
			var err error
			if st, err = w.prepare(`INSERT INTO observations(scan_id, kind, seq, data) VALUES (?, ?, ?, ?)`); err != nil {
				return err
			}
		}
		for i, row := range rows {
			data, err := w.jsonText(row)
			if err != nil {
				return fmt.Errorf("%s %d: %w", k.name, i, err)
			}
			if _, err := st.ExecContext(w.ctx, w.scan, k.name, i, data); err != nil {
				return fmt.Errorf("%s %d: %w", k.name, i, err)
			}
		}
	}
	return nil
}

// observedSpan is the earliest and latest instant a finding speaks of: its observation
// time, widened by any first/last seen its rule already set.
func observedSpan(f *findings.Finding) (first, last time.Time) {
	observe.Widen(&first, &last, f.Time, f.FirstSeen, f.LastSeen)
	return first, last
}

func (w *scanWriter) saveFindings(fs []findings.Finding) error {
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
		remediation, refs, file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(scan_id, fingerprint) DO UPDATE SET severity = excluded.severity, message = excluded.message,
		evidence = excluded.evidence, time = excluded.time, source = excluded.source,
		remediation = excluded.remediation, refs = excluded.refs, file = excluded.file
		WHERE excluded.severity > scan_findings.severity`)
	if err != nil {
		return err
	}
	for i := range fs {
		f := &fs[i]
		fp := f.Identity()
		ev := f.Evidence
		if ev == nil {
			ev = map[string]any{}
		}
		evidence, err := w.jsonText(ev)
		if err != nil {
			return fmt.Errorf("finding %s %s:%d: evidence: %w", f.Rule, f.Host, f.Port, err)
		}
		refs, err := w.jsonText(f.References)
		if err != nil {
			return err
		}
		first, last := observedSpan(f)
		if _, err := upsert.ExecContext(w.ctx, fp, f.Rule, int(f.Severity), f.Host, f.Port, f.Subject, f.Message,
			evidence, dbTime(f.Time), f.Source, f.Remediation, refs, dbTime(first), dbTime(last)); err != nil {
			return fmt.Errorf("finding %s %s:%d: %w", f.Rule, f.Host, f.Port, err)
		}
		if _, err := link.ExecContext(w.ctx, w.scan, fp, int(f.Severity), f.Message, evidence, dbTime(f.Time), f.Source,
			f.Remediation, refs, f.File); err != nil {
			return fmt.Errorf("finding %s %s:%d: %w", f.Rule, f.Host, f.Port, err)
		}
	}
	return nil
}
