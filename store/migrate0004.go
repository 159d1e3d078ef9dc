package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/medscan/medscan/internal/secretkey"
)

// migrate0004 stamps the scans made before the key left the store with the fingerprint
// of the store's key, the one their hashes were made under. A store that has lost its
// key leaves them "" (unknown): their hashes compare with no other. The key itself is
// moved out by OpenKeyed, which alone knows where the key file is.
func migrate0004(ctx context.Context, tx *sql.Tx) (bool, error) {
	var key []byte
	err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'secret_key'").Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the secret key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE scans SET key_id = ? WHERE key_id = ''", secretkey.Fingerprint(key)); err != nil {
		return false, fmt.Errorf("recording the key of earlier scans: %w", err)
	}
	return false, nil
}
