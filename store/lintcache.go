package store

import (
	"context"
	"database/sql"
	"fmt"
)

// LintCacheEntry is one row of the lint cache (migration 0011, package lint's cache.go):
// what examining the certificate CertSHA256 (lowercase hex) found, under a lint
// version, for a role, PKI and self-signature. Record is package lint's, opaque here.
type LintCacheEntry struct {
	CertSHA256 string
	Role       string
	WebPKI     bool
	SelfSigned bool
	Record     []byte
}

// LintCache returns the rows kept under version for the given certificates (SHA-256,
// lowercase hex), in no particular order: one query per keysPerQuery certificates.
func (s *Store) LintCache(ctx context.Context, version string, certs []string) ([]LintCacheEntry, error) {
	var out []LintCacheEntry
	for in, args := range inLists(certs, version) {
		rows, err := s.db.QueryContext(ctx, `SELECT cert_sha256, role, webpki, self_signed, record FROM lint_cache
			WHERE lint_version = ? AND cert_sha256 IN `+in, args...)
		if err != nil {
			return nil, s.wrap(fmt.Errorf("reading the lint cache: %w", err))
		}
		for rows.Next() {
			var (
				e              LintCacheEntry
				webpki, selfSg int64
				record         string
			)
			if err := rows.Scan(&e.CertSHA256, &e.Role, &webpki, &selfSg, &record); err != nil {
				rows.Close()
				return nil, s.wrap(fmt.Errorf("reading the lint cache: %w", err))
			}
			e.WebPKI, e.SelfSigned, e.Record = webpki != 0, selfSg != 0, []byte(record)
			out = append(out, e)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.wrap(fmt.Errorf("reading the lint cache: %w", err))
		}
	}
	return out, nil
}

// KeepLintCache adds rows under version in one transaction of multi-row INSERTs; a row
// whose key is kept already is left as it is (ON CONFLICT DO NOTHING: two scans that
// examined the same certificate with the same linter found the same). The same
// certificates' rows of any other version are deleted first, so that the cache holds
// one linter's answers per certificate and does not grow with every upgrade.
func (s *Store) KeepLintCache(ctx context.Context, version string, entries []LintCacheEntry) error {
	if len(entries) == 0 {
		return nil
	}
	var certs []string
	seen := map[string]bool{}
	for _, e := range entries {
		if !seen[e.CertSHA256] {
			seen[e.CertSHA256] = true
			certs = append(certs, e.CertSHA256)
		}
	}
	const width = 6
	per := min(batchRows, batchVars/width)
	err := s.inTx(ctx, false, func(tx *sql.Tx) error {
		for in, args := range inLists(certs, version) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM lint_cache WHERE lint_version != ? AND cert_sha256 IN `+in,
				args...); err != nil {
				return err
			}
		}
		for start := 0; start < len(entries); start += per {
			rows := entries[start:min(start+per, len(entries))]
			args := make([]any, 0, len(rows)*width)
			for _, e := range rows {
				args = append(args, e.CertSHA256, version, e.Role, boolInt(e.WebPKI), boolInt(e.SelfSigned), string(e.Record))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO lint_cache(cert_sha256, lint_version, role, webpki, self_signed, record)
				VALUES `+valuesList(len(rows), width)+` ON CONFLICT DO NOTHING`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap(fmt.Errorf("keeping the lint cache: %w", err))
	}
	return nil
}
