package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func testRun(i int) Run {
	return Run{At: time.Date(2026, 12, 7, 3, 0, i, 0, time.UTC), User: "nurse-it", Host: "sensor-a",
		Command: []string{"medscan", "scan", "--pcap", fmt.Sprintf("ward-%d.pcapng", i)}, Version: "v1.2.3",
		Policy: strings.Repeat("ab", 32), ScanID: int64(i)}
}

// TestAuditChain records runs, reads them back whole, and checks that each kind of
// tampering is named: an edited field, an edited hash, a deleted record in the middle,
// a deleted newest record against a head kept elsewhere.
func TestAuditChain(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		tamper string // SQL run on the store after five records
		head   func(heads []string) string
		want   string // in a problem; "" for intact
	}{
		{name: "intact", want: ""},
		{name: "intact with its head", head: func(h []string) string { return h[4] }, want: ""},
		{name: "intact with an older head", head: func(h []string) string { return h[2] }, want: ""},
		{name: "edited user", tamper: "UPDATE audit_runs SET os_user = 'someone' WHERE seq = 3", want: "record 3: its content does not match"},
		{name: "edited command", tamper: `UPDATE audit_runs SET command = '["medscan","lint"]' WHERE seq = 2`, want: "record 2: its content does not match"},
		{name: "broken command", tamper: `UPDATE audit_runs SET command = 'rm -rf' WHERE seq = 2`, want: "record 2: its command is not a list"},
		{name: "rewritten hash", tamper: "UPDATE audit_runs SET hash = '" + strings.Repeat("0", 64) + "' WHERE seq = 3",
			want: "record 4: does not follow record 3"},
		{name: "deleted middle", tamper: "DELETE FROM audit_runs WHERE seq = 3", want: "records 3 to 3 are missing"},
		{name: "deleted newest", tamper: "DELETE FROM audit_runs WHERE seq = 5", head: func(h []string) string { return h[4] },
			want: "is not on the chain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTemp(t)
			var heads []string
			for i := 1; i <= 5; i++ {
				rec, err := s.RecordRun(ctx, testRun(i))
				if err != nil {
					t.Fatal(err)
				}
				if rec.Seq != int64(i) || len(rec.Hash) != 64 {
					t.Fatalf("record %d: %+v", i, rec)
				}
				heads = append(heads, rec.Hash)
			}
			if c.tamper != "" {
				if _, err := s.db.Exec(c.tamper); err != nil {
					t.Fatal(err)
				}
			}
			head := ""
			if c.head != nil {
				head = c.head(heads)
			}
			trail, err := s.AuditTrail(ctx, head)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(trail.Check.Problems, "\n")
			if c.want == "" {
				if !trail.Check.Intact || got != "" || trail.Check.Records != 5 || trail.Check.Head != heads[4] {
					t.Fatalf("intact chain judged %+v", trail.Check)
				}
				if r := trail.Records[1]; r.User != "nurse-it" || r.Command[3] != "ward-2.pcapng" || r.ScanID != 2 ||
					!r.At.Equal(testRun(2).At) || r.PrevHash != heads[0] {
					t.Fatalf("record 2 read back as %+v", r)
				}
				return
			}
			if trail.Check.Intact || !strings.Contains(got, c.want) {
				t.Fatalf("problems %q, want one with %q", got, c.want)
			}
		})
	}
}

// TestAuditConcurrentWriters appends from several connections at once: every run is
// recorded once, in one unbroken chain.
func TestAuditConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	_, path := openTemp(t)
	const writers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(path)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := range each {
				if _, err := s.RecordRun(ctx, testRun(w*each+i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	trail, err := s.AuditTrail(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !trail.Check.Intact || trail.Check.Records != writers*each {
		t.Fatalf("after %d concurrent runs: %+v", writers*each, trail.Check)
	}
	seen := map[int64]bool{}
	for _, r := range trail.Records {
		if seen[r.ScanID] {
			t.Fatalf("run of scan %d recorded twice", r.ScanID)
		}
		seen[r.ScanID] = true
	}
}
