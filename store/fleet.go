package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/medscan/medscan/observe"
)

// The fleet queries read what other sites' scans saw, for the rules that judge sharing
// across a health system's sites (observe.Fleet). They are bounded: a key on a whole
// fleet must not fill memory or the evidence.
const (
	// maxFleetRows caps the rows each fleet query keeps; the rest are counted.
	maxFleetRows = 20000
	// fleetBatch is how many keys one IN list carries (well under both engines' limits
	// on bound parameters).
	fleetBatch = 500
)

// currentAtItsSite keeps, of the scans named sc, the latest of each site, kind and
// label (one sensor's series): what the other sites hold today. A key replaced or a
// password changed at another site stops counting once that site's next scan no longer
// sees it, rather than counting for as long as the store keeps the old scan.
const currentAtItsSite = `sc.id = (SELECT max(l.id) FROM scans l WHERE l.site = sc.site AND l.kind = sc.kind AND l.label = sc.label)`

// FleetKeys returns where the hosts of sites other than site presented, as a leaf
// certificate's key (TLS servers and clients; not files), any of the keys spkis (SPKI
// SHA-256 in hex), in the current scans of those sites (currentAtItsSite), once per
// site, key, host, port, role and certificate. dropped counts what the cap left out.
func (s *Store) FleetKeys(ctx context.Context, site string, spkis []string) (keys []observe.FleetKey, dropped int, err error) {
	spkis = slices.Clone(spkis)
	slices.Sort(spkis)
	spkis = slices.Compact(spkis)
	for chunk := range slices.Chunk(spkis, fleetBatch) {
		args := []any{site}
		for _, k := range chunk {
			args = append(args, strings.ToLower(k))
		}
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT g.site, c.spki_sha256, g.host, g.port, g.role, c.sha256,
				c.subject, c.facts
			FROM cert_sightings g JOIN certificates c ON c.id = g.cert_id JOIN scans sc ON sc.id = g.scan_id
			WHERE g.site <> ? AND `+currentAtItsSite+` AND g.position = 0 AND g.host <> '' AND c.spki_sha256 IN (?`+
			strings.Repeat(", ?", len(chunk)-1)+`)
			ORDER BY g.site, c.spki_sha256, g.host, g.port, g.role, c.sha256`, args...)
		if err != nil {
			return nil, 0, fmt.Errorf("store: %s: keys of other sites: %w", s.path, err)
		}
		for rows.Next() {
			var k observe.FleetKey
			var facts string
			if err := rows.Scan(&k.Site, &k.SPKISHA256, &k.Host, &k.Port, &k.Role, &k.CertSHA256, &k.Subject, &facts); err != nil {
				rows.Close()
				return nil, 0, fmt.Errorf("store: %s: keys of other sites: %w", s.path, err)
			}
			if len(keys) >= maxFleetRows {
				dropped++
				continue
			}
			var names struct {
				DNS []string `json:"dns_names"`
				IPs []string `json:"ip_addresses"`
			}
			if facts != "" {
				if err := json.Unmarshal([]byte(facts), &names); err != nil {
					rows.Close()
					return nil, 0, fmt.Errorf("store: %s: keys of other sites: bad facts of certificate %s: %w", s.path,
						k.CertSHA256, err)
				}
			}
			for _, n := range names.DNS {
				k.Names = append(k.Names, strings.ToLower(n))
			}
			k.Names = append(k.Names, names.IPs...)
			slices.Sort(k.Names)
			k.Names = slices.Compact(k.Names)
			k.Site, k.Host, k.Role, k.Subject = observe.Clean(k.Site), observe.Clean(k.Host), observe.Clean(k.Role),
				observe.Clean(k.Subject)
			keys = append(keys, k)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("store: %s: keys of other sites: %w", s.path, err)
		}
	}
	return keys, dropped, nil
}

// FleetCredentials returns the clients of sites other than site that sent any of the
// secrets hashes (keyed hashes, as observe.Credential.Hash), in their current scans
// (currentAtItsSite) whose hashes were made under the key keyID (Store.KeyID; ScanKeyID): a hash made under another key
// file is never compared, and neither is one of unknown key (keyID ""). One entry per
// site, kind, hash, client and server. The credential rows of other sites are read and
// decoded in turn, keeping only the hashes asked for, so that memory follows this scan's
// secrets, not the store's.
func (s *Store) FleetCredentials(ctx context.Context, site, keyID string, hashes []string) (creds []observe.FleetCredential,
	dropped int, err error) {
	if keyID == "" || len(hashes) == 0 {
		return nil, 0, nil
	}
	want := make(map[string]bool, len(hashes))
	for _, h := range hashes {
		want[h] = true
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sc.site, o.data FROM observations o JOIN scans sc ON sc.id = o.scan_id
		WHERE o.kind = 'credential' AND sc.site <> ? AND sc.key_id = ? AND `+currentAtItsSite+` ORDER BY sc.id, o.seq`, site, keyID)
	if err != nil {
		return nil, 0, fmt.Errorf("store: %s: credentials of other sites: %w", s.path, err)
	}
	defer rows.Close()
	seen := map[observe.FleetCredential]bool{}
	for rows.Next() {
		var at string
		var data []byte
		if err := rows.Scan(&at, &data); err != nil {
			return nil, 0, fmt.Errorf("store: %s: credentials of other sites: %w", s.path, err)
		}
		var row struct {
			Kind   string `json:"kind"`
			Hash   string `json:"hash"`
			Client string `json:"client"`
			Host   string `json:"host"`
			Port   int    `json:"port"`
		}
		if err := json.Unmarshal(data, &row); err != nil {
			return nil, 0, fmt.Errorf("store: %s: credentials of other sites: bad credential row %.60q: %w", s.path, data, err)
		}
		if !want[row.Hash] {
			continue
		}
		fc := observe.FleetCredential{Site: observe.Clean(at), Kind: observe.Clean(row.Kind), Hash: row.Hash,
			Client: observe.Clean(row.Client), Server: observe.Clean(fmt.Sprintf("%s:%d", row.Host, row.Port))}
		if strings.Contains(row.Host, ":") {
			fc.Server = observe.Clean(fmt.Sprintf("[%s]:%d", row.Host, row.Port))
		}
		if seen[fc] {
			continue
		}
		if len(creds) >= maxFleetRows {
			dropped++
			continue
		}
		seen[fc] = true
		creds = append(creds, fc)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: %s: credentials of other sites: %w", s.path, err)
	}
	return creds, dropped, nil
}

// KeySites returns the sites of the scans that hold a certificate with this key (SPKI
// SHA-256 in hex), sorted.
func (s *Store) KeySites(ctx context.Context, spkiSHA256 string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT sc.site FROM certificates c
		JOIN scan_certificates l ON l.cert_id = c.id JOIN scans sc ON sc.id = l.scan_id
		WHERE c.spki_sha256 = ? ORDER BY sc.site`, strings.ToLower(spkiSHA256))
	if err != nil {
		return nil, fmt.Errorf("store: %s: sites of key %s: %w", s.path, spkiSHA256, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			return nil, fmt.Errorf("store: %s: sites of key %s: %w", s.path, spkiSHA256, err)
		}
		out = append(out, observe.Clean(site))
	}
	return out, rows.Err()
}

// FleetSenders returns the clients of sites other than site that sent HL7 (not
// acknowledgements) or DICOM associations to any of the addresses servers, in their
// current network scans (currentAtItsSite), once per site, client, server, protocol and application, bounded like
// the other fleet queries.
func (s *Store) FleetSenders(ctx context.Context, site string, servers []string) (out []observe.FleetSender, dropped int, err error) {
	if len(servers) == 0 {
		return nil, 0, nil
	}
	want := make(map[string]bool, len(servers))
	for _, a := range servers {
		want[a] = true
	}
	rows, err := s.db.QueryContext(ctx, `SELECT sc.site, o.kind, o.data FROM observations o JOIN scans sc ON sc.id = o.scan_id
		WHERE o.kind IN ('hl7', 'dicom') AND sc.site <> ? AND sc.kind = 'network' AND `+currentAtItsSite+` ORDER BY sc.id, o.kind, o.seq`, site)
	if err != nil {
		return nil, 0, fmt.Errorf("store: %s: clinical senders of other sites: %w", s.path, err)
	}
	defer rows.Close()
	seen := map[observe.FleetSender]bool{}
	for rows.Next() {
		var at, kind string
		var data []byte
		if err := rows.Scan(&at, &kind, &data); err != nil {
			return nil, 0, fmt.Errorf("store: %s: clinical senders of other sites: %w", s.path, err)
		}
		var row struct {
			Client       string `json:"client"`
			Host         string `json:"host"`
			ReceivingApp string `json:"receiving_app"`
			CalledAE     string `json:"called_ae"`
			IsAck        bool   `json:"is_ack"`
		}
		if err := json.Unmarshal(data, &row); err != nil {
			return nil, 0, fmt.Errorf("store: %s: clinical senders of other sites: bad %s row %.60q: %w", s.path, kind, data, err)
		}
		if !want[row.Host] || row.IsAck {
			continue
		}
		app := row.ReceivingApp
		if kind == "dicom" {
			app = row.CalledAE
		}
		fs := observe.FleetSender{Site: observe.Clean(at), Client: observe.Clean(row.Client), Server: observe.Clean(row.Host),
			Protocol: kind, App: observe.Clean(app)}
		if seen[fs] {
			continue
		}
		if len(out) >= maxFleetRows {
			dropped++
			continue
		}
		seen[fs] = true
		out = append(out, fs)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: %s: clinical senders of other sites: %w", s.path, err)
	}
	return out, dropped, nil
}
