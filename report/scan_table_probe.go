package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
)

// probes lists what the active prober found on each port: the outcome, every protocol
// version accepted with its count of suites, whether a client certificate is demanded,
// and what the probing cost each host. Hosts left alone are named with the reason, so
// a reader never takes an unprobed pump for a clean one. Scans that probed nothing show
// no section at all.
func (t tableWriter) probes(b *bytes.Buffer, r *findings.Report, total int) error {
	if len(r.Probes) == 0 && len(r.ProbeHosts) == 0 {
		return nil
	}
	conns := 0
	for _, h := range r.ProbeHosts {
		conns += h.Connections
	}
	b.WriteByte('\n')
	fmt.Fprintf(b, "Probed (%d ports on %d hosts, %d connections)\n", len(r.Probes), len(r.ProbeHosts), conns)
	if len(r.Probes) > 0 {
		tb := &table{cols: []column{
			{header: "TARGET", min: 15, flex: true},
			{header: "RESULT", min: 10, flex: true, prose: true},
			{header: "ACCEPTED", min: 20, flex: true, prose: true},
			{header: "CLIENT CERT", min: 8, flex: true},
			{header: "CONNS"},
		}}
		for _, p := range r.Probes {
			tb.rows = append(tb.rows, []string{probeTarget(p), probeResult(p), probeAccepted(p.TLS), probeClientCert(p.TLS),
				strconv.Itoa(p.Connections)})
		}
		if err := tb.render(b, total, false); err != nil {
			return err
		}
	}
	for _, h := range r.ProbeHosts {
		switch {
		case h.Skipped != "":
			writeWrapped(b, total, fmt.Sprintf("Not probed: %s: %s", term(h.Addr.String()), term(h.Skipped)))
		case h.BackedOff:
			writeWrapped(b, total, fmt.Sprintf("Backed off: %s after %d connections, %d failed", term(h.Addr.String()),
				h.Connections, h.Failures))
		}
	}
	return nil
}

func probeTarget(p findings.ProbeEndpoint) string {
	s := target(p.Host, p.Port)
	if p.Name != "" {
		s = term(p.Name) + " " + s
	}
	return s
}

func probeResult(p findings.ProbeEndpoint) string {
	s := term(string(p.Outcome))
	if p.Protocol != "" && p.Protocol != string(p.Outcome) {
		s += " (" + term(p.Protocol) + ")"
	}
	if p.Software != "" {
		s += ", " + term(p.Software)
	}
	if p.Error != "" && p.TLS == nil {
		s += ": " + term(p.Error)
	}
	if p.TLS != nil {
		// The first handshake asked for a staple: a server that sent none leaves its
		// clients to fetch revocation themselves, which devices rarely do.
		switch p.TLS.OCSPStapling {
		case "yes":
			s += ", OCSP stapled"
		case "no":
			s += ", no OCSP staple"
		}
	}
	return s
}

// probeAccepted condenses a TLS profile to one line per version, the suite count and
// whether the server imposes its own order; the JSON report holds every suite by name.
func probeAccepted(p *findings.ProbeTLSProfile) string {
	if p == nil || len(p.Suites) == 0 {
		if p != nil && len(p.Versions) > 0 {
			return term(strings.Join(p.Versions, ", "))
		}
		return "-"
	}
	var lines []string
	for _, v := range p.Suites {
		l := fmt.Sprintf("%s: %d suites", term(v.Version), len(v.Suites))
		if len(v.Suites) == 1 {
			l = fmt.Sprintf("%s: %s", term(v.Version), term(v.Suites[0]))
		} else if v.ServerPreference {
			l += ", server order"
		}
		lines = append(lines, l)
	}
	if p.DHBits > 0 {
		lines = append(lines, fmt.Sprintf("DH %d bits", p.DHBits))
	}
	return strings.Join(lines, "\n")
}

func probeClientCert(p *findings.ProbeTLSProfile) string {
	switch {
	case p == nil:
		return "-"
	case p.CertRequired:
		return "required"
	case p.CertRequest:
		return "requested"
	}
	return "not asked"
}

// probeRow is one probed port in the HTML report, every accepted suite by name.
type probeRow struct {
	Target, Result, ClientCert string
	Versions                   []probeVersionRow
	Connections                int
}

type probeVersionRow struct {
	Version     string
	ServerOrder bool
	Suites      []string
}

// htmlProbes renders the prober's results and names the hosts it left alone or left
// early, with why.
func htmlProbes(r *findings.Report) (rows []probeRow, notProbed []string) {
	for _, p := range r.Probes {
		row := probeRow{Target: probeTarget(p), Result: probeResult(p), ClientCert: probeClientCert(p.TLS), Connections: p.Connections}
		if p.TLS != nil {
			for _, v := range p.TLS.Suites {
				vr := probeVersionRow{Version: term(v.Version), ServerOrder: v.ServerPreference}
				for _, s := range v.Suites {
					vr.Suites = append(vr.Suites, term(s))
				}
				row.Versions = append(row.Versions, vr)
			}
		}
		rows = append(rows, row)
	}
	for _, h := range r.ProbeHosts {
		switch {
		case h.Skipped != "":
			notProbed = append(notProbed, fmt.Sprintf("%s: not probed: %s", term(h.Addr.String()), term(h.Skipped)))
		case h.BackedOff:
			notProbed = append(notProbed, fmt.Sprintf("%s: left after %d connections, %d failed", term(h.Addr.String()), h.Connections, h.Failures))
		}
	}
	return rows, notProbed
}
