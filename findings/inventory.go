package findings

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"

	"github.com/medscan/medscan/observe"
)

// normalize replaces the asset's nil lists with empty ones.
func (a *Asset) normalize() {
	a.MACs = nonNil(a.MACs)
	a.LeasedIPs = nonNil(a.LeasedIPs)
	a.Names = nonNil(a.Names)
	a.Reasons = nonNil(a.Reasons)
	a.Roles = nonNil(a.Roles)
	a.DHCPVendorClass = nonNil(a.DHCPVendorClass)
	a.UserAgents = nonNil(a.UserAgents)
	a.Servers = nonNil(a.Servers)
	a.CertSubjects = nonNil(a.CertSubjects)
	a.HL7Apps = nonNil(a.HL7Apps)
	a.DICOMAETitles = nonNil(a.DICOMAETitles)
	a.DICOMImplementations = nonNil(a.DICOMImplementations)
}

// AssetKinds returns the latest known kind of every address the store has classified:
// for each address, the kind of the most recent scan that gave it one other than
// "unknown", so that a device seen silently once does not lose what earlier scans
// learned. The active prober reads it to leave medical devices alone.
func (s *Store) AssetKinds(ctx context.Context) (map[netip.Addr]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.ip, sa.kind FROM scan_assets sa JOIN assets a ON a.id = sa.asset_id
		WHERE sa.kind != '' AND sa.kind != ? ORDER BY sa.scan_id`, observe.KindUnknown)
	if err != nil {
		return nil, fmt.Errorf("findings: %s: asset kinds: %w", s.path, err)
	}
	defer rows.Close()
	out := map[netip.Addr]string{}
	for rows.Next() {
		var ip, kind string
		if err := rows.Scan(&ip, &kind); err != nil {
			return nil, fmt.Errorf("findings: %s: asset kinds: %w", s.path, err)
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("findings: %s: asset kinds: bad address %q in store: %w", s.path, ip, err)
		}
		out[a] = kind // later scans come later and win
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("findings: %s: asset kinds: %w", s.path, err)
	}
	return out, nil
}

// assetInventory decodes the inventory columns of a scan_assets row into a.
func (l *loader) assetInventory(a *Asset, leased, names, reasons, roles, evidence string) {
	a.LeasedIPs = list[string](l, leased)
	a.Names = list[AssetName](l, names)
	a.Reasons = list[string](l, reasons)
	a.Roles = list[string](l, roles)
	if evidence != "" && evidence != "{}" {
		var e assetEvidence
		if err := json.Unmarshal([]byte(evidence), &e); err != nil && l.err == nil {
			l.err = fmt.Errorf("bad asset evidence %.40q in store: %w", evidence, err)
		}
		a.DHCPVendorClass, a.UserAgents, a.Servers, a.CertSubjects = e.DHCPVendorClass, e.UserAgents, e.Servers, e.CertSubjects
		a.HL7Apps, a.DICOMAETitles, a.DICOMImplementations = e.HL7Apps, e.DICOMAETitles, e.DICOMImplementations
	}
}

// inventoryLists loads the scan's host names, DHCP leases and file transfers.
func (l *loader) inventoryLists(r *Report) error {
	err := l.each(`SELECT ip, mac, name, source, count, first_seen, last_seen FROM host_names WHERE scan_id = ?`,
		func(rows *sql.Rows) error {
			var (
				n           HostName
				first, last sql.NullString
			)
			if err := rows.Scan(&n.IP, &n.MAC, &n.Name, &n.Source, &n.Count, &first, &last); err != nil {
				return err
			}
			n.FirstSeen, n.LastSeen = l.t(first), l.t(last)
			r.HostNames = append(r.HostNames, n)
			return nil
		})
	if err != nil {
		return err
	}
	slices.SortFunc(r.HostNames, func(a, b HostName) int {
		return cmp.Or(CompareHosts(a.IP, b.IP), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.MAC, b.MAC))
	})
	err = l.each(`SELECT mac, ip, server, hostname, vendor_class, param_request, acked, lease_seconds, count, first_seen,
		last_seen FROM dhcp_leases WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			d           DHCPLease
			acked       int
			lease       int64
			first, last sql.NullString
		)
		if err := rows.Scan(&d.MAC, &d.IP, &d.Server, &d.Hostname, &d.VendorClass, &d.ParamRequest, &acked, &lease,
			&d.Count, &first, &last); err != nil {
			return err
		}
		d.Acked, d.LeaseSeconds = acked != 0, uint32(lease)
		d.FirstSeen, d.LastSeen = l.t(first), l.t(last)
		r.DHCPLeases = append(r.DHCPLeases, d)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.DHCPLeases, func(a, b DHCPLease) int {
		return cmp.Or(cmp.Compare(a.MAC, b.MAC), a.FirstSeen.Compare(b.FirstSeen), CompareHosts(a.IP, b.IP),
			cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.VendorClass, b.VendorClass))
	})
	err = l.each(`SELECT client, host, port, protocol, upload, path, url, bytes, sha256, kind, partial, count, first_seen,
		last_seen FROM file_transfers WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			t               FileTransfer
			upload, partial int
			first, last     sql.NullString
		)
		if err := rows.Scan(&t.Client, &t.Host, &t.Port, &t.Protocol, &upload, &t.Path, &t.URL, &t.Bytes, &t.SHA256,
			&t.Kind, &partial, &t.Count, &first, &last); err != nil {
			return err
		}
		t.Upload, t.Partial = upload != 0, partial != 0
		t.FirstSeen, t.LastSeen = l.t(first), l.t(last)
		r.Transfers = append(r.Transfers, t)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.Transfers, func(a, b FileTransfer) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port), CompareHosts(a.Client, b.Client),
			cmp.Compare(a.Path, b.Path), cmp.Compare(a.SHA256, b.SHA256), a.FirstSeen.Compare(b.FirstSeen))
	})
	return nil
}
