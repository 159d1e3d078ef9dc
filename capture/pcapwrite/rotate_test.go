package pcapwrite

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"

	"github.com/medscan/medscan/capture"
	"github.com/medscan/medscan/capture/protocols"
	"github.com/medscan/medscan/observe"

	"github.com/medscan/medscan/internal/testproc"
)

type packet struct {
	ts   time.Time
	data []byte
	orig int
}

// wardPackets reads the ward capture with gopacket's pcapng reader.
func wardPackets(t *testing.T) []packet {
	raw, err := os.ReadFile(filepath.Join(testproc.RepoRoot(t), "fixtures", "ward.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	var out []packet
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, packet{ci.Timestamp, data, ci.Length})
	}
}

// readBack reads a written file with gopacket's pcap reader, independent of this package.
func readBack(t *testing.T, path string) []packet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []packet
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, packet{ci.Timestamp, data, ci.Length})
	}
}

var nameRE = regexp.MustCompile(`^medscan-\d{8}T\d{6}Z-\d{4}\.pcap$`)

// TestRotateBySize splits the ward capture into small files and checks that together
// they hold every packet, byte for byte with nanosecond times, that each stays under
// the size limit, and that medscan's engine and tcpdump read them.
func TestRotateBySize(t *testing.T) {
	pkts := wardPackets(t)
	dir := t.TempDir()
	r, err := NewRotator(dir, RotateOptions{MaxFileBytes: 20000, LinkType: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := r.WritePacket(p.ts, p.data, p.orig); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	files := r.Files()
	if len(files) < 4 {
		t.Fatalf("%d files from a 100 KB capture at 20 KB each", len(files))
	}
	var back []packet
	for _, f := range files {
		if !nameRE.MatchString(filepath.Base(f)) {
			t.Errorf("file name %s", filepath.Base(f))
		}
		st, err := os.Stat(f)
		if err != nil || st.Size() > 20000 {
			t.Errorf("%s: %v, size %d", f, err, st.Size())
		}
		back = append(back, readBack(t, f)...)
	}
	if len(back) != len(pkts) {
		t.Fatalf("read back %d packets, wrote %d", len(back), len(pkts))
	}
	for i := range pkts {
		if !back[i].ts.Equal(pkts[i].ts) || !bytes.Equal(back[i].data, pkts[i].data) || back[i].orig != pkts[i].orig {
			t.Fatalf("packet %d differs after the round trip", i)
		}
	}
	// The first file is named after the first packet's time.
	if want := "medscan-" + pkts[0].ts.UTC().Format("20060102T150405Z") + "-0001.pcap"; filepath.Base(files[0]) != want {
		t.Errorf("first file %s, want %s", filepath.Base(files[0]), want)
	}

	// medscan's engine learns the same from the pieces as from the original.
	learn := func(paths ...string) *observe.Set {
		set := observe.NewSet()
		e := capture.NewEngine(capture.Config{Dissectors: protocols.All()}, set)
		for _, p := range paths {
			if err := e.ReadFile(p); err != nil {
				t.Fatal(err)
			}
		}
		e.Finish()
		return set
	}
	orig := learn(filepath.Join(testproc.RepoRoot(t), "fixtures", "ward.pcapng"))
	split := learn(files...)
	for _, c := range []string{"packets", "tcp_segments", "streams"} {
		if a, b := counter(orig, c), counter(split, c); a != b || a == 0 {
			t.Errorf("counter %s: %d from the original, %d from the rotated files", c, a, b)
		}
	}
	if len(orig.TLSSessions) != len(split.TLSSessions) || len(orig.Certificates) != len(split.Certificates) {
		t.Errorf("TLS %d/%d, certificates %d/%d", len(orig.TLSSessions), len(split.TLSSessions), len(orig.Certificates), len(split.Certificates))
	}

	// tcpdump reads them too.
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("MEDSCAN_REQUIRE_REALSOFT") == "1" {
			t.Fatal("tcpdump not installed (MEDSCAN_REQUIRE_REALSOFT=1)")
		}
		t.Skip("tcpdump not installed: apt-get install tcpdump")
	}
	total := 0
	for _, f := range files {
		out, err := exec.Command(tcpdump, "-nn", "-r", f).Output()
		if err != nil {
			t.Fatalf("tcpdump -r %s: %v", f, err)
		}
		total += strings.Count(string(out), "\n")
	}
	if total != len(pkts) {
		t.Errorf("tcpdump reads %d packets, want %d", total, len(pkts))
	}
}

func counter(s *observe.Set, name string) uint64 {
	for _, c := range s.Counters {
		if c.Name == name {
			return c.Value
		}
	}
	return 0
}

// TestRotateByAge checks that a file spans at most MaxFileAge of capture time and that
// each is named after its first packet.
func TestRotateByAge(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRotator(dir, RotateOptions{MaxFileAge: 30 * time.Minute, LinkType: 1, Prefix: "ward"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 12, 45, 0, 0, time.UTC)
	for i := range 7 { // 0, 10, ..., 60 minutes
		if err := r.WritePacket(t0.Add(time.Duration(i)*10*time.Minute), []byte{byte(i)}, 60); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	var names []string
	for _, f := range r.Files() {
		names = append(names, filepath.Base(f))
	}
	want := []string{"ward-20261121T124500Z-0001.pcap", "ward-20261121T131500Z-0002.pcap", "ward-20261121T134500Z-0003.pcap"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("files %v, want %v", names, want)
	}
	if n := len(readBack(t, r.Files()[1])); n != 3 {
		t.Errorf("second file holds %d packets, want 3", n)
	}
}

// TestTotalCap checks that the oldest files go first, those of an earlier run included,
// that the files never exceed the cap, and that a name in use is never overwritten.
func TestTotalCap(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "medscan-20200101T000000Z-0001.pcap")
	if err := os.WriteFile(old, make([]byte, 5000), 0o640); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes.txt") // not ours: never touched
	os.WriteFile(other, []byte("x"), 0o640)
	t0 := time.Date(2026, 11, 21, 12, 45, 0, 0, time.UTC)
	r, err := NewRotator(dir, RotateOptions{MaxFileBytes: 4000, MaxTotalBytes: 12000, LinkType: 1})
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 184) // 200-byte records
	for i := range 200 {
		if err := r.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), payload, 184); err != nil {
			t.Fatal(err)
		}
		var total int64
		entries, _ := filepath.Glob(filepath.Join(dir, "medscan-*.pcap"))
		for _, e := range entries {
			if st, err := os.Stat(e); err == nil {
				total += st.Size()
			}
		}
		// What is still buffered counts too: the cap holds for the files as they will be.
		if total > 12000 {
			t.Fatalf("after packet %d the files take %d bytes, over the 12000 cap", i, total)
		}
	}
	r.Close()
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the oldest file of an earlier run survived: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not a capture was touched: %v", err)
	}
	files := r.Files()
	if len(files) < 2 {
		t.Fatalf("files %v", files)
	}
	// The newest packets are the ones kept.
	last := readBack(t, files[len(files)-1])
	if len(last) == 0 || !last[len(last)-1].ts.Equal(t0.Add(199*time.Millisecond)) {
		t.Errorf("the last file does not end with the last packet")
	}
}

// TestNameInUse checks that an existing file is never overwritten: the next sequence
// number is taken instead.
func TestNameInUse(t *testing.T) {
	dir := t.TempDir()
	taken := filepath.Join(dir, "medscan-20261121T124500Z-0001.pcap")
	os.WriteFile(taken, []byte("in use"), 0o640)
	r, err := NewRotator(dir, RotateOptions{LinkType: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WritePacket(time.Date(2026, 11, 21, 12, 45, 0, 0, time.UTC), []byte{1, 2, 3}, 3); err != nil {
		t.Fatal(err)
	}
	r.Close()
	files := r.Files()
	if got := filepath.Base(files[len(files)-1]); got != "medscan-20261121T124500Z-0002.pcap" {
		t.Errorf("wrote %s", got)
	}
	if b, _ := os.ReadFile(taken); string(b) != "in use" {
		t.Errorf("the file in use was overwritten")
	}
}

// failingFile accepts limit bytes, then fails like a full disk.
type failingFile struct {
	*os.File
	limit int
}

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) <= f.limit {
		f.limit -= len(p)
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:f.limit])
	f.limit = 0
	return n, syscall.ENOSPC
}

// TestDiskFull checks a failing write: one error naming the file, then silence; the
// file keeps only whole records; the packets not kept are counted.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRotator(dir, RotateOptions{LinkType: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.create = func(path string) (file, error) {
		f, err := createFile(path)
		if err != nil {
			return nil, err
		}
		return &failingFile{File: f.(*os.File), limit: 300 << 10}, nil
	}
	t0 := time.Date(2026, 11, 21, 12, 45, 0, 0, time.UTC)
	payload := make([]byte, 1000)
	var errs []error
	for i := range 1000 {
		if err := r.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), payload, 1000); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("%d errors, want exactly 1: %v", len(errs), errs)
	}
	path := filepath.Join(dir, "medscan-20261121T124500Z-0001.pcap")
	if msg := errs[0].Error(); !strings.Contains(msg, path) || !errors.Is(errs[0], syscall.ENOSPC) {
		t.Errorf("error %q does not name the file and the cause", msg)
	}
	if r.Err() == nil || r.Close() != nil || r.Flush() != nil {
		t.Error("after the failure: Err nil, or Close/Flush report it again")
	}
	written, dropped := r.Stats()
	back := readBack(t, path)
	if uint64(len(back)) > written || written+dropped != 1000 || dropped == 0 {
		t.Errorf("written %d, dropped %d, %d readable", written, dropped, len(back))
	}
	st, _ := os.Stat(path)
	if (st.Size()-fileHeaderLen)%(recordHeaderLen+1000) != 0 {
		t.Errorf("file of %d bytes ends inside a record", st.Size())
	}
}

// TestTmpfsFull fills a real 1 MiB tmpfs (root only).
func TestTmpfsFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	r, err := NewRotator(dir, RotateOptions{LinkType: 1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 12, 45, 0, 0, time.UTC)
	payload := make([]byte, 1400)
	var errs []error
	for i := range 2000 { // 2.8 MB into 1 MiB
		if err := r.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), payload, 1400); err != nil {
			errs = append(errs, err)
		}
	}
	r.Close()
	if len(errs) != 1 || !errors.Is(errs[0], syscall.ENOSPC) || !strings.Contains(errs[0].Error(), dir) {
		t.Fatalf("errors %v, want one ENOSPC naming the file", errs)
	}
	back := readBack(t, filepath.Join(dir, "medscan-20261121T124500Z-0001.pcap"))
	if len(back) < 100 {
		t.Errorf("only %d packets readable from the full disk", len(back))
	}
}

func TestOptionsErrors(t *testing.T) {
	if _, err := NewRotator(t.TempDir(), RotateOptions{MaxFileBytes: 10 << 20, MaxTotalBytes: 1 << 20}); err == nil {
		t.Error("a file larger than the total cap was accepted")
	}
	if _, err := NewRotator(t.TempDir(), RotateOptions{Prefix: "../x"}); err == nil {
		t.Error("a prefix with a path separator was accepted")
	}
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o640)
	if _, err := NewRotator(filepath.Join(blocker, "sub"), RotateOptions{}); err == nil || !strings.HasPrefix(err.Error(), "pcapwrite: ") {
		t.Errorf("a directory under a file: %v", err)
	}
}
