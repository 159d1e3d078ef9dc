package store

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestMigration0010: a store whose finding rows carry a second copy of their evidence
// reads the same after 0010 has dropped it, and a scan saved after reads alike too.
func TestMigration0010(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := mustSave(t, s, testInfo(), fullSet(), testFindings())
	before := mustLoad(t, s, a)
	for _, q := range append(undo0010, "DELETE FROM schema_migrations WHERE version >= 10", "PRAGMA user_version = 9") {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	if n := count(t, s, "SELECT count(*) FROM findings WHERE evidence != '{}'"); n == 0 {
		t.Fatal("fixture: the old column holds no evidence")
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := mustLoad(t, s, a); !reflect.DeepEqual(got, before) {
		t.Errorf("scan %d reads otherwise than before the migration", a)
	}
	if n := count(t, s, "SELECT count(*) FROM pragma_table_info('findings') WHERE name = 'evidence'"); n != 0 {
		t.Error("findings keeps its evidence column")
	}
	b := mustSave(t, s, testInfo(), fullSet(), testFindings())
	again := mustLoad(t, s, b)
	if !reflect.DeepEqual(again.Findings, before.Findings) {
		t.Error("a scan saved after the migration reads other findings")
	}
}
