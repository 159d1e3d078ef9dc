package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/netip"
)

// hostOrder is a finding's host as the findings table's host_order column keeps it: a
// string whose byte order (SQLite's BINARY, PostgreSQL's "C" collation) is the order
// of findings.CompareHosts, so that SQL sorts findings as the document does. "" stays
// "" (first); an address is "1" and its four bytes in hex (IPv4) or "2", its sixteen
// bytes and its zone (IPv6: after IPv4, by address, then zone, as netip.Addr.Compare);
// anything else is "3" and the text (after every address, by text).
func hostOrder(host string) string {
	if host == "" {
		return ""
	}
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return "3" + host
	case a.Is4():
		b := a.As4()
		return "1" + hex.EncodeToString(b[:])
	}
	b := a.As16()
	return "2" + hex.EncodeToString(b[:]) + a.Zone()
}

// migrate0009 fills host_order for the findings stored before it existed.
func migrate0009(ctx context.Context, tx *sql.Tx) (bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT host FROM findings WHERE host <> ''")
	if err != nil {
		return false, fmt.Errorf("listing the findings' hosts: %w", err)
	}
	var hosts []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return false, fmt.Errorf("listing the findings' hosts: %w", err)
		}
		hosts = append(hosts, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("listing the findings' hosts: %w", err)
	}
	for _, h := range hosts {
		if _, err := tx.ExecContext(ctx, "UPDATE findings SET host_order = ? WHERE host = ?", hostOrder(h), h); err != nil {
			return false, fmt.Errorf("ordering the findings of %q: %w", h, err)
		}
	}
	return false, nil
}
