package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// The audit trail: one record per run that wrote the store (medscan scan, live, lint,
// ...), chained by hash. A record's hash is the SHA-256 of its fields and of the hash of
// the record before it, so that editing a record changes its hash and deleting one leaves
// the next pointing at a hash that is gone. Deleting the newest records leaves a shorter
// chain that is still whole: that is caught only against a head recorded elsewhere
// (medscan audit prints it; --verify --head checks it), which is why the head is shown.
// The hash is not keyed: whoever can rewrite the store can rewrite the whole chain after
// the record they edit, so without an audit key the head kept outside the store is what
// makes the trail tamper-evident, and the chain is what makes that one value enough. With
// an audit key (auditkey.go) each record is signed too, and a rewritten chain no longer
// verifies.

// auditGenesis is the prev_hash of the first record.
const auditGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// auditAttempts bounds the retries of a record that lost a race with another writer
// for its place in the chain.
const auditAttempts = 40

// Run describes a run to record: who, where, what, and the scan it stored.
type Run struct {
	At      time.Time
	User    string
	Host    string
	Command []string // already free of secrets (the caller redacts)
	Version string
	Policy  string // the policy file's SHA-256, "" for the built-in policy
	ScanID  int64
	// Key, when not nil, signs the record (it must hold the private key); only the
	// signature and the key's identifier are stored.
	Key *AuditKey
}

// auditFields is the hashed form of a record: its stored values, in this order, and the
// hash before it. Changing it changes every hash: it is versioned by its prefix.
type auditFields struct {
	Seq      int64    `json:"seq"`
	At       string   `json:"at"`
	User     string   `json:"user"`
	Host     string   `json:"host"`
	Command  []string `json:"command"`
	Version  string   `json:"version"`
	Policy   string   `json:"policy"`
	ScanID   int64    `json:"scan_id"`
	PrevHash string   `json:"prev_hash"`
}

// hash is the record's chained hash.
func (f auditFields) hash() string {
	b, err := json.Marshal(f)
	if err != nil { // strings and ints only: cannot happen
		panic(err)
	}
	sum := sha256.Sum256(append([]byte("medscan-audit-v1\n"), b...))
	return hex.EncodeToString(sum[:])
}

// RecordRun appends run to the audit trail and returns the record as stored. Two
// writers racing for the same place both compute a record for it; the primary key lets
// one in, and the other reads the new end of the chain and tries again (bounded).
func (s *Store) RecordRun(ctx context.Context, run Run) (findings.AuditRecord, error) {
	if run.Command == nil {
		run.Command = []string{}
	}
	if run.Key != nil && !run.Key.CanSign() {
		return findings.AuditRecord{}, fmt.Errorf("store: %s: recording the run in the audit trail: %w", s.path, errAuditKeyPublic)
	}
	var lastErr error
	for attempt := range auditAttempts {
		rec, err := s.appendRun(ctx, run)
		if err == nil {
			return rec, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
		// Back off a little, more each time, with jitter so racers part ways.
		d := time.Duration(5+rand.IntN(20*(attempt+1))) * time.Millisecond
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return findings.AuditRecord{}, fmt.Errorf("store: %s: recording the run in the audit trail: %w", s.path, lastErr)
}

// appendRun makes one attempt at appending run after the current end of the chain.
func (s *Store) appendRun(ctx context.Context, run Run) (findings.AuditRecord, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return findings.AuditRecord{}, err
	}
	defer tx.Rollback()
	seq, prev := int64(0), auditGenesis
	err = tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_runs ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return findings.AuditRecord{}, err
	}
	at, _ := dbTime(run.At).(string)
	f := auditFields{Seq: seq + 1, At: at, User: run.User, Host: run.Host, Command: run.Command,
		Version: run.Version, Policy: run.Policy, ScanID: run.ScanID, PrevHash: prev}
	h := f.hash()
	sig, keyID := "", ""
	if run.Key != nil {
		if sig, err = run.Key.sign(h); err != nil {
			return findings.AuditRecord{}, err
		}
		keyID = run.Key.ID()
	}
	cmd, _ := json.Marshal(f.Command)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_runs(seq, at, os_user, host, command, version, policy, run_scan, prev_hash, hash, sig, sig_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.Seq, f.At, f.User, f.Host, string(cmd), f.Version, f.Policy, f.ScanID, f.PrevHash, h,
		sig, keyID); err != nil {
		return findings.AuditRecord{}, err
	}
	if err := tx.Commit(); err != nil {
		return findings.AuditRecord{}, err
	}
	rec := f.record(h)
	rec.SignedBy = keyID
	return rec, nil
}

// record is the findings form of stored fields, its strings cleaned for display: the
// check is made on the stored values, never on these.
func (f auditFields) record(hash string) findings.AuditRecord {
	at, _ := parseTime(sql.NullString{String: f.At, Valid: true})
	cmd := make([]string, len(f.Command))
	for i, a := range f.Command {
		cmd[i] = observe.Clean(a)
	}
	return findings.AuditRecord{Seq: f.Seq, At: at, User: observe.Clean(f.User), Host: observe.Clean(f.Host),
		Command: cmd, Version: observe.Clean(f.Version), Policy: observe.Clean(f.Policy), ScanID: f.ScanID,
		PrevHash: observe.Clean(f.PrevHash), Hash: observe.Clean(hash)}
}

// AuditTrail reads every record, oldest first, and checks the chain: every record's hash
// must be its own, follow the one before, and the sequence have no gap; and, when head
// is not "", the chain must end at that hash (or at a record whose hash it is, when more
// runs were recorded since: head then must be on the chain). A record whose fields do not
// read back (a command that is not a JSON list) is a problem, not an error.
func (s *Store) AuditTrail(ctx context.Context, head string) (*findings.AuditTrail, error) {
	return s.AuditTrailKeyed(ctx, head, nil)
}

// AuditTrailKeyed is AuditTrail checked against an audit key as well, when key is not
// nil (its public half is enough): every record from the first signed one on must carry
// a valid signature by that key, and at least one record must. Records before the first
// signed one were written before the key was in use; they are covered by the first
// signature, which signs a hash that chains to them.
func (s *Store) AuditTrailKeyed(ctx context.Context, head string, key *AuditKey) (*findings.AuditTrail, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, os_user, host, command, version, policy, run_scan, prev_hash, hash, sig, sig_key
		FROM audit_runs ORDER BY seq`)
	if err != nil {
		return nil, s.wrap(err)
	}
	defer rows.Close()
	trail := &findings.AuditTrail{Records: []findings.AuditRecord{}}
	check := &findings.AuditCheck{Problems: []string{}, Expected: head}
	prev, want := auditGenesis, int64(1)
	headSeen := head == ""
	if key != nil {
		check.Key = key.ID()
	}
	var firstSigned int64 // the first record signed by key, 0 before one is seen
	for rows.Next() {
		var f auditFields
		var cmd, stored, sig, sigKey string
		if err := rows.Scan(&f.Seq, &f.At, &f.User, &f.Host, &cmd, &f.Version, &f.Policy, &f.ScanID, &f.PrevHash, &stored,
			&sig, &sigKey); err != nil {
			return nil, s.wrap(err)
		}
		if err := json.Unmarshal([]byte(cmd), &f.Command); err != nil || f.Command == nil {
			check.Problems = append(check.Problems, fmt.Sprintf("record %d: its command is not a list of words", f.Seq))
			f.Command = []string{}
		}
		switch {
		case f.Seq != want:
			check.Problems = append(check.Problems, fmt.Sprintf("record %d: expected record %d here: records %d to %d are missing",
				f.Seq, want, want, f.Seq-1))
		case f.PrevHash != prev:
			check.Problems = append(check.Problems, fmt.Sprintf("record %d: does not follow record %d (its previous hash was changed, or record %d was)",
				f.Seq, f.Seq-1, f.Seq-1))
		}
		if f.hash() != stored {
			check.Problems = append(check.Problems, fmt.Sprintf("record %d: its content does not match its hash: the record was edited", f.Seq))
		}
		if key != nil {
			switch {
			case sig == "" && firstSigned != 0:
				check.Problems = append(check.Problems, fmt.Sprintf("record %d: not signed, though record %d before it is: "+
					"its signature was removed, or it was written by a run not given the audit key", f.Seq, firstSigned))
			case sig == "":
			case sigKey != key.ID():
				check.Problems = append(check.Problems, fmt.Sprintf("record %d: signed by another key (%s), not by the audit key given",
					f.Seq, shortID(observe.Clean(sigKey))))
			case !key.verify(stored, sig):
				check.Problems = append(check.Problems, fmt.Sprintf("record %d: its signature does not verify: the record or the chain "+
					"before it was rewritten by someone without the audit key", f.Seq))
			default:
				check.Signed++
				if firstSigned == 0 {
					firstSigned = f.Seq
				}
			}
		}
		if stored == head {
			headSeen = true
		}
		prev, want = stored, f.Seq+1
		rec := f.record(stored)
		if sig != "" {
			rec.SignedBy = observe.Clean(sigKey)
		}
		trail.Records = append(trail.Records, rec)
		check.Records++
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err)
	}
	if len(trail.Records) > 0 {
		check.Head = observe.Clean(prev)
	}
	if !headSeen {
		check.Problems = append(check.Problems, fmt.Sprintf("the expected head %s is not on the chain: records were deleted from its end, or the chain was rewritten",
			observe.Clean(head)))
	}
	if key != nil && len(trail.Records) > 0 && firstSigned == 0 {
		check.Problems = append(check.Problems, fmt.Sprintf("no record is signed by the audit key %s: the trail was written without it, "+
			"or rewritten and its signatures removed", shortID(key.ID())))
	}
	check.Intact = len(check.Problems) == 0
	trail.Check = check
	return trail, nil
}

// shortID is the first 16 hex digits of a key's identifier, enough to tell keys apart.
func shortID(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// wrap names the store in an error.
func (s *Store) wrap(err error) error { return fmt.Errorf("store: %s: %w", s.path, err) }
