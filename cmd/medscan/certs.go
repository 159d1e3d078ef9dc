package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/lint"
	"github.com/medscan/medscan/report"
)

func certsCommand(a *app) *cobra.Command {
	var (
		out      outputFlags
		db       storeFlag
		pol      policyFlags
		expiring string
		issuer   string
		host     string
		role     string
		asOf     string
	)
	c := &cobra.Command{
		Use:   "certs [--expiring 90d] [--issuer TEXT] [--host H[:PORT]] [--role R] [--as-of DATE] [flags]",
		Short: "list every certificate of every stored scan: where, issuer chain, validity, key, verdicts, rotation",
		Long: `List every certificate the store holds, whatever saw it (a capture, the prober, a
certificate file): where it was seen (host:port and role, or file) with the first and
last time, its issuers up to the policy's trust anchors, its key and validity, and the
findings of its latest scan. Certificates are grouped by issuing CA, so the site's
hierarchy shows: the devices on the site PKI, on a vendor PKI, self-signed. An expiry
calendar of the next twelve months follows, then every server endpoint that presented
more than one certificate over the stored scans, oldest first, marking a renewal that
kept the old key; and the medical devices, middleware and clinical servers without an
identity of their own (no certificate, only self-signed ones, or a key another host
presents too). -f html writes all of it as one page in the scan report's style (an
expiry calendar drawn by month, the issuers as groups, revocation, rotation), with no
script, that prints on A4 or Letter.

Issuers are found by name among the stored certificates and the --policy's trust
anchors; whether a chain is trusted is cert-untrusted's verdict, which checks signatures.`,
		Args: argsNone,
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(c.Flags(), "certs"); err != nil {
				return err
			}
			now := time.Now()
			if asOf != "" {
				t, err := time.Parse(time.DateOnly, asOf)
				if err != nil {
					return usageError{fmt.Sprintf("certs: --as-of %q: want a date (2027-01-31)", asOf)}
				}
				now = t.UTC()
			}
			within := -1
			if expiring != "" {
				d, err := parseDays(expiring)
				if err != nil {
					return usageError{fmt.Sprintf("certs: --expiring %q: %s", expiring, err)}
				}
				within = d
			}
			var at hostFilter
			if host != "" {
				var err error
				if at, err = parseHostFilter(host); err != nil {
					return usageError{fmt.Sprintf("certs: --host %q: %s", host, err)}
				}
			}
			p, err := pol.policy()
			if err != nil {
				return err
			}
			st, err := db.read()
			if err != nil {
				return err
			}
			defer st.Close()
			records, err := st.CertHistory(a.ctx)
			if err != nil {
				return err
			}
			verdicts, err := st.CertVerdicts(a.ctx, records)
			if err != nil {
				return err
			}
			assetKinds, err := st.AssetKinds(a.ctx)
			if err != nil {
				return err
			}
			kinds := make(map[string]string, len(assetKinds))
			for addr, k := range assetKinds {
				kinds[findings.AddrText(addr)] = k
			}
			byList := func(der []byte) findings.ListRevocation {
				rv := lint.RevocationOf(der, p.CRLs)
				out := findings.ListRevocation{Status: rv.Status, Date: rv.Entry.Date, Reason: rv.Entry.Reason}
				if rv.CRL != nil {
					out.File, out.ThisUpdate = rv.CRL.File, rv.CRL.ThisUpdate
				}
				return out
			}
			inv := findings.NewCertInventory(records, verdicts, p.Anchors.Facts(), byList, kinds, now)
			inv.Certificates = slices.DeleteFunc(inv.Certificates, func(e findings.CertEntry) bool {
				return within >= 0 && (e.NotAfter.IsZero() || e.Days > within) ||
					issuer != "" && !strings.Contains(strings.ToLower(e.Issuer), strings.ToLower(issuer)) ||
					host != "" && !slices.ContainsFunc(e.Places, func(p findings.CertPlace) bool { return at.matches(p.Host, p.Port) }) ||
					role != "" && !hasRole(e, role)
			})
			if host != "" {
				inv.Endpoints = slices.DeleteFunc(inv.Endpoints, func(h findings.EndpointHistory) bool {
					eh, ep, _, _ := findings.ParseHolder(h.Endpoint)
					return !at.matches(eh, ep)
				})
				inv.WithoutIdentity = slices.DeleteFunc(inv.WithoutIdentity, func(d findings.DeviceIdentity) bool {
					return !at.matches(d.Host, 0)
				})
			}
			return write(&out, report.Certs, inv)
		},
	}
	fs := c.Flags()
	out.register(a, fs, report.Certs)
	db.register(fs)
	pol.register(fs)
	fs.Lookup("policy").Usage = "read the trust anchors and CRLs from this policy `FILE`: chains end at the anchors, revocation comes from the lists (and from OCSP responses servers stapled)"
	fs.StringVar(&expiring, "expiring", "", "only certificates expiring within `DAYS` (90d, 12w, 90), the expired included")
	fs.StringVar(&issuer, "issuer", "", "only certificates whose issuer contains `TEXT` (any case)")
	fs.StringVar(&host, "host", "", "only certificates seen at this `HOST` or HOST:PORT")
	fs.StringVar(&asOf, "as-of", "", "count days left, --expiring and the expiry calendar from this `DATE` (2027-01-31) rather than today")
	fs.StringVar(&role, "role", "", "only certificates of this `ROLE`: server, client, ca, code-signing, file, or a lint role (tls-server, device-identity, ...)")
	completeFlags(c, report.Certs)
	return c
}

// parseDays reads a duration in days: "90", "90d", "12w".
func parseDays(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "d"):
		s = strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "w"):
		s, mult = strings.TrimSuffix(s, "w"), 7
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100*365 {
		return 0, fmt.Errorf("want a number of days (90d) or weeks (12w)")
	}
	return n * mult, nil
}

// hostFilter is --host: an address, and a port when one was given (0: any).
type hostFilter struct {
	addr netip.Addr
	port int
}

// parseHostFilter reads an address ("10.20.0.20", "::1") or an address and port
// ("10.20.0.20:443", "[::1]:443"): the places a certificate was seen are addresses.
func parseHostFilter(s string) (hostFilter, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return hostFilter{addr: a.Unmap()}, nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return hostFilter{addr: ap.Addr().Unmap(), port: int(ap.Port())}, nil
	}
	return hostFilter{}, fmt.Errorf("want an IP address, or an address and port (10.20.0.20:443, [2001:db8::7]:443)")
}

// matches reports whether a place (its host, and its port: 0 for a client or a host as
// a whole) is the one asked for; a port asked for must be the place's own.
func (h hostFilter) matches(host string, port int) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap() == h.addr && (h.port == 0 || h.port == port)
}

// hasRole matches the role a certificate was seen in, or the role lint gave it.
func hasRole(e findings.CertEntry, role string) bool {
	switch role {
	case "ca":
		return e.IsCA
	case "code-signing":
		return e.Role == "code-signing" || slices.Contains(e.ExtKeyUsage, "code-signing") || slices.Contains(e.ExtKeyUsage, "codeSigning")
	case "file":
		return slices.ContainsFunc(e.Places, func(p findings.CertPlace) bool { return p.Role == "" })
	case "server", "client":
		return slices.ContainsFunc(e.Places, func(p findings.CertPlace) bool { return p.Role == role })
	}
	return e.Role == role
}
