package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// SyncResult counts what Sync did: scans copied, and scans the destination already
// held (by uid), which were left as they were.
type SyncResult struct {
	Copied  int
	Present int
}

// Sync copies every scan of from into s, oldest first: its document (observations,
// inventory, certificates with their DER, findings and their link to the scan), with
// its site, kind, label, times, uid and the fingerprint of the key its credential
// hashes were made under, so that the copy compares with the scans of the same key
// file and with no other. A scan whose uid s already holds is skipped, so that
// running Sync again adds nothing; each scan is copied in one transaction (Save), so
// that an interrupted Sync leaves whole scans, and the next one copies the rest.
// Findings are kept once per fingerprint in s as in any store: their first and last
// seen widen to take in the copied scans'. A live scan copied while it runs is copied as
// it stands then: a later Sync does not bring its later checkpoints (its uid is held).
//
// from is only read (OpenReadOnly suits it); s may be any store Open opens.
func (s *Store) Sync(ctx context.Context, from *Store) (SyncResult, error) {
	var res SyncResult
	scans, err := from.Scans(ctx)
	if err != nil {
		return res, err
	}
	for _, si := range scans {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("store: sync from %s stopped after %d scan(s): %w", from.path, res.Copied, err)
		}
		if si.UID == "" {
			// Only a store that Open has not migrated lacks them, and OpenReadOnly refuses those.
			return res, fmt.Errorf("store: %s: scan %d has no uid", from.path, si.ID)
		}
		held, err := s.hasScanUID(ctx, si.UID)
		if err != nil {
			return res, err
		}
		if held {
			res.Present++
			continue
		}
		r, err := from.Load(ctx, si.ID)
		if err != nil {
			return res, err
		}
		for i := range r.Certificates {
			c := &r.Certificates[i]
			if c.DER, err = from.CertificateDER(ctx, c.SHA256); err != nil {
				return res, err
			}
		}
		keyID, err := from.ScanKeyID(ctx, si.ID)
		if err != nil {
			return res, err
		}
		r.Scan.UID = si.UID
		if _, err := s.saveUnder(ctx, r, false, keyID); errors.Is(err, errAlreadyStored) {
			res.Present++ // another sync copied it meanwhile
			continue
		} else if err != nil {
			return res, fmt.Errorf("sync of scan %d (%s) from %s: %w", si.ID, si.UID, from.path, err)
		}
		res.Copied++
	}
	return res, nil
}

// hasScanUID reports whether the store holds the scan with this uid.
func (s *Store) hasScanUID(ctx context.Context, uid string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM scans WHERE uid = ?", strings.ToLower(uid)).Scan(&n); err != nil {
		return false, fmt.Errorf("store: %s: %w", s.path, err)
	}
	return n > 0, nil
}
