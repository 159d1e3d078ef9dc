package store

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver (CGO_ENABLED=0)

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/secretkey"
	"github.com/medscan/medscan/observe"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema change: its SQL, then, for the few changes SQL
// cannot express, a step in Go (goSteps) run in the same transaction.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are read once from the embedded files; their names are 0001_xxx.sql,
// numbered from 1 without gaps, which loadMigrations checks so that a misnamed file
// fails every test rather than a user's upgrade.
var migrations = mustLoadMigrations()

func mustLoadMigrations() []migration {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		panic(err) // the embedded files are part of the binary: a bad one is a build defect
	}
	return ms
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var ms []migration
	for i, n := range names {
		base := filepath.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("store: migration %s: want number %04d", base, i+1)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	return ms, nil
}

// SchemaVersion is the newest store schema this binary knows.
func SchemaVersion() int { return len(migrations) }

// Store is a medscan database: scans, what they observed, and findings with their
// history. It is safe for concurrent use; SQLite's WAL lets readers (other Stores,
// other processes) proceed while a scan is being written.
type Store struct {
	db      *sql.DB
	dialect dialect
	retries atomic.Int64 // write transactions run again after a collision (PostgreSQL)
	path    string       // the file, or the PostgreSQL URL without its password
	secret  []byte       // the credential-hash key: the key file's (OpenKeyed), else one for this Store alone
	keyID   string       // secretkey.Fingerprint(secret), recorded with every scan saved
}

// ErrNoScan matches (errors.Is) the errors of LatestScanID, ResolveScan and Load when
// the scan asked for does not exist, so that a caller can tell "nothing yet" from a
// failure.
var ErrNoScan = errors.New("store: no such scan")

// noScanError carries its own message (the one a user reads) and matches ErrNoScan.
type noScanError struct{ msg string }

func (e *noScanError) Error() string        { return e.msg }
func (e *noScanError) Is(target error) bool { return target == ErrNoScan }

func noScan(format string, args ...any) error { return &noScanError{msg: fmt.Sprintf(format, args...)} }

// Open opens the store at path, creating it when absent and migrating it to this
// binary's schema. A store written by a newer medscan is refused without being changed,
// and so is a file that is not a medscan store; one this process cannot write is
// refused before SQLite opens it, with an error matching ErrNotWritable.
//
// Its credential-hash key is a random one for this Store alone (hashes then compare only
// within its own scans); a command that hashes credentials opens the store with
// OpenKeyed. Open leaves the key an older medscan kept in the file where it is, for
// OpenKeyed to move out.
//
// A path that is a PostgreSQL URL (postgres://... or postgresql://..., IsPostgresDSN)
// opens that database instead, with the same schema and the same results (doc.go,
// "PostgreSQL").
func Open(path string) (*Store, error) {
	if IsPostgresDSN(path) {
		return openPG(path, false)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if err := checkWritable(path, abs); err != nil {
		return nil, err
	}
	// A file: URI so that any character in the path survives; the driver hands the
	// whole URI to SQLite, which ignores the driver's own (underscore) parameters.
	// Write transactions begin IMMEDIATE so that two writers queue on busy_timeout
	// instead of one failing on a lock upgrade.
	// secure_delete overwrites what is deleted, so that a checkpoint of a live scan, or a
	// migration that rewrites what an older medscan kept, leaves no copy in free pages.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() +
		"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
		"&_pragma=secure_delete(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.randomKey(); err != nil {
		return nil, err
	}
	return s, nil
}

// randomKey gives the Store a credential-hash key of its own (Open's), closing it on
// failure.
func (s *Store) randomKey() error {
	key, err := secretkey.New()
	if err != nil {
		s.db.Close()
		return fmt.Errorf("store: %s: %w", s.path, err)
	}
	s.setKey(key)
	return nil
}

// openPG opens a PostgreSQL store: migrated to this binary's schema unless readOnly,
// in which case an older schema is ErrNeedsMigration as for a file.
func openPG(dsn string, readOnly bool) (*Store, error) {
	name := RedactDSN(dsn)
	db, err := openPostgres(dsn, readOnly)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	s := &Store{db: db, dialect: dialectPostgres, path: name}
	ctx := context.Background()
	if readOnly {
		err = s.checkReadable(ctx)
	} else if err = s.init(ctx); err == nil {
		err = s.checkPGWritable(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	if readOnly {
		return s, nil
	}
	if err := s.randomKey(); err != nil {
		return nil, err
	}
	return s, nil
}

// OpenKeyed is Open for a command that hashes credentials: the key is the one in the key
// file at keyFile (secretkey), created when absent. The key is never kept in the store:
// one that an older medscan kept there (meta.secret_key) becomes the key file's when
// there is none yet, and is then deleted from the store and the file rebuilt, so that no
// copy of it lingers in a free page or the write-ahead log. When the key file already
// holds another key, the file's wins: the store's earlier scans keep their hashes, under
// the old key's fingerprint (ScanKeyID), which no longer compare with new ones.
func OpenKeyed(path, keyFile string) (*Store, error) {
	s, err := Open(path)
	if err != nil {
		return nil, err
	}
	if err := s.settleKey(context.Background(), keyFile); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// settleKey reads (or creates) the key file, moving out a key the store still holds:
// the file is written before the key is deleted, so a failure in between loses nothing.
func (s *Store) settleKey(ctx context.Context, keyFile string) error {
	var stored []byte
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'secret_key'").Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: reading the old secret key: %w", s.path, err)
	}
	var seed []byte
	if len(stored) == secretkey.Size {
		seed = stored
	}
	key, _, err := secretkey.LoadOrCreate(keyFile, seed)
	if err != nil {
		return err
	}
	if stored != nil && s.dialect == dialectPostgres {
		// Never on a PostgreSQL store, which began after the key left stores; should one
		// hold a key all the same, it is deleted (the server's own storage reclaims it).
		if _, err := s.db.ExecContext(ctx, "DELETE FROM meta WHERE key = 'secret_key'"); err != nil {
			return fmt.Errorf("store: %s: removing the secret key from the store: %w", s.path, err)
		}
	} else if stored != nil {
		// secure_delete (set in Open) overwrites the row's bytes; VACUUM rebuilds the file
		// and the checkpoint empties the write-ahead log, which may hold older copies.
		for _, q := range []string{"DELETE FROM meta WHERE key = 'secret_key'", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"} {
			if _, err := s.db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("store: %s: removing the secret key from the store: %s: %w", s.path, q, err)
			}
		}
	}
	s.setKey(key)
	return nil
}

func (s *Store) setKey(key []byte) { s.secret, s.keyID = key, secretkey.Fingerprint(key) }

// ErrNeedsMigration matches (errors.Is) the error of OpenReadOnly for a store of an
// older schema, which only Open (migrating it) can read.
var ErrNeedsMigration = errors.New("store: store needs a migration")

// OpenReadOnly opens an existing store for reading only: SQLite refuses every write on
// the connection, so reading a baseline, listing scans or comparing them can never
// change the file, whatever goes wrong, and it creates no file beside the store that its
// owner could not write (readImmutable). A missing file, a file that is not a medscan
// store, and a store of a newer schema are errors naming the file; a store of an older
// schema is an error matching ErrNeedsMigration.
func OpenReadOnly(path string) (*Store, error) {
	if IsPostgresDSN(path) {
		return openPG(path, true)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, errors.Unwrap(err))
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("store: %s: is a directory, not a medscan store", path)
	}
	mode := "mode=ro"
	if readImmutable(abs) {
		mode += "&immutable=1"
	}
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + mode + "&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.checkReadable(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// checkReadable refuses, for OpenReadOnly, what is not a medscan store of this
// binary's schema.
func (s *Store) checkReadable(ctx context.Context) error {
	path := s.path
	version, tables, err := s.inspect(ctx)
	switch {
	case err != nil:
	case version > SchemaVersion():
		err = fmt.Errorf("store: %s: schema version %d is newer than this medscan (%d); upgrade medscan",
			path, version, SchemaVersion())
	case version == 0 && tables > 0:
		err = fmt.Errorf("store: %s: %s database that is not a medscan store", path, s.dialect.article())
	case version == 0:
		err = fmt.Errorf("store: %s: not a medscan store (empty)", path)
	case version < SchemaVersion():
		err = fmt.Errorf("store: %s: schema version %d is older than this medscan (%d): %w",
			path, version, SchemaVersion(), ErrNeedsMigration)
	}
	return err
}

// newPageSize is the page size of a store file medscan creates. SQLite's default (4 KiB)
// keeps at most about 1,000 bytes of a row of a WITHOUT ROWID table (scan_findings,
// observations) in its B-tree page and spills the rest to overflow pages of their own,
// and a finding's evidence or an observation is often larger, so most of such a page
// stays empty. 16 KiB pages hold those rows whole: the 150-site capture's store is 14%
// smaller (38 MB to 33 MB), for the same CPU time within this machine's noise
// (docs/performance.md has the figures). A store created by an older medscan keeps its
// page size.
const newPageSize = 16384

// init checks what the file is before anything writes to it (even switching the
// journal mode rewrites the header), then migrates it.
func (s *Store) init(ctx context.Context) error {
	version, tables, err := s.inspect(ctx)
	if err != nil {
		return err
	}
	if version > SchemaVersion() {
		return fmt.Errorf("store: %s: schema version %d is newer than this medscan (%d); upgrade medscan",
			s.path, version, SchemaVersion())
	}
	if version == 0 && tables > 0 {
		return fmt.Errorf("store: %s: %s database that is not a medscan store; choose another %s", s.path,
			s.dialect.article(), map[dialect]string{dialectSQLite: "file", dialectPostgres: "database or schema"}[s.dialect])
	}
	if s.dialect == dialectPostgres {
		if version < SchemaVersion() {
			return s.migrate(ctx)
		}
		return nil
	}
	if version == 0 && tables == 0 {
		// A new file: its page size is chosen now, before the first table (WAL mode
		// fixes it for good). See newPageSize.
		if _, err := s.db.ExecContext(ctx, "PRAGMA page_size = "+strconv.Itoa(newPageSize)); err != nil {
			return fmt.Errorf("store: %s: setting the page size: %w", s.path, err)
		}
	}
	if err := s.setWAL(ctx); err != nil {
		return fmt.Errorf("store: %s: setting WAL mode: %w", s.path, err)
	}
	if version < SchemaVersion() {
		if err := s.migrate(ctx); err != nil {
			return err
		}
	}
	return nil
}

// sqliteBusy is SQLite's result code for a database locked by another connection.
const sqliteBusy = 5

// walWait bounds how long setWAL waits for other processes, as busy_timeout does.
const walWait = 10 * time.Second

// setWAL puts the file in WAL mode, which is persistent in the file; a filesystem that
// cannot do it (some network mounts) leaves the old journal mode, which is slower but
// still correct. Changing the journal mode needs the file to itself, and SQLite answers
// SQLITE_BUSY at once, without its busy handler, while another process writes: sensors
// that open a new store together (one creating and migrating it) would fail. A file
// already in WAL mode is left as it is; otherwise the change is tried again, at most
// walWait.
func (s *Store) setWAL(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err == nil && strings.EqualFold(mode, "wal") {
		return nil
	}
	deadline := time.Now().Add(walWait)
	pause := 5 * time.Millisecond
	for {
		_, err := s.db.ExecContext(ctx, "PRAGMA journal_mode=WAL")
		var coded interface{ Code() int }
		if err == nil || !errors.As(err, &coded) || coded.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// inspect reads the schema version and the number of tables in one snapshot, so that
// a store another process is creating right now is not mistaken for someone else's
// database (tables present, version not yet set).
func (s *Store) inspect(ctx context.Context) (version, tables int, err error) {
	tx, err := s.db.BeginTx(ctx, s.readTx())
	if err != nil {
		return 0, 0, s.openError(err)
	}
	defer tx.Rollback()
	if s.dialect == dialectPostgres {
		return s.pgInspect(ctx, tx)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, s.openError(err)
	}
	if err := tx.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").Scan(&tables); err != nil {
		return 0, 0, s.openError(err)
	}
	return version, tables, nil
}

// sqliteNotADB is SQLite's result code for a file that is not a database (or is
// encrypted).
const sqliteNotADB = 26

// openError names the file in an error from opening it, and says plainly when the file
// is not SQLite at all.
func (s *Store) openError(err error) error {
	var coded interface{ Code() int }
	if errors.As(err, &coded) && coded.Code()&0xff == sqliteNotADB {
		return fmt.Errorf("store: %s: not a medscan database (not an SQLite file): %w", s.path, err)
	}
	return fmt.Errorf("store: %s: %w", s.path, err)
}

// migrate applies every pending migration in one transaction, re-reading the version
// inside it because another process may have migrated the file meanwhile.
func (s *Store) migrate(ctx context.Context) error {
	if s.dialect == dialectPostgres {
		return s.pgMigrate(ctx)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: migrating: %w", s.path, err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("store: %s: migrating: %w", s.path, err)
	}
	if version > SchemaVersion() {
		return fmt.Errorf("store: %s: schema version %d is newer than this medscan (%d); upgrade medscan",
			s.path, version, SchemaVersion())
	}
	now := dbTime(time.Now())
	compact := false
	for _, m := range migrations[version:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("store: %s: migration %s: %w", s.path, m.name, err)
		}
		if step := goSteps[m.version]; step != nil {
			rewrote, err := step(ctx, tx)
			if err != nil {
				return fmt.Errorf("store: %s: migration %s: %w", s.path, m.name, err)
			}
			compact = compact || rewrote
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied) VALUES (?, ?, ?)",
			m.version, m.name, now); err != nil {
			return fmt.Errorf("store: %s: migration %s: %w", s.path, m.name, err)
		}
	}
	// PRAGMA takes no bound parameters; the value is an int this code produced.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(SchemaVersion())); err != nil {
		return fmt.Errorf("store: %s: migrating: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: migrating: %w", s.path, err)
	}
	if compact {
		// A step rewrote what an older medscan kept (raw URL paths): rebuild the file and
		// empty the write-ahead log, so that no old page survives anywhere in either.
		for _, q := range []string{"VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"} {
			if _, err := s.db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("store: %s: after migrating: %s: %w", s.path, q, err)
			}
		}
	}
	return nil
}

// pgMigrate is migrate for PostgreSQL: the same migrations, translated (pgStatements),
// their Go steps, and schema_migrations, in one serializable transaction that a
// process racing another to create the same new database runs again, to find it done.
func (s *Store) pgMigrate(ctx context.Context) error {
	err := s.inTx(ctx, true, func(tx *sql.Tx) error {
		version, _, err := s.pgInspect(ctx, tx)
		if err != nil {
			return err
		}
		if version > SchemaVersion() {
			return fmt.Errorf("store: %s: schema version %d is newer than this medscan (%d); upgrade medscan",
				s.path, version, SchemaVersion())
		}
		now := dbTime(time.Now())
		for _, m := range migrations[version:] {
			for _, st := range pgStatements(m) {
				if _, err := tx.ExecContext(ctx, st); err != nil {
					return fmt.Errorf("migration %s: %.60q: %w", m.name, st, err)
				}
			}
			if step := goSteps[m.version]; step != nil {
				if _, err := step(ctx, tx); err != nil {
					return fmt.Errorf("migration %s: %w", m.name, err)
				}
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied) VALUES (?, ?, ?)",
				m.version, m.name, now); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s: migrating: %w", s.path, err)
	}
	return nil
}

// article names the engine in an error: "an SQLite", "a PostgreSQL".
func (d dialect) article() string {
	if d == dialectPostgres {
		return "a PostgreSQL"
	}
	return "an SQLite"
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: %s: %w", s.path, err)
	}
	return nil
}

// Path is the file name the store was opened with; for PostgreSQL, its URL without the
// password (RedactDSN).
func (s *Store) Path() string { return s.path }

// SecretKey is the 32-byte key for credential hashes (observe.NewSecretHasher): with
// OpenKeyed, the key file's, so that the same secret hashes alike in every scan made
// with that file, on any store; with Open, a key of this Store alone. A read-only Store
// has none.
func (s *Store) SecretKey() []byte { return slices.Clone(s.secret) }

// KeyID is the fingerprint of SecretKey (secretkey.Fingerprint), recorded with every
// scan this Store saves; "" for a read-only Store.
func (s *Store) KeyID() string { return s.keyID }

// ScanKeyID is the fingerprint of the key a scan's credential hashes were made under:
// hashes of two scans compare only when their key ids are equal. It is "" for a scan
// whose key is unknown (none was recorded).
func (s *Store) ScanKeyID(ctx context.Context, id int64) (string, error) {
	var kid string
	err := s.db.QueryRowContext(ctx, "SELECT key_id FROM scans WHERE id = ?", id).Scan(&kid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", noScan("store: no scan %d in %s", id, s.path)
	}
	if err != nil {
		return "", fmt.Errorf("store: %s: %w", s.path, err)
	}
	return kid, nil
}

// LatestScanID is the id of the most recently saved scan of a kind (findings.KindNetwork
// when kind is "").
func (s *Store) LatestScanID(ctx context.Context, kind string) (int64, error) {
	kind = cmp.Or(kind, findings.KindNetwork)
	var id sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT max(id) FROM scans WHERE kind = ?", kind).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: %s: %w", s.path, err)
	}
	if !id.Valid {
		return 0, s.noScanOfKind(ctx, kind)
	}
	return id.Int64, nil
}

// noScanOfKind explains that the store holds no scan of a kind, and what it holds instead.
func (s *Store) noScanOfKind(ctx context.Context, kind string) error {
	rows, err := s.db.QueryContext(ctx, "SELECT kind, count(*) FROM scans GROUP BY kind ORDER BY kind")
	if err != nil {
		return fmt.Errorf("store: %s: %w", s.path, err)
	}
	defer rows.Close()
	var others []string
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("store: %s: %w", s.path, err)
		}
		k = observe.Clean(k) // read from a file someone else may have written
		others = append(others, fmt.Sprintf("%d %s run(s) (--kind %s)", n, k, k))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", s.path, err)
	}
	what := "scan"
	if kind != findings.KindNetwork {
		what = kind + " run"
	}
	if len(others) == 0 {
		return noScan("store: no %s in %s yet; run medscan %s first", what, s.path, runCommand(kind))
	}
	return noScan("store: no %s in %s yet; it holds %s", what, s.path, strings.Join(others, ", "))
}

// runCommand is the command that makes a run of a kind.
func runCommand(kind string) string {
	switch kind {
	case findings.KindLint:
		return "lint"
	case findings.KindVerify:
		return "verify"
	}
	return "scan"
}

// ResolveScan turns a scan reference into a scan id: "latest" (or ""), "latest~N" (the
// Nth scan before the latest, in the order they were saved) among the scans of a kind
// (findings.KindNetwork when kind is ""), or a scan id of any kind.
func (s *Store) ResolveScan(ctx context.Context, ref, kind string) (int64, error) {
	return s.resolveScan(ctx, ref, kind, nil)
}

// ResolveSiteScan is ResolveScan among the scans of one site: "latest" is that site's
// latest, and a scan id of another site is refused, naming the site it belongs to.
func (s *Store) ResolveSiteScan(ctx context.Context, ref, kind, site string) (int64, error) {
	return s.resolveScan(ctx, ref, kind, &site)
}

func (s *Store) resolveScan(ctx context.Context, ref, kind string, site *string) (int64, error) {
	ref = strings.TrimSpace(ref)
	kind = cmp.Or(kind, findings.KindNetwork)
	where, args := "kind = ?", []any{kind}
	if site != nil {
		where, args = "kind = ? AND site = ?", []any{kind, *site}
	}
	if (ref == "latest" || ref == "") && site == nil {
		return s.LatestScanID(ctx, kind)
	}
	if ref == "latest" || ref == "" {
		ref = "latest~0"
	}
	if back, ok := strings.CutPrefix(ref, "latest~"); ok {
		n, err := strconv.Atoi(back)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("store: bad scan reference %q (want latest, latest~N or a scan id)", ref)
		}
		var id int64
		err = s.db.QueryRowContext(ctx, "SELECT id FROM scans WHERE "+where+" ORDER BY id DESC LIMIT 1 OFFSET ?",
			append(args, n)...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			var total int
			if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM scans WHERE "+where, args...).Scan(&total); err != nil {
				return 0, fmt.Errorf("store: %s: %w", s.path, err)
			}
			if total == 0 && site != nil {
				return 0, noScan("store: no %s run of site %q in %s", kind, *site, s.path)
			}
			if total == 0 {
				return 0, s.noScanOfKind(ctx, kind)
			}
			return 0, noScan("store: %s: no scan %s: the store holds %d %s run(s)", s.path, ref, total, kind)
		}
		if err != nil {
			return 0, fmt.Errorf("store: %s: %w", s.path, err)
		}
		return id, nil
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("store: bad scan reference %q (want latest, latest~N or a scan id)", ref)
	}
	if err := s.scanExists(ctx, s.db, id); err != nil {
		return 0, err
	}
	if site != nil {
		var at string
		if err := s.db.QueryRowContext(ctx, "SELECT site FROM scans WHERE id = ?", id).Scan(&at); err != nil {
			return 0, fmt.Errorf("store: %s: %w", s.path, err)
		}
		if at != *site {
			return 0, noScan("store: %s: scan %d is of site %q, not %q", s.path, id, observe.Clean(at), *site)
		}
	}
	return id, nil
}

// queryer is what reads need from *sql.DB and *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) scanExists(ctx context.Context, q queryer, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM scans WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return noScan("store: %s: no scan with id %d", s.path, id)
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", s.path, err)
	}
	return nil
}

// timeLayout is fixed-width so that string order is time order in SQL.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// dbTime renders t for the store: NULL when zero, UTC otherwise. Years outside
// 0000-9999 (only a malformed certificate has them) are clamped to stay sortable.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return storedTime(t).Format(timeLayout)
}

// parseTime reads a time written by dbTime.
func parseTime(v sql.NullString) (time.Time, error) {
	if !v.Valid || v.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q in store: %w", v.String, err)
	}
	return t.UTC(), nil
}
