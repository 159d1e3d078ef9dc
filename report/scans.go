package report

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/medscan/medscan/findings"
)

// The scan list (medscan scans): every stored scan, oldest first, with its counts.
func init() {
	ScanList.register("table", func(o Options) Writer[*findings.ScanList] {
		return WriterFunc[*findings.ScanList](func(w io.Writer, l *findings.ScanList) error {
			return scansTable(w, l.Scans, o.width())
		})
	})
	// The JSON of a scan list is the list itself.
	ScanList.register("json", func(Options) Writer[*findings.ScanList] {
		return WriterFunc[*findings.ScanList](func(w io.Writer, l *findings.ScanList) error { return writeJSON(w, l.Scans) })
	})
}

// scansTable renders the scan list, newest last, like the store's order: a column per
// severity where the terminal has room for them, the counts in one column where not.
func scansTable(w io.Writer, entries []findings.ScanEntry, total int) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "No scans.")
		return err
	}
	wide := &table{cols: []column{{header: "ID"}, {header: "KIND"}, {header: "STARTED", min: 10, flex: true},
		{header: "LABEL", min: 5, flex: true, prose: true}, {header: "DONE"}, {header: "CRIT"}, {header: "HIGH"},
		{header: "MED"}, {header: "LOW"}, {header: "INFO"}, {header: "SUPPR"},
		{header: "SOURCES", min: 12, flex: true, prose: true}}}
	narrow := &table{cols: []column{{header: "ID"}, {header: "KIND"}, {header: "STARTED", min: 10, flex: true},
		{header: "LABEL", min: 5, flex: true, prose: true}, {header: "DONE"},
		{header: "FINDINGS", min: 12, flex: true, prose: true}, {header: "SOURCES", min: 12, flex: true, prose: true}}}
	// A SITE column when some scan has a site: a store that sensors of several sites
	// write (or that sync fills) says whose each scan is; a one-site store looks as it did.
	sites := slices.ContainsFunc(entries, func(e findings.ScanEntry) bool { return e.Site != "" })
	if sites {
		site := column{header: "SITE", min: 4, flex: true, prose: true}
		wide.cols = slices.Insert(wide.cols, 2, site)
		narrow.cols = slices.Insert(narrow.cols, 2, site)
	}
	for _, e := range entries {
		names := make([]string, len(e.Sources))
		for i, s := range e.Sources {
			names[i] = filepath.Base(s)
		}
		complete := "yes"
		if !e.Complete {
			complete = "NO"
		}
		s := e.Summary
		id, started := strconv.FormatInt(e.ID, 10), e.Started.UTC().Format("2006-01-02 15:04Z")
		label, sources := term(e.Label), term(strings.Join(names, ", "))
		wide.rows = append(wide.rows, []string{id, term(e.Kind), started, label, complete, strconv.Itoa(s.Critical),
			strconv.Itoa(s.High), strconv.Itoa(s.Medium), strconv.Itoa(s.Low), strconv.Itoa(s.Info),
			strconv.Itoa(s.Suppressed), sources})
		narrow.rows = append(narrow.rows, []string{id, term(e.Kind), started, label, complete, countsText(s), sources})
		if sites {
			at := term(e.Site)
			wide.rows[len(wide.rows)-1] = slices.Insert(wide.rows[len(wide.rows)-1], 2, at)
			narrow.rows[len(narrow.rows)-1] = slices.Insert(narrow.rows[len(narrow.rows)-1], 2, at)
		}
	}
	return layout(total, wide, narrow).render(w, total, false)
}
