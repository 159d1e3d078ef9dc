package scan

import (
	"cmp"
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/store"
)

// rotationSource names the problem recorded when the stored history could not be read.
const rotationSource = "key rotation check"

// checkRotation finds the server keys of the set that an endpoint kept across more than
// one certificate, in the stored scans and this one (observe.Set.KeyRenewals, which
// key-not-rotated judges). Only leaves count: a CA re-issued on its own key is common
// practice, a device or server that renews its certificate and keeps its key is not
// rotating it. A set judged again (a live scan's checkpoints) is checked again whole.
func checkRotation(ctx context.Context, st *store.Store, set *observe.Set) {
	set.KeyRenewals = nil
	set.Problems = slices.DeleteFunc(set.Problems, func(p observe.Problem) bool { return p.Source == rotationSource })
	type use struct {
		ep   observe.Endpoint
		spki string
	}
	type certUse struct {
		sha       string
		subject   string
		first     time.Time
		notBefore time.Time
		scan      int64 // 0 for this scan
	}
	uses := map[use]map[string]*certUse{}
	seen := map[use]time.Time{}
	for _, c := range set.Certificates {
		if c == nil || c.Facts == nil || c.Facts.SPKISHA256 == "" || c.Facts.IsCA {
			continue
		}
		for _, sg := range c.Seen {
			if sg.Role != "server" || sg.Position != 0 || !sg.Endpoint.IsValid() {
				continue
			}
			u := use{sg.Endpoint, c.Facts.SPKISHA256}
			if uses[u] == nil {
				uses[u] = map[string]*certUse{}
			}
			cu := uses[u][c.SHA256.String()]
			if cu == nil {
				cu = &certUse{sha: c.SHA256.String(), subject: c.Facts.Subject, first: sg.Time, notBefore: c.Facts.NotBefore}
				uses[u][cu.sha] = cu
			}
			if !sg.Time.IsZero() && (cu.first.IsZero() || sg.Time.Before(cu.first)) {
				cu.first = sg.Time
			}
			if sg.Time.After(seen[u]) {
				seen[u] = sg.Time
			}
		}
	}
	if st != nil {
		// One query per few hundred distinct keys, not one per key or per endpoint.
		var spkis []string
		for u := range uses {
			spkis = append(spkis, u.spki)
		}
		slices.Sort(spkis)
		bySPKI, err := st.KeySightingsOf(ctx, slices.Compact(spkis))
		if err != nil {
			set.Problem(observe.Problem{Source: rotationSource, Offset: -1, Message: err.Error()})
			return
		}
		for u, certs := range uses {
			for _, sg := range bySPKI[u.spki] {
				a, err := netip.ParseAddr(sg.Host)
				if err != nil || sg.Role != "server" || netip.AddrPortFrom(a, uint16(sg.Port)) != u.ep {
					continue
				}
				cu := certs[sg.CertSHA256]
				if cu == nil {
					cu = &certUse{sha: sg.CertSHA256, subject: sg.Subject, first: sg.Time, scan: sg.ScanID}
					certs[sg.CertSHA256] = cu
				}
				if !sg.Time.IsZero() && (cu.first.IsZero() || sg.Time.Before(cu.first)) {
					cu.first = sg.Time
				}
				if cu.scan == 0 || sg.ScanID < cu.scan {
					cu.scan = sg.ScanID
				}
			}
		}
	}
	for u, certs := range uses {
		if len(certs) < 2 {
			continue
		}
		list := make([]*certUse, 0, len(certs))
		for _, cu := range certs {
			list = append(list, cu)
		}
		slices.SortFunc(list, func(a, b *certUse) int { return cmp.Or(a.first.Compare(b.first), cmp.Compare(a.sha, b.sha)) })
		r := &observe.KeyRenewal{Endpoint: u.ep, SPKISHA256: u.spki, Seen: seen[u], Subject: list[len(list)-1].subject}
		for _, cu := range list {
			r.Certificates = append(r.Certificates, cu.sha)
			for _, t := range []time.Time{cu.first, cu.notBefore} {
				if !t.IsZero() && (r.Since.IsZero() || t.Before(r.Since)) {
					r.Since = t
				}
			}
			if cu.scan != 0 && !slices.Contains(r.Scans, cu.scan) {
				r.Scans = append(r.Scans, cu.scan)
			}
		}
		slices.Sort(r.Scans)
		set.KeyRenewals = append(set.KeyRenewals, r)
	}
	slices.SortFunc(set.KeyRenewals, func(a, b *observe.KeyRenewal) int {
		return cmp.Or(a.Endpoint.Compare(b.Endpoint), cmp.Compare(a.SPKISHA256, b.SPKISHA256))
	})
}
