package store

import (
	"context"
	"fmt"
	"strings"
)

// checkPGWritable is checkWritable for a PostgreSQL store: a role that may read
// medscan's tables but not write them is refused when the store is opened for writing
// (ErrNotWritable), as an unwritable file is, so that a scan fails before hours of
// capture rather than when it is saved. It asks PostgreSQL's own privilege check
// (has_table_privilege: grants to the role, to its groups and to PUBLIC, and ownership)
// for every table of the schema, medscan's only.
func (s *Store) checkPGWritable(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname, current_user FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
		AND NOT (has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE')
			AND has_table_privilege(c.oid, 'DELETE'))
		ORDER BY c.relname`)
	if err != nil {
		return fmt.Errorf("store: %s: checking the role's privileges: %w", s.path, err)
	}
	defer rows.Close()
	var tables []string
	var role string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table, &role); err != nil {
			return fmt.Errorf("store: %s: checking the role's privileges: %w", s.path, err)
		}
		tables = append(tables, table)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: checking the role's privileges: %w", s.path, err)
	}
	if len(tables) == 0 {
		return nil
	}
	shown := tables
	if len(shown) > 3 {
		shown = append(shown[:3:3], fmt.Sprintf("%d more", len(tables)-3))
	}
	return &notWritableError{fmt.Sprintf("store: %s: cannot be written: role %q may not insert, update and delete in %s (grant them, or read with a command that only reads)",
		s.path, role, strings.Join(shown, ", "))}
}
