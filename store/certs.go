package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// CertHistory is every certificate the store holds, across every scan: its facts, each
// place it was seen (host:port and role, or file) with the first and last time and the
// number of scans, and the scans it was seen in. The certificate inventory (medscan
// certs) and the rotation of keys at an endpoint are read from it; verdicts come from
// the certificate's latest scan (CertVerdicts). Rows are read in one query, streamed;
// strings are cleaned (findings.Tidy) as Load cleans a scan's.
func (s *Store) CertHistory(ctx context.Context) ([]findings.CertRecord, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT c.sha256, c.der, c.facts, sc.scan_id, s.kind, s.label, coalesce(s.finished, s.started), coalesce(sc.first_seen, s.started),
			coalesce(g.host, ''), coalesce(g.port, 0), coalesce(g.role, ''), coalesce(g.position, -1), coalesce(g.source, ''),
			coalesce(g.file, ''), g.time
		FROM certificates c
		JOIN scan_certificates sc ON sc.cert_id = c.id
		JOIN scans s ON s.id = sc.scan_id
		LEFT JOIN cert_sightings g ON g.cert_id = c.id AND g.scan_id = sc.scan_id
		ORDER BY c.sha256, sc.scan_id`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	var out []findings.CertRecord
	type placeKey struct{ where, role, source string }
	places := map[placeKey]int{}
	placeScans := map[placeKey]int64{}
	for rows.Next() {
		var (
			sha, facts, kind, label, host, role, source, file string
			der                                               []byte
			scanID                                            int64
			port, position                                    int
			scanTime, linked, seen                            sql.NullString
		)
		if err := rows.Scan(&sha, &der, &facts, &scanID, &kind, &label, &scanTime, &linked, &host, &port, &role, &position,
			&source, &file, &seen); err != nil {
			return nil, s.wrap(err)
		}
		if len(out) == 0 || out[len(out)-1].SHA256 != sha {
			rec := findings.CertRecord{SHA256: sha, DER: der, Places: []findings.CertPlace{}}
			if facts != "" && facts != "{}" {
				if err := json.Unmarshal([]byte(facts), &rec.CertFacts); err != nil {
					return nil, s.wrap(fmt.Errorf("certificate %s: facts: %w", sha, err))
				}
			}
			out = append(out, rec)
			clear(places)
			clear(placeScans)
		}
		rec := &out[len(out)-1]
		at, err := parseTime(seen)
		if err != nil || at.IsZero() {
			if at, err = parseTime(linked); err != nil {
				return nil, s.wrap(err)
			}
		}
		if at.IsZero() {
			if at, err = parseTime(scanTime); err != nil {
				return nil, s.wrap(err)
			}
		}
		if n := len(rec.ScanIDs); n == 0 || rec.ScanIDs[n-1] != scanID {
			rec.ScanIDs = append(rec.ScanIDs, scanID)
		}
		if rec.FirstSeen.IsZero() || at.Before(rec.FirstSeen) {
			rec.FirstSeen = at
		}
		if at.After(rec.LastSeen) {
			rec.LastSeen = at
		}
		if source == "" {
			source = string(observe.SourceFile)
		}
		k := placeKey{findings.Holder(host, port, role, findings.FileRef(file, max(position, 0))), role, source}
		if host == "" && file == "" {
			k.where = "file (scan " + fmt.Sprint(scanID) + ")"
		}
		i, ok := places[k]
		if !ok {
			i = len(rec.Places)
			places[k] = i
			rec.Places = append(rec.Places, findings.CertPlace{Where: k.where, Host: host, Port: port,
				Role: k.role, Position: position, Source: k.source, FirstSeen: at, LastSeen: at})
		}
		p := &rec.Places[i]
		if placeScans[k] != scanID {
			placeScans[k] = scanID
			p.Scans++
		}
		if at.Before(p.FirstSeen) {
			p.FirstSeen = at
		}
		if at.After(p.LastSeen) {
			p.LastSeen = at
		}
		if label != "" && !slices.Contains(rec.Labels, label) {
			rec.Labels = append(rec.Labels, label)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	// Every string read from the file is cleaned, as Load cleans a scan's.
	findings.Tidy(&out)
	for i := range out {
		slices.SortFunc(out[i].Places, func(a, b findings.CertPlace) int {
			return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.Where, b.Where), cmp.Compare(a.Role, b.Role))
		})
	}
	return out, nil
}

// CertVerdicts are the findings of each certificate's latest scan that name it (their
// evidence's cert_sha256), by certificate SHA-256: what the store says of it today.
// Only the findings whose stored evidence may name a certificate are decoded (most of a
// network scan's do not), and only those that do are kept: memory follows the verdicts,
// not the scans' findings.
func (s *Store) CertVerdicts(ctx context.Context, certs []findings.CertRecord) (map[string][]findings.Finding, error) {
	latest := map[int64][]string{}
	for _, c := range certs {
		if n := len(c.ScanIDs); n > 0 {
			id := c.ScanIDs[n-1]
			latest[id] = append(latest[id], c.SHA256)
		}
	}
	ids := make([]int64, 0, len(latest))
	for id := range latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// One read transaction: the verdicts of every scan as the store held them at once.
	tx, err := s.db.BeginTx(ctx, s.readTx())
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	defer tx.Rollback()
	out := map[string][]findings.Finding{}
	for _, id := range ids {
		want := map[string]bool{}
		for _, sha := range latest[id] {
			want[sha] = true
		}
		l := &loader{ctx: ctx, q: tx, scan: id}
		for f, err := range l.findingsOf(findingOrder, cannotNameCertificate) {
			if err != nil {
				return nil, fmt.Errorf("store: %s: the verdicts of scan %d: %w", s.path, id, err)
			}
			if sha, _ := f.Evidence["cert_sha256"].(string); want[sha] {
				out[sha] = append(out[sha], f)
			}
		}
	}
	return out, nil
}

// cannotNameCertificate is true for a finding whose stored evidence cannot name a
// certificate: it holds neither the key cert_sha256 as written nor any escape (a key
// could be spelled with one). CertVerdicts passes over those undecoded.
func cannotNameCertificate(r *findingRow) bool {
	return !strings.Contains(r.evidence, "cert_sha256") && !strings.Contains(r.evidence, `\`)
}
