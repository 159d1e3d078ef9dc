package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// writerEnv, set in a child run of this test binary, makes TestConcurrentWriterProcess
// one of the writer processes of TestConcurrentWriters: "store|index".
const writerEnv = "MEDSCAN_STORE_TEST_WRITER"

// writerSet is writer i's scan: the shared observations of fullSet (the same
// certificates, assets and findings for every writer) and a host of its own, so that
// both the shared rows' upserts and each writer's own rows are checked.
func writerSet(i int) (*observe.Set, []findings.Finding) {
	set := fullSet()
	own := observe.Flow{Client: ap(fmt.Sprintf("10.9.%d.1:40000", i)), Server: ap(fmt.Sprintf("10.9.%d.2:2575", i))}
	set.AddHL7(observe.HL7Message{Flow: own, FirstSeen: t0.Add(time.Duration(i) * time.Minute), SendingApp: "LAB",
		MessageType: "ORU", TriggerEvent: "R01", Version: "2.5"})
	fs := append(testFindings(), findings.Finding{Rule: "cleartext-hl7", Severity: findings.Critical,
		Host: own.Server.Addr().String(), Port: 2575, Message: "HL7 in clear", Time: t0.Add(time.Duration(i) * time.Minute),
		Source: "passive"})
	fs[len(fs)-1].SetFingerprint()
	return set, fs
}

// writeAs is one writer: a Save, then a live scan of two checkpoints, through a Store
// of its own (a process of its own in the cross-process half).
func writeAs(ctx context.Context, path string, i int, retries *atomic.Int64) error {
	s, err := Open(path)
	if err != nil {
		return err
	}
	defer func() { retries.Add(s.Retries()); s.Close() }()
	set, fs := writerSet(i)
	info := testInfo()
	info.Label = fmt.Sprintf("writer-%d", i)
	if _, err := save(ctx, s, info, set, fs); err != nil {
		return fmt.Errorf("writer %d: %w", i, err)
	}
	info.Label = fmt.Sprintf("live-%d", i)
	id, err := s.BeginScan(ctx, info)
	if err != nil {
		return fmt.Errorf("writer %d: %w", i, err)
	}
	for _, n := range []int{2, len(fs)} {
		if err := checkpoint(ctx, s, id, info, set, fs[:n]); err != nil {
			return fmt.Errorf("writer %d: checkpoint: %w", i, err)
		}
	}
	return nil
}

// TestConcurrentWriters: several writers at once, goroutines with a Store each and
// separate processes, into one store (on PostgreSQL, one database): every scan is kept,
// each shared finding, certificate and asset once, each scan linked to all of its own.
func TestConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short")
	}
	s, path := openTemp(t)
	ctx := context.Background()
	const goroutines, procs = 4, 2
	var wg sync.WaitGroup
	var retries atomic.Int64
	errs := make(chan error, goroutines+procs)
	for i := range goroutines {
		wg.Go(func() { errs <- writeAs(ctx, path, i, &retries) })
	}
	for p := range procs {
		i := goroutines + p
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(cctx, os.Args[0], "-test.run=^TestConcurrentWriterProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), writerEnv+"="+path+"|"+strconv.Itoa(i))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("writer process %d: %v: %s", i, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	const n = goroutines + procs
	shared := len(testFindings())
	for q, want := range map[string]int{
		"SELECT count(*) FROM scans":                                                  2 * n,
		"SELECT count(*) FROM scans WHERE complete = 0":                               2 * n, // testInfo is incomplete
		"SELECT count(*) FROM findings":                                               shared + n,
		"SELECT count(*) FROM scan_findings":                                          2 * n * (shared + 1),
		"SELECT count(DISTINCT fingerprint) FROM scan_findings":                       shared + n,
		"SELECT count(*) FROM certificates":                                           len(fullSet().Certificates),
		"SELECT count(*) FROM observations WHERE kind = 'hl7'":                        2 * n * 2,
		"SELECT count(*) FROM (SELECT ip FROM assets GROUP BY ip) AS d":               count(t, s, "SELECT count(*) FROM assets"),
		"SELECT count(*) FROM (SELECT sha256 FROM certificates GROUP BY sha256) AS d": len(fullSet().Certificates),
	} {
		if got := count(t, s, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	// Every writer's scans read back whole, with its own finding.
	for id := int64(1); id <= int64(count(t, s, "SELECT max(id) FROM scans")); id++ {
		if count(t, s, "SELECT count(*) FROM scans WHERE id = ?", id) == 0 {
			continue // a PostgreSQL identity skips the numbers of transactions run again
		}
		if r := mustLoad(t, s, id); len(r.Findings) != shared+1 {
			t.Errorf("scan %d (%s) holds %d findings, want %d", id, r.Scan.Label, len(r.Findings), shared+1)
		}
	}
	t.Logf("write transactions run again after a collision: %d (in this process's writers)", retries.Load())
}

// TestConcurrentWriterProcess is a writer process of TestConcurrentWriters (run only
// as its child).
func TestConcurrentWriterProcess(t *testing.T) {
	arg := os.Getenv(writerEnv)
	if arg == "" {
		t.Skip("a child of TestConcurrentWriters")
	}
	path, idx, _ := cutLast(arg, "|")
	i, err := strconv.Atoi(idx)
	if err != nil {
		t.Fatal(err)
	}
	var retries atomic.Int64
	if err := writeAs(context.Background(), path, i, &retries); err != nil {
		t.Fatal(err)
	}
}

func cutLast(s, sep string) (before, after string, ok bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}
