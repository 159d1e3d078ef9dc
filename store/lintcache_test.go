package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func sortEntries(es []LintCacheEntry) []LintCacheEntry {
	slices.SortFunc(es, func(a, b LintCacheEntry) int {
		return strings.Compare(a.CertSHA256+a.Role+fmt.Sprint(a.WebPKI, a.SelfSigned),
			b.CertSHA256+b.Role+fmt.Sprint(b.WebPKI, b.SelfSigned))
	})
	return es
}

// TestLintCache: rows kept are read back for the certificates asked (more than one
// query's worth), under their version only; a key kept twice keeps its first record;
// keeping a certificate's rows under a new version drops its rows of the old one, and
// only its own.
func TestLintCache(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	var all []LintCacheEntry
	for i := range 2*keysPerQuery + 7 {
		all = append(all, LintCacheEntry{CertSHA256: fmt.Sprintf("%064x", i), Role: "tls-server", WebPKI: i%3 == 0,
			SelfSigned: i%2 == 0, Record: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	// A second role of the first certificate.
	all = append(all, LintCacheEntry{CertSHA256: all[0].CertSHA256, Role: "other", Record: []byte(`{"n":"other"}`)})
	if err := s.KeepLintCache(ctx, "v1", all); err != nil {
		t.Fatal(err)
	}
	var shas []string
	for _, e := range all[:len(all)-1] {
		shas = append(shas, e.CertSHA256)
	}
	got, err := s.LintCache(ctx, "v1", shas)
	if err != nil {
		t.Fatal(err)
	}
	if want := sortEntries(slices.Clone(all)); !reflect.DeepEqual(sortEntries(got), want) {
		t.Fatalf("read back %d rows, want %d the same", len(got), len(want))
	}
	if got, err := s.LintCache(ctx, "v2", shas); err != nil || len(got) != 0 {
		t.Fatalf("another version reads %d rows, %v; want none", len(got), err)
	}
	if got, err := s.LintCache(ctx, "v1", shas[5:6]); err != nil || len(got) != 1 || got[0].CertSHA256 != shas[5] {
		t.Fatalf("one certificate reads %v, %v", got, err)
	}

	// The same key again: the first record stays.
	again := all[3]
	again.Record = []byte(`{"n":"changed"}`)
	if err := s.KeepLintCache(ctx, "v1", []LintCacheEntry{again}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LintCache(ctx, "v1", shas[3:4]); len(got) != 1 || string(got[0].Record) != string(all[3].Record) {
		t.Fatalf("a key kept twice reads %+v", got)
	}

	// A new version of certificate 0 drops both of its v1 rows, and no other's.
	if err := s.KeepLintCache(ctx, "v2", []LintCacheEntry{{CertSHA256: shas[0], Role: "other", Record: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT count(*) FROM lint_cache WHERE cert_sha256 = ?", shas[0]); n != 1 {
		t.Errorf("certificate 0 has %d rows after a new version; want 1", n)
	}
	if n := count(t, s, "SELECT count(*) FROM lint_cache WHERE lint_version = 'v1'"); n != len(all)-2 {
		t.Errorf("%d v1 rows left; want %d", n, len(all)-2)
	}
}

// TestMigration0011: a store from before the lint cache gets it, empty, and its scans
// read as before.
func TestMigration0011(t *testing.T) {
	fileOnly(t)
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := mustSave(t, s, testInfo(), fullSet(), testFindings())
	before := mustLoad(t, s, a)
	for _, q := range append(undo0011, "DELETE FROM schema_migrations WHERE version >= 11", "PRAGMA user_version = 10") {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := mustLoad(t, s, a); !reflect.DeepEqual(got, before) {
		t.Errorf("scan %d reads otherwise than before the migration", a)
	}
	if n := count(t, s, "SELECT count(*) FROM lint_cache"); n != 0 {
		t.Errorf("the new lint cache holds %d rows", n)
	}
	if err := s.KeepLintCache(context.Background(), "v", []LintCacheEntry{{CertSHA256: "ab", Role: "other", Record: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
}
