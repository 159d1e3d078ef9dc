//go:debug cryptocustomrand=1

package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/ward"
	"github.com/medscan/medscan/store"
)

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "m.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func wardFile(tb testing.TB) string {
	tb.Helper()
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "fixtures", "ward.pcapng")
}

func TestRunWard(t *testing.T) {
	st := openStore(t)
	fixed := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	res, err := Run(context.Background(), st, Options{Pcaps: []string{wardFile(t)}, Label: "4-west",
		Clock: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.ScanID != 1 || len(res.Findings) == 0 {
		t.Fatalf("complete=%v id=%d findings=%d", res.Complete, res.ScanID, len(res.Findings))
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scan.Label != "4-west" || rep.Scan.Policy != "default" || !rep.Scan.Started.Equal(fixed) {
		t.Errorf("scan meta = %+v", rep.Scan)
	}
	if len(rep.Findings) != len(res.Findings) {
		t.Errorf("stored %d findings, evaluated %d", len(rep.Findings), len(res.Findings))
	}
	for _, c := range rep.Certificates {
		if c.KeyType == "" || c.SHA256 == "" {
			t.Errorf("certificate without facts: %+v", c)
		}
	}
}

func TestRunKeepsWhatWasReadBeforeABadSource(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	raw, err := os.ReadFile(wardFile(t))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcapng")
	os.WriteFile(cut, raw[:len(raw)/2], 0o644)
	var told []string
	res, err := Run(context.Background(), st, Options{
		Pcaps:       []string{cut, filepath.Join(dir, "missing.pcap")},
		SourceError: func(err error) { told = append(told, err.Error()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Error("scan with a truncated and a missing file is complete")
	}
	if len(told) != 2 || !strings.Contains(told[0], "cut.pcapng") || !strings.Contains(told[1], "missing.pcap") {
		t.Errorf("source errors = %q", told)
	}
	if len(res.Findings) == 0 {
		t.Error("nothing kept from the first half of the capture")
	}
}

func TestRunInterruptedStoresWhatItHas(t *testing.T) {
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, st, Options{Pcaps: []string{wardFile(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Error("an interrupted scan is complete")
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scan.Problems) == 0 || !strings.Contains(rep.Scan.Problems[0].Message, "interrupted") {
		t.Errorf("problems = %+v", rep.Scan.Problems)
	}
}

var (
	benchOnce sync.Once
	benchPath string
	benchErr  error
)

// benchCapture generates, once per process, a capture with the ward's protocol mix of at
// least MEDSCAN_BENCH_MB megabytes (default 200).
func benchCapture(b *testing.B) string {
	benchOnce.Do(func() {
		mb := 200
		if v := os.Getenv("MEDSCAN_BENCH_MB"); v != "" {
			if _, err := fmt.Sscan(v, &mb); err != nil {
				benchErr = err
				return
			}
		}
		dir, err := os.MkdirTemp("", "medscan-bench")
		if err != nil {
			benchErr = err
			return
		}
		benchPath = filepath.Join(dir, "ward-big.pcapng")
		f, err := os.Create(benchPath)
		if err != nil {
			benchErr = err
			return
		}
		if err := ward.Generate(f, ward.Options{MinBytes: int64(mb) << 20}); err != nil {
			benchErr = err
		}
		if err := f.Close(); err != nil && benchErr == nil {
			benchErr = err
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPath
}

// BenchmarkScan measures a whole scan (read, reassemble, dissect, lint, judge, store) of a
// generated capture with the ward's protocol mix. scripts/bench.sh runs the binary on the
// same kind of capture beside tshark and records peak memory.
func BenchmarkScan(b *testing.B) {
	path := benchCapture(b)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	var packets uint64
	for b.Loop() {
		st, err := store.Open(filepath.Join(b.TempDir(), "m.db"))
		if err != nil {
			b.Fatal(err)
		}
		res, err := Run(context.Background(), st, Options{Pcaps: []string{path}})
		if err != nil || !res.Complete {
			b.Fatalf("complete=%v err=%v", res.Complete, err)
		}
		for _, c := range res.Set.Counters {
			if c.Name == "packets" {
				packets = c.Value
			}
		}
		st.Close()
	}
	b.ReportMetric(float64(packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(fi.Size())*8*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gbit/s")
}
