package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
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
	return s.save(ctx, r, false)
}

// scanWriter holds one Save's (or Checkpoint's) transaction and its prepared
// statements; scan is the id written to, zero until the scan row is inserted.
type scanWriter struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts []*sql.Stmt
	scan  int64
	keyID string // the fingerprint of the key the scan's credential hashes were made under
	site  string // the scan's site, kept beside its rows that queries across sites read
	uid   string // the scan's uid as stored
	buf   bytes.Buffer

	// all, when not nil, yields the scan's findings in fingerprint order, to be saved in
	// place of the document's list (Sync).
	all iter.Seq2[findings.Finding, error]

	// What the store holds after the save beyond the document, for SaveAsStored (set
	// when stored is): each finding's first and last seen across the store (by
	// fingerprint), each certificate's row (by SHA-256), and which findings the scan kept
	// (scanFindings) with their evidence as Load decodes it (by index in the document),
	// converted as each row is written rather than from texts all kept to the end.
	stored   bool
	spans    map[string][2]sql.NullString
	certs    map[string]storedCert
	kept     []int
	evidence []map[string]any
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
	w.site = r.Scan.Site
	// The scan row: inserted when w.scan is zero, rewritten by a checkpoint otherwise.
	if err := w.scanRow(r.Scan); err != nil {
		return 0, err
	}
	for _, step := range []func(*findings.Report) error{w.saveAssets, w.saveCertificates, w.saveObservations} {
		if err := step(r); err != nil {
			return 0, err
		}
	}
	var err error
	if w.all != nil {
		err = w.saveFindingStream(keyedFindings(w.all), nil)
	} else {
		err = w.saveFindings(r.Findings)
	}
	if err != nil {
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
		cols[2], info.ToolVersion, info.Policy, ruleIDs, info.RunKind(), info.Site}
	if w.scan != 0 {
		// A checkpoint keeps the uid BeginScan gave the scan.
		res, err := w.tx.ExecContext(w.ctx, `UPDATE scans SET started = ?, finished = ?, label = ?, sources = ?,
			complete = ?, problems = ?, counters = ?, tool_version = ?, policy = ?, rules = ?, kind = ?, site = ?
			WHERE id = ?`, append(args, w.scan)...)
		if err != nil {
			return fmt.Errorf("scan row: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("scan row %d: not rewritten (%d rows, %v)", w.scan, n, err)
		}
		return w.tx.QueryRowContext(w.ctx, "SELECT coalesce(uid, '') FROM scans WHERE id = ?", w.scan).Scan(&w.uid)
	}
	w.uid = info.UID
	if w.uid == "" {
		w.uid = NewScanUID()
	} else {
		// A scan copied from another store (Sync): once only, checked inside the
		// transaction that would add it, so that two syncs at once add it once (the
		// unique index refuses the second should they race past this).
		var one int
		err := w.tx.QueryRowContext(w.ctx, "SELECT 1 FROM scans WHERE uid = ?", w.uid).Scan(&one)
		if err == nil {
			return errAlreadyStored
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("scan row: %w", err)
		}
	}
	// RETURNING rather than LastInsertId, which PostgreSQL's driver does not give.
	err := w.tx.QueryRowContext(w.ctx, `INSERT INTO scans(started, finished, label, sources, complete, problems, counters,
		tool_version, policy, rules, kind, site, key_id, uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		append(args, w.keyID, w.uid)...).Scan(&w.scan)
	if err != nil {
		return fmt.Errorf("scan row: %w", err)
	}
	return nil
}

// errAlreadyStored is scanRow's answer for a scan whose uid the store already holds.
var errAlreadyStored = errors.New("scan already stored")

// saveAssets stores the store-wide asset and MAC rows, and the scan's view of each asset
// (its inventory entry, whole). The assets come first, each batch giving back the ids
// of its addresses; then the rows that name them.
func (w *scanWriter) saveAssets(r *findings.Report) error {
	if len(r.Assets) == 0 {
		return nil
	}
	ids := make(map[string]int64, len(r.Assets))
	// An asset is one per site and address: two sites number their networks alike.
	assets := w.newBatch(`INSERT INTO assets(site, ip, first_seen, last_seen) VALUES`,
		`ON CONFLICT(site, ip) DO UPDATE SET `+minCase("assets", "first_seen")+", "+maxCase("assets", "last_seen")+
			" RETURNING ip, id", 4, func(rows *sql.Rows) error {
			var ip string
			var id int64
			if err := rows.Scan(&ip, &id); err != nil {
				return err
			}
			ids[ip] = id
			return nil
		})
	for i := range r.Assets {
		a := &r.Assets[i]
		if ip := a.IP(); ip != "" {
			if err := assets.add(ip, w.site, ip, dbTime(a.FirstSeen), dbTime(a.LastSeen)); err != nil {
				return fmt.Errorf("asset %s: %w", ip, err)
			}
		}
	}
	if err := assets.flush(); err != nil {
		return fmt.Errorf("assets: %w", err)
	}
	macs := w.newBatch(`INSERT INTO asset_macs(asset_id, mac, first_seen, last_seen) VALUES`,
		`ON CONFLICT(asset_id, mac) DO UPDATE SET `+minCase("asset_macs", "first_seen")+", "+maxCase("asset_macs", "last_seen"),
		4, nil)
	links := w.newBatch(`INSERT INTO scan_assets(scan_id, asset_id, kind, data) VALUES`, "", 4, nil)
	withIP := make([]int, 0, len(r.Assets))
	for i := range r.Assets {
		if r.Assets[i].IP() != "" {
			withIP = append(withIP, i)
		}
	}
	texts := jsonAhead(len(withIP), func(k int) any { return &r.Assets[withIP[k]] })
	defer texts.close()
	for _, i := range withIP {
		a := &r.Assets[i]
		ip := a.IP()
		id, ok := ids[ip]
		if !ok {
			return fmt.Errorf("asset %s: no id returned", ip)
		}
		for _, m := range a.MACs {
			if err := macs.add(ip+" "+m, id, m, dbTime(a.FirstSeen), dbTime(a.LastSeen)); err != nil {
				return fmt.Errorf("asset %s mac %s: %w", ip, m, err)
			}
		}
		data, err := texts.next()
		if err != nil {
			return fmt.Errorf("asset %s: %w", ip, err)
		}
		if err := links.add("", w.scan, id, a.Kind, data); err != nil {
			return fmt.Errorf("asset %s: %w", ip, err)
		}
	}
	if err := macs.flush(); err != nil {
		return fmt.Errorf("asset MACs: %w", err)
	}
	if err := links.flush(); err != nil {
		return fmt.Errorf("assets: %w", err)
	}
	return nil
}

// storedCert is what the store holds of a certificate after a save: its id, its first
// sighting across every scan, and its facts (those of the latest scan that had them).
type storedCert struct {
	id        int64
	firstSeen sql.NullString
	facts     string
}

// saveCertificates stores each certificate once per store (its DER and facts), links it
// to the scan, and records where the scan saw it.
func (w *scanWriter) saveCertificates(r *findings.Report) error {
	if len(r.Certificates) == 0 {
		return nil
	}
	w.certs = make(map[string]storedCert, len(r.Certificates))
	// Facts from the latest scan that had them win: a newer medscan may parse better.
	upsert := w.newBatch(`INSERT INTO certificates(sha256, der, has_facts, spki_sha256, key_type, subject, facts,
		first_seen) VALUES`, `ON CONFLICT(sha256) DO UPDATE SET
			spki_sha256 = CASE WHEN excluded.has_facts = 1 THEN excluded.spki_sha256 ELSE certificates.spki_sha256 END,
			key_type = CASE WHEN excluded.has_facts = 1 THEN excluded.key_type ELSE certificates.key_type END,
			subject = CASE WHEN excluded.has_facts = 1 THEN excluded.subject ELSE certificates.subject END,
			facts = CASE WHEN excluded.has_facts = 1 THEN excluded.facts ELSE certificates.facts END,
			der = CASE WHEN length(certificates.der) = 0 THEN excluded.der ELSE certificates.der END,
			has_facts = CASE WHEN excluded.has_facts = 1 THEN 1 ELSE certificates.has_facts END, `+minCase("certificates", "first_seen")+
		" RETURNING sha256, id, first_seen, facts", 8, func(rows *sql.Rows) error {
		var sha string
		var c storedCert
		if err := rows.Scan(&sha, &c.id, &c.firstSeen, &c.facts); err != nil {
			return err
		}
		w.certs[sha] = c
		return nil
	})
	factsAhead := jsonAhead(len(r.Certificates), func(i int) any { return &r.Certificates[i].CertFacts })
	defer factsAhead.close()
	for i := range r.Certificates {
		c := &r.Certificates[i]
		facts, err := factsAhead.next()
		if err != nil {
			return fmt.Errorf("certificate %s: %w", c.SHA256, err)
		}
		der := c.DER
		if der == nil {
			der = []byte{}
		}
		sha := strings.ToLower(c.SHA256)
		if err := upsert.add(sha, sha, der, boolInt(c.Examined()), c.SPKISHA256, c.KeyType, c.Subject, facts,
			dbTime(c.FirstSeen)); err != nil {
			return fmt.Errorf("certificate %s: %w", c.SHA256, err)
		}
	}
	if err := upsert.flush(); err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	link := w.newBatch(`INSERT INTO scan_certificates(scan_id, cert_id, first_seen) VALUES`, "", 3, nil)
	sight := w.newBatch(`INSERT INTO cert_sightings(scan_id, cert_id, host, port, peer, role, position, sni, time, source,
		file, site) VALUES`, "", 12, nil)
	for i := range r.Certificates {
		c := &r.Certificates[i]
		stored, ok := w.certs[strings.ToLower(c.SHA256)]
		if !ok {
			return fmt.Errorf("certificate %s: no id returned", c.SHA256)
		}
		if err := link.add("", w.scan, stored.id, dbTime(c.FirstSeen)); err != nil {
			return fmt.Errorf("certificate %s: %w", c.SHA256, err)
		}
		for _, sg := range c.SeenOn {
			if err := sight.add("", w.scan, stored.id, sg.Host, sg.Port, findings.AddrText(sg.Peer), sg.Role, sg.Position,
				sg.SNI, dbTime(sg.Time), string(sg.Source), sg.File, w.site); err != nil {
				return fmt.Errorf("certificate %s sighting: %w", c.SHA256, err)
			}
		}
	}
	if err := link.flush(); err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	if err := sight.flush(); err != nil {
		return fmt.Errorf("certificate sightings: %w", err)
	}
	return nil
}

// saveObservations stores every observation list of the document (see kinds).
func (w *scanWriter) saveObservations(r *findings.Report) error {
	rows := w.newBatch(`INSERT INTO observations(scan_id, kind, seq, data) VALUES`, "", 4, nil)
	for _, k := range kinds {
		if err := w.saveKind(rows, k, k.rows(r)); err != nil {
			return err
		}
	}
	if err := rows.flush(); err != nil {
		return fmt.Errorf("observations: %w", err)
	}
	return nil
}

// saveKind adds the rows of one observation list to batch, their JSON encoded ahead.
func (w *scanWriter) saveKind(rows *batch, k kind, list []any) error {
	texts := jsonAhead(len(list), func(i int) any { return list[i] })
	defer texts.close()
	for i := range list {
		data, err := texts.next()
		if err != nil {
			return fmt.Errorf("%s %d: %w", k.name, i, err)
		}
		if err := rows.add("", w.scan, k.name, i, data); err != nil {
			return fmt.Errorf("%s %d: %w", k.name, i, err)
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

// scanFindings picks the finding each fingerprint of a scan keeps, when its rules
// reported one twice: the first of the most severe. fps are the findings' fingerprints
// (Identity), as saveFindings computed them. It returns their indexes in fs, in the
// order given. The store keeps a scan's word on each finding once (scan_findings),
// and a scan rendered from memory (SaveAsStored) shows the same.
func scanFindings(fs []findings.Finding, fps []string) []int {
	at := make(map[string]int, len(fs)) // fingerprint -> its place in out
	out := make([]int, 0, len(fs))
	for i, fp := range fps {
		j, seen := at[fp]
		switch {
		case !seen:
			at[fp] = len(out)
			out = append(out, i)
		case outranks(&fs[i], &fs[out[j]]):
			out[j] = i
		}
	}
	return out
}

// outranks says whether f, reported after kept for the same fingerprint, takes its place
// as the finding the scan keeps: the first of the most severe is kept (scanFindings for a
// list, prepareFindings for a stream).
func outranks(f, kept *findings.Finding) bool { return f.Severity > kept.Severity }

// saveFindings saves a document's findings (saveFindingStream), fed from the list in
// fingerprint order. A stable sort keeps a fingerprint's repeats in the order given.
func (w *scanWriter) saveFindings(fs []findings.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	fps := make([]string, len(fs))
	order := make([]int, len(fs))
	for i := range fs {
		fps[i], order[i] = fs[i].Identity(), i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(fps[a], fps[b]) })
	var evidence func(k int, ev map[string]any)
	if w.stored {
		// What SaveAsStored makes of the document: the findings kept, by their place in
		// it, each with its evidence as Load decodes it.
		w.kept = scanFindings(fs, fps)
		w.evidence = make([]map[string]any, len(fs))
		evidence = func(k int, ev map[string]any) { w.evidence[order[k]] = ev }
	}
	return w.saveFindingStream(func(yield func(keyedFinding, error) bool) {
		for _, i := range order {
			if !yield(keyedFinding{fps[i], &fs[i]}, nil) {
				return
			}
		}
	}, evidence)
}

// keyedFinding is a finding with its fingerprint (its Identity).
type keyedFinding struct {
	fp string
	f  *findings.Finding
}

// keyedFindings is all, each finding with its fingerprint.
func keyedFindings(all iter.Seq2[findings.Finding, error]) iter.Seq2[keyedFinding, error] {
	return func(yield func(keyedFinding, error) bool) {
		for f, err := range all {
			if !yield(keyedFinding{f.Identity(), &f}, err) || err != nil {
				return
			}
		}
	}
}

// savedFinding is what saveFindingStream writes of one finding: its row of findings,
// and for the one finding of its fingerprint that the scan keeps its row of scan_findings, with its evidence encoded, and converted as Load
// would decode it when stored is set.
type savedFinding struct {
	keyedFinding
	hash     string // the key of its rule text (rule_texts)
	kept     bool
	evidence string
	asStored map[string]any
	k        int // its place in the walk
}

// saveFindingStream upserts every finding all yields into the store-wide findings table
// (widening its first and last seen, and taking the description of the newer
// observation), and links the scan to each fingerprint once (scanFindings: the first of
// the most severe of its repeats) with its own severity, message and evidence. The
// findings must come in fingerprint order, a fingerprint's repeats together in the order
// the document gives them: scan_findings is clustered by (scan, fingerprint) and the
// fingerprint index of findings by fingerprint, so that each B-tree page is filled once,
// in order, rather than fetched again for every row of a large scan (fingerprints are
// hashes: in the document's order every row lands on a random page, and a scan of 10,000
// findings outgrows SQLite's page cache). A finding out of that order is an error.
//
// all is walked once, a few chunks ahead of the writer (ahead.go), and each finding is
// held only until its rows are written: a list (saveFindings) or another store's scan
// read as it is saved (Sync), whose tens of thousands of findings and tens of megabytes
// of evidence are never all in memory. asStored, when not nil, is handed each kept
// finding's evidence as Load decodes it, by the finding's place in the walk.
func (w *scanWriter) saveFindingStream(all iter.Seq2[keyedFinding, error], asStored func(k int, ev map[string]any)) error {
	desc := []string{"severity", "message", "time", "source", "text_hash"}
	var upd []string
	for _, c := range desc {
		upd = append(upd, c+" = CASE WHEN "+newerThen+" THEN excluded."+c+" ELSE findings."+c+" END")
	}
	w.spans = map[string][2]sql.NullString{}
	upsert := w.newBatch(`INSERT INTO findings(fingerprint, rule, severity, host, port, subject, message,
		time, source, text_hash, first_seen, last_seen, host_order) VALUES`, `ON CONFLICT(fingerprint) DO UPDATE SET `+
		strings.Join(upd, ", ")+", "+minCase("findings", "first_seen")+", "+maxCase("findings", "last_seen")+
		" RETURNING fingerprint, first_seen, last_seen", 13, func(rows *sql.Rows) error {
		var fp string
		var span [2]sql.NullString
		if err := rows.Scan(&fp, &span[0], &span[1]); err != nil {
			return err
		}
		if w.stored {
			w.spans[fp] = span
		}
		return nil
	})
	link := w.newBatch(`INSERT INTO scan_findings(scan_id, fingerprint, severity, message, evidence, time, source,
		text_hash, file, site) VALUES`, "", 10, nil)
	link.after = upsert // a link names a finding row: those are written first
	// Each finding's rule text (remediation and references) is written once per store
	// (rule_texts), once the rows that name it are; texts is the ahead goroutine's until
	// its walk ends. The findings of a rule share their references: each list is
	// encoded once.
	texts := ruleTexts{}
	ahead := aheadOf(w.prepareFindings(all, texts, asStored != nil))
	defer ahead.close()
	for {
		sf, ok, err := ahead.take()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		f, fp := sf.f, sf.fp
		first, last := observedSpan(f)
		if err := upsert.add(fp, fp, f.Rule, int(f.Severity), f.Host, f.Port, f.Subject, f.Message,
			dbTime(f.Time), f.Source, sf.hash, dbTime(first), dbTime(last), hostOrder(f.Host)); err != nil {
			return fmt.Errorf("finding %s %s:%d: %w", f.Rule, f.Host, f.Port, err)
		}
		if !sf.kept {
			continue
		}
		if asStored != nil {
			asStored(sf.k, sf.asStored)
		}
		if err := link.add("", w.scan, fp, int(f.Severity), f.Message, sf.evidence, dbTime(f.Time), f.Source,
			sf.hash, f.File, w.site); err != nil {
			return fmt.Errorf("finding %s %s:%d: %w", f.Rule, f.Host, f.Port, err)
		}
	}
	if err := link.flush(); err != nil { // and upsert's before it
		return fmt.Errorf("findings: %w", err)
	}
	return w.saveRuleTexts(texts)
}

// prepareFindings is the work saveFindingStream does ahead of the writer for each
// finding all yields, in order: its references encoded and its rule text's key (added
// to texts), and for the finding a run of repeats of one fingerprint keeps (the first of
// the most severe, as scanFindings picks) its evidence encoded (and converted, when
// stored). A run is yielded once it is whole, in the order given.
func (w *scanWriter) prepareFindings(all iter.Seq2[keyedFinding, error], texts ruleTexts,
	stored bool) iter.Seq2[savedFinding, error] {
	return func(yield func(savedFinding, error) bool) {
		var (
			buf       bytes.Buffer
			asDecoded *asDecoder
			refs      = map[string]string{} // encoded reference lists, by refsKey
			run       []savedFinding        // the findings of the current fingerprint
			keep      int                   // the one of run kept
		)
		if stored {
			asDecoded = newAsDecoder()
		}
		// flush yields the run in its order, the finding it keeps with its evidence.
		flush := func() bool {
			if len(run) == 0 {
				return true
			}
			kept := &run[keep]
			kept.kept = true
			f := kept.f
			ev := f.Evidence
			if ev == nil {
				ev = map[string]any{}
			}
			var err error
			if kept.evidence, err = encodeJSON(&buf, ev); err == nil && asDecoded != nil {
				text := kept.evidence
				kept.asStored, err = asDecoded.evidence(f.Evidence, func() string { return text })
			}
			if err != nil {
				yield(savedFinding{}, fmt.Errorf("finding %s %s:%d: evidence: %w", f.Rule, f.Host, f.Port, err))
				return false
			}
			for _, sf := range run {
				if !yield(sf, nil) {
					return false
				}
			}
			clear(run)
			run = run[:0]
			return true
		}
		k := 0
		for kf, err := range all {
			if err != nil {
				yield(savedFinding{}, err)
				return
			}
			if len(run) > 0 && kf.fp != run[0].fp {
				if kf.fp < run[0].fp {
					yield(savedFinding{}, fmt.Errorf("finding %s: not in fingerprint order (after %s)", kf.fp, run[0].fp))
					return
				}
				if !flush() {
					return
				}
			}
			f := kf.f
			key := refsKey(f.References)
			text, ok := refs[key]
			if !ok {
				if text, err = encodeJSON(&buf, f.References); err != nil {
					yield(savedFinding{}, err)
					return
				}
				refs[key] = text
			}
			texts.add(f.Remediation, text)
			if len(run) == 0 || outranks(f, run[keep].f) {
				keep = len(run)
			}
			run = append(run, savedFinding{keyedFinding: kf, hash: texts.hash(f.Remediation, text), k: k})
			k++
		}
		flush()
	}
}

// refsKey is a reference list's contents as one string, each reference prefixed by its
// length, so that two lists have one key only when they are the same.
func refsKey(refs []string) string {
	var sb strings.Builder
	for _, r := range refs {
		sb.WriteString(strconv.Itoa(len(r)))
		sb.WriteByte(':')
		sb.WriteString(r)
	}
	return sb.String()
}

// ruleTexts are the distinct rule texts of a scan's findings, by remediation and then
// references (as stored), each with its key (ruleTextHash). A scan's thousands of
// findings carry a few dozen texts: each is hashed once, and found again by a map
// lookup rather than hashed again.
type ruleTexts map[string]map[string]string

func (t ruleTexts) add(remediation, refs string) {
	byRefs := t[remediation]
	if byRefs == nil {
		byRefs = map[string]string{}
		t[remediation] = byRefs
	}
	if _, ok := byRefs[refs]; !ok {
		byRefs[refs] = ruleTextHash(remediation, refs)
	}
}

// hash is the key of a text add was given.
func (t ruleTexts) hash(remediation, refs string) string { return t[remediation][refs] }

// saveRuleTexts stores the texts the store does not hold yet, in the order of their
// keys (rule_texts is clustered by them).
func (w *scanWriter) saveRuleTexts(t ruleTexts) error {
	type row struct{ hash, remediation, refs string }
	var all []row
	for rem, byRefs := range t {
		for refs, hash := range byRefs {
			all = append(all, row{hash, rem, refs})
		}
	}
	slices.SortFunc(all, func(a, b row) int { return strings.Compare(a.hash, b.hash) })
	rows := w.newBatch(`INSERT INTO rule_texts(hash, remediation, refs) VALUES`, "ON CONFLICT DO NOTHING", 3, nil)
	for _, r := range all {
		if err := rows.add(r.hash, r.hash, r.remediation, r.refs); err != nil {
			return fmt.Errorf("rule texts: %w", err)
		}
	}
	if err := rows.flush(); err != nil {
		return fmt.Errorf("rule texts: %w", err)
	}
	return nil
}
