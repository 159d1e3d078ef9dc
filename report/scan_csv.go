package report

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/findings"
)

// A spreadsheet user wants the findings and the inventory as two tables, and a Writer
// writes one stream, so they are two formats: "csv" is one row per finding, and
// "csv-assets" one row per address and service it offered. Each file has a header row,
// is RFC 4180 with LF line ends, and is UTF-8 without a byte-order mark.
func init() {
	Scan.register("csv", func(Options) Writer[*findings.Report] {
		return WriterFunc[*findings.Report](func(w io.Writer, r *findings.Report) error {
			if r == nil {
				return fmt.Errorf("report: csv: no document")
			}
			if r.Stream != nil {
				return writeFindingsCSV(w, r.Stream.All)
			}
			return writeCSV(w, findingRows(r))
		})
	})
	Scan.register("csv-assets", func(Options) Writer[*findings.Report] {
		return csvWriter(func(r *findings.Report) [][]string { return assetRows(r.Assets, r.QuietHosts, r.Services) })
	})
}

// csvWriter writes one table of a document as CSV; table returns it header first.
func csvWriter[D any](table func(D) [][]string) Writer[D] {
	return WriterFunc[D](func(w io.Writer, doc D) error {
		if any(doc) == nil || reflect.ValueOf(doc).IsNil() {
			return fmt.Errorf("report: csv: no document")
		}
		return writeCSV(w, table(doc))
	})
}

// writeCSV writes rows, every cell cleaned and defused against formula injection
// (csvCell).
func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i := range row {
			row[i] = csvCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("report: csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return nil
}

// findingRows is one row per finding, in the Report's order; file (where a finding
// about a file is, "certs/chain.pem#2") came last, after the columns of earlier
// releases, so that a sheet reading columns by position still reads them.
func findingRows(r *findings.Report) [][]string {
	rows := [][]string{findingHeader()}
	for _, f := range r.Findings {
		rows = append(rows, findingRow(f))
	}
	return rows
}

func findingHeader() []string {
	return []string{"severity", "rule", "host", "port", "subject", "message", "first_seen", "last_seen",
		"fingerprint", "source", "remediation", "file"}
}

func findingRow(f findings.Finding) []string {
	return []string{f.Severity.String(), f.Rule, f.Host, csvPort(f.Port), f.Subject, f.Message,
		csvTime(f.FirstSeen), csvTime(f.LastSeen), f.Fingerprint, f.Source, f.Remediation, f.File}
}

// writeFindingsCSV is writeCSV of findingRows for findings read as they are written
// (findings.FindingStream): each row written and dropped, the first error ending it.
func writeFindingsCSV(w io.Writer, fs iter.Seq2[findings.Finding, error]) error {
	cw := csv.NewWriter(w)
	write := func(row []string) error {
		for i := range row {
			row[i] = csvCell(row[i])
		}
		return cw.Write(row)
	}
	if err := write(findingHeader()); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	for f, err := range fs {
		if err == nil {
			err = write(findingRow(f))
		}
		if err != nil {
			return fmt.Errorf("report: csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return nil
}

// quietKind is the kind column of a quiet host's row (findings.QuietHost), which has no
// kind of its own.
const quietKind = "quiet"

// assetRows is the inventory: one row per service an address offered, with the
// address's own columns (and, last, its inventory entry: vendor, names, kind, roles,
// maker, model, reasons) repeated, so that filtering a spreadsheet by IP shows all of a
// host; an address with no service has one row with the service columns empty, and a
// service whose address is not among the assets (seen only by an active probe) has the
// asset columns empty but its ip. A quiet host has a row of its own, of kind "quiet",
// with what it sent as its reason. Rows are in address order, then port.
func assetRows(assets []findings.Asset, quiet []findings.QuietHost, services []findings.Service) [][]string {
	rows := [][]string{{"ip", "mac", "macs", "first_seen", "last_seen", "port", "transport", "protocol",
		"tls_version", "cipher", "service_source", "service_first_seen", "service_last_seen",
		"vendor", "names", "kind", "roles", "manufacturer", "model", "reasons"}}
	byHost := map[string][]findings.Service{}
	for _, s := range services {
		byHost[s.Host] = append(byHost[s.Host], s)
	}
	type entry struct {
		ip    string
		asset *findings.Asset
		quiet *findings.QuietHost
	}
	var hosts []entry
	seen := map[string]bool{}
	for i := range assets {
		a := &assets[i]
		if ip := a.IP(); !seen[ip] {
			seen[ip] = true
			hosts = append(hosts, entry{ip: ip, asset: a})
		}
	}
	for i := range quiet {
		q := &quiet[i]
		if ip := q.IP(); !seen[ip] {
			seen[ip] = true
			hosts = append(hosts, entry{ip: ip, quiet: q})
		}
	}
	for h := range byHost {
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, entry{ip: h})
		}
	}
	slices.SortFunc(hosts, func(a, b entry) int { return findings.CompareHosts(a.ip, b.ip) })
	for _, h := range hosts {
		asset := []string{h.ip, "", "", "", ""}
		inv := make([]string, 7)
		if a := h.asset; a != nil {
			asset = []string{a.IP(), a.MAC, strings.Join(a.MACs, " "), csvTime(a.FirstSeen), csvTime(a.LastSeen)}
			inv = csvInventory(*a)
		} else if q := h.quiet; q != nil {
			mac := ""
			if len(q.MACs) > 0 {
				mac = q.MACs[0]
			}
			asset = []string{q.IP(), mac, strings.Join(q.MACs, " "), csvTime(q.FirstSeen), csvTime(q.LastSeen)}
			inv[2] = quietKind
			inv[6] = fmt.Sprintf("a quiet host: sent %d packets, %d bytes; seen doing nothing else", q.Packets, q.Bytes)
		}
		svcs := slices.Clone(byHost[h.ip])
		slices.SortStableFunc(svcs, func(a, b findings.Service) int {
			return cmp.Or(cmp.Compare(a.Port, b.Port), cmp.Compare(a.Transport, b.Transport))
		})
		if len(svcs) == 0 {
			row := append(asset, make([]string, 8)...)
			rows = append(rows, append(row, inv...))
			continue
		}
		for _, s := range svcs {
			row := slices.Clone(asset)
			row = append(row, csvPort(s.Port), s.Transport, s.Protocol, s.TLSVersion, s.Cipher, string(s.Source),
				csvTime(s.FirstSeen), csvTime(s.LastSeen))
			rows = append(rows, append(row, inv...))
		}
	}
	return rows
}

// csvPort is a port, or empty for 0 (a finding about a host or a file).
func csvPort(p int) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(p)
}

// csvTime is an RFC 3339 UTC time to the second, which spreadsheets parse, or empty
// when unknown.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
