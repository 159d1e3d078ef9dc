package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// EachRSAKey calls fn once for every distinct RSA public key in the store, across all
// scans, by SPKI SHA-256 (hex), with the DER of one certificate that carries it (the
// first stored), so that the caller can read the modulus with its own parser: the store
// never parses certificates. The DER is valid only during the call. Rows are streamed,
// so a store of 100,000 keys is read without holding their certificates at once; an
// error from fn stops the walk and is returned as it is.
//
// The moduli are read from the DER at query time rather than cached in a table of their
// own: reading the certificates of 100,000 keys took 0.9 s here (and parsing their
// moduli 0.15 s), against minutes for the batch GCD they feed, so a cache table would
// buy nothing worth a schema change.
func (s *Store) EachRSAKey(ctx context.Context, fn func(spkiSHA256 string, der []byte) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT spki_sha256, der FROM certificates
		WHERE id IN (SELECT min(id) FROM certificates WHERE key_type = 'rsa' AND spki_sha256 <> '' GROUP BY spki_sha256)
		ORDER BY spki_sha256`)
	if err != nil {
		return fmt.Errorf("store: %s: reading RSA keys: %w", s.path, err)
	}
	defer rows.Close()
	var spki string
	var der []byte
	for rows.Next() {
		if err := rows.Scan(&spki, &der); err != nil {
			return fmt.Errorf("store: %s: reading RSA keys: %w", s.path, err)
		}
		if err := fn(spki, der); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: reading RSA keys: %w", s.path, err)
	}
	return nil
}

// KeySighting is one place a stored key was seen: a host and port that presented a
// certificate carrying it, in one scan.
type KeySighting struct {
	ScanID     int64
	Site       string // the scan's site
	Host       string // "" for a certificate read from a file
	Port       int
	Role       string // "server", "client", or "" for a file
	CertSHA256 string
	Subject    string
	Time       time.Time // the latest sighting of this certificate there in that scan
}

// String renders the sighting for evidence: "10.20.1.11:443 (scan 3)", "client
// 10.20.1.7 (scan 3)", or "file (scan 3)"; "10.20.1.11:443 (site north, scan 3)" for a
// scan given a site.
func (k KeySighting) String() string {
	if k.Site != "" {
		return fmt.Sprintf("%s (site %s, scan %d)", findings.Holder(k.Host, k.Port, k.Role, ""), k.Site, k.ScanID)
	}
	return fmt.Sprintf("%s (scan %d)", findings.Holder(k.Host, k.Port, k.Role, ""), k.ScanID)
}

// KeySightings returns where the key with this SPKI SHA-256 was seen in stored scans,
// newest scan first, then by host and port; at most limit entries (limit <= 0: all). A
// certificate linked to a scan without a sighting (read from a file) counts once per
// scan with an empty host.
func (s *Store) KeySightings(ctx context.Context, spkiSHA256 string, limit int) ([]KeySighting, error) {
	if limit <= 0 {
		limit = math.MaxInt64 // not -1: PostgreSQL refuses a negative LIMIT
	}
	var out []KeySighting
	err := s.keySightings(ctx, "c.spki_sha256 = ?", []any{strings.ToLower(spkiSHA256)}, limit,
		func(_ string, k KeySighting) { out = append(out, k) })
	if err != nil {
		return nil, fmt.Errorf("store: %s: key %s: %w", s.path, spkiSHA256, err)
	}
	return out, nil
}

// KeySightingsOf is KeySightings for many keys at once, with no limit: the sightings of
// each key (SPKI SHA-256, lower-case hex) by key, in KeySightings's order. A scan checks
// every server key it saw against the stored history; one query per few hundred keys
// instead of one per key keeps that cost flat as the keys grow.
func (s *Store) KeySightingsOf(ctx context.Context, spkis []string) (map[string][]KeySighting, error) {
	out := map[string][]KeySighting{}
	lower := make([]string, len(spkis))
	for i, k := range spkis {
		lower[i] = strings.ToLower(k)
	}
	for in, args := range inLists(lower) {
		err := s.keySightings(ctx, "c.spki_sha256 IN "+in, args, math.MaxInt64, func(spki string, k KeySighting) {
			out[spki] = append(out[spki], k)
		})
		if err != nil {
			return nil, fmt.Errorf("store: %s: key sightings: %w", s.path, err)
		}
	}
	return out, nil
}

// keySightings streams the sightings of the keys where names, in KeySightings's order
// within each key, to fn with the key's SPKI SHA-256.
func (s *Store) keySightings(ctx context.Context, where string, args []any, limit int, fn func(spki string, k KeySighting)) error {
	rows, err := s.db.QueryContext(ctx, `
		SELECT c.spki_sha256, sc.scan_id, s.site, coalesce(g.host, ''), coalesce(g.port, 0), coalesce(g.role, ''),
			c.sha256, c.subject, coalesce(max(g.time), sc.first_seen)
		FROM certificates c
		JOIN scan_certificates sc ON sc.cert_id = c.id
		JOIN scans s ON s.id = sc.scan_id
		LEFT JOIN cert_sightings g ON g.cert_id = c.id AND g.scan_id = sc.scan_id
		WHERE `+where+`
		GROUP BY c.spki_sha256, sc.scan_id, sc.first_seen, s.site, g.host, g.port, g.role, c.id
		ORDER BY c.spki_sha256, sc.scan_id DESC, g.host, g.port, g.role, c.sha256
		LIMIT ?`, append(args, limit)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var spki string
		var k KeySighting
		var at sql.NullString
		if err := rows.Scan(&spki, &k.ScanID, &k.Site, &k.Host, &k.Port, &k.Role, &k.CertSHA256, &k.Subject, &at); err != nil {
			return err
		}
		k.Site = observe.Clean(k.Site)
		if k.Time, err = parseTime(at); err != nil {
			return err
		}
		fn(spki, k)
	}
	return rows.Err()
}

// sharedPrimesKey is the meta row that keeps the latest batch GCD's answer.
const sharedPrimesKey = "shared_primes"

// KeptPrimes is the batch GCD's answer the store keeps (SharedPrimes): a function of
// the moduli alone, true whatever scan computed it. A scheduled scan of an unchanged
// fleet compares the same moduli as the scan before it, and one with a few new keys
// compares only those with the rest (through Product), where the whole batch GCD costs
// minutes at 100,000 keys. Names are the caller's (a modulus's SHA-256). Nothing secret
// is kept: names of public moduli and their product, never a factor.
type KeptPrimes struct {
	Method  string      `json:"method"`  // the caller's name for how it computed and keeps them
	Set     string      `json:"set"`     // the name of the set of moduli compared
	Moduli  []string    `json:"moduli"`  // their names, sorted
	Pairs   [][2]string `json:"pairs"`   // the pairs of them that share a prime
	Product []byte      `json:"product"` // their product, big-endian
}

// SharedPrimes is the batch GCD's answer the store keeps (KeepSharedPrimes), nil when
// it keeps none.
func (s *Store) SharedPrimes(ctx context.Context) (*KeptPrimes, error) {
	var value []byte
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", sharedPrimesKey).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s: reading the kept batch GCD: %w", s.path, err)
	}
	kept := &KeptPrimes{}
	if err := json.Unmarshal(value, kept); err != nil {
		return nil, fmt.Errorf("store: %s: the kept batch GCD: %w", s.path, err)
	}
	return kept, nil
}

// KeepSharedPrimes keeps the batch GCD's answer k in place of the one kept before: one
// answer is kept, the latest.
func (s *Store) KeepSharedPrimes(ctx context.Context, k *KeptPrimes) error {
	value, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return s.inTx(ctx, false, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES (?, ?)
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, sharedPrimesKey, value)
		if err != nil {
			return fmt.Errorf("store: %s: keeping the batch GCD: %w", s.path, err)
		}
		return nil
	})
}
