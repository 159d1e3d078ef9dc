package report

import (
	"io"
	"testing"

	"github.com/medscan/medscan/internal/densescan"
)

// BenchmarkRender renders a dense scan (about 10,000 findings on 2,760 hosts: the
// store's benchmarks' scan) in each format, as "medscan report" does after loading it;
// grouped is the table a terminal gets (grouped above the threshold), verbose every row.
func BenchmarkRender(b *testing.B) {
	rep := densescan.Report(230)
	rep.Normalize()
	for _, tc := range []struct {
		name, format string
		opts         Options
	}{
		{"table", "table", Options{}},
		{"table-verbose", "table", Options{Verbose: true}},
		{"json", "json", Options{}},
		{"csv", "csv", Options{}},
		{"html", "html", Options{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w, err := Scan.New(tc.format, tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			c0 := densescan.CPUTime()
			for range b.N {
				if err := w.Write(io.Discard, rep); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N * len(rep.Findings))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/n, "µs/finding")
			b.ReportMetric(float64((densescan.CPUTime()-c0).Nanoseconds())/1e3/n, "cpu-µs/finding")
		})
	}
}
