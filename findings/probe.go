package findings

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/medscan/medscan/observe"
)

// ProbeEndpoint is what the active prober learned about one port, as a report shows it.
type ProbeEndpoint struct {
	Host        string           `json:"host"`
	Port        int              `json:"port"`
	Name        string           `json:"name"` // the host name the target was given as, sent as SNI
	Time        time.Time        `json:"time"`
	Outcome     string           `json:"outcome"` // tls, open, refused, timeout, reset, not-tls, handshake-failure, skipped
	Error       string           `json:"error"`
	Protocol    string           `json:"protocol"`
	Software    string           `json:"software"` // what the service announced it runs (DICOM implementation)
	Connections int              `json:"connections"`
	TLS         *ProbeTLSProfile `json:"tls,omitempty"`
}

// ProbeTLSProfile is every version and suite a TLS service accepted, by IANA name.
type ProbeTLSProfile struct {
	Versions       []string       `json:"versions"`
	Suites         []ProbeVersion `json:"suites"`
	Groups         []string       `json:"groups"`
	DHBits         int            `json:"dh_bits"`
	CertRequest    bool           `json:"cert_request"`
	CertRequestCAs []string       `json:"cert_request_cas"`
	CertRequired   bool           `json:"cert_required"`
	ServerCerts    []string       `json:"server_certs"` // SHA-256, leaf first
	Renegotiation  string         `json:"renegotiation,omitempty"`
	Compression    string         `json:"compression,omitempty"`
	TicketLifetime int64          `json:"ticket_lifetime,omitempty"`
	OCSPStapling   string         `json:"ocsp_stapling,omitempty"`
	FallbackSCSV   string         `json:"fallback_scsv,omitempty"`
}

// ProbeVersion is the suites one protocol version accepted.
type ProbeVersion struct {
	Version          string   `json:"version"`
	ServerPreference bool     `json:"server_preference"`
	Suites           []string `json:"suites"`
}

// ProbeHost is the prober's account of one host: what it cost the host, and why
// probing stopped or never started.
type ProbeHost struct {
	Host        string    `json:"host"`
	Name        string    `json:"name"`
	Connections int       `json:"connections"`
	Failures    int       `json:"failures"`
	Skipped     string    `json:"skipped"`
	BackedOff   bool      `json:"backed_off"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
}

// probeProfile renders a prober's TLS profile in report terms; it is stored so, because
// the store keeps it whole and a reader wants names.
func probeProfile(p *observe.TLSProfile) *ProbeTLSProfile {
	if p == nil {
		return nil
	}
	out := &ProbeTLSProfile{
		Versions: []string{}, Suites: []ProbeVersion{}, Groups: []string{}, DHBits: p.DHBits,
		CertRequest: p.CertRequest, CertRequestCAs: nonNil(slices.Clone(p.CertRequestCAs)), CertRequired: p.CertRequired,
		ServerCerts: refStrings(p.ServerChain), Renegotiation: p.Renegotiation, Compression: p.Compression,
		TicketLifetime: p.TicketLifetime, OCSPStapling: p.OCSPStapling, FallbackSCSV: p.FallbackSCSV,
	}
	out.ServerCerts = nonNil(out.ServerCerts)
	for _, v := range p.Versions {
		out.Versions = append(out.Versions, observe.VersionName(v))
	}
	for _, vs := range p.Suites {
		pv := ProbeVersion{Version: observe.VersionName(vs.Version), ServerPreference: vs.ServerPreference, Suites: []string{}}
		for _, s := range vs.Suites {
			if vs.Version == 0x0002 {
				pv.Suites = append(pv.Suites, observe.SSLv2CipherName(s))
			} else {
				pv.Suites = append(pv.Suites, observe.SuiteName(uint16(s)))
			}
		}
		out.Suites = append(out.Suites, pv)
	}
	for _, g := range p.Groups {
		out.Groups = append(out.Groups, observe.GroupName(g))
	}
	return out
}

func (w *scanWriter) saveProbes(set *observe.Set) error {
	if len(set.Probes) > 0 {
		st, err := w.prepare(`INSERT INTO probe_endpoints(scan_id, host, port, name, time, outcome, error, protocol,
			software, connections, tls) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(scan_id, host, port) DO UPDATE SET connections = probe_endpoints.connections + excluded.connections`)
		if err != nil {
			return err
		}
		for _, p := range set.Probes {
			var tls any // NULL when the port did not speak TLS
			if prof := probeProfile(p.TLS); prof != nil {
				if tls, err = w.jsonText(prof); err != nil {
					return err
				}
			}
			if _, err := st.ExecContext(w.ctx, w.scan, addrText(p.Server.Addr()), int(p.Server.Port()), p.Name, dbTime(p.Time),
				string(p.Outcome), p.Error, p.Protocol, p.Software, p.Connections, tls); err != nil {
				return fmt.Errorf("probe result %s: %w", p.Server, err)
			}
		}
	}
	if len(set.ProbeHosts) == 0 {
		return nil
	}
	st, err := w.prepare(`INSERT INTO probe_hosts(scan_id, host, name, connections, failures, skipped, backed_off, first, last)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	addrs := make([]netip.Addr, 0, len(set.ProbeHosts))
	for a := range set.ProbeHosts {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	for _, a := range addrs {
		h := set.ProbeHosts[a]
		if _, err := st.ExecContext(w.ctx, w.scan, addrText(a), h.Name, h.Connections, h.Failures, h.Skipped,
			boolInt(h.BackedOff), dbTime(h.First), dbTime(h.Last)); err != nil {
			return fmt.Errorf("probe host %s: %w", a, err)
		}
	}
	return nil
}

func (l *loader) probes(r *Report) error {
	err := l.each(`SELECT host, port, name, time, outcome, error, protocol, software, connections, tls FROM probe_endpoints
		WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			p   ProbeEndpoint
			t   sql.NullString
			tls sql.NullString
		)
		if err := rows.Scan(&p.Host, &p.Port, &p.Name, &t, &p.Outcome, &p.Error, &p.Protocol, &p.Software, &p.Connections, &tls); err != nil {
			return err
		}
		p.Time = l.t(t)
		if tls.Valid {
			p.TLS = new(ProbeTLSProfile)
			if err := json.Unmarshal([]byte(tls.String), p.TLS); err != nil {
				return fmt.Errorf("probe result %s:%d: bad TLS profile in store: %w", p.Host, p.Port, err)
			}
		}
		r.Probes = append(r.Probes, p)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.Probes, func(a, b ProbeEndpoint) int {
		return cmp.Or(CompareHosts(a.Host, b.Host), cmp.Compare(a.Port, b.Port))
	})
	err = l.each(`SELECT host, name, connections, failures, skipped, backed_off, first, last FROM probe_hosts
		WHERE scan_id = ?`, func(rows *sql.Rows) error {
		var (
			h           ProbeHost
			first, last sql.NullString
		)
		if err := rows.Scan(&h.Host, &h.Name, &h.Connections, &h.Failures, &h.Skipped, &h.BackedOff, &first, &last); err != nil {
			return err
		}
		h.First, h.Last = l.t(first), l.t(last)
		r.ProbeHosts = append(r.ProbeHosts, h)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(r.ProbeHosts, func(a, b ProbeHost) int { return CompareHosts(a.Host, b.Host) })
	return nil
}
