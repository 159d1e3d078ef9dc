//go:debug cryptocustomrand=1

package scan

import (
	"bytes"
	"compress/gzip"
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
		Pcaps:       []string{cut},
		SourceError: func(err error) { told = append(told, err.Error()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete {
		t.Error("scan with a truncated file is complete")
	}
	if len(told) != 1 || !strings.Contains(told[0], "cut.pcapng") || !strings.Contains(told[0], "truncated") {
		t.Errorf("source errors = %q", told)
	}
	if len(res.Findings) == 0 {
		t.Error("nothing kept from the first half of the capture")
	}
}

// TestRunRefusesWhatHoldsNoCapture checks that a scan of an input holding no capture at
// all (defect 9 of issue 12: an empty or text file became an incomplete "latest" scan)
// is an error naming the file and what it is, with nothing stored, even beside a good
// capture; and that standard input, peeked to tell, is then read whole.
func TestRunRefusesWhatHoldsNoCapture(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte("MSH|^~\\&|notes\n"))
	zw.Close()
	empty, text, gzText := write("empty.pcap", nil), write("notes.txt", []byte("hello\n")), write("notes.txt.gz", zipped.Bytes())
	const kinds = "not a capture file (pcap or pcapng, optionally gzip-compressed): "
	ward := wardFile(t)
	tests := []struct {
		name  string
		pcaps []string
		stdin string
		want  string
	}{
		{"empty", []string{empty}, "", "capture: " + empty + ": " + kinds + "the file is empty"},
		{"text", []string{text}, "", "capture: " + text + ": " + kinds + `starts with "hello\x0a"`},
		{"gzip of text", []string{gzText}, "", "capture: " + gzText + ": " + kinds + `the gzip stream starts with "MSH|^~\&|notes\x0a"`},
		{"missing", []string{filepath.Join(dir, "missing.pcap")}, "", filepath.Join(dir, "missing.pcap") + ": no such file or directory"},
		{"folder", []string{dir}, "", dir + ": is a directory; give the capture files in it"},
		{"good then bad", []string{ward, text}, "", "capture: " + text + ": " + kinds + `starts with "hello\x0a"`},
		{"stdin text", []string{ward, "-"}, "hello\n", "capture: -: " + kinds + `starts with "hello\x0a"`},
		{"stdin empty", []string{"-"}, "", "capture: -: " + kinds + "the file is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			_, err := Run(context.Background(), st, Options{Pcaps: tc.pcaps, Stdin: strings.NewReader(tc.stdin),
				SourceError: func(err error) { t.Errorf("told of a source error while scanning: %v", err) }})
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got %v\nwant %s", err, tc.want)
			}
			if scans, err := st.Scans(context.Background()); err != nil || len(scans) != 0 {
				t.Errorf("%d scans stored (%v), want none", len(scans), err)
			}
		})
	}
	// Standard input peeked is read whole: the same findings as the file.
	raw, err := os.ReadFile(ward)
	if err != nil {
		t.Fatal(err)
	}
	byFile, err := Run(context.Background(), openStore(t), Options{Pcaps: []string{ward}})
	if err != nil {
		t.Fatal(err)
	}
	byStdin, err := Run(context.Background(), openStore(t), Options{Pcaps: []string{"-"}, Stdin: bytes.NewReader(raw)})
	if err != nil || !byStdin.Complete || len(byStdin.Findings) != len(byFile.Findings) || len(byFile.Findings) == 0 {
		t.Errorf("stdin: complete %v, %d findings (%v); the file gave %d", byStdin.Complete, len(byStdin.Findings), err, len(byFile.Findings))
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
// least MEDSCAN_BENCH_MB megabytes (default 200), over MEDSCAN_BENCH_SITES hospitals
// (default 1; each site has its own hosts, certificates and devices, so findings and
// hosts grow with it as they do across a health system). MEDSCAN_BENCH_PCAP names a
// capture to scan instead (wardgen's, say), so that a CPU profile of the benchmark holds
// the scan alone, not the generator's key generation, and old and new code scan the
// same file.
func benchCapture(b *testing.B) string {
	if p := os.Getenv("MEDSCAN_BENCH_PCAP"); p != "" {
		return p
	}
	benchOnce.Do(func() {
		mb, sites := 200, 1
		for name, v := range map[string]*int{"MEDSCAN_BENCH_MB": &mb, "MEDSCAN_BENCH_SITES": &sites} {
			if s := os.Getenv(name); s != "" {
				if _, err := fmt.Sscan(s, v); err != nil {
					benchErr = fmt.Errorf("%s=%q: %w", name, s, err)
					return
				}
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
		if err := ward.Generate(f, ward.Options{MinBytes: int64(mb) << 20, Sites: sites}); err != nil {
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
