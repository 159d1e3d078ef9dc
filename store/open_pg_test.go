package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// TestOpenConcurrentlyCreates: several Stores opening one new store at once (two
// sensors starting against an empty central database) all succeed, and the schema is
// migrated once.
func TestOpenConcurrentlyCreates(t *testing.T) {
	path := tempStoreName(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := Open(path)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := count(t, s, "SELECT count(*) FROM schema_migrations"); got != SchemaVersion() {
		t.Errorf("schema_migrations holds %d rows, want %d", got, SchemaVersion())
	}
}

// TestPostgresOpenChecks: what Open and OpenReadOnly refuse on PostgreSQL, as they do
// for a file (TestOpenNewerSchemaRefused and the read-only tests are about the file):
// a newer schema, a database of something else, and any write through a read-only
// Store.
func TestPostgresOpenChecks(t *testing.T) {
	if !onPostgres() {
		t.Skip("the PostgreSQL counterparts of file tests")
	}
	ctx := context.Background()
	s, path := openTemp(t)
	mustSave(t, s, testInfo(), fullSet(), testFindings())
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.db.ExecContext(ctx, "DELETE FROM scan_findings"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write through OpenReadOnly: %v, want refused as read-only", err)
	}
	if _, err := ro.Load(ctx, 1); err != nil {
		t.Errorf("Load through OpenReadOnly: %v", err)
	}
	ro.Close()
	if _, err := s.db.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied) VALUES (99, 'x', 'y')"); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		if st, err := open(path); err == nil || !strings.Contains(err.Error(), "schema version 99 is newer") {
			t.Errorf("%s of a newer schema: %v", name, err)
			if st != nil {
				st.Close()
			}
		}
	}
	other := tempStoreName(t)
	o, err := openPostgres(other, false)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := o.ExecContext(ctx, "CREATE TABLE patients (id BIGINT)"); err != nil {
		t.Fatal(err)
	}
	if st, err := Open(other); err == nil || !strings.Contains(err.Error(), "a PostgreSQL database that is not a medscan store") {
		t.Errorf("Open of another application's database: %v", err)
		if st != nil {
			st.Close()
		}
	}
	if strings.Contains(s.Path(), "password") || s.Path() != RedactDSN(path) {
		t.Errorf("Path() = %q", s.Path())
	}
}
