package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medscan/medscan/findings"
)

// A save that runs out of room (SQLITE_FULL, here from max_page_count, as from a full
// disk) fails its one transaction: no scan row, no finding, no certificate is left, and
// the store takes the next scan as if nothing had happened.
func TestSaveFullLeavesNothing(t *testing.T) {
	fileOnly(t) // reads or tampers with the SQLite file itself
	s, path := openTemp(t)
	ctx := context.Background()
	mustSave(t, s, testInfo(), fullSet(), testFindings())
	before := map[string]int{}
	tables := []string{"scans", "findings", "certificates", "assets"}
	for _, tb := range tables {
		before[tb] = count(t, s, "SELECT count(*) FROM "+tb)
	}
	// One connection, so that the pragma below holds for the save.
	s.db.SetMaxOpenConns(1)
	pages := count(t, s, "PRAGMA page_count")
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	fs := make([]findings.Finding, 2000)
	for i := range fs {
		fs[i] = findings.Finding{Rule: "tls-weak-cipher", Severity: findings.High,
			Host: fmt.Sprintf("10.1.%d.%d", i>>8&255, i&255), Port: 443, Message: "RC4 negotiated " + strings.Repeat("x", 200),
			Time: t0, Source: "passive"}
		fs[i].SetFingerprint()
	}
	_, err := save(ctx, s, testInfo(), fullSet(), fs)
	if err == nil || !strings.Contains(err.Error(), "full") || !strings.Contains(err.Error(), path) {
		t.Fatalf("save into a full store: err = %v, want database or disk is full, naming %s", err, path)
	}
	for _, tb := range tables {
		if n := count(t, s, "SELECT count(*) FROM "+tb); n != before[tb] {
			t.Errorf("%s: %d rows after the failed save, want %d", tb, n, before[tb])
		}
	}
	if _, err := os.Stat(path + "-journal"); err == nil {
		t.Errorf("%s-journal left behind", path)
	}
	if _, err := s.db.Exec("PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if id := mustSave(t, s, testInfo(), fullSet(), fs); id != 2 {
		t.Errorf("next scan id = %d, want 2: the failed save must not have taken one", id)
	}
}

// Open refuses, before SQLite creates anything, a store it could not save to.
func TestOpenNotWritable(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir", "medscan.db")
	_, err := Open(missing)
	if !errors.Is(err, ErrNotWritable) || !strings.Contains(err.Error(), missing) ||
		!strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("Open(%s) = %v, want ErrNotWritable naming the store and why", missing, err)
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: file modes do not stop root; the CLI tests check them as another user")
		return
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(ro, "medscan.db")); !errors.Is(err, ErrNotWritable) {
		t.Errorf("Open in a read-only directory = %v, want ErrNotWritable", err)
	}
	if ents, _ := os.ReadDir(ro); len(ents) != 0 {
		t.Errorf("Open in a read-only directory left %d file(s)", len(ents))
	}
}

// OpenReadOnly reads a store as immutable (creating no side file) exactly when a side
// file is missing and the reader is not the store's owner or cannot create it.
func TestReadImmutable(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sideFiles bool // -wal and -shm exist
		other     bool // the store belongs to another user
		want      bool
	}{
		{"owner, no side files", false, false, false},
		{"owner, side files", true, false, false},
		{"other user, no side files", false, true, true},
		{"other user, side files", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "medscan.db")
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if tc.sideFiles {
				for _, suf := range []string{"-wal", "-shm"} {
					if err := os.WriteFile(path+suf, nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if tc.other {
				if os.Geteuid() != 0 {
					t.Skip("giving the store to another user needs root")
				}
				if err := os.Chown(path, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			if got := readImmutable(path); got != tc.want {
				t.Errorf("readImmutable = %v, want %v", got, tc.want)
			}
			ro, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ro.LatestScanID(context.Background(), ""); err != nil && !errors.Is(err, ErrNoScan) {
				t.Errorf("reading: %v", err)
			}
			ro.Close()
			if tc.want {
				for _, suf := range []string{"-wal", "-shm"} {
					if _, err := os.Stat(path + suf); err == nil {
						t.Errorf("an immutable read created %s", suf)
					}
				}
			}
		})
	}
}
