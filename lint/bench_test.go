package lint

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/lint/linttest"
	"github.com/medscan/medscan/observe"
)

// fleetSize is the number of device certificates of the lint benchmarks: a hospital's
// device PKI of a few thousand devices, as issue 15 measured.
const fleetSize = 3000

// fleetSet reads the benchmark fleet's files into a fresh set, as medscan lint does (one
// sighting per file position; the CA repeated across files is one certificate).
func fleetSet(b *testing.B, files map[string][]byte) *observe.Set {
	set := observe.NewSet()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for name, data := range files {
		ders, err := ReadCerts(data)
		if err != nil {
			b.Fatal(err)
		}
		for i, der := range ders {
			set.AddCertificate(der, observe.CertSighting{Position: i, Time: at, Source: observe.SourceFile, File: name})
		}
	}
	return set
}

// BenchmarkExamineFleet is the lint core alone: facts, role and zlint for every distinct
// certificate of a private CA's device fleet (reading the files is left out). It reports
// certificates per second of wall time and per second of CPU time (the steadier figure on
// a shared machine); docs/performance.md records the figures.
func BenchmarkExamineFleet(b *testing.B) {
	dir := linttest.Fleet(b, fleetSize)
	files := map[string][]byte{}
	paths, err := filepath.Glob(filepath.Join(dir, "*.pem"))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files[filepath.Base(p)] = data
	}
	b.ResetTimer()
	certs := 0
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		set := fleetSet(b, files)
		certs += len(set.Certificates)
		c0, _ := linttest.CPUTime()
		b.StartTimer()
		Examine(set)
		b.StopTimer()
		c1, _ := linttest.CPUTime()
		cpu += c1 - c0
		b.StartTimer()
	}
	b.ReportMetric(float64(certs)/b.Elapsed().Seconds(), "certs/s")
	if cpu > 0 {
		b.ReportMetric(float64(certs)/cpu.Seconds(), "certs/cpu-s")
	}
}
