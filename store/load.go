package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/observe/oui"
)

// Load reads one scan back as its report document, in a single read transaction so
// that a scan being written meanwhile cannot be seen half-way. The document is
// normalized (findings.Report.Normalize: derived, tidy, sorted): every string read from
// the file passes through observe.Clean, whoever wrote it.
func (s *Store) Load(ctx context.Context, scanID int64) (*findings.Report, error) {
	return s.loadWith(ctx, scanID, func(l *loader) ([]func(*findings.Report) error, error) {
		return []func(*findings.Report) error{l.scanInfo, l.findings, l.lists}, nil
	})
}

// Part is one part of a stored scan that LoadParts reads.
type Part int

// The parts of a stored scan LoadParts can read, beside its description.
const (
	PartFindings     Part = iota // the findings (not suppressed or fixed ones: they are a report's)
	PartCertificates             // the certificates and where each was seen
	PartAssets                   // the inventory's assets
	PartServices                 // the services the assets offered, with their TLS version and suite
	PartQuietHosts               // the addresses seen doing nothing reported
	PartFlows                    // the data-flow map's flows
	// PartFindingPlaces is the findings as a flow counts them (findings.LinkFlowFindings):
	// each one's rule, severity, host and port only, without the message, evidence and
	// rule text that are nearly all of the cost of reading a finding whole.
	PartFindingPlaces
)

// partKinds are the observation kinds (kinds.go) each part that is an observation list
// needs: a service's TLS version and suite are derived on loading (findings.Report.Derive)
// from the TLS sessions and probes, so a service is read with them.
var partKinds = map[Part][]string{
	PartServices:   {"service", "tls", "probe"},
	PartQuietHosts: {"quiet_hosts"},
	PartFlows:      {"flow"},
}

// LoadParts is Load reading only the parts named, for a command that needs no more: the
// inventory reads the assets, services and quiet hosts of a scan whose findings,
// certificates and other observations are most of its rows. The document is normalized
// as Load's is, and what it holds is what Load's would (but for PartFindingPlaces, whose
// findings hold their rule, severity, host and port only); the lists not read are empty
// (Flows too, not computed). A scan stored before flows were recorded has them computed
// from all its lists, as Load does: LoadParts reads the whole scan then.
func (s *Store) LoadParts(ctx context.Context, scanID int64, parts ...Part) (*findings.Report, error) {
	return s.loadWith(ctx, scanID, func(l *loader) ([]func(*findings.Report) error, error) {
		if slices.Contains(parts, PartFlows) {
			n, err := l.count(`SELECT count(*) FROM observations WHERE scan_id = ? AND kind = 'flow'`)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return []func(*findings.Report) error{l.scanInfo, l.findings, l.lists}, nil
			}
		}
		steps := []func(*findings.Report) error{l.scanInfo}
		l.onlyKinds = []string{}
		var certs, assets bool
		for _, p := range parts {
			switch p {
			case PartFindings:
				steps = append(steps, l.findings)
			case PartFindingPlaces:
				steps = append(steps, l.findingPlaces)
			case PartCertificates:
				certs = true
			case PartAssets:
				assets = true
			}
			for _, k := range partKinds[p] {
				if !slices.Contains(l.onlyKinds, k) {
					l.onlyKinds = append(l.onlyKinds, k)
				}
			}
		}
		return append(steps, func(r *findings.Report) error {
			if !slices.Contains(parts, PartFlows) {
				r.Flows = []findings.Flow{} // not read: not to be computed from the few lists that were
			}
			return l.someLists(r, certs, assets)
		}), nil
	})
}

// loadWith reads one scan in a read transaction by the steps plan gives for its loader,
// then normalizes the document.
func (s *Store) loadWith(ctx context.Context, scanID int64, plan func(*loader) ([]func(*findings.Report) error, error)) (*findings.Report, error) {
	tx, err := s.db.BeginTx(ctx, s.readTx())
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	defer tx.Rollback()
	if err := s.scanExists(ctx, tx, scanID); err != nil {
		return nil, err
	}
	l := &loader{ctx: ctx, q: tx, scan: scanID}
	r := &findings.Report{SchemaVersion: findings.ReportSchemaVersion}
	steps, err := plan(l)
	if err != nil {
		return nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, scanID, err)
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return nil, fmt.Errorf("store: %s: loading scan %d: %w", s.path, scanID, err)
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
	// skipKind is an observation kind not read (StreamOptions), or "".
	skipKind string
	// onlyKinds, when not nil, are the only observation kinds read (LoadParts).
	onlyKinds []string
}

// kindFilter is the SQL that narrows the observations read to those the loader wants,
// with its arguments after the scan's: every kind but skipKind, or only onlyKinds. Kinds
// left out are passed over in SQL, not copied out, let alone decoded.
func (l *loader) kindFilter() (string, []any) {
	if l.onlyKinds == nil {
		return ` AND kind <> ?`, []any{l.scan, l.skipKind}
	}
	args := []any{l.scan}
	for _, k := range l.onlyKinds {
		args = append(args, k)
	}
	if len(l.onlyKinds) == 0 {
		return ` AND 1 = 0`, args
	}
	return ` AND kind IN (` + placeholders(len(l.onlyKinds)) + `)`, args
}

// each runs query for this scan and calls fn for every row.
func (l *loader) each(query string, fn func(*sql.Rows) error) error {
	return l.eachOf(query, []any{l.scan}, fn)
}

// eachOf is each, the query's arguments args (the scan's first).
func (l *loader) eachOf(query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := l.q.QueryContext(l.ctx, query, args...)
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

// decode reads a JSON column into v, remembering the first error.
func (l *loader) decode(text, what string, v any) {
	if err := decodeText([]byte(text), what, v); err != nil && l.err == nil {
		l.err = err
	}
}

// decodeText reads a JSON column into v; an empty column is no value.
func decodeText(text []byte, what string, v any) error {
	if len(text) == 0 {
		return nil
	}
	if err := json.Unmarshal(text, v); err != nil {
		return fmt.Errorf("bad %s %.40q in store: %w", what, text, err)
	}
	return nil
}

// scanColumns are the columns scanInfo reads, in the order it reads them.
const scanColumns = `id, kind, started, finished, label, sources, complete, problems, counters, tool_version, policy, rules,
	site, coalesce(uid, '')`

// scanInfo reads one row of scanColumns.
func (l *loader) scanInfoRow(row interface{ Scan(...any) error }) (findings.ScanInfo, error) {
	var (
		si                          findings.ScanInfo
		started, finished, assessed sql.NullString
		sources, problems, counters string
		complete                    int
	)
	if err := row.Scan(&si.ID, &si.Kind, &started, &finished, &si.Label, &sources, &complete, &problems, &counters,
		&si.ToolVersion, &si.Policy, &assessed, &si.Site, &si.UID); err != nil {
		return si, err
	}
	if assessed.Valid {
		si.Rules = []string{}
		l.decode(assessed.String, "rule list", &si.Rules)
	}
	si.Started, si.Finished = l.t(started), l.t(finished)
	si.Complete = complete != 0
	l.decode(sources, "source list", &si.Sources)
	l.decode(problems, "problem list", &si.Problems)
	l.decode(counters, "counter list", &si.Counters)
	return si, l.err
}

func (l *loader) scanInfo(r *findings.Report) error {
	si, err := l.scanInfoRow(l.q.QueryRowContext(l.ctx, "SELECT "+scanColumns+" FROM scans WHERE id = ?", l.scan))
	if err != nil {
		return err
	}
	r.Scan = si
	return nil
}

// findings reads the scan's findings, decoded on every core (decodeFindings).
func (l *loader) findings(r *findings.Report) error { return l.findingsBesides(nil)(r) }

// findingOrder is the document's order of findings (findings.SortFindings) in SQL:
// most severe first, then rule, host as an address (host_order), port, subject and
// fingerprint, which one scan holds once. Text compares by bytes on both engines.
const findingOrder = "sf.severity DESC, f.rule, f.host_order, f.port, f.subject, f.fingerprint"

// findingQuery is the one SELECT of a scan's findings whole, for Load and the stream
// alike (the columns finding reads, in its order), rows chosen by where (on sf, the
// scan's copy, and f, the finding across scans) and sorted by order when it is not "".
func findingQuery(where, order string) string {
	q := `SELECT f.rule, sf.severity, f.host, f.port, f.subject, sf.message, sf.evidence, sf.time, sf.source,
		coalesce(t.remediation, ''), coalesce(t.refs, '[]'), f.fingerprint, f.first_seen, f.last_seen, sf.file
		FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint
		LEFT JOIN rule_texts t ON t.hash = sf.text_hash WHERE ` + where
	if order != "" {
		q += " ORDER BY " + order
	}
	return q
}

// findingRow is one row of findingQuery as read, its times and JSON columns not yet
// decoded: reading rows is the read transaction's, one at a time, and decoding them
// can be done elsewhere (decodeFindings).
type findingRow struct {
	f               findings.Finding
	sev             int
	evidence, refs  string
	tm, first, last sql.NullString
}

// scanFinding reads one row of findingQuery.
func scanFinding(rows *sql.Rows) (findingRow, error) {
	var r findingRow
	f := &r.f
	err := rows.Scan(&f.Rule, &r.sev, &f.Host, &f.Port, &f.Subject, &f.Message, &r.evidence, &r.tm, &f.Source,
		&f.Remediation, &r.refs, &f.Fingerprint, &r.first, &r.last, &f.File)
	return r, err
}

// finding reads and decodes one row of findingQuery, for the rows read alone rather than
// streamed (a suppressed finding, a fixed one); it is not tidied.
func (l *loader) finding(rows *sql.Rows) (findings.Finding, error) {
	r, err := scanFinding(rows)
	if err != nil {
		return findings.Finding{}, err
	}
	return r.decode(nil)
}

// decode makes the finding of a row; the error is the first bad time, reference list or
// evidence, in that order. refs, when not nil, keeps the reference lists decoded so far
// by their text (a scan's findings share a few rules' texts); each finding gets its own
// copy.
func (r *findingRow) decode(refs map[string][]string) (findings.Finding, error) {
	f := r.f
	f.Severity = findings.Severity(r.sev)
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	var err error
	f.Time, err = parseTime(r.tm)
	keep(err)
	f.FirstSeen, err = parseTime(r.first)
	keep(err)
	f.LastSeen, err = parseTime(r.last)
	keep(err)
	if list, ok := refs[r.refs]; ok {
		f.References = slices.Clone(list)
	} else {
		keep(decodeText([]byte(r.refs), "reference list", &f.References))
		if refs != nil && f.References != nil {
			refs[r.refs] = slices.Clone(f.References)
		}
	}
	if f.Evidence, err = decodeEvidence(r.evidence); err != nil {
		keep(fmt.Errorf("finding %s: bad evidence in store: %w", f.Fingerprint, err))
	}
	return f, first
}

// lists reads the scan's certificates, assets and observation lists onto r. The rows are
// read here, on the read transaction, in the order they always were; their JSON is
// decoded on every core (decoders, decode.go), and each list is put together in the
// order read once all of it is.
func (l *loader) lists(r *findings.Report) error {
	return l.readOnto(r, l.certificates, l.assets, l.observations)
}

// certificatesOnly reads the scan's certificates and where each was seen onto r, and
// none of its other lists.
func (l *loader) certificatesOnly(r *findings.Report) error {
	return l.readOnto(r, l.certificates)
}

// someLists reads onto r the certificates when certs, the assets when assets, and the
// observation kinds the loader wants (kindFilter), when there are any.
func (l *loader) someLists(r *findings.Report, certs, assets bool) error {
	var reads []func(*decoders) (func(*findings.Report) error, error)
	if certs {
		reads = append(reads, l.certificates)
	}
	if assets {
		reads = append(reads, l.assets)
	}
	if l.onlyKinds == nil || len(l.onlyKinds) > 0 {
		reads = append(reads, l.observations)
	}
	return l.readOnto(r, reads...)
}

// readOnto reads the lists reads read, in that order, handing their decoding to the
// cores (decoders), and puts each on r once all are decoded.
func (l *loader) readOnto(r *findings.Report, reads ...func(*decoders) (func(*findings.Report) error, error)) error {
	pool := newDecoders()
	var done []func(*findings.Report) error
	var err error
	for _, read := range reads {
		var d func(*findings.Report) error
		if d, err = read(pool); err != nil {
			break
		}
		done = append(done, d)
	}
	pool.wait() // the rows handed over are decoded (or dropped) before anything returns
	if err != nil {
		return err
	}
	for _, d := range done {
		if err := d(r); err != nil {
			return err
		}
	}
	return nil
}

// count reads a count of this scan's rows.
func (l *loader) count(query string) (int, error) {
	var n int
	err := l.q.QueryRowContext(l.ctx, query, l.scan).Scan(&n)
	return n, err
}

// certificates reads the scan's certificates and where each was seen.
func (l *loader) certificates(pool *decoders) (func(*findings.Report) error, error) {
	type stored struct {
		sha256 string
		first  time.Time
		seenOn []findings.Sighting
	}
	const from = `FROM scan_certificates sc JOIN certificates c ON c.id = sc.cert_id WHERE sc.scan_id = ?`
	n, err := l.count(`SELECT count(*) ` + from)
	if err != nil {
		return nil, err
	}
	certs := make([]stored, 0, n)
	byID := make(map[int64]int, n)
	facts := newBatches(pool, n, func(data []byte, into *findings.Certificate) error {
		return decodeText(data, "certificate facts", &into.CertFacts)
	})
	err = l.each(`SELECT c.id, c.sha256, c.facts, c.first_seen `+from,
		func(rows *sql.Rows) error {
			var (
				c     stored
				id    int64
				data  []byte
				first sql.NullString
			)
			if err := rows.Scan(&id, &c.sha256, &data, &first); err != nil {
				return err
			}
			c.first = l.t(first)
			byID[id] = len(certs)
			certs = append(certs, c)
			facts.row(data)
			return nil
		})
	facts.flush()
	if err != nil {
		return nil, err
	}
	err = l.each(`SELECT cert_id, host, port, peer, role, position, sni, time, source, file FROM cert_sightings
		WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			sg       findings.Sighting
			id       int64
			peer     string
			tm       sql.NullString
			source   string
			position int
		)
		if err := rows.Scan(&id, &sg.Host, &sg.Port, &peer, &sg.Role, &position, &sg.SNI, &tm, &source, &sg.File); err != nil {
			return err
		}
		sg.Position, sg.Source, sg.Time = position, observe.Source(source), l.t(tm)
		sg.Peer, _ = netip.ParseAddr(peer)
		setEndpoint(&sg)
		if i, ok := byID[id]; ok {
			certs[i].seenOn = append(certs[i].seenOn, sg)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return func(r *findings.Report) error {
		list, err := facts.all()
		if err != nil {
			return err
		}
		for i := range list {
			list[i].SHA256, list[i].FirstSeen, list[i].SeenOn = certs[i].sha256, certs[i].first, certs[i].seenOn
		}
		r.Certificates = append(r.Certificates, list...)
		return nil
	}, nil
}

// assets reads the scan's inventory.
func (l *loader) assets(pool *decoders) (func(*findings.Report) error, error) {
	n, err := l.count(`SELECT count(*) FROM scan_assets WHERE scan_id = ?`)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		// Normalizing the document names each asset's vendor from the OUI registry,
		// decompressed on first use (about 60 ms): on a decoder now, beside the reading,
		// rather than on the one goroutine that normalizes.
		pool.jobs <- oui.Preload
	}
	assets := newBatches(pool, n, func(data []byte, into *findings.Asset) error {
		return decodeText(data, "asset", into)
	})
	err = l.each(`SELECT data FROM scan_assets WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return err
		}
		assets.row(data)
		return nil
	})
	assets.flush()
	if err != nil {
		return nil, err
	}
	return func(r *findings.Report) error {
		list, err := assets.all()
		r.Assets = append(r.Assets, list...)
		return err
	}, nil
}

// observations reads the scan's observation lists (see kinds), in the order they were
// saved; a kind this medscan does not know (written by a newer one) is skipped.
func (l *loader) observations(pool *decoders) (func(*findings.Report) error, error) {
	counts := map[string]int{}
	kindRange, args := l.kindFilter()
	err := l.eachOf(`SELECT kind, count(*) FROM observations WHERE scan_id = ?`+kindRange+` GROUP BY kind`, args, func(rows *sql.Rows) error {
		var name string
		var n int
		err := rows.Scan(&name, &n)
		counts[name] = n
		return err
	})
	if err != nil {
		return nil, err
	}
	var lists []listDecoder
	byName := map[string]listDecoder{}
	err = l.eachOf(`SELECT kind, data FROM observations WHERE scan_id = ?`+kindRange+` ORDER BY kind, seq`, args, func(rows *sql.Rows) error {
		var name string
		var data []byte
		if err := rows.Scan(&name, &data); err != nil {
			return err
		}
		d, ok := byName[name]
		if !ok {
			if k, known := kindByName(name); known {
				d = k.decoder(pool, counts[name])
				lists = append(lists, d)
			}
			byName[name] = d
		}
		if d != nil {
			d.row(data)
		}
		return nil
	})
	for _, d := range lists {
		d.flush()
	}
	if err != nil {
		return nil, err
	}
	return func(r *findings.Report) error {
		for _, d := range lists {
			if err := d.done(r); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// Scans lists every scan in the store, oldest first, without its contents.
func (s *Store) Scans(ctx context.Context) ([]findings.ScanInfo, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+scanColumns+" FROM scans ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	defer rows.Close()
	l := &loader{ctx: ctx}
	out := []findings.ScanInfo{}
	for rows.Next() {
		si, err := l.scanInfoRow(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", s.path, err)
		}
		findings.Tidy(&si)
		out = append(out, si)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	return out, nil
}

// ScanSummary is one scan of a listing: its description and its findings counted as a
// report of it counts them.
type ScanSummary struct {
	Scan    findings.ScanInfo
	Summary findings.Summary
}

// ScanSummaries lists every scan, oldest first, each with its findings counted by
// severity. A finding for which suppressed says true is counted apart
// (Summary.Suppressed), as a report sets suppressed findings apart. With suppressed nil
// the counts come from one GROUP BY; otherwise each finding's identity (rule, severity,
// host, port, subject, fingerprint) is read once, in a stream, and none is kept: a store
// of a year of scheduled scans is listed without holding its findings.
func (s *Store) ScanSummaries(ctx context.Context, suppressed func(findings.Finding) bool) ([]ScanSummary, error) {
	scans, err := s.Scans(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ScanSummary, len(scans))
	idx := map[int64]int{}
	for i, si := range scans {
		out[i] = ScanSummary{Scan: si}
		idx[si.ID] = i
	}
	q := `SELECT scan_id, severity, COUNT(*), '', 0, '', '' FROM scan_findings GROUP BY scan_id, severity`
	if suppressed != nil {
		q = `SELECT sf.scan_id, sf.severity, 1, f.rule, f.port, f.subject, f.host
			FROM scan_findings sf JOIN findings f ON f.fingerprint = sf.fingerprint`
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, sev, n int64
			f          findings.Finding
		)
		if err := rows.Scan(&id, &sev, &n, &f.Rule, &f.Port, &f.Subject, &f.Host); err != nil {
			return nil, fmt.Errorf("store: %s: %w", s.path, err)
		}
		i, ok := idx[id]
		if !ok {
			continue
		}
		f.Severity = findings.Severity(sev)
		if suppressed != nil && suppressed(f) {
			out[i].Summary.Suppressed++
			continue
		}
		out[i].Summary.Add(f.Severity, int(n))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	return out, nil
}

// CertificateDER returns the DER encoding of a stored certificate, by its SHA-256 in hex.
func (s *Store) CertificateDER(ctx context.Context, sha256Hex string) ([]byte, error) {
	var der []byte
	err := s.db.QueryRowContext(ctx, "SELECT der FROM certificates WHERE sha256 = ?", strings.ToLower(sha256Hex)).Scan(&der)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: %s: no certificate %s", s.path, sha256Hex)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	return der, nil
}

// AssetKinds returns the latest known kind of every address the store has classified:
// for each address, the kind of the most recent scan that gave it one other than
// "unknown", so that a device seen silently once does not lose what earlier scans
// learned. The active prober reads it to leave medical devices alone.
func (s *Store) AssetKinds(ctx context.Context) (map[netip.Addr]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.ip, sa.kind FROM scan_assets sa JOIN assets a ON a.id = sa.asset_id
		WHERE sa.kind != '' AND sa.kind != ? ORDER BY sa.scan_id`, observe.KindUnknown)
	if err != nil {
		return nil, fmt.Errorf("store: %s: asset kinds: %w", s.path, err)
	}
	defer rows.Close()
	out := map[netip.Addr]string{}
	for rows.Next() {
		var ip, kind string
		if err := rows.Scan(&ip, &kind); err != nil {
			return nil, fmt.Errorf("store: %s: asset kinds: %w", s.path, err)
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("store: %s: asset kinds: bad address %q in store: %w", s.path, ip, err)
		}
		out[a] = kind // later scans come later and win
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: asset kinds: %w", s.path, err)
	}
	return out, nil
}
