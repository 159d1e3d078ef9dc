package store

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/medscan/medscan/findings"
)

// manyTexts is testFindings repeated on n hosts: findings of a few rules, each rule's
// text on every host, as a large scan has them.
func manyTexts(n int) []findings.Finding {
	var out []findings.Finding
	for h := range n {
		for _, f := range testFindings() {
			f.Host = fmt.Sprintf("10.1.%d.%d", h/250, h%250+1)
			f.SetFingerprint()
			out = append(out, f)
		}
	}
	return out
}

// distinctTexts counts the distinct (remediation, references) pairs of fs.
func distinctTexts(fs []findings.Finding) int {
	seen := map[string]bool{}
	for _, f := range fs {
		seen[fmt.Sprintf("%q %q", f.Remediation, f.References)] = true
	}
	return len(seen)
}

// TestRuleTextStoredOnce: a rule's remediation and references are stored once however
// many findings carry them, and every finding reads them back.
func TestRuleTextStoredOnce(t *testing.T) {
	s, _ := openTemp(t)
	fs := manyTexts(40)
	want := distinctTexts(fs)
	if want < 3 || want >= len(fs)/10 {
		t.Fatalf("fixture: %d distinct texts in %d findings", want, len(fs))
	}
	a := mustSave(t, s, testInfo(), fullSet(), fs)
	mustSave(t, s, testInfo(), fullSet(), fs)
	if n := count(t, s, "SELECT count(*) FROM rule_texts"); n != want {
		t.Errorf("rule_texts holds %d rows after two scans; want %d", n, want)
	}
	if n := count(t, s, "SELECT count(*) FROM scan_findings sf WHERE NOT EXISTS (SELECT 1 FROM rule_texts t WHERE t.hash = sf.text_hash)"); n != 0 {
		t.Errorf("%d scan findings name no stored text", n)
	}
	if n := count(t, s, "SELECT count(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM rule_texts t WHERE t.hash = f.text_hash)"); n != 0 {
		t.Errorf("%d findings name no stored text", n)
	}
	byFP := map[string]findings.Finding{}
	for _, f := range fs {
		byFP[f.Fingerprint] = f
	}
	got := mustLoad(t, s, a)
	if len(got.Findings) != len(fs) {
		t.Fatalf("loaded %d findings; want %d", len(got.Findings), len(fs))
	}
	for _, f := range got.Findings {
		w := byFP[f.Fingerprint]
		if f.Remediation != w.Remediation || !reflect.DeepEqual(nonNil(f.References), nonNil(w.References)) {
			t.Errorf("%s on %s: read back %q %q; saved %q %q", f.Rule, f.Host, f.Remediation, f.References,
				w.Remediation, w.References)
		}
	}
}

// TestRuleTextKeptPerScan: a rule whose advice changed between two scans (a newer
// medscan) leaves each scan with the text it was judged with.
func TestRuleTextKeptPerScan(t *testing.T) {
	s, _ := openTemp(t)
	old := testFindings()
	a := mustSave(t, s, testInfo(), fullSet(), old)
	changed := testFindings()
	for i := range changed {
		changed[i].Remediation += " (revised)"
		changed[i].References = append(changed[i].References, "RFC 9325")
	}
	b := mustSave(t, s, testInfo(), fullSet(), changed)
	for _, c := range []struct {
		id   int64
		want []findings.Finding
	}{{a, old}, {b, changed}} {
		byFP := map[string]findings.Finding{}
		for _, f := range c.want {
			byFP[f.Fingerprint] = f
		}
		for _, f := range mustLoad(t, s, c.id).Findings {
			w := byFP[f.Fingerprint]
			if f.Remediation != w.Remediation || !reflect.DeepEqual(nonNil(f.References), nonNil(w.References)) {
				t.Errorf("scan %d, %s: %q %q; want %q %q", c.id, f.Rule, f.Remediation, f.References, w.Remediation, w.References)
			}
		}
	}
	if n, want := count(t, s, "SELECT count(*) FROM rule_texts"), distinctTexts(old)+distinctTexts(changed); n != want {
		t.Errorf("rule_texts holds %d rows; want %d", n, want)
	}
}

// TestMigration0007: a store whose finding rows carry their rule's text reads the same
// after 0007 has moved the texts into rule_texts, once each, and dropped the old
// columns and the two indexes no query reads.
func TestMigration0007(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := manyTexts(5)
	a := mustSave(t, s, testInfo(), fullSet(), fs)
	changed := testFindings()
	for i := range changed {
		changed[i].Remediation = "revised: " + changed[i].Remediation
	}
	b := mustSave(t, s, testInfo(), fullSet(), changed)
	before := []*findings.Report{mustLoad(t, s, a), mustLoad(t, s, b)}
	for _, q := range append(undo0007, "DELETE FROM schema_migrations WHERE version >= 7", "PRAGMA user_version = 6") {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM scan_findings WHERE remediation != ''"); n == 0 {
		t.Fatal("fixture: the old columns hold no text")
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, id := range []int64{a, b} {
		if got := mustLoad(t, s, id); !reflect.DeepEqual(got, before[i]) {
			t.Errorf("scan %d reads otherwise than before the migration", id)
		}
	}
	if n, want := count(t, s, "SELECT count(*) FROM rule_texts"), distinctTexts(fs)+distinctTexts(changed); n != want {
		t.Errorf("rule_texts holds %d rows; want %d", n, want)
	}
	for _, table := range []string{"findings", "scan_findings"} {
		if n := count(t, s, "SELECT count(*) FROM pragma_table_info('"+table+"') WHERE name IN ('remediation', 'refs')"); n != 0 {
			t.Errorf("%s keeps %d of the old columns", table, n)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM sqlite_master WHERE name IN ('findings_rule', 'findings_host')"); n != 0 {
		t.Errorf("%d of the unread indexes of findings are left", n)
	}
	// A scan saved after the migration shares the texts the migration stored.
	mustSave(t, s, testInfo(), fullSet(), fs)
	if n, want := count(t, s, "SELECT count(*) FROM rule_texts"), distinctTexts(fs)+distinctTexts(changed); n != want {
		t.Errorf("after a new scan rule_texts holds %d rows; want %d", n, want)
	}
}

// TestRuleTextHash: the key tells apart texts that concatenate alike.
func TestRuleTextHash(t *testing.T) {
	if ruleTextHash("ab", "c") == ruleTextHash("a", "bc") {
		t.Error("two texts share a key")
	}
	if h := ruleTextHash("x", "[]"); len(h) != 32 || h != ruleTextHash("x", "[]") {
		t.Errorf("key %q", h)
	}
}
