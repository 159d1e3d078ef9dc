package store

import (
	"path/filepath"
	"testing"
)

// TestPageSize: a store medscan creates gets newPageSize; an older store, made with
// SQLite's default, keeps its own through the migration (WAL mode could not change it).
func TestPageSize(t *testing.T) {
	fileOnly(t) // a property of the SQLite file
	pageSize := func(s *Store) int {
		t.Helper()
		var n int
		if err := s.db.QueryRow("PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	s, _ := openTemp(t)
	mustSave(t, s, testInfo(), fullSet(), testFindings())
	if n := pageSize(s); n != newPageSize {
		t.Errorf("a new store has %d-byte pages; want %d", n, newPageSize)
	}
	path := filepath.Join(t.TempDir(), "legacy.db")
	legacyStore(t, path)
	old, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if n := pageSize(old); n != 4096 {
		t.Errorf("a migrated store has %d-byte pages; want SQLite's default it was made with, 4096", n)
	}
}
