package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/store"
)

// frame is one recorded packet.
type frame struct {
	ts   time.Time
	data []byte
}

// readFrames reads a capture file whole.
func readFrames(tb testing.TB, path string) ([]frame, uint32) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		tb.Fatal(err)
	}
	var out []frame
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		out = append(out, frame{ts: ci.Timestamp, data: data})
	}
	if len(out) == 0 {
		tb.Fatalf("%s holds no packets", path)
	}
	return out, uint32(r.LinkType())
}

// fakeSource replays frames as an interface would: then times out, as a quiet
// interface does, or fails when failAfter frames were read.
type fakeSource struct {
	frames    []frame
	link      uint32
	rounds    int           // how many times the frames are replayed, each an hour later
	pace      int           // after every pace frames, wait for a checkpoint (so they fall mid-replay)
	gate      chan struct{} // one token per checkpoint
	failAfter int           // fail with errFake after this many frames; 0 never
	next      int
	closed    atomic.Bool
	kdrops    uint64
}

var errFake = errors.New("network is down")

func (s *fakeSource) ReadPacket() ([]byte, time.Time, int, error) {
	if s.failAfter > 0 && s.next >= s.failAfter {
		return nil, time.Time{}, 0, errFake
	}
	rounds := max(s.rounds, 1)
	if s.next >= len(s.frames)*rounds {
		time.Sleep(time.Millisecond)
		return nil, time.Time{}, 0, errTimeout
	}
	if s.pace > 0 && s.next > 0 && s.next%s.pace == 0 {
		select {
		case <-s.gate:
		case <-time.After(10 * time.Second):
			return nil, time.Time{}, 0, errors.New("no checkpoint came")
		}
	}
	f := s.frames[s.next%len(s.frames)]
	round := s.next / len(s.frames)
	s.next++
	return f.data, f.ts.Add(time.Duration(round) * time.Hour), len(f.data), nil
}

func (s *fakeSource) LinkType() uint32               { return s.link }
func (s *fakeSource) KernelDropped() (uint64, error) { return s.kdrops, nil }
func (s *fakeSource) Close() error                   { s.closed.Store(true); return nil }

// fakeWriter counts the frames it was given, failing once after failAfter and dropping
// the rest, as the pcap rotator does on a full disk.
type fakeWriter struct {
	mu               sync.Mutex
	written, dropped uint64
	failAfter        uint64
	closed           bool
}

func (w *fakeWriter) WritePacket(ts time.Time, data []byte, wireLen int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failAfter > 0 && w.written >= w.failAfter {
		w.dropped++
		if w.dropped == 1 {
			return fmt.Errorf("write medscan_eth0-x.pcap: %w", syscall.ENOSPC)
		}
		return nil
	}
	w.written++
	return nil
}

func (w *fakeWriter) Stats() (uint64, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written, w.dropped
}

func (w *fakeWriter) Close() error { w.mu.Lock(); w.closed = true; w.mu.Unlock(); return nil }

// fakeOpener serves the given sources by interface name.
func fakeOpener(srcs map[string]*fakeSource) func(string, sourceOptions) (packetSource, error) {
	return func(name string, _ sourceOptions) (packetSource, error) {
		s := srcs[name]
		if s == nil {
			return nil, fmt.Errorf("interface %s: no such network interface", name)
		}
		return s, nil
	}
}

// keyOf is what must match between two scans' findings.
func keyOf(fs []findings.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s:%d %s %s", f.Rule, f.Host, f.Port, f.Subject, f.Severity))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestRunLiveMatchesFileScan(t *testing.T) {
	ctx := context.Background()
	frames, link := readFrames(t, wardFile(t))
	want, err := Run(ctx, openStore(t), Options{Pcaps: []string{wardFile(t)}})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	src := &fakeSource{frames: frames, link: link, pace: len(frames)/6 + 1, gate: make(chan struct{}, 1)}
	var progress []LiveStats
	var readable []string // what a second, read-only store saw at each checkpoint
	res, err := RunLive(ctx, st, LiveOptions{
		Ifaces: []string{"eth0"}, Packets: uint64(len(frames)), Workers: 2, CommitInterval: 15 * time.Millisecond,
		Label: "ward 4", lossless: true, openSource: fakeOpener(map[string]*fakeSource{"eth0": src}),
		Progress: func(s LiveStats) {
			progress = append(progress, s)
			select {
			case src.gate <- struct{}{}:
			default:
			}
			ro, err := store.OpenReadOnly(st.Path())
			if err != nil {
				t.Error(err)
				return
			}
			defer ro.Close()
			rep, err := ro.Load(ctx, 1)
			if err != nil {
				t.Error(err)
				return
			}
			state := "complete"
			if !rep.Scan.Complete {
				state = "incomplete"
				if len(rep.Scan.Problems) != 1 || !strings.Contains(rep.Scan.Problems[0].Message, "live capture running") {
					state += fmt.Sprintf(" %+v", rep.Scan.Problems)
				}
			}
			readable = append(readable, fmt.Sprintf("%s/%d", state, len(rep.Findings)))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.ScanID != 1 {
		t.Fatalf("complete=%v id=%d", res.Complete, res.ScanID)
	}
	if g, w := keyOf(res.Findings), keyOf(want.Findings); !slices.Equal(g, w) {
		t.Errorf("live findings differ from the file scan's:\nlive: %q\nfile: %q", g, w)
	}
	if len(progress) < 3 {
		t.Fatalf("%d checkpoints; want several during the replay", len(progress))
	}
	last := progress[len(progress)-1]
	if last.Packets != uint64(len(frames)) || last.Dropped != 0 || last.Findings != len(res.Findings) {
		t.Errorf("final stats %+v; want %d packets, none dropped, %d findings", last, len(frames), len(res.Findings))
	}
	// Read while it ran: incomplete with the running problem, then complete with all.
	for i, r := range readable {
		want := "incomplete/"
		if i == len(readable)-1 {
			want = fmt.Sprintf("complete/%d", len(res.Findings))
		}
		if !strings.HasPrefix(r, want) {
			t.Errorf("checkpoint %d read as %s; want %s", i+1, r, want)
		}
	}
	if readable[0] == readable[len(readable)-2] {
		t.Errorf("findings read at each checkpoint did not grow: %v", readable)
	}
	if !src.closed.Load() {
		t.Error("the source was not closed")
	}
	rep, err := st.Load(ctx, res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Scan.Complete || len(rep.Scan.Problems) != 0 || rep.Scan.Label != "ward 4" ||
		!slices.Equal(rep.Scan.Sources, []string{"iface:eth0"}) {
		t.Errorf("stored scan %+v", rep.Scan)
	}
	if n := counter(rep, "packets_captured"); n != uint64(len(frames)) {
		t.Errorf("packets_captured = %d; want %d", n, len(frames))
	}
	if g, w := keyOf(rep.Findings), keyOf(want.Findings); !slices.Equal(g, w) {
		t.Errorf("stored findings differ from the file scan's")
	}
}

func counter(rep *findings.Report, name string) uint64 {
	for _, c := range rep.Scan.Counters {
		if c.Name == name {
			return c.Value
		}
	}
	return 0
}

// TestRunLiveMemoryFlat replays the same traffic again and again (an hour later each
// time, as a ward repeats its day): what the scan keeps must not grow with the rounds.
func TestRunLiveMemoryFlat(t *testing.T) {
	frames, link := readFrames(t, wardFile(t))
	sizes := func(rounds int) string {
		src := &fakeSource{frames: frames, link: link, rounds: rounds}
		res, err := RunLive(context.Background(), openStore(t), LiveOptions{Ifaces: []string{"eth0"},
			Packets: uint64(len(frames) * rounds), Workers: 1, CommitInterval: 10 * time.Millisecond, lossless: true,
			openSource: fakeOpener(map[string]*fakeSource{"eth0": src})})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Set
		certSeen := 0
		for _, c := range s.Certificates {
			certSeen += len(c.Seen)
		}
		return fmt.Sprintf("tls=%d certs=%d seen=%d http=%d creds=%d mqtt=%d hl7=%d dicom=%d services=%d hosts=%d "+
			"problems=%d findings=%d", len(s.TLSSessions), len(s.Certificates), certSeen, len(s.HTTP), len(s.Credentials),
			len(s.MQTT), len(s.HL7), len(s.DICOM), len(s.Services), len(s.Hosts), len(s.Problems), len(res.Findings))
	}
	one, three := sizes(1), sizes(3)
	if one != three {
		t.Errorf("after one replay:    %s\nafter three replays: %s", one, three)
	}
}

func TestRunLiveInterfaceFails(t *testing.T) {
	ctx := context.Background()
	frames, link := readFrames(t, wardFile(t))
	st := openStore(t)
	var told []string
	var mu sync.Mutex
	res, err := RunLive(ctx, st, LiveOptions{
		Ifaces: []string{"eth0", "eth1"}, Duration: 300 * time.Millisecond, CommitInterval: 50 * time.Millisecond,
		lossless: true,
		openSource: fakeOpener(map[string]*fakeSource{
			"eth0": {frames: frames, link: link},
			"eth1": {frames: frames, link: link, failAfter: 10},
		}),
		SourceError: func(err error) { mu.Lock(); told = append(told, err.Error()); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || len(res.Findings) == 0 {
		t.Fatalf("complete=%v findings=%d; want an incomplete scan that kept what eth0 showed", res.Complete, len(res.Findings))
	}
	if len(told) != 1 || !strings.Contains(told[0], "interface eth1: network is down") {
		t.Errorf("told %q", told)
	}
	rep, err := st.Load(ctx, res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scan.Complete || len(rep.Scan.Problems) != 1 || rep.Scan.Problems[0].Source != "iface:eth1" ||
		!rep.Scan.Problems[0].Fatal {
		t.Errorf("stored scan %+v", rep.Scan)
	}
	if counter(rep, "iface_eth1_packets") != 10 || counter(rep, "iface_eth0_packets") != uint64(len(frames)) {
		t.Errorf("counters %+v", rep.Scan.Counters)
	}
}

func TestRunLivePcapWriteFails(t *testing.T) {
	ctx := context.Background()
	frames, link := readFrames(t, wardFile(t))
	st := openStore(t)
	w := &fakeWriter{failAfter: uint64(len(frames) / 2)}
	var told []string
	want, err := Run(ctx, openStore(t), Options{Pcaps: []string{wardFile(t)}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunLive(ctx, st, LiveOptions{
		Ifaces: []string{"eth0"}, WritePcapDir: "/var/spool/medscan", CommitInterval: time.Hour, lossless: true,
		Packets:     uint64(len(frames)), // losing the copy does not stop the capture
		openSource:  fakeOpener(map[string]*fakeSource{"eth0": {frames: frames, link: link}}),
		openWriter:  func(string, uint32, LiveOptions) (packetWriter, error) { return w, nil },
		SourceError: func(err error) { told = append(told, err.Error()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || !w.closed {
		t.Fatalf("complete=%v closed=%v; want an incomplete scan, the files closed", res.Complete, w.closed)
	}
	if g, w := keyOf(res.Findings), keyOf(want.Findings); !slices.Equal(g, w) {
		t.Errorf("the scan did not go on when packets could no longer be kept:\nlive: %q\nfile: %q", g, w)
	}
	if len(told) != 1 || !strings.Contains(told[0], "interface eth0: packets no longer kept in /var/spool/medscan from ") ||
		!strings.Contains(told[0], "no space left on device") {
		t.Errorf("told %q", told)
	}
	rep, err := st.Load(ctx, res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	half := uint64(len(frames) / 2)
	if len(rep.Findings) != len(res.Findings) || counter(rep, "packets_captured") != uint64(len(frames)) ||
		counter(rep, "pcap_packets_written") != half || counter(rep, "pcap_packets_not_kept") != uint64(len(frames))-half {
		t.Errorf("stored %d findings (want %d), counters %+v", len(rep.Findings), len(res.Findings), rep.Scan.Counters)
	}
	if len(rep.Scan.Problems) != 1 || rep.Scan.Problems[0].Fatal || rep.Scan.Problems[0].Source != "/var/spool/medscan" {
		t.Errorf("problems %+v", rep.Scan.Problems)
	}
}

func TestRunLiveOpenFails(t *testing.T) {
	st := openStore(t)
	frames, link := readFrames(t, wardFile(t))
	ok := &fakeSource{frames: frames, link: link}
	_, err := RunLive(context.Background(), st, LiveOptions{Ifaces: []string{"eth0", "nope0"},
		openSource: fakeOpener(map[string]*fakeSource{"eth0": ok})})
	if err == nil || !strings.Contains(err.Error(), "nope0") {
		t.Fatalf("err = %v; want one naming nope0", err)
	}
	if !ok.closed.Load() {
		t.Error("the interface that opened was not closed")
	}
	if _, err := st.LatestScanID(context.Background(), ""); !errors.Is(err, store.ErrNoScan) {
		t.Errorf("a scan was stored: %v", err)
	}
	for _, bad := range [][]string{nil, {"eth0", "eth0"}} {
		if _, err := RunLive(context.Background(), st, LiveOptions{Ifaces: bad,
			openSource: fakeOpener(map[string]*fakeSource{"eth0": ok})}); err == nil {
			t.Errorf("interfaces %q: no error", bad)
		}
	}
}

func TestRunLiveStopsOnCancel(t *testing.T) {
	frames, link := readFrames(t, wardFile(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openStore(t)
	start := time.Now()
	res, err := RunLive(ctx, st, LiveOptions{Ifaces: []string{"eth0"}, CommitInterval: 20 * time.Millisecond,
		lossless: true, openSource: fakeOpener(map[string]*fakeSource{"eth0": {frames: frames, link: link}}),
		Progress: func(s LiveStats) {
			if s.Checkpoints == 2 {
				cancel() // as SIGINT does
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || len(res.Findings) == 0 {
		t.Fatalf("complete=%v findings=%d", res.Complete, len(res.Findings))
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("stopping took %v", d)
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil || !rep.Scan.Complete || len(rep.Findings) != len(res.Findings) {
		t.Fatalf("stored after cancel: %v %+v", err, rep)
	}
}
