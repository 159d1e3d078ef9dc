package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
)

// manyFindings is n findings of a few rules on many hosts, each with evidence of its
// own, enough for several batches of rows and several chunks of the work done ahead
// of the writer (ahead.go).
func manyFindings(n int, at time.Time) []findings.Finding {
	refs := [][]string{{"NIST SP 800-52r2"}, {"HIPAA 45 CFR 164.312(e)", "IEC 62443-3-3 SR 4.1"}, nil}
	fs := make([]findings.Finding, n)
	for i := range fs {
		rule := i % 3
		fs[i] = findings.Finding{Rule: fmt.Sprintf("rule-%d", rule), Severity: findings.Severity(1 + i%4),
			Host: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), Port: 400 + i%7, Message: fmt.Sprintf("finding %d", i),
			Evidence: map[string]any{"i": i, "peers": []any{fmt.Sprint("peer-", i), i * 2}, "note": "é ünïcode ✓",
				"nested": map[string]any{"n": i % 5}},
			Time: at.Add(time.Duration(i) * time.Second), Source: "passive", Remediation: fmt.Sprintf("fix rule %d", rule),
			References: refs[rule]}
	}
	return fs
}

// TestSyncStreamsEveryFinding: Sync reads a scan's findings from the source as it
// writes them (a stream, in fingerprint order) and writes every one once, with its own
// evidence, as a save of the scan loaded whole writes them: the destination's rows of
// findings (in the order inserted, their ids), scan_findings and rule_texts are those
// of a store like it into which each source scan was saved from Load; the findings the
// sync added were inserted in fingerprint order; and each copied scan loads back with
// the source's findings, in order, with their evidence, each the one its sensor saved.
func TestSyncStreamsEveryFinding(t *testing.T) {
	ctx := context.Background()
	src, err := Open(filepath.Join(t.TempDir(), "site.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	mustSave(t, src, siteInfo("east"), fullSet(), manyFindings(1500, t0))
	// A later scan: a part of the findings again, later, some more severe, and more.
	later := siteInfo("east")
	later.Started, later.Finished = later.Started.Add(time.Hour), later.Finished.Add(time.Hour)
	laterFs := manyFindings(1800, t0.Add(time.Hour))[300:]
	for i := range laterFs {
		if i%11 == 0 {
			laterFs[i].Severity = findings.Critical
		}
	}
	mustSave(t, src, later, fullSet(), laterFs)
	ro, err := OpenReadOnly(src.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()

	// The destination, and a store like it (the same scan of its own first, which
	// shares findings with the site's) into which each scan is saved whole.
	stores := make([]*Store, 2)
	for i := range stores {
		if stores[i], err = Open(tempStoreName(t)); err != nil {
			t.Fatal(err)
		}
		defer stores[i].Close()
		mustSave(t, stores[i], siteInfo("north"), fullSet(), manyFindings(400, t0.Add(-time.Hour))[100:])
	}
	dst, whole := stores[0], stores[1]
	before := count(t, dst, "SELECT max(id) FROM findings")
	if res, err := dst.Sync(ctx, ro); err != nil || res.Copied != 2 {
		t.Fatalf("sync: %+v, %v", res, err)
	}
	scans, err := ro.Scans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, si := range scans {
		r := mustLoad(t, ro, si.ID)
		for i := range r.Certificates {
			c := &r.Certificates[i]
			if c.DER, err = ro.CertificateDER(ctx, c.SHA256); err != nil {
				t.Fatal(err)
			}
		}
		keyID, err := ro.ScanKeyID(ctx, si.ID)
		if err != nil {
			t.Fatal(err)
		}
		r.Scan.UID = si.UID
		if _, err := whole.saveUnder(ctx, r, false, keyID, nil); err != nil {
			t.Fatal(err)
		}
	}

	for _, q := range []string{
		`SELECT id, fingerprint, rule, severity, host, port, subject, message, time, source, text_hash, first_seen,
			last_seen, host_order FROM findings ORDER BY id`,
		`SELECT scan_id, fingerprint, severity, message, evidence, time, source, text_hash, file, site
			FROM scan_findings ORDER BY scan_id, fingerprint`,
		`SELECT hash, remediation, refs FROM rule_texts ORDER BY hash`,
	} {
		got, want := tableRows(t, dst, q), tableRows(t, whole, q)
		if len(got) == 0 || !slices.Equal(got, want) {
			t.Errorf("%.60s: the synced store differs from the scans saved whole (%d rows, %d)", q, len(got), len(want))
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Errorf("first difference, row %d:\n synced %s\n whole  %s", i, got[i], want[i])
					break
				}
			}
		}
	}
	// The findings new to the destination, of each scan in turn, in fingerprint order.
	var want []string
	all := manyFindings(1800, t0)
	for _, part := range [][]findings.Finding{slices.Concat(all[:100], all[400:1500]), all[1500:]} {
		var fps []string
		for _, f := range part {
			fps = append(fps, fmt.Sprint([]sql.NullString{{String: f.Identity(), Valid: true}}))
		}
		slices.Sort(fps)
		want = append(want, fps...)
	}
	if added := tableRows(t, dst, "SELECT fingerprint FROM findings WHERE id > ? ORDER BY id", before); !slices.Equal(added, want) {
		t.Errorf("the sync added %d findings, %d expected, or not in fingerprint order", len(added), len(want))
	}

	for _, si := range scans {
		var id int64
		if err := dst.db.QueryRow("SELECT id FROM scans WHERE uid = ?", si.UID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		a, b := mustLoad(t, ro, si.ID).Findings, mustLoad(t, dst, id).Findings
		// The destination's own scan widened the first seen of some.
		for _, fs := range [][]findings.Finding{a, b} {
			for i := range fs {
				fs[i].FirstSeen = time.Time{}
			}
		}
		// And as the site's sensor saved them: each once, with its own evidence.
		seen := map[string]bool{}
		for _, f := range b {
			var n int
			if _, err := fmt.Sscanf(f.Message, "finding %d", &n); err != nil || seen[f.Message] ||
				fmt.Sprintf("%v %v", f.Evidence["i"], f.Evidence["peers"]) != fmt.Sprintf("%v %v", n, []any{fmt.Sprint("peer-", n), n * 2}) {
				t.Errorf("scan %d: %q copied again, or with evidence %v", si.ID, f.Message, f.Evidence)
			}
			seen[f.Message] = true
		}
		if len(a) != 1500 || !reflect.DeepEqual(a, b) {
			t.Errorf("scan %d: %d findings copied, %d in the source", si.ID, len(b), len(a))
			for i := range min(len(a), len(b)) {
				if !reflect.DeepEqual(a[i], b[i]) {
					t.Errorf("first difference, finding %d:\n copied %+v\n source %+v", i, b[i], a[i])
					break
				}
			}
		}
	}
}

// tableRows is each row of query, its columns as text.
func tableRows(t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
