package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// goSteps are the parts of migrations that SQL cannot express, by migration number,
// run after the migration's SQL in its transaction. A step reports whether it rewrote
// kept data, in which case the file is compacted afterwards (see migrate).
var goSteps = map[int]func(ctx context.Context, tx *sql.Tx) (bool, error){
	2: migrate0002,
	4: migrate0004,
	5: migrate0005,
	7: migrate0007,
	9: migrate0009,
}

// migrate0002 finishes what 0002's SQL began: the HTTP requests and file transfers it
// moved into observations keep the raw paths an older medscan stored, which may name a
// patient and must not survive an upgrade. It templates them (HTTPRequest.AsEmitted:
// path and query parameter names templated, the request classified; PathTemplate and
// TransferURL for transfers) and merges the ones that are one shape once templated, as
// a scan made today would keep them. It replaces the paths older medscan wrote into asset
// reasons and finding messages and evidence by their templates too. Findings of rules
// whose Subject has changed since (cleartext-update's was the raw path) take the one
// they have now, and so a new fingerprint, merged with any finding that already has it.
func migrate0002(ctx context.Context, tx *sql.Tx) (bool, error) {
	rewrote := false
	for _, step := range []func(context.Context, *sql.Tx) (bool, error){legacyHTTP, legacyTransfers, scrubAssetReasons,
		scrubFindings, legacySubjects} {
		r, err := step(ctx, tx)
		if err != nil {
			return false, err
		}
		rewrote = rewrote || r
	}
	return rewrote, nil
}

// legacyHTTP templates the HTTP requests 0002 moved into observations.
func legacyHTTP(ctx context.Context, tx *sql.Tx) (bool, error) {
	return rewriteLegacy(ctx, tx, "http", func(h *findings.HTTPRequest) string {
		h.HTTPRequest = h.HTTPRequest.AsEmitted() // as the HTTP dissector now hands requests on
		return h.Client + "|" + findings.Target(h.Host, h.Port) + "|" + h.Shape()
	}, func(kept, h *findings.HTTPRequest) {
		kept.Count += h.Count
		observe.Widen(&kept.FirstSeen, &kept.LastSeen, h.FirstSeen, h.LastSeen)
	})
}

// legacyTransfers templates the file transfers 0002 moved into observations.
func legacyTransfers(ctx context.Context, tx *sql.Tx) (bool, error) {
	return rewriteLegacy(ctx, tx, "transfer", func(t *findings.FileTransfer) string {
		t.Path = observe.PathTemplate(t.Path)
		if a, err := netip.ParseAddr(t.Host); err == nil {
			t.URL = observe.TransferURL(t.Protocol, netip.AddrPortFrom(a, uint16(t.Port)), t.Path)
		}
		return t.Client + "|" + t.Host + "|" + t.Shape()
	}, func(kept, t *findings.FileTransfer) {
		kept.Count += t.Count
		observe.Widen(&kept.FirstSeen, &kept.LastSeen, t.FirstSeen, t.LastSeen)
	})
}

// rewriteLegacy rewrites every observation of one kind: each is decoded, made what a
// dissector hands on today by emit (which returns its aggregation key: the Set's, with
// the scan), and merged with any earlier one of its scan and key; the kind's rows are
// then written again, in their first-seen order.
func rewriteLegacy[T any](ctx context.Context, tx *sql.Tx, kind string, emit func(*T) string, merge func(kept, v *T)) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT scan_id, data FROM observations WHERE kind = ? ORDER BY scan_id, seq`, kind)
	if err != nil {
		return false, fmt.Errorf("reading legacy %s rows: %w", kind, err)
	}
	type item struct {
		scan int64
		v    T
	}
	kept := observe.NewIndex[string, *item](0)
	n := 0
	for rows.Next() {
		var scan int64
		var data []byte
		if err := rows.Scan(&scan, &data); err != nil {
			rows.Close()
			return false, fmt.Errorf("reading legacy %s rows: %w", kind, err)
		}
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			rows.Close()
			return false, fmt.Errorf("reading legacy %s row %.60q: %w", kind, data, err)
		}
		n++
		key := strconv.FormatInt(scan, 10) + "|" + emit(&v)
		if it, added, _ := kept.Add(key, func() *item { return &item{scan, v} }); !added {
			merge(&it.v, &v)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("reading legacy %s rows: %w", kind, err)
	}
	if n == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM observations WHERE kind = ?", kind); err != nil {
		return false, err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO observations(scan_id, kind, seq, data) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return false, err
	}
	defer ins.Close()
	seq := map[int64]int{}
	for _, it := range kept.Items() {
		data, err := jsonText(&it.v)
		if err != nil {
			return false, err
		}
		if _, err := ins.ExecContext(ctx, it.scan, kind, seq[it.scan], data); err != nil {
			return false, fmt.Errorf("rewriting legacy %s rows: %w", kind, err)
		}
		seq[it.scan]++
	}
	return true, nil
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

// scrubAny replaces the paths in every string of a decoded JSON value, in place where
// it can, and reports whether it replaced any.
func scrubAny(v any) (any, bool) {
	changed := false
	switch t := v.(type) {
	case string:
		s := scrubText(t)
		return s, s != t
	case []any:
		for i := range t {
			var c bool
			t[i], c = scrubAny(t[i])
			changed = changed || c
		}
	case map[string]any:
		for k := range t {
			var c bool
			t[k], c = scrubAny(t[k])
			changed = changed || c
		}
	}
	return v, changed
}

// scrubJSON is scrubText for a JSON column: every string in it. A value with no path in
// it is left exactly as it was (not even re-encoded).
func scrubJSON(s string) (string, bool) {
	if !strings.Contains(s, "/") {
		return s, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return s, false // not JSON: left as it is, and read as an error later
	}
	v, changed := scrubAny(v)
	if !changed {
		return s, false
	}
	out, err := jsonText(v)
	if err != nil {
		return s, false
	}
	return out, true
}

func scrubPlain(s string) (string, bool) {
	out := scrubText(s)
	return out, out != s
}

// scrubAssetReasons replaces paths in the stored inventory: its reasons ("FHIR server
// (GET /fhir/Patient/smith-john)"), and any other string of an entry that holds one.
func scrubAssetReasons(ctx context.Context, tx *sql.Tx) (bool, error) {
	return rewriteRows(ctx, tx, "scan_assets", []string{"scan_id", "asset_id"}, column{"data", scrubJSON})
}

// scrubFindings replaces paths in the stored findings' messages and evidence.
func scrubFindings(ctx context.Context, tx *sql.Tx) (bool, error) {
	a, err := rewriteRows(ctx, tx, "findings", []string{"id"}, column{"message", scrubPlain}, column{"evidence", scrubJSON})
	if err != nil {
		return false, err
	}
	b, err := rewriteRows(ctx, tx, "scan_findings", []string{"scan_id", "fingerprint"}, column{"message", scrubPlain},
		column{"evidence", scrubJSON})
	return a || b, err
}

// column is one text column a rewrite fixes, with how.
type column struct {
	name string
	fix  func(string) (string, bool)
}

// rewriteRows applies each column's fix to every row of a table and writes back the rows
// it changed, found by their primary key (keys).
func rewriteRows(ctx context.Context, tx *sql.Tx, table string, keys []string, cols ...column) (bool, error) {
	names := make([]string, len(cols))
	sets := make([]string, len(cols))
	for i, c := range cols {
		names[i], sets[i] = c.name, c.name+" = ?"
	}
	where := strings.Join(keys, " = ? AND ") + " = ?"
	rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(keys, ", ")+", "+strings.Join(names, ", ")+" FROM "+table)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", table, err)
	}
	var updates [][]any // new values, then the key
	for rows.Next() {
		key := make([]any, len(keys))
		vals := make([]string, len(cols))
		dest := make([]any, 0, len(keys)+len(cols))
		for i := range key {
			dest = append(dest, &key[i])
		}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return false, fmt.Errorf("reading %s: %w", table, err)
		}
		changed := false
		args := make([]any, 0, len(cols)+len(keys))
		for i, c := range cols {
			v, ch := c.fix(vals[i])
			changed = changed || ch
			args = append(args, v)
		}
		if changed {
			updates = append(updates, append(args, key...))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("reading %s: %w", table, err)
	}
	if len(updates) == 0 {
		return false, nil
	}
	upd, err := tx.PrepareContext(ctx, "UPDATE "+table+" SET "+strings.Join(sets, ", ")+" WHERE "+where)
	if err != nil {
		return false, err
	}
	defer upd.Close()
	for _, args := range updates {
		if _, err := upd.ExecContext(ctx, args...); err != nil {
			return false, fmt.Errorf("rewriting %s: %w", table, err)
		}
	}
	return true, nil
}

// currentSubject is the Subject an older medscan's finding has now, when its rule has
// since changed what it puts there (ok is false otherwise), with the raw text the old
// subject held and what replaces it in the finding's message and evidence:
//   - cleartext-update: the path template, not the raw path (every subject but the
//     rule's "(request not seen)" is a path or a file name; TFTP's are often relative);
//   - credential-shared: the credential's kind, not "kind@server,server": the rule now
//     raises one finding per server and kind, and the old finding's host and port were
//     its first server's.
func currentSubject(rule, subject string) (now, raw, replaced string, ok bool) {
	switch rule {
	case "cleartext-update":
		path, upload := strings.CutSuffix(subject, " (upload)")
		if path == "(request not seen)" {
			return subject, "", "", false
		}
		tmpl := observe.PathTemplate(path)
		now = tmpl
		if upload {
			now += " (upload)"
		}
		return now, path, tmpl, now != subject
	case "credential-shared":
		kind, _, found := strings.Cut(subject, "@")
		return kind, "", "", found
	}
	return subject, "", "", false
}

// legacySubjects gives the findings of rules that changed their Subject the subject
// they have now (currentSubject), and so a new fingerprint, merging two findings that
// now have the same; the raw text the old subject held is replaced wherever the
// finding's message or evidence repeats it.
func legacySubjects(ctx context.Context, tx *sql.Tx) (bool, error) {
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return false, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT fingerprint, rule, host, port, subject FROM findings
		WHERE rule IN ('cleartext-update', 'credential-shared')`)
	if err != nil {
		return false, fmt.Errorf("reading findings whose subject changed: %w", err)
	}
	type move struct{ old, new, subject, raw, replaced string }
	var moves []move
	for rows.Next() {
		var fp, rule, host, subject string
		var port int
		if err := rows.Scan(&fp, &rule, &host, &port, &subject); err != nil {
			rows.Close()
			return false, err
		}
		if ns, raw, repl, ok := currentSubject(rule, subject); ok {
			moves = append(moves, move{fp, findings.ComputeFingerprint(rule, host, port, ns), ns, raw, repl})
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
		}
		if exists > 0 {
			stmts = append(stmts,
				`UPDATE findings SET first_seen = min(first_seen, (SELECT first_seen FROM findings WHERE fingerprint = ?1)),
					last_seen = max(last_seen, (SELECT last_seen FROM findings WHERE fingerprint = ?1)) WHERE fingerprint = ?2`,
				`DELETE FROM findings WHERE fingerprint = ?1`)
		} else {
			stmts = append(stmts, `UPDATE findings SET fingerprint = ?2, subject = ?3 WHERE fingerprint = ?1`)
		}
		if m.raw != "" {
			// The raw text, wherever the message or evidence repeats it outside a URL.
			for _, table := range []string{"scan_findings", "findings"} {
				stmts = append(stmts, `UPDATE `+table+` SET message = replace(message, ?4, ?5),
					evidence = replace(evidence, ?4, ?5) WHERE fingerprint = ?2`)
			}
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q, m.old, m.new, m.subject, m.raw, m.replaced); err != nil {
				return false, fmt.Errorf("moving finding %s: %w", m.old, err)
			}
		}
	}
	return len(moves) > 0, nil
}
