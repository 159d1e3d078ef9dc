package scan

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunLiveLoopback runs the real path — AF_PACKET socket, BPF filter, pcap rotator —
// on the loopback interface with UDP datagrams to a port no one else uses. It needs root
// (or CAP_NET_RAW) and skips without it.
func TestRunLiveLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: live capture needs root or CAP_NET_RAW")
	}
	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.LocalAddr().(*net.UDPAddr).Port
	dir := filepath.Join(t.TempDir(), "kept")
	const n = 20
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-started:
		case <-time.After(20 * time.Second):
			return
		}
		c, err := net.DialUDP("udp4", nil, ln.LocalAddr().(*net.UDPAddr))
		if err != nil {
			return
		}
		defer c.Close()
		for i := range n {
			fmt.Fprintf(c, "datagram %02d", i)
		}
	}()
	st := openStore(t)
	var told []string
	res, err := RunLive(context.Background(), st, LiveOptions{
		Ifaces: []string{"lo"}, BPF: fmt.Sprintf("udp port %d", port), Packets: n, Duration: 20 * time.Second,
		WritePcapDir: dir, CommitInterval: time.Second,
		Progress: func(s LiveStats) {
			if s.Checkpoints == 0 {
				close(started)
			}
		},
		SourceError: func(err error) { told = append(told, err.Error()) },
	})
	<-done
	if err != nil {
		t.Fatal(err)
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || counter(rep, "packets_captured") != n || counter(rep, "pcap_packets_written") != n || len(told) != 0 {
		t.Fatalf("complete %v, counters %+v, told %q; want %d datagrams captured and kept", res.Complete, rep.Scan.Counters, told, n)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "medscan_lo-*.pcap"))
	if len(files) != 1 {
		t.Fatalf("pcap files %q; want one", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !strings.Contains(string(raw), fmt.Sprintf("datagram %02d", i)) {
			t.Errorf("datagram %d is not in %s", i, files[0])
		}
	}
}

// TestRunLiveBadFilter needs no privilege: the filter is compiled before any socket is
// opened, and nothing is stored.
func TestRunLiveBadFilter(t *testing.T) {
	st := openStore(t)
	_, err := RunLive(context.Background(), st, LiveOptions{Ifaces: []string{"lo"}, BPF: "tcp port 80 or 443"})
	if err == nil || !strings.Contains(err.Error(), `filter "tcp port 80 or 443": bpf: position 16`) {
		t.Fatalf("err = %v; want the filter's error with its position", err)
	}
	if id, err := st.LatestScanID(context.Background(), ""); err == nil {
		t.Errorf("scan %d stored for a filter that does not compile", id)
	}
}
