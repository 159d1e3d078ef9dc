package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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

// TestOpenWhileOthersWrite: sensor processes starting together against a new store
// file, each opening it and writing at once (TestConcurrentWriterProcess), so that some
// open it while another creates, migrates or writes it: every one succeeds. Changing the
// journal mode answers SQLITE_BUSY at once, without the busy handler, while another
// process holds the file (setWAL waits).
func TestOpenWhileOthersWrite(t *testing.T) {
	fileOnly(t)
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx := context.Background()
	for round := range 3 {
		path := tempStoreName(t) + fmt.Sprint(round)
		const procs = 4
		var wg sync.WaitGroup
		errs := make([]error, procs)
		for i := range procs {
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(cctx, os.Args[0], "-test.run=^TestConcurrentWriterProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), writerEnv+"="+path+"|"+strconv.Itoa(i))
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("writer process %d: %v: %s", i, err, out)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
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

// TestPostgresRoleWithoutWriteRefused: a role that may read medscan's tables but not
// write them is refused by Open (ErrNotWritable, naming the role and a table) before
// anything is captured, as an unwritable file is, and reads through OpenReadOnly.
func TestPostgresRoleWithoutWriteRefused(t *testing.T) {
	if !onPostgres() {
		t.Skip("the PostgreSQL counterpart of the file permission tests")
	}
	ctx := context.Background()
	s, dsn := openTemp(t)
	mustSave(t, s, testInfo(), fullSet(), testFindings())
	role := fmt.Sprintf("medscan_reader_%d", os.Getpid())
	for _, q := range []string{"CREATE ROLE " + role + " LOGIN", "GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := s.db.ExecContext(context.Background(), q); err != nil {
				t.Error(q, err)
			}
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	_, err = Open(u.String())
	if !errors.Is(err, ErrNotWritable) || !strings.Contains(err.Error(), `role "`+role+`" may not insert, update and delete in `) {
		t.Fatalf("Open as a role that may only read: %v; want ErrNotWritable naming the role", err)
	}
	ro, err := OpenReadOnly(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Load(ctx, 1); err != nil {
		t.Fatalf("the reading role cannot read: %v", err)
	}
	// Given the rights, the same role writes.
	if _, err := s.db.ExecContext(ctx, "GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "+role); err != nil {
		t.Fatal(err)
	}
	w, err := Open(u.String())
	if err != nil {
		t.Fatalf("Open as a role that may write: %v", err)
	}
	w.Close()
}
