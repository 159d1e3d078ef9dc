package findings

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/medscan/medscan/observe"
)

// assetEvidence is the JSON object stored in scan_assets.evidence: the evidence lists of
// an asset, kept in one column because they are only ever read together.
type assetEvidence struct {
	DHCPVendorClass      []string `json:"dhcp_vendor_class"`
	UserAgents           []string `json:"user_agents"`
	Servers              []string `json:"servers"`
	CertSubjects         []string `json:"cert_subjects"`
	HL7Apps              []string `json:"hl7_apps"`
	DICOMAETitles        []string `json:"dicom_ae_titles"`
	DICOMImplementations []string `json:"dicom_implementations"`
}

func assetEvidenceOf(a *observe.Asset) assetEvidence {
	return assetEvidence{
		DHCPVendorClass: nonNil(a.DHCPVendorClass), UserAgents: nonNil(a.UserAgents), Servers: nonNil(a.Servers),
		CertSubjects: nonNil(a.CertSubjects), HL7Apps: nonNil(a.HL7Apps), DICOMAETitles: nonNil(a.DICOMAETitles),
		DICOMImplementations: nonNil(a.DICOMImplementations),
	}
}

// inventoryOf returns the set's inventory (Set.Assets, filled by package inventory) by
// address; empty when the caller did not classify the set, and its assets are then
// stored without a kind.
func inventoryOf(set *observe.Set) map[netip.Addr]*observe.Asset {
	out := make(map[netip.Addr]*observe.Asset, len(set.Assets))
	for _, a := range set.Assets {
		out[a.Addr] = a
	}
	return out
}

// assetColumns are the inventory columns of one scan_assets row, JSON encoded.
func (w *scanWriter) assetColumns(a *observe.Asset) ([]any, error) {
	if a == nil {
		return []any{"", "[]", "[]", "[]", "", "", "[]", "{}"}, nil
	}
	names := make([]AssetName, len(a.Names))
	for i, n := range a.Names {
		names[i] = AssetName{Name: n.Name, Source: n.Source}
	}
	leased := make([]string, len(a.LeasedAddrs))
	for i, l := range a.LeasedAddrs {
		leased[i] = l.String()
	}
	cols := []any{a.Kind}
	for _, v := range []any{nonNil(a.Reasons), nonNil(a.Roles), names} {
		s, err := w.jsonText(v)
		if err != nil {
			return nil, fmt.Errorf("asset %s: %w", a.Addr, err)
		}
		cols = append(cols, s)
	}
	cols = append(cols, a.Manufacturer, a.Model)
	for _, v := range []any{leased, assetEvidenceOf(a)} {
		s, err := w.jsonText(v)
		if err != nil {
			return nil, fmt.Errorf("asset %s: %w", a.Addr, err)
		}
		cols = append(cols, s)
	}
	return cols, nil
}

// saveInventoryLists stores the names, DHCP leases and file transfers of the scan.
func (w *scanWriter) saveInventoryLists(set *observe.Set) error {
	if err := w.saveNames(set); err != nil {
		return err
	}
	if err := w.saveDHCP(set); err != nil {
		return err
	}
	return w.saveTransfers(set)
}

func (w *scanWriter) saveNames(set *observe.Set) error {
	if len(set.Names) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO host_names(scan_id, ip, mac, name, source, count, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, n := range set.Names {
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(n.Addr), n.MAC, n.Name, n.Source, n.Count,
			dbTime(n.FirstSeen), dbTime(n.LastSeen)); err != nil {
			return fmt.Errorf("host name %s %q: %w", n.Addr, n.Name, err)
		}
	}
	return nil
}

func (w *scanWriter) saveDHCP(set *observe.Set) error {
	if len(set.DHCP) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO dhcp_leases(scan_id, mac, ip, server, hostname, vendor_class, param_request, acked,
		lease_seconds, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, l := range set.DHCP {
		if _, err := st.ExecContext(w.ctx, w.scan, l.MAC, addrText(l.Addr), addrText(l.Server), l.Hostname, l.VendorClass,
			l.ParamRequest, boolInt(l.Acked), int64(l.LeaseSeconds), l.Count, dbTime(l.FirstSeen), dbTime(l.LastSeen)); err != nil {
			return fmt.Errorf("dhcp lease %s: %w", l.MAC, err)
		}
	}
	return nil
}

func (w *scanWriter) saveTransfers(set *observe.Set) error {
	if len(set.Transfers) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO file_transfers(scan_id, client, client_port, host, port, protocol, upload, path, url,
		bytes, sha256, kind, partial, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, t := range set.Transfers {
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(t.Flow.Client.Addr()), int(t.Flow.Client.Port()),
			addrText(t.Flow.Server.Addr()), int(t.Flow.Server.Port()), t.Protocol, boolInt(t.Upload), t.Path, t.URL, t.Bytes,
			t.SHA256, t.Kind, boolInt(t.Partial), t.Count, dbTime(t.FirstSeen), dbTime(t.LastSeen)); err != nil {
			return fmt.Errorf("file transfer %s %s: %w", t.Flow, strconv.Quote(t.Path), err)
		}
	}
	return nil
}

// assetAddrs is every address to store an asset row for: the host table's and the
// inventory's, in address order.
func assetAddrs(set *observe.Set, inv map[netip.Addr]*observe.Asset) []netip.Addr {
	addrs := make([]netip.Addr, 0, len(set.Hosts)+len(inv))
	for a := range set.Hosts {
		addrs = append(addrs, a)
	}
	for a := range inv {
		if set.Hosts[a] == nil {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	return slices.Compact(addrs)
}
