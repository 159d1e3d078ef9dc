package capture

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/observe"
)

// corpusDir finds the shared corpus next to the repository root, skipping the test (or
// failing it under CI) when it is absent.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			tb.Fatalf("no go.mod above %s", wd)
		}
		root = parent
	}
	dir := filepath.Join(root, "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "expected.json")); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("corpus missing: %s (CI=true)", dir)
		}
		tb.Skipf("corpus missing: %s; the real-capture tests need ../shared/corpus next to the repository", dir)
	}
	return dir
}

func corpusFiles(tb testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(corpusDir(tb), "pcap", "*"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus captures: %v", err)
	}
	return files
}

// expectation is the part of expected.json this package can check: which endpoints
// are servers.
type expectation struct {
	File  string                    `json:"file"`
	TLS   []struct{ Server string } `json:"tls"`
	HTTP  []struct{ Server string } `json:"http_auth"`
	MQTT  []struct{ Server string } `json:"mqtt_connect"`
	HL7   []struct{ Server string } `json:"hl7"`
	DICOM []struct{ Server string } `json:"dicom_assoc"`
}

// endpoint parses expected.json's "ip:port", where an IPv6 address is not bracketed.
func endpoint(tb testing.TB, s string) netip.AddrPort {
	i := strings.LastIndexByte(s, ':')
	a, err := netip.ParseAddr(s[:max(i, 0)])
	p, perr := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil || perr != nil {
		tb.Fatalf("bad endpoint %q", s)
	}
	return netip.AddrPortFrom(a, uint16(p))
}

// tlsDetect is a minimal TLS recogniser: a handshake record, from the server when it
// carries a ServerHello.
func tlsDetect(b []byte) dissect.Match {
	if len(b) < 6 {
		if len(b) == 0 || b[0] == 0x16 {
			return dissect.Match{Verdict: dissect.NeedMore}
		}
		return dissect.Match{}
	}
	if b[0] != 0x16 || b[1] != 3 {
		return dissect.Match{}
	}
	return dissect.Match{Verdict: dissect.Yes, FromServer: b[5] == 2}
}

// TestCorpus runs every real capture through the engine with a dissector that claims
// every stream, and checks that TCP payload reaches it and that the servers an
// independent analyser names are the servers the engine names.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exps []expectation
	if err := json.Unmarshal(raw, &exps); err != nil {
		t.Fatal(err)
	}
	if len(exps) != len(corpusFiles(t)) {
		t.Errorf("expected.json has %d entries for %d files", len(exps), len(corpusFiles(t)))
	}
	for _, exp := range exps {
		t.Run(exp.File, func(t *testing.T) {
			var tls, anything recorder
			set := observe.NewSet()
			e := NewEngine(Config{Dissectors: []dissect.Dissector{
				tls.dissector("tls", tlsDetect),
				anything.dissector("other", nil),
			}}, set)
			if err := e.ReadFile(filepath.Join(dir, "pcap", exp.File)); err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			e.Finish()
			var payload int
			for _, s := range append(tls.streams, anything.streams...) {
				payload += s.bytes[0] + s.bytes[1]
				if s.ends != 1 {
					t.Errorf("stream %s ended %d times", s.ctx.Flow, s.ends)
				}
			}
			if payload == 0 {
				t.Errorf("no TCP payload delivered; counters %v", set.Counters)
			}
			if len(set.Problems) != 0 {
				t.Errorf("problems: %v", set.Problems)
			}
			if len(set.Hosts) == 0 {
				t.Errorf("no hosts recorded")
			}
			// Every server the independent analyser names is a server here, and a TLS
			// server's stream went to the TLS recogniser.
			servers := map[string]map[netip.AddrPort]bool{"tls": {}, "other": {}}
			for _, s := range tls.streams {
				servers["tls"][s.ctx.Flow.Server] = true
			}
			for _, s := range anything.streams {
				servers["other"][s.ctx.Flow.Server] = true
			}
			check := func(kind, proto string, want []struct{ Server string }) {
				for _, s := range want {
					ep := endpoint(t, s.Server)
					if set.Services["tcp/"+ep.String()+"/passive"] == nil {
						t.Errorf("%s server %s not recorded as a service; services %v", kind, ep, keys(set.Services))
					}
					if !servers[proto][ep] {
						t.Errorf("%s server %s is the server of no %s stream", kind, ep, proto)
					}
				}
			}
			check("tls", "tls", exp.TLS)
			check("http", "other", exp.HTTP)
			check("mqtt", "other", exp.MQTT)
			check("hl7", "other", exp.HL7)
			check("dicom", "other", exp.DICOM)
			t.Logf("%d packets, %d streams, %d payload bytes, counters %v", counterValue(set, "packets"),
				len(tls.streams)+len(anything.streams), payload, set.Counters)
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
