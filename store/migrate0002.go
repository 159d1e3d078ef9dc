package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// goSteps are the parts of migrations that SQL cannot express, by migration number,
// run after the migration's SQL in its transaction. A step reports whether it rewrote
// kept data, in which case the file is compacted afterwards (see migrate).
var goSteps = map[int]func(ctx context.Context, tx *sql.Tx) (bool, error){
	2: migrate0002,
}

// migrate0002 converts the HTTP requests and file transfers an older medscan stored into
// observations whose paths and query parameter names are templates (observe.PathTemplate,
// QueryKeysTemplate), classified as the HTTP dissector now classifies them
// (observe.HTTPRequest.AsEmitted), requests of one shape merged, and replaces the paths that
// older medscan wrote into asset reasons and finding messages and evidence by their
// templates too: a raw URL path may name a patient, and must not survive an upgrade.
// cleartext-update findings, whose subject was the raw path, take the template as their
// subject, and so a new fingerprint, merged with any finding that already has it.
func migrate0002(ctx context.Context, tx *sql.Tx) (bool, error) {
	rewrote := false
	for _, step := range []func(context.Context, *sql.Tx) (bool, error){legacyHTTP, legacyTransfers, scrubAssetReasons,
		scrubFindings, templateUpdateSubjects} {
		r, err := step(ctx, tx)
		if err != nil {
			return false, err
		}
		rewrote = rewrote || r
	}
	for _, q := range []string{"DROP TABLE http_requests", "DROP TABLE file_transfers"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return false, err
		}
	}
	return rewrote, nil
}

// legacyHTTP moves http_requests into observations.
func legacyHTTP(ctx context.Context, tx *sql.Tx) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, scan_id, client, host, port, count, first_seen, last_seen, method,
		host_header, path, query_keys, user_agent, content_type, auth_scheme, has_cookie, api_key_headers, status, server,
		resp_content_type, body_bytes, body_sha256, body_kind, body_partial FROM http_requests`)
	if err != nil {
		return false, fmt.Errorf("reading http_requests: %w", err)
	}
	type legacy struct {
		id, scan int64
		r        findings.HTTPRequest
	}
	var all []legacy
	l := &loader{ctx: ctx}
	for rows.Next() {
		var (
			x               legacy
			first, last     sql.NullString
			qk, ak          string
			cookie, partial int
		)
		h := &x.r
		if err := rows.Scan(&x.id, &x.scan, &h.Client, &h.Host, &h.Port, &h.Count, &first, &last, &h.Method, &h.HostHeader,
			&h.Path, &qk, &h.UserAgent, &h.ContentType, &h.AuthScheme, &cookie, &ak, &h.Status, &h.Server,
			&h.RespContentType, &h.BodyBytes, &h.BodySHA256, &h.BodyKind, &partial); err != nil {
			rows.Close()
			return false, fmt.Errorf("reading http_requests: %w", err)
		}
		h.FirstSeen, h.LastSeen = l.t(first), l.t(last)
		l.decode(qk, "query keys", &h.QueryKeys)
		l.decode(ak, "API key headers", &h.APIKeyHeaders)
		h.HasCookie, h.BodyPartial = cookie != 0, partial != 0
		h.HTTPRequest = h.HTTPRequest.AsEmitted() // as the HTTP dissector now hands requests on
		all = append(all, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("reading http_requests: %w", err)
	}
	if l.err != nil {
		return false, fmt.Errorf("reading http_requests: %w", l.err)
	}
	// Requests whose raw paths differed may share a template now: one shape, as a scan
	// made today would keep them, with their counts added.
	shapes := observe.NewIndex[string, *legacy](0)
	for _, x := range all {
		h := x.r
		key := fmt.Sprint(x.scan, "|", h.Client, "|", h.Host, "|", h.Port, "|", h.Shape())
		kept, added, _ := shapes.Add(key, func() *legacy { n := x; return &n })
		if !added {
			kept.r.Count += h.Count
			observe.Widen(&kept.r.FirstSeen, &kept.r.LastSeen, h.FirstSeen, h.LastSeen)
		}
	}
	for _, x := range shapes.Items() {
		if err := insertObservation(ctx, tx, x.scan, "http", x.id, x.r.Host, x.r.Port, &x.r); err != nil {
			return false, err
		}
	}
	return len(all) > 0, nil
}

// legacyTransfers moves file_transfers into observations.
func legacyTransfers(ctx context.Context, tx *sql.Tx) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, scan_id, client, host, port, protocol, upload, path, bytes, sha256, kind,
		partial, count, first_seen, last_seen FROM file_transfers`)
	if err != nil {
		return false, fmt.Errorf("reading file_transfers: %w", err)
	}
	type legacy struct {
		id, scan int64
		t        findings.FileTransfer
	}
	var all []legacy
	l := &loader{ctx: ctx}
	for rows.Next() {
		var (
			x               legacy
			first, last     sql.NullString
			upload, partial int
		)
		t := &x.t
		if err := rows.Scan(&x.id, &x.scan, &t.Client, &t.Host, &t.Port, &t.Protocol, &upload, &t.Path, &t.Bytes,
			&t.SHA256, &t.Kind, &partial, &t.Count, &first, &last); err != nil {
			rows.Close()
			return false, fmt.Errorf("reading file_transfers: %w", err)
		}
		t.Upload, t.Partial = upload != 0, partial != 0
		t.FirstSeen, t.LastSeen = l.t(first), l.t(last)
		t.Path = observe.PathTemplate(t.Path)
		if a, err := netip.ParseAddr(t.Host); err == nil {
			t.URL = observe.TransferURL(t.Protocol, netip.AddrPortFrom(a, uint16(t.Port)), t.Path)
		}
		all = append(all, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("reading file_transfers: %w", err)
	}
	if l.err != nil {
		return false, fmt.Errorf("reading file_transfers: %w", l.err)
	}
	for _, x := range all {
		if err := insertObservation(ctx, tx, x.scan, "transfer", x.id, x.t.Host, x.t.Port, &x.t); err != nil {
			return false, err
		}
	}
	return len(all) > 0, nil
}

func insertObservation(ctx context.Context, tx *sql.Tx, scan int64, kind string, seq int64, host string, port int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO observations(scan_id, kind, seq, host, port, data) VALUES (?, ?, ?, ?, ?, ?)`,
		scan, kind, seq, host, port, string(data))
	return err
}

// pathInText finds what looks like a URL or a URL path in free text: a scheme, an
// authority and a path; or a path that starts the text or follows a space, a
// parenthesis, a comma or a quote (so "application/json" is no path).
var pathInText = regexp.MustCompile(`\b(?:https?|ftp|tftp)://[^/\s"'(),]+/[^\s"'(),]*|(?:^|[\s(,'"])/[^\s"'(),]*`)

// scrubText replaces every path in s by its template.
func scrubText(s string) string {
	if !strings.Contains(s, "/") {
		return s
	}
	return pathInText.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.Index(m, "/")
		if j := strings.Index(m, "://"); j >= 0 {
			i = j + 3 + strings.Index(m[j+3:], "/")
		}
		return m[:i] + observe.PathTemplate(m[i:])
	})
}

// scrubAny replaces the paths in every string of a decoded JSON value.
func scrubAny(v any) any {
	switch t := v.(type) {
	case string:
		return scrubText(t)
	case []any:
		for i := range t {
			t[i] = scrubAny(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = scrubAny(t[k])
		}
	}
	return v
}

// scrubAssetReasons replaces paths in the stored inventory's reasons ("FHIR server (GET
// /fhir/Patient/smith-john)").
func scrubAssetReasons(ctx context.Context, tx *sql.Tx) (bool, error) {
	return rewriteJSON(ctx, tx, "scan_assets", "rowid", "data")
}

// scrubFindings replaces paths in the stored findings' messages and evidence.
func scrubFindings(ctx context.Context, tx *sql.Tx) (bool, error) {
	changed := false
	for _, t := range []string{"findings", "scan_findings"} {
		c, err := rewriteText(ctx, tx, t, "message")
		if err != nil {
			return false, err
		}
		d, err := rewriteJSON(ctx, tx, t, "", "evidence")
		if err != nil {
			return false, err
		}
		changed = changed || c || d
	}
	return changed, nil
}

// rewriteText scrubs one text column of every row of a table.
func rewriteText(ctx context.Context, tx *sql.Tx, table, col string) (bool, error) {
	return rewriteColumn(ctx, tx, table, col, func(s string) (string, error) { return scrubText(s), nil })
}

// rewriteJSON scrubs the strings of one JSON column of every row of a table.
func rewriteJSON(ctx context.Context, tx *sql.Tx, table, _ string, col string) (bool, error) {
	return rewriteColumn(ctx, tx, table, col, func(s string) (string, error) {
		if !strings.Contains(s, "/") {
			return s, nil
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return s, nil // not JSON: left as it is, and read as an error later
		}
		out, err := json.Marshal(scrubAny(v))
		return string(out), err
	})
}

// rewriteColumn applies fix to one column of every row of a table (by primary key, via
// the rowid or the table's key columns) and writes back what changed.
func rewriteColumn(ctx context.Context, tx *sql.Tx, table, col string, fix func(string) (string, error)) (bool, error) {
	key := "rowid"
	switch table {
	case "scan_assets":
		key = "scan_id || ',' || asset_id"
	case "scan_findings":
		key = "scan_id || ',' || fingerprint"
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+key+", "+col+" FROM "+table)
	if err != nil {
		return false, fmt.Errorf("reading %s.%s: %w", table, col, err)
	}
	type change struct{ key, val string }
	var changes []change
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return false, fmt.Errorf("reading %s.%s: %w", table, col, err)
		}
		nv, err := fix(v)
		if err != nil {
			rows.Close()
			return false, fmt.Errorf("rewriting %s.%s: %w", table, col, err)
		}
		if nv != v {
			changes = append(changes, change{k, nv})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("reading %s.%s: %w", table, col, err)
	}
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+col+" = ? WHERE "+key+" = ?", c.val, c.key); err != nil {
			return false, fmt.Errorf("rewriting %s.%s: %w", table, col, err)
		}
	}
	return len(changes) > 0, nil
}

// templateUpdateSubjects gives cleartext-update findings their path template as subject
// (and so a new fingerprint), as the rule now raises them, merging two findings whose
// paths had the same template. Every subject but the rule's "(request not seen)" is a
// path or a file name (TFTP's are often relative), and the raw name is replaced wherever
// the finding's message or evidence repeats it.
func templateUpdateSubjects(ctx context.Context, tx *sql.Tx) (bool, error) {
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return false, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT fingerprint, rule, host, port, subject FROM findings WHERE rule = 'cleartext-update'`)
	if err != nil {
		return false, fmt.Errorf("reading update findings: %w", err)
	}
	type move struct{ old, new, subject, oldPath, newPath string }
	var moves []move
	for rows.Next() {
		var fp, rule, host, subject string
		var port int
		if err := rows.Scan(&fp, &rule, &host, &port, &subject); err != nil {
			rows.Close()
			return false, err
		}
		path, upload := strings.CutSuffix(subject, " (upload)")
		ns, np := subject, path
		if path != "(request not seen)" { // TFTP names are often relative ("fw-4471.bin"): template them too
			np = observe.PathTemplate(path)
			ns = np
			if upload {
				ns += " (upload)"
			}
		}
		if ns != subject {
			moves = append(moves, move{fp, findings.ComputeFingerprint(rule, host, port, ns), ns, path, np})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, m := range moves {
		var exists int
		err := tx.QueryRowContext(ctx, "SELECT count(*) FROM findings WHERE fingerprint = ?", m.new).Scan(&exists)
		if err != nil {
			return false, err
		}
		stmts := []string{
			// A scan that held both keeps the more severe word, under the new fingerprint.
			`DELETE FROM scan_findings WHERE fingerprint = ?1 AND EXISTS (SELECT 1 FROM scan_findings o
				WHERE o.scan_id = scan_findings.scan_id AND o.fingerprint = ?2 AND o.severity >= scan_findings.severity)`,
			`DELETE FROM scan_findings WHERE fingerprint = ?2 AND EXISTS (SELECT 1 FROM scan_findings o
				WHERE o.scan_id = scan_findings.scan_id AND o.fingerprint = ?1)`,
			`UPDATE scan_findings SET fingerprint = ?2 WHERE fingerprint = ?1`,
			// The raw name, wherever the message or evidence repeats it outside a URL.
			`UPDATE scan_findings SET message = replace(message, ?4, ?5), evidence = replace(evidence, ?4, ?5)
				WHERE fingerprint = ?2`,
		}
		if exists > 0 {
			stmts = append(stmts,
				`UPDATE findings SET first_seen = min(first_seen, (SELECT first_seen FROM findings WHERE fingerprint = ?1)),
					last_seen = max(last_seen, (SELECT last_seen FROM findings WHERE fingerprint = ?1)) WHERE fingerprint = ?2`,
				`DELETE FROM findings WHERE fingerprint = ?1`)
		} else {
			stmts = append(stmts, `UPDATE findings SET fingerprint = ?2, subject = ?3 WHERE fingerprint = ?1`)
		}
		stmts = append(stmts, `UPDATE findings SET message = replace(message, ?4, ?5), evidence = replace(evidence, ?4, ?5)
			WHERE fingerprint = ?2`)
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q, m.old, m.new, m.subject, m.oldPath, m.newPath); err != nil {
				return false, fmt.Errorf("moving update finding %s: %w", m.old, err)
			}
		}
	}
	return len(moves) > 0, nil
}
