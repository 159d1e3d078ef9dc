package report

import (
	"fmt"
	"io"
	"path/filepath"
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

// scansTable renders the scan list, newest last, like the store's order.
func scansTable(w io.Writer, entries []findings.ScanEntry, total int) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "No scans.")
		return err
	}
	tb := &table{cols: []column{{header: "ID"}, {header: "KIND"}, {header: "STARTED"},
		{header: "LABEL", min: 5, flex: true, maxLines: 2}, {header: "DONE"}, {header: "CRIT"}, {header: "HIGH"},
		{header: "MED"}, {header: "LOW"}, {header: "INFO"}, {header: "SUPPR"},
		{header: "SOURCES", min: 12, flex: true, maxLines: 4}}}
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
		tb.rows = append(tb.rows, []string{strconv.FormatInt(e.ID, 10), term(e.Kind), e.Started.UTC().Format("2006-01-02T15:04Z"),
			term(e.Label), complete, strconv.Itoa(s.Critical), strconv.Itoa(s.High), strconv.Itoa(s.Medium),
			strconv.Itoa(s.Low), strconv.Itoa(s.Info), strconv.Itoa(s.Suppressed), term(strings.Join(names, ", "))})
	}
	return tb.render(w, total, false)
}
