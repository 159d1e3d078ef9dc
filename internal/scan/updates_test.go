package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/capture/updatekeep"
)

// TestRunKeepsAndExaminesUpdates scans the ward capture, whose FTP and TFTP transfers
// carry firmware images, with images kept: both are examined (unsigned: nothing signs
// them), saved when asked, counted, and the temporary folder is gone afterwards. Without
// a size, nothing is kept or examined.
func TestRunKeepsAndExaminesUpdates(t *testing.T) {
	tmp, save := t.TempDir(), filepath.Join(t.TempDir(), "fw")
	res, err := Run(context.Background(), openStore(t), Options{Pcaps: []string{wardFile(t)},
		Updates: Updates{MaxSize: updatekeep.DefaultMaxImage, SaveDir: save, TempDir: tmp}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Set.Updates) != 2 {
		t.Fatalf("updates %+v", res.Set.Updates)
	}
	for _, u := range res.Set.Updates {
		if u.Verdict != "unsigned" || len(u.Clients) == 0 || u.SHA256 == "" || u.Origin == "" {
			t.Errorf("update %+v", u)
		}
	}
	rules := map[string]int{}
	for _, f := range res.Findings {
		rules[f.Rule]++
	}
	if rules["update-unsigned"] != 2 {
		t.Errorf("update-unsigned findings: %d, want 2", rules["update-unsigned"])
	}
	var saved int
	filepath.WalkDir(save, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			saved++
		}
		return err
	})
	if saved != 2 {
		t.Errorf("--save-updates wrote %d files, want 2", saved)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the kept bytes were not deleted: %v", left)
	}
	kept := false
	for _, c := range res.Report.Scan.Counters {
		kept = kept || c.Name == updatekeep.CountKept && c.Value == 2
	}
	if !kept {
		t.Errorf("counters %+v", res.Report.Scan.Counters)
	}

	res, err = Run(context.Background(), openStore(t), Options{Pcaps: []string{wardFile(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Set.Updates) != 0 {
		t.Errorf("examined %d images without --max-update-size", len(res.Set.Updates))
	}
}

// TestRunLiveExaminesUpdates checks that a live capture keeps the images its workers see
// and examines them at its end, as a scan of the same capture as a file does.
func TestRunLiveExaminesUpdates(t *testing.T) {
	frames, link := readFrames(t, wardFile(t))
	tmp := t.TempDir()
	res, err := RunLive(context.Background(), openStore(t), LiveOptions{
		Ifaces: []string{"eth0"}, Packets: uint64(len(frames)), Workers: 2, lossless: true,
		openSource: fakeOpener(map[string]*fakeSource{"eth0": {frames: frames, link: link}}),
		Updates:    Updates{MaxSize: updatekeep.DefaultMaxImage, TempDir: tmp}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Set.Updates) != 2 {
		t.Fatalf("updates %+v", res.Set.Updates)
	}
	n := 0
	for _, f := range res.Findings {
		if f.Rule == "update-unsigned" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("update-unsigned findings: %d, want 2", n)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the kept bytes were not deleted: %v", left)
	}
}

// TestRunLiveExaminesUpdatesAtCheckpoints: a live capture that goes on after its update
// images were fetched reports them at its next checkpoint, not only when it ends: the
// scan stored while the capture still runs holds the images and their update-unsigned
// findings. The run is stopped by the test once a checkpoint shows them, and by its
// Duration otherwise (the images would then be examined only at the end: a failure).
func TestRunLiveExaminesUpdatesAtCheckpoints(t *testing.T) {
	frames, link := readFrames(t, wardFile(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openStore(t)
	var seen []string // what each checkpoint's stored scan held
	found := false
	_, err := RunLive(ctx, st, LiveOptions{
		Ifaces: []string{"eth0"}, Workers: 2, CommitInterval: 20 * time.Millisecond, Duration: 20 * time.Second, lossless: true,
		openSource: fakeOpener(map[string]*fakeSource{"eth0": {frames: frames, link: link}}),
		Updates:    Updates{MaxSize: updatekeep.DefaultMaxImage, TempDir: t.TempDir()},
		Progress: func(s LiveStats) {
			if s.Checkpoints == 0 || found {
				return
			}
			rep, err := st.Load(ctx, 1)
			if err != nil {
				t.Error(err)
				return
			}
			n := 0
			for _, f := range rep.Findings {
				if f.Rule == "update-unsigned" {
					n++
				}
			}
			seen = append(seen, fmt.Sprintf("complete=%v updates=%d update-unsigned=%d", rep.Scan.Complete, len(rep.Updates), n))
			if !rep.Scan.Complete && len(rep.Updates) == 2 && n == 2 {
				found = true
				cancel()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("no checkpoint of the running capture held the 2 update images and their findings: %q", seen)
	}
}
