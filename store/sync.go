package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/medscan/medscan/findings"
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
		copied, err := s.syncScan(ctx, from, si)
		if err != nil {
			return res, err
		}
		if !copied {
			res.Present++ // another sync copied it meanwhile
			continue
		}
		res.Copied++
	}
	return res, nil
}

// syncScan copies one scan of from (si) into s, and reports false when s turned out to
// hold it already. The scan is read in one read transaction of from (Store.StreamWith),
// its findings one at a time as the save writes them, in fingerprint order, rather than
// as a list: a hospital's scan has tens of thousands of them, and holding them all with
// their evidence was most of the memory of a sync.
func (s *Store) syncScan(ctx context.Context, from *Store, si findings.ScanInfo) (bool, error) {
	r, closeRead, err := from.StreamWith(ctx, si.ID, StreamOptions{byFingerprint: true})
	if err != nil {
		return false, err
	}
	defer closeRead()
	for i := range r.Certificates {
		c := &r.Certificates[i]
		if c.DER, err = from.CertificateDER(ctx, c.SHA256); err != nil {
			return false, err
		}
	}
	keyID, err := from.ScanKeyID(ctx, si.ID)
	if err != nil {
		return false, err
	}
	r.Scan.UID = si.UID
	if _, err := s.saveUnder(ctx, r, false, keyID, r.Stream.All); errors.Is(err, errAlreadyStored) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("sync of scan %d (%s) from %s: %w", si.ID, si.UID, from.path, err)
	}
	return true, nil
}

// hasScanUID reports whether the store holds the scan with this uid.
func (s *Store) hasScanUID(ctx context.Context, uid string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM scans WHERE uid = ?", strings.ToLower(uid)).Scan(&n); err != nil {
		return false, fmt.Errorf("store: %s: %w", s.path, err)
	}
	return n > 0, nil
}
