package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/densescan"
)

// benchSites makes the benchmarks' scan about 10,000 findings on 2,760 hosts, the size
// of the lab capture issue 15 measured (docs/performance.md).
const benchSites = 230

// perFinding reports the benchmark's wall and CPU time per finding row: on a shared
// machine the CPU time is the steadier figure.
func perFinding(b *testing.B, cpu time.Duration, rows int) {
	n := float64(b.N * rows)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/n, "µs/finding")
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/n, "cpu-µs/finding")
}

// BenchmarkSave stores a dense scan into a fresh store and closes it, as "medscan scan"
// does once: the cost per finding row, with everything else the scan writes.
func BenchmarkSave(b *testing.B) {
	rep := densescan.Report(benchSites)
	ctx := context.Background()
	dir := b.TempDir()
	var cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		s, err := Open(filepath.Join(dir, fmt.Sprintf("medscan%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		c0 := densescan.CPUTime()
		b.StartTimer()
		if _, err := s.Save(ctx, rep); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += densescan.CPUTime() - c0
		b.StartTimer()
	}
	perFinding(b, cpu, len(rep.Findings))
}

// BenchmarkLoad reads the dense scan back whole, as "medscan report" does.
func BenchmarkLoad(b *testing.B) {
	rep := densescan.Report(benchSites)
	ctx := context.Background()
	s, err := Open(filepath.Join(b.TempDir(), "medscan.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	id, err := s.Save(ctx, rep)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := densescan.CPUTime()
	for range b.N {
		if _, err := s.Load(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	perFinding(b, densescan.CPUTime()-c0, len(rep.Findings))
}
