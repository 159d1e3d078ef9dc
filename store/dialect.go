package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// The store speaks two dialects of SQL through one code path: every query in this
// package is written once, for SQLite, with ? placeholders and portable SQL; for
// PostgreSQL the connection rebinds the placeholders ($1...), and the migrations are
// translated statement by statement (pgStatements). What cannot be said in one SQL for
// both (the schema's version, the list of tables that name scans) is a method of
// dialect. See doc.go, "PostgreSQL".

// dialect is which engine a Store talks to.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// IsPostgresDSN reports whether a --db value names a PostgreSQL database
// (postgres://... or postgresql://...) rather than an SQLite file.
func IsPostgresDSN(db string) bool {
	lower := strings.ToLower(db)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}

// RedactDSN is a PostgreSQL URL with its password (in the user part or a password
// parameter) replaced by xxxxx, for messages and Path: a store's name is printed, its
// password never. A value that is not a URL is returned whole when it is not a
// PostgreSQL DSN (a file name), and as its scheme alone otherwise.
func RedactDSN(db string) string {
	if !IsPostgresDSN(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		scheme, _, _ := strings.Cut(db, ":")
		return scheme + "://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// openPostgres opens a PostgreSQL store's connection pool through pgx's database/sql
// driver, each connection rebinding placeholders. readOnly makes every transaction of
// every connection read-only in the server (default_transaction_read_only), the
// counterpart of SQLite's mode=ro.
func openPostgres(dsn string, readOnly bool) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	// The store runs with the session in UTC and the C collation on its own columns, so
	// that nothing the server's locale or time zone says changes what it returns.
	cfg.RuntimeParams["timezone"] = "UTC"
	cfg.RuntimeParams["application_name"] = "medscan"
	return sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)}), nil
}

// pgConnector hands out pgx connections that rebind placeholders.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("pgx stdlib returned a %T connection", conn)
	}
	return &pgConn{pc}, nil
}

// pgConn is a pgx connection whose statements are written with SQLite's placeholders:
// ? (the next argument) and ?N (argument N) become $n. A PRAGMA, which only SQLite has
// (the migrations' Go steps set defer_foreign_keys), is a no-op. The embedded
// *stdlib.Conn gives everything else (transactions, ping, session reset, argument
// checks) unchanged.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rebind(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if isPragma(query) {
		return driver.RowsAffected(0), nil
	}
	return c.Conn.ExecContext(ctx, rebind(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), args)
}

func isPragma(query string) bool {
	q := strings.TrimSpace(query)
	return len(q) >= 6 && strings.EqualFold(q[:6], "pragma")
}

// rebind turns SQLite placeholders into PostgreSQL's: each bare ? is the next argument
// ($1, $2, ...), ?N is argument N ($N). Placeholders inside string literals, quoted
// identifiers and comments are left alone.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var sb strings.Builder
	sb.Grow(len(query) + len(query)/4)
	n := 0
	for i := 0; i < len(query); {
		switch c := query[i]; {
		case c == '\'' || c == '"':
			j := quotedEnd(query, i)
			sb.WriteString(query[i:j])
			i = j
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			sb.WriteString(query[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				j = len(query) - i - 2
			} else {
				j += 2
			}
			sb.WriteString(query[i : i+2+j])
			i += 2 + j
		case c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			sb.WriteByte('$')
			if j > i+1 {
				sb.WriteString(query[i+1 : j])
			} else {
				n++
				fmt.Fprint(&sb, n)
			}
			i = j
		default:
			sb.WriteByte(c)
			i++
		}
	}
	return sb.String()
}

// quotedEnd is the index just past the quoted text that starts at query[i] (a ' or "),
// a doubled quote being one character of it; an unterminated one runs to the end.
func quotedEnd(query string, i int) int {
	q := query[i]
	for j := i + 1; j < len(query); j++ {
		if query[j] == q {
			if j+1 < len(query) && query[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(query)
}

// pgBaseline is the schema version at which PostgreSQL stores began: no PostgreSQL
// store holds data of an older schema, so the statements of migrations up to it that
// move data (INSERT, UPDATE, DELETE: converting what an older medscan kept, with
// SQLite's JSON functions) have nothing to move there and are skipped. Migrations
// after it are written in portable SQL and run whole on both engines.
const pgBaseline = 4

// splitStatements cuts a migration file into its statements, at semicolons outside
// string literals, quoted identifiers and comments; comments are dropped.
func splitStatements(src string) []string {
	var out []string
	var sb strings.Builder
	flush := func() {
		if s := strings.TrimSpace(sb.String()); s != "" {
			out = append(out, s)
		}
		sb.Reset()
	}
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case c == '\'' || c == '"':
			j := quotedEnd(src, i)
			sb.WriteString(src[i:j])
			i = j
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			i += j
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				i = len(src)
			} else {
				i += j + 4
			}
			sb.WriteByte(' ')
		case c == ';':
			flush()
			i++
		default:
			sb.WriteByte(c)
			i++
		}
	}
	flush()
	return out
}

// The type translation, applied to the parts of a statement outside quotes. SQLite's
// INTEGER is 64 bits (PostgreSQL's is 32), its INTEGER PRIMARY KEY a rowid that
// numbers new rows, its BLOB PostgreSQL's BYTEA. Text columns take the C collation, so
// that ORDER BY and comparisons go by bytes as in SQLite (the fixed-width times compare
// as instants, and every report sorts alike whatever the server's locale). WITHOUT
// ROWID is SQLite's storage choice alone; user, a column of 0001, is reserved in
// PostgreSQL.
var pgTypeRules = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)\bINTEGER\s+PRIMARY\s+KEY\b`), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
	{regexp.MustCompile(`(?i)\bINTEGER\b`), "BIGINT"},
	{regexp.MustCompile(`(?i)\bBLOB\b`), "BYTEA"},
	{regexp.MustCompile(`(?i)\bTEXT\b`), `TEXT COLLATE "C"`},
	{regexp.MustCompile(`(?i)\)\s*WITHOUT\s+ROWID\s*$`), ")"},
	{regexp.MustCompile(`(?im)^(\s*)user(\s)`), `$1"user"$2`},
}

// pgStatements is a migration in PostgreSQL's dialect: its statements, translated,
// without the PRAGMAs and, up to pgBaseline, without the statements that move data.
func pgStatements(m migration) []string {
	var out []string
	for _, st := range splitStatements(m.sql) {
		first := strings.ToUpper(strings.Fields(st)[0])
		switch {
		case first == "PRAGMA":
			continue
		case m.version <= pgBaseline && (first == "INSERT" || first == "UPDATE" || first == "DELETE" || first == "REPLACE"):
			continue
		}
		out = append(out, translateOutsideQuotes(st))
	}
	return out
}

// translateOutsideQuotes applies pgTypeRules to what lies between quoted parts.
func translateOutsideQuotes(st string) string {
	var sb strings.Builder
	plain := func(s string) {
		for _, r := range pgTypeRules {
			s = r.re.ReplaceAllString(s, r.with)
		}
		sb.WriteString(s)
	}
	start := 0
	for i := 0; i < len(st); {
		if c := st[i]; c == '\'' || c == '"' {
			plain(st[start:i])
			j := quotedEnd(st, i)
			sb.WriteString(st[i:j])
			i, start = j, j
			continue
		}
		i++
	}
	plain(st[start:])
	return sb.String()
}

// PostgreSQL error classes a write transaction is retried on: another transaction
// made this one's reads stale (serialization_failure) or the two waited on each other
// (deadlock_detected). Both mean "run it again", with nothing of this one kept.
const (
	pgSerializationFailure = "40001"
	pgDeadlock             = "40P01"
	pgUniqueViolation      = "23505"
	pgDuplicateTable       = "42P07"
	pgDuplicateObject      = "42710"
)

// maxTxAttempts bounds the retries of one write transaction on PostgreSQL: enough for
// a dozen sensors writing the same findings at once, and an end to it when something
// else keeps failing.
const maxTxAttempts = 12

// retryable reports whether err is worth running the transaction again for. During a
// migration, two processes creating the same new database race on its tables, and the
// loser sees them created by the winner.
func retryable(err error, migrating bool) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case pgSerializationFailure, pgDeadlock:
		return true
	case pgUniqueViolation, pgDuplicateTable, pgDuplicateObject:
		return migrating
	}
	return false
}

// inTx runs fn in a write transaction and commits it. On SQLite it runs once (writers
// queue on the file's lock, BEGIN IMMEDIATE). On PostgreSQL it runs SERIALIZABLE, so
// that concurrent writers from any number of processes behave as if one ran after the
// other, and runs again (at most maxTxAttempts times, after a random pause that grows)
// when the server says the two collided; fn must therefore start from scratch each
// time it is called.
func (s *Store) inTx(ctx context.Context, migrating bool, fn func(tx *sql.Tx) error) error {
	var opts *sql.TxOptions
	if s.dialect == dialectPostgres {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	pause := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := s.txOnce(ctx, opts, fn)
		if err == nil || s.dialect != dialectPostgres || attempt == maxTxAttempts || !retryable(err, migrating) {
			if err != nil && attempt > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return err
		}
		s.retries.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause/2 + rand.N(pause)):
		}
		pause = min(2*pause, time.Second)
	}
}

func (s *Store) txOnce(ctx context.Context, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Retries is how many write transactions this Store ran again after a collision with
// another writer (PostgreSQL only; always 0 on SQLite).
func (s *Store) Retries() int64 { return s.retries.Load() }

// pgInspect is inspect for PostgreSQL: the version is the newest recorded in
// schema_migrations (PostgreSQL has no user_version), the tables those of the
// connection's schema.
func (s *Store) pgInspect(ctx context.Context, q queryer) (version, tables int, err error) {
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = current_schema()`).Scan(&tables); err != nil {
		return 0, 0, fmt.Errorf("store: %s: %w", s.path, err)
	}
	var has int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`).Scan(&has); err != nil {
		return 0, 0, fmt.Errorf("store: %s: %w", s.path, err)
	}
	if has == 0 {
		return 0, tables, nil
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, 0, fmt.Errorf("store: %s: %w", s.path, err)
	}
	return int(v.Int64), tables, nil
}

// scanTablesQuery lists every table with a foreign key to scans, and the column
// naming the scan: from SQLite's own schema tables, or PostgreSQL's information
// schema.
func (d dialect) scanTablesQuery() string {
	if d == dialectPostgres {
		return `SELECT kcu.table_name, kcu.column_name
			FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage kcu
				ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
			JOIN information_schema.constraint_column_usage ccu
				ON ccu.constraint_schema = tc.constraint_schema AND ccu.constraint_name = tc.constraint_name
			WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()
				AND ccu.table_name = 'scans'
			ORDER BY 1, 2`
	}
	return `SELECT m.name, f."from" FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f
		WHERE m.type = 'table' AND f."table" = 'scans' ORDER BY m.name, f."from"`
}

// readTx is the options of a read that spans several statements (Load, inspect): on
// PostgreSQL REPEATABLE READ, so that all of them see one snapshot and a checkpoint
// committed in between is seen whole or not at all (its default, READ COMMITTED, takes
// a snapshot per statement); SQLite's read transaction is one snapshot already.
func (s *Store) readTx() *sql.TxOptions {
	if s.dialect == dialectPostgres {
		return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	return &sql.TxOptions{ReadOnly: true}
}
