package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
	"github.com/medscan/medscan/observe"
)

// tableCounts counts, in every scan table, the rows of scan id; the observations table,
// which holds every observation list of the document, is counted per kind too
// ("observations/http"), so that a kind a checkpoint forgot shows as such.
func tableCounts(t *testing.T, s *Store, id int64) map[string]int {
	t.Helper()
	tables, err := scanTables(context.Background(), s.db, s.dialect)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, tb := range tables {
		out[tb.name] = count(t, s, "SELECT count(*) FROM "+quoteIdent(tb.name)+" WHERE "+quoteIdent(tb.column)+" = ?", id)
	}
	for _, k := range kinds {
		out["observations/"+k.name] = count(t, s, "SELECT count(*) FROM observations WHERE scan_id = ? AND kind = ?", id, k.name)
	}
	return out
}

// smallSet is a set holding part of fullSet: one TLS session and one service.
func smallSet() *observe.Set {
	s := observe.NewSet()
	s.AddTLS(observe.TLSSession{Flow: observe.Flow{Client: ap("10.0.0.20:50000"), Server: ap("10.0.0.5:443")},
		FirstSeen: t0, Source: observe.SourcePassive, SawClientHello: true, SNI: "pacs.example"}, [][]byte{leafDER}, nil)
	s.AddService(observe.Service{Server: ap("10.0.0.5:443"), Transport: "tcp", Protocol: "tls", FirstSeen: t0,
		Source: observe.SourcePassive})
	s.AddHost(netip.MustParseAddr("10.0.0.5"), "00:11:22:33:44:55", t0)
	return s
}

// coveredTables are the scan tables checkpointSet fills. The first schema had a table
// per observation kind; the observations now share one table, and the kinds are
// checked one by one (observations/<kind>, see tableCounts).
var coveredTables = []string{"scan_assets", "scan_certificates", "cert_sightings", "scan_findings", "observations"}

// checkpointSet is fullSet with a probe result, a host name, a DHCP lease, a file
// transfer and a key file, so that every scan table and every observation kind gets rows.
func checkpointSet() *observe.Set {
	s := fullSet()
	s.AddProbe(observe.ProbeEndpoint{Server: ap("10.0.0.5:443"), Time: t0, Outcome: observe.ProbeOpen,
		Protocol: "tls", Connections: 1})
	s.AddProbeHost(observe.ProbeHost{Addr: netip.MustParseAddr("10.0.0.5"), Connections: 1, First: t0, Last: t0})
	s.AddName(observe.HostName{Addr: netip.MustParseAddr("10.0.0.5"), Name: "pacs", Source: "dns", FirstSeen: t0})
	s.AddDHCP(observe.DHCPLease{MAC: "00:11:22:33:44:55", Addr: netip.MustParseAddr("10.0.0.5"), Hostname: "pacs",
		FirstSeen: t0})
	s.AddTransfer(observe.FileTransfer{Flow: observe.Flow{Client: ap("10.0.0.5:1069"), Server: ap("10.0.0.40:69")},
		FirstSeen: t0, Protocol: "tftp", Path: "/{id}.bin", URL: "tftp://10.0.0.40/{id}.bin", Bytes: 10, Kind: "ext:.bin"})
	s.AddKeyFile(observe.KeyFile{File: "certs/pacs.key", Path: "/site/certs/pacs.key", Format: "pkcs8", KeyType: "rsa",
		KeyBits: 2048, Mode: "0600", SPKISHA256: "ab", Time: t0})
	s.AddUpdate(observe.UpdateImage{Name: "pump-2.1.bin", Dir: "/fw", Origin: "tftp://10.0.0.40:69", Size: 10, SHA256: "cd",
		Format: "raw", Verdict: "unsigned", Required: true, Clients: []string{"10.0.0.5"}, Source: observe.SourcePassive, Time: t0})
	s.AddSensorPath(observe.SensorPath{Path: "ERSPAN session 7 from 10.1.1.1 to 10.9.9.9", Encap: "erspan-ii", Session: 7,
		Source: netip.MustParseAddr("10.1.1.1"), Packets: 3, FirstSeen: t0, LastSeen: t0})
	s.AddARP(observe.ARPClaim{Addr: netip.MustParseAddr("10.0.0.1"), MAC: "00:11:22:33:44:66", Replies: 4, Takeovers: 1,
		FirstSeen: t0, LastSeen: t0})
	s.AddDHCPReply(observe.DHCPReply{Server: netip.MustParseAddr("10.0.0.2"), ClientMAC: "00:11:22:33:44:55",
		Type: observe.DHCPAck, Offered: netip.MustParseAddr("10.0.0.5"), Router: netip.MustParseAddr("10.0.0.1"), FirstSeen: t0})
	s.AddGreeting(observe.StartTLSGreeting{Flow: observe.Flow{Client: ap("10.0.0.5:40000"), Server: ap("10.0.0.25:25")},
		Protocol: "smtp", Offered: true, Outcome: observe.StartTLSUpgraded, FirstSeen: t0})
	// An inventory of every host, and one more host outside it: a quiet host (kept in
	// observations/quiet_hosts).
	for a, h := range s.Hosts {
		s.Assets = append(s.Assets, &observe.Asset{Addr: a, MACs: h.MACs, FirstSeen: h.FirstSeen, LastSeen: h.LastSeen,
			Kind: observe.KindUnknown})
	}
	slices.SortFunc(s.Assets, func(x, y *observe.Asset) int { return x.Addr.Compare(y.Addr) })
	s.AddHostTraffic(netip.MustParseAddr("10.0.0.99"), 3, 180, t0)
	return s
}

func TestScanTablesCoverSchema(t *testing.T) {
	fileOnly(t) // reads or tampers with the SQLite file itself
	s, _ := openTemp(t)
	tables, err := scanTables(context.Background(), s.db, s.dialect)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range tables {
		got = append(got, tb.name)
	}
	// Every table with a scan_id column must be one Checkpoint clears: a new
	// scan-scoped table without its foreign key to scans would keep stale rows.
	rows, err := s.db.Query(`SELECT m.name FROM sqlite_master AS m, pragma_table_info(m.name) AS c
		WHERE m.type = 'table' AND c.name = 'scan_id' ORDER BY m.name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		n++
		if !slices.Contains(got, name) {
			t.Errorf("table %s has a scan_id column but no foreign key to scans: Checkpoint would not clear it", name)
		}
	}
	// The tables of the schema, so that a query that lists nothing cannot pass.
	for _, want := range coveredTables {
		if !slices.Contains(got, want) {
			t.Errorf("scan tables %v lack %s", got, want)
		}
	}
	if n < len(coveredTables) {
		t.Errorf("only %d tables with a scan_id column found", n)
	}
}

func TestCheckpointReplacesScan(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	meta := testInfo()
	id, err := s.BeginScan(ctx, findings.ScanInfo{Started: meta.Started, Label: meta.Label, Sources: []string{"eth1"},
		Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Scan.Complete || !r.Scan.Finished.IsZero() || r.Scan.Label != meta.Label || len(r.Findings) != 0 {
		t.Fatalf("begun scan = %+v; want incomplete, unfinished, labelled, empty", r.Scan)
	}
	// Two checkpoints with everything, then one with less: the scan holds only the last.
	for range 2 {
		if err := checkpoint(ctx, s, id, meta, checkpointSet(), testFindings()); err != nil {
			t.Fatal(err)
		}
	}
	full := tableCounts(t, s, id)
	for name, n := range full {
		if n == 0 {
			// Clearing is derived from the schema, so an uncovered table is still cleared;
			// the tables and kinds known here must be exercised, so that the comparison
			// below means it.
			if slices.Contains(coveredTables, name) || strings.HasPrefix(name, "observations/") {
				t.Errorf("the full set stored nothing in %s: the test does not cover it", name)
			} else {
				t.Logf("scan table %s is not exercised by this test's set", name)
			}
		}
	}
	final := meta
	final.Complete, final.Problems, final.Counters = true, nil, []observe.Counter{{Name: "packets", Value: 5}}
	fs := testFindings()[:2]
	if err := checkpoint(ctx, s, id, final, smallSet(), fs); err != nil {
		t.Fatal(err)
	}

	// The same content saved at once in another store must give the same rows.
	// (It saw the full set first too, so that certificates carry the same facts.)
	ref, _ := openTemp(t)
	if _, err := save(ctx, ref, meta, checkpointSet(), testFindings()); err != nil {
		t.Fatal(err)
	}
	refID, err := save(ctx, ref, final, smallSet(), fs)
	if err != nil {
		t.Fatal(err)
	}
	got, want := tableCounts(t, s, id), tableCounts(t, ref, refID)
	for name := range want {
		if got[name] != want[name] {
			t.Errorf("%s: %d rows for the checkpointed scan, %d for the same scan saved at once", name, got[name], want[name])
		}
	}
	a, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ref.Load(ctx, refID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Scan.UID == b.Scan.UID || len(a.Scan.UID) != 32 {
		t.Errorf("uids %q and %q: want two of 32 hex digits", a.Scan.UID, b.Scan.UID)
	}
	a.Scan.ID, b.Scan.ID, a.Scan.UID, b.Scan.UID = 0, 0, "", ""
	if !reflect.DeepEqual(a, b) {
		aj, _ := json.Marshal(a)
		bj, _ := json.Marshal(b)
		t.Errorf("checkpointed scan loads as\n%s\nsaved at once:\n%s", aj, bj)
	}
	// Findings the last checkpoint no longer holds are gone from the store.
	if n := count(t, s, "SELECT count(*) FROM findings"); n != len(fs) {
		t.Errorf("findings table holds %d rows; want %d", n, len(fs))
	}
	if n := count(t, s, "SELECT count(*) FROM scans"); n != 1 {
		t.Errorf("%d scan rows; want 1", n)
	}
}

func TestCheckpointKeepsFirstSeen(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	early := testFindings()
	for i := range early {
		early[i].Time = t0.Add(-24 * time.Hour)
	}
	// An earlier scan reported the first finding a day before; a live scan reports it and
	// one it alone holds.
	if _, err := save(ctx, s, testInfo(), nil, early[:1]); err != nil {
		t.Fatal(err)
	}
	id, err := s.BeginScan(ctx, findings.ScanInfo{Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	live := testFindings()
	if err := checkpoint(ctx, s, id, findings.ScanInfo{Started: t0}, nil, live[:2]); err != nil {
		t.Fatal(err)
	}
	later := testFindings()
	for i := range later {
		later[i].Time = t0.Add(time.Hour)
		later[i].FirstSeen = t0 // the cumulative set still knows when it was first seen
	}
	// The next checkpoint no longer holds either: the one the earlier scan holds stays,
	// with its first seen; the other, held by no scan, goes.
	if err := checkpoint(ctx, s, id, findings.ScanInfo{Started: t0}, nil, later[2:3]); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint(ctx, s, id, findings.ScanInfo{Started: t0}, nil, append(later[:1:1], later[2])); err != nil {
		t.Fatal(err)
	}
	type span struct{ first, last string }
	got := map[string]span{}
	rows, err := s.db.Query("SELECT rule, first_seen, last_seen FROM findings")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var rule, f, l string
		if err := rows.Scan(&rule, &f, &l); err != nil {
			t.Fatal(err)
		}
		got[rule] = span{f, l}
	}
	str := func(t time.Time) string { return dbTime(t).(string) }
	want := map[string]span{
		early[0].Rule: {str(t0.Add(-24 * time.Hour)), str(t0.Add(time.Hour))},
		later[2].Rule: {str(t0), str(t0.Add(time.Hour))},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings spans = %v; want %v", got, want)
	}
}

func TestCheckpointUnknownScan(t *testing.T) {
	s, _ := openTemp(t)
	err := checkpoint(context.Background(), s, 42, findings.ScanInfo{}, nil, nil)
	if err == nil || !errors.Is(err, ErrNoScan) {
		t.Fatalf("Checkpoint of a missing scan = %v; want ErrNoScan", err)
	}
}

// growingSet is checkpoint k of a live scan: k services and k findings, with a few
// thousand HTTP shapes so that each checkpoint is a write long enough to be interrupted.
func growingSet(k int) (*observe.Set, []findings.Finding) {
	s := observe.NewSet()
	var fs []findings.Finding
	for i := range k {
		srv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 80)
		s.AddService(observe.Service{Server: srv, Transport: "tcp", Protocol: "http", FirstSeen: t0,
			Source: observe.SourcePassive})
		f := findings.Finding{Rule: "cleartext-http-auth", Severity: findings.High, Host: srv.Addr().String(), Port: 80,
			Message: "basic auth in clear", Time: t0, Source: "passive"}
		f.SetFingerprint()
		fs = append(fs, f)
	}
	for i := range 3000 {
		s.AddHTTP(observe.HTTPRequest{Flow: observe.Flow{Client: ap("10.2.0.1:40000"), Server: ap("10.1.0.0:80")},
			Method: "GET", Path: "/p/" + strconv.Itoa(i), FirstSeen: t0})
	}
	return s, fs
}

// TestCheckpointReadWhileWriting reads a live scan from a second, read-only Store while
// the first checkpoints it: every read sees one whole checkpoint.
func TestCheckpointReadWhileWriting(t *testing.T) {
	ctx := context.Background()
	w, path := openTemp(t)
	id, err := w.BeginScan(ctx, findings.ScanInfo{Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const checkpoints = 12
	var wg sync.WaitGroup
	done := make(chan struct{})
	var writeErr error
	wg.Go(func() {
		defer close(done)
		for k := 1; k <= checkpoints; k++ {
			set, fs := growingSet(k)
			if writeErr = checkpoint(ctx, w, id, findings.ScanInfo{Started: t0}, set, fs); writeErr != nil {
				return
			}
		}
	})
	reads, last := 0, 0
	for stop := false; !stop && reads < 10000; reads++ {
		select {
		case <-done:
			stop = true // one more read, after the last checkpoint
		default:
		}
		rep, err := r.Load(ctx, id)
		if err != nil {
			t.Fatalf("read %d during checkpoints: %v", reads, err)
		}
		n := len(rep.Findings)
		if len(rep.Services) != n || n > 0 && len(rep.HTTP) == 0 {
			t.Fatalf("read %d saw a checkpoint half-way: %d findings, %d services, %d HTTP shapes",
				reads, n, len(rep.Services), len(rep.HTTP))
		}
		if n < last {
			t.Fatalf("read %d saw checkpoint %d after checkpoint %d", reads, n, last)
		}
		last = n
	}
	wg.Wait()
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	if last != checkpoints {
		t.Fatalf("the last read saw checkpoint %d; want %d", last, checkpoints)
	}
}

const killChildEnv = "MEDSCAN_TEST_CHECKPOINT_CHILD"

// TestCheckpointKillChild is the child of TestCheckpointSurvivesKill: it checkpoints a
// growing scan into the store named by the environment, saying after each commit how
// many findings are committed, until it is killed (or a bounded number of rounds).
func TestCheckpointKillChild(t *testing.T) {
	path := os.Getenv(killChildEnv)
	if path == "" {
		t.Skip("run by TestCheckpointSurvivesKill")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := s.BeginScan(ctx, findings.ScanInfo{Started: t0, Label: "killed"})
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 500; k++ {
		set, fs := growingSet(k)
		if err := checkpoint(ctx, s, id, findings.ScanInfo{Started: t0, Label: "killed"}, set, fs); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("committed %d\n", k)
	}
}

// TestCheckpointSurvivesKill kills (SIGKILL) a process in the middle of its checkpoints
// and checks that the store opens and holds a whole checkpoint, at least the last one
// the process said it had committed.
func TestCheckpointSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	path := filepath.Join(t.TempDir(), "killed.db")
	t.Setenv(killChildEnv, path)
	child := testproc.Start(t, os.Args[0], "-test.run=^TestCheckpointKillChild$", "-test.count=1")
	child.WaitFor(t, testproc.Stdout, "committed 3", 60*time.Second)
	// Let the next checkpoint begin: the kill lands during a write more often than not.
	time.Sleep(20 * time.Millisecond)
	child.Kill() // SIGKILL to its process group
	if !child.WaitExit(0) {
		t.Fatal("the child did not die")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("the store of a killed scan does not open: %v", err)
	}
	defer s.Close()
	var ok string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity check = %q, %v", ok, err)
	}
	id, err := s.LatestScanID(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := len(rep.Findings)
	if n < 3 || len(rep.Services) != n || rep.Scan.Complete || rep.Scan.Label != "killed" {
		t.Fatalf("after the kill the scan holds %d findings, %d services, complete %v, label %q; want one whole "+
			"checkpoint of at least 3, incomplete", n, len(rep.Services), rep.Scan.Complete, rep.Scan.Label)
	}
}
