package tsharkdiff

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/testproc"
)

// tsharkConvRE reads one line of tshark's TCP conversation table: the two endpoints and,
// after each direction's frames and bytes, the total frames.
var tsharkConvRE = regexp.MustCompile(`^(\d+\.\d+\.\d+\.\d+):(\d+)\s+<->\s+(\d+\.\d+\.\d+\.\d+):(\d+)\s+(\d+)\s+[\d,.]+\s+\S+\s+(\d+)\s+[\d,.]+\s+\S+\s+(\d+)\s`)

// TestFlowVolumeAgainstTshark requires each TCP flow medscan reports on the ward capture
// to carry the packets Wireshark counts in the conversations between the flow's client
// and server port (tshark -z conv,tcp), all connections added up.
func TestFlowVolumeAgainstTshark(t *testing.T) {
	tshark := requireTshark(t)
	file := filepath.Join(testproc.RepoRoot(t), "fixtures", "ward.pcapng")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, tshark, "-n", "-r", file, "-q", "-z", "conv,tcp").Output()
	if err != nil {
		t.Fatalf("tshark -z conv,tcp: %v", err)
	}
	// Frames per (address, address:port) in both orders: which end is the client is
	// medscan's to say, and the lookup below uses its client and server.
	frames := map[string]uint64{}
	lines := 0
	for _, l := range strings.Split(string(out), "\n") {
		m := tsharkConvRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		lines++
		n, _ := strconv.ParseUint(m[7], 10, 64)
		frames[m[1]+" -> "+m[3]+":"+m[4]] += n
		frames[m[3]+" -> "+m[1]+":"+m[2]] += n
	}
	if lines == 0 {
		t.Fatalf("no conversation in tshark's table:\n%s", out)
	}
	ms := runMedscan(t, file)
	checked := 0
	for _, f := range ms.Flows {
		if f.Connections == 0 {
			continue // UDP
		}
		k := f.Client + " -> " + f.Host + ":" + strconv.Itoa(f.Port)
		if want, ok := frames[k]; !ok || want != f.Packets {
			t.Errorf("flow %s: medscan counts %d packets in %d connections; tshark %d", k, f.Packets, f.Connections, want)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d TCP flows compared", checked)
	}
}
