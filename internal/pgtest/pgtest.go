// Package pgtest gives tests a PostgreSQL server of their own: a throwaway cluster
// that the test binary creates (initdb), runs (postgres, listening only on a Unix
// socket in a temporary directory) and stops by its process id, or, when
// MEDSCAN_TEST_POSTGRES holds a URL, a server someone else runs. Each test gets a
// fresh database (Database), dropped when the test ends, so tests never see one
// another's rows.
//
// One cluster serves a whole test binary: a package starts it in TestMain
// (Main), because initdb costs a second or two and a cluster per test would cost
// minutes in CI. Without PostgreSQL's binaries the tests that need it skip, unless
// MEDSCAN_REQUIRE_POSTGRES=1 (CI), which turns the skip into a failure.
//
// postgres refuses to run as root: as root, the cluster's files are given to the
// postgres user (which Debian's package creates) and the server runs as that user
// (runuser). internal/tsharkdiff's STARTTLS test runs PostgreSQL the same way, with
// BinDir and AsServerUser.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names an existing server to use instead of starting one: a URL
// (postgres://user:password@host:port/db) of a role that may create databases.
const EnvDSN = "MEDSCAN_TEST_POSTGRES"

// EnvRequire, set to 1, makes a missing PostgreSQL fail the tests that need it.
const EnvRequire = "MEDSCAN_REQUIRE_POSTGRES"

// Required reports whether PostgreSQL must be there (EnvRequire is 1).
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// BinDir is the directory of the newest PostgreSQL server installed the Debian way
// (/usr/lib/postgresql/N/bin), or "" when there is none.
func BinDir() string {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	bins = slices.DeleteFunc(bins, func(b string) bool {
		_, err := os.Stat(filepath.Join(b, "postgres"))
		return err != nil
	})
	if len(bins) == 0 {
		return ""
	}
	// By number, so that 9 does not outrank 15.
	slices.SortFunc(bins, func(a, b string) int {
		na, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		nb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return na - nb
	})
	return bins[len(bins)-1]
}

// AsServerUser is the command line that runs the PostgreSQL program name (initdb,
// postgres...) from BinDir with args: as the postgres user when this process is root,
// which postgres refuses to be.
func AsServerUser(name string, args ...string) []string {
	cmd := append([]string{filepath.Join(BinDir(), name)}, args...)
	if os.Geteuid() == 0 {
		cmd = append([]string{"runuser", "-u", "postgres", "--"}, cmd...)
	}
	return cmd
}

// GiveToServerUser makes the files under dir the postgres user's when this process is
// root (a no-op otherwise), so that the server run by AsServerUser can use them.
func GiveToServerUser(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// ErrUnavailable is returned by Start when there is no PostgreSQL to start.
var ErrUnavailable = errors.New("pgtest: no PostgreSQL server binaries (Debian package postgresql) and no " + EnvDSN)

// Server is a PostgreSQL server for tests.
type Server struct {
	admin string // URL of the database new databases are created from
	dir   string // the cluster's directory, "" for an outside server
	proc  *exec.Cmd
	n     atomic.Int64

	mu        sync.Mutex
	templates []string // databases Template made, dropped by Stop
}

// Start returns the server of EnvDSN, or starts a cluster in a new temporary
// directory; ErrUnavailable when there is neither. Stop ends it.
func Start() (*Server, error) {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		s := &Server{admin: dsn}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.exec(ctx, "SELECT 1"); err != nil {
			return nil, fmt.Errorf("pgtest: %s: %w", EnvDSN, err)
		}
		return s, nil
	}
	if BinDir() == "" {
		return nil, ErrUnavailable
	}
	dir, err := os.MkdirTemp("", "medscan-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	if err := s.startCluster(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// startCluster runs initdb (trust authentication: only this machine's users reach
// the socket, in a directory only the server's user may enter) and starts postgres on
// a socket in the cluster's directory, with no TCP listener.
func (s *Server) startCluster() error {
	data := filepath.Join(s.dir, "data")
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return err
	}
	if err := GiveToServerUser(s.dir); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := AsServerUser("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %v: %s", err, out)
	}
	// fsync off: a test cluster need not survive a crash, and CI's disk is slow.
	argv = AsServerUser("postgres", "-D", data, "-k", s.dir, "-c", "listen_addresses=", "-c", "fsync=off",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	s.proc = exec.Command(argv[0], argv[1:]...)
	s.proc.Stdout, s.proc.Stderr = nil, nil
	// Its own process group, so that Stop reaches postgres behind runuser.
	s.proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.proc.Start(); err != nil {
		return fmt.Errorf("pgtest: starting postgres: %w", err)
	}
	s.admin = (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {s.dir}}.Encode()}).String()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.exec(ctx, "SELECT 1")
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: postgres did not accept connections within a minute: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) exec(ctx context.Context, sql string) error {
	c, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, sql)
	return err
}

// Stop stops a cluster Start started (by its process group: runuser and postgres),
// waiting for it at most half a minute, and removes its directory; an outside server
// is left running, without the templates this Server made.
func (s *Server) Stop() {
	if s.proc == nil { // an outside server: leave nothing of ours on it
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, t := range s.templates {
			s.exec(ctx, "DROP DATABASE IF EXISTS "+t+" WITH (FORCE)")
		}
	}
	if s.proc != nil && s.proc.Process != nil {
		pid := s.proc.Process.Pid
		// SIGQUIT: the immediate shutdown; the cluster is thrown away.
		syscall.Kill(-pid, syscall.SIGQUIT)
		done := make(chan struct{})
		go func() { s.proc.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-pid, syscall.SIGKILL)
			<-done
		}
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// Database creates a new, empty database for tb and returns its URL; it is dropped
// when tb ends.
func (s *Server) Database(tb testing.TB) string {
	tb.Helper()
	return s.DatabaseFrom(tb, "template0")
}

// Template creates database name once per Server, filled by prepare (given its URL),
// for DatabaseFrom to copy: a schema many tests start from is built once rather than
// once per test. prepare must close every connection it opened (PostgreSQL copies
// only a database no one is connected to). The template is dropped by Stop.
func (s *Server) Template(name string, prepare func(dsn string) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = fmt.Sprintf("%s_%d", name, os.Getpid()) // as DatabaseFrom names it
	if slices.Contains(s.templates, name) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return fmt.Errorf("pgtest: creating template %s: %w", name, err)
	}
	if err := prepare(s.dsnOf(name)); err != nil {
		return fmt.Errorf("pgtest: preparing template %s: %w", name, err)
	}
	s.templates = append(s.templates, name)
	return nil
}

// DatabaseFrom is Database for a copy of template (one made by Template, by the name
// given to it, or template0).
func (s *Server) DatabaseFrom(tb testing.TB, template string) string {
	tb.Helper()
	if template != "template0" {
		template = fmt.Sprintf("%s_%d", template, os.Getpid())
	}
	name := fmt.Sprintf("medscan_t%d_%d", os.Getpid(), s.n.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template+" ENCODING 'UTF8'"); err != nil {
		tb.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return s.dsnOf(name)
}

// dsnOf is the URL of database name on the server.
func (s *Server) dsnOf(name string) string {
	u, err := url.Parse(s.admin)
	if err != nil {
		panic(err) // admin was parsed when the server was reached
	}
	u.Path = "/" + name
	return u.String()
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Main is TestMain for a package whose tests use PostgreSQL: it runs the tests with
// one server for them all (started on first use by For), stops it, and exits.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared stops the shared server For started, if any: for a TestMain that does
// more than Main.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}

// For is the test binary's shared server (started by the first test that asks, and
// stopped by Main). Without PostgreSQL it skips tb, or fails it when Required.
func For(tb testing.TB) *Server {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		if errors.Is(sharedErr, ErrUnavailable) && !Required() {
			tb.Skipf("skipping: %v", sharedErr)
		}
		tb.Fatal(sharedErr)
	}
	return shared
}

// Database is For(tb).Database(tb): a fresh database for tb on the shared server.
func Database(tb testing.TB) string {
	tb.Helper()
	return For(tb).Database(tb)
}

// AdminDSN is the URL of the server's administrative database, for handing the server
// to a child process through EnvDSN.
func (s *Server) AdminDSN() string { return s.admin }
