package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
)

// NewScanUID returns a fresh scan identifier: 128 random bits in hex, unique across
// every sensor and store without any coordination between them.
func NewScanUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// migrate0005 gives every scan made before sites its uid, which SQL cannot draw at
// random portably.
func migrate0005(ctx context.Context, tx *sql.Tx) (bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM scans WHERE uid IS NULL ORDER BY id")
	if err != nil {
		return false, fmt.Errorf("listing the scans: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return false, fmt.Errorf("listing the scans: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("listing the scans: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, "UPDATE scans SET uid = ? WHERE id = ?", NewScanUID(), id); err != nil {
			return false, fmt.Errorf("giving scan %d its uid: %w", id, err)
		}
	}
	return false, nil
}
