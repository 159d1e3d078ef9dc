package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/medscan/medscan/lint/linttest"
)

// BenchmarkLintFleet is `medscan lint DIR -f json -o /dev/null` in process, end to end
// (reading the files, facts, zlint, key checks, batch GCD, rules, the store, the JSON
// report), on a private CA's fleet of 3,000 device certificates (3,001 with the CA),
// each iteration into a new store. It reports certificates per second of wall
// and of CPU time;
// docs/performance.md records the figures.
func BenchmarkLintFleet(b *testing.B) {
	dir := linttest.Fleet(b, 3000)
	tmp := b.TempDir()
	b.Setenv("MEDSCAN_DB", "")
	b.ResetTimer()
	c0, _ := linttest.CPUTime()
	for i := range b.N {
		db := filepath.Join(tmp, fmt.Sprintf("bench-%d.db", i))
		args := []string{"lint", dir, "-f", "json", "-o", "/dev/null", "-q", "--db", db}
		if code := run(context.Background(), args, nil, io.Discard, io.Discard); code != exitOK && code != exitFindings {
			b.Fatalf("medscan lint exited %d", code)
		}
	}
	c1, _ := linttest.CPUTime()
	b.ReportMetric(float64(3001*b.N)/b.Elapsed().Seconds(), "certs/s")
	if cpu := c1 - c0; cpu > 0 {
		b.ReportMetric(float64(3001*b.N)/cpu.Seconds(), "certs/cpu-s")
	}
}
