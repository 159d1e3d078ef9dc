package store

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medscan/medscan/internal/pgtest"
)

// The store's tests run twice, once per backend: first on SQLite files, then, in a
// second run of this test binary with backendEnv=postgres, on PostgreSQL, each test
// that opens a store with openTemp getting a fresh database of a cluster that the first
// run started (pgtest) and stops. The same tests, the same checks: a query that only
// SQLite understands, or a result that differs, fails the second run. Tests of what
// only a file has (permissions, read-only mounts, WAL side files, migrations of old
// SQLite stores) call fileOnly and are skipped there.
const backendEnv = "MEDSCAN_STORE_TEST_BACKEND"

func onPostgres() bool { return os.Getenv(backendEnv) == "postgres" }

// fileOnly skips a test of what only an SQLite file has in the PostgreSQL run.
func fileOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("skipping on PostgreSQL: a test of the SQLite file")
	}
}

// tempStoreName is where a new store can be made: a file in a temporary directory, or
// a fresh, empty PostgreSQL database.
func tempStoreName(t testing.TB) string {
	t.Helper()
	if onPostgres() {
		return pgtest.Database(t)
	}
	return filepath.Join(t.TempDir(), "medscan.db")
}

// migratedStoreName is tempStoreName for openTemp: on PostgreSQL a copy of a database
// migrated once for the whole run, because migrating costs a second a test there; the
// migration itself is tested by the tests that open tempStoreName.
func migratedStoreName(t testing.TB) string {
	t.Helper()
	if !onPostgres() {
		return tempStoreName(t)
	}
	srv := pgtest.For(t)
	err := srv.Template("medscan_migrated", func(dsn string) error {
		s, err := Open(dsn)
		if err != nil {
			return err
		}
		return s.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv.DatabaseFrom(t, "medscan_migrated")
}

func TestMain(m *testing.M) {
	if onPostgres() {
		pgtest.Main(m)
		return
	}
	code := m.Run()
	if code == 0 {
		code = runOnPostgres()
	}
	os.Exit(code)
}

// runOnPostgres runs this test binary again, with the same flags, against a cluster
// started here: 0 when it passes, or when PostgreSQL is missing and not required.
func runOnPostgres() int {
	if os.Getenv(writerEnv) != "" {
		return 0 // a writer process of TestConcurrentWriters, on the store its parent chose
	}
	for _, a := range os.Args[1:] {
		// Fuzzing, listing and benchmarks are about the code, not the backend.
		for _, skip := range []string{"-test.fuzz=", "-test.list=", "-test.bench=", "-test.run=^$"} {
			if strings.HasPrefix(a, skip) {
				return 0
			}
		}
	}
	srv, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrUnavailable) && !pgtest.Required() {
		fmt.Printf("store: the PostgreSQL run is skipped: %v\n", err)
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Stop()
	fmt.Println("store: the same tests on PostgreSQL")
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), backendEnv+"=postgres", pgtest.EnvDSN+"="+srv.AdminDSN())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "store: the PostgreSQL run failed: %v\n", err)
		return 1
	}
	return 0
}
