package tsharkdiff

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/medscan/medscan/internal/testproc"
)

// capture is one file to compare, with whether it is ours (made by the test or committed)
// and so must scan completely, or given from outside and possibly truncated.
type capture struct {
	name   string
	path   string
	strict bool
}

// captureExts are the files taken from a directory named in MEDSCAN_DIFF_CAPTURES.
var captureExts = []string{".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz"}

// givenCaptures lists the captures that exist before the test runs: those named in
// MEDSCAN_DIFF_CAPTURES, the shared corpus and the committed ward capture.
func givenCaptures(t *testing.T, root string) []capture {
	t.Helper()
	var caps []capture
	if env := os.Getenv("MEDSCAN_DIFF_CAPTURES"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if p == "" {
				continue
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("MEDSCAN_DIFF_CAPTURES names %s: %v", p, err)
			}
			if !fi.IsDir() {
				caps = append(caps, capture{name: "env/" + filepath.Base(p), path: p})
				continue
			}
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				lower := strings.ToLower(path)
				if slices.ContainsFunc(captureExts, func(ext string) bool { return strings.HasSuffix(lower, ext) }) {
					rel, _ := filepath.Rel(p, path)
					caps = append(caps, capture{name: "env/" + filepath.Base(p) + "/" + rel, path: path})
				}
				return nil
			})
			if err != nil {
				t.Fatalf("MEDSCAN_DIFF_CAPTURES: walking %s: %v", p, err)
			}
		}
	}
	corpus := filepath.Join(root, "..", "shared", "corpus", "pcap")
	if ents, err := os.ReadDir(corpus); err == nil {
		for _, e := range ents {
			if !e.IsDir() {
				caps = append(caps, capture{name: "corpus/" + e.Name(), path: filepath.Join(corpus, e.Name())})
			}
		}
	} else {
		t.Logf("the shared corpus is not compared: %v", err)
	}
	ward := filepath.Join(root, "fixtures", "ward.pcapng")
	if _, err := os.Stat(ward); err == nil {
		caps = append(caps, capture{name: "ward/ward.pcapng", path: ward, strict: true})
	} else {
		t.Logf("the ward capture is not compared: %v", err)
	}
	return caps
}

// TestAgainstTshark runs tshark and medscan over every capture and requires medscan to
// report everything tshark decoded.
func TestAgainstTshark(t *testing.T) {
	tshark := requireTshark(t)
	root := testproc.RepoRoot(t)
	medscanBinary(t) // build before the parallel subtests, so a build error is reported once
	for _, c := range givenCaptures(t, root) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			diffCapture(t, tshark, c)
		})
	}
	t.Run("live", func(t *testing.T) { liveCases(t, tshark) })
}

// diffCapture compares one capture and returns medscan's report for further checks.
func diffCapture(t *testing.T, tshark string, c capture) msReport {
	t.Helper()
	ts := runTshark(t, tshark, c.path, c.strict)
	ms := runMedscan(t, c.path)
	if !ms.Scan.Complete || len(ms.Scan.Problems) > 0 {
		if c.strict {
			t.Errorf("%s: medscan did not read the capture completely: %+v", c.name, ms.Scan.Problems)
		} else {
			t.Logf("%s: medscan reports problems reading the capture: %+v", c.name, ms.Scan.Problems)
		}
	}
	n := compareOrFail(t, c.path, ts, ms)
	t.Logf("%s: compared %s", c.name, n)
	return ms
}

// TestTsharkReadsCorpusAsExpected checks the oracle side: on the shared corpus, the facts
// this package extracts with tshark must be those in expected.json, which were extracted
// independently (also with tshark). A difference means the extraction here is wrong.
func TestTsharkReadsCorpusAsExpected(t *testing.T) {
	tshark := requireTshark(t)
	dir := filepath.Join(testproc.RepoRoot(t), "..", "shared", "corpus")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the shared corpus is missing under CI: %v", err)
		}
		t.Skipf("skipping: the shared corpus is missing: %v", err)
	}
	var caps []struct {
		File string `json:"file"`
		TLS  []struct {
			Server      string   `json:"server"`
			Version     string   `json:"version"`
			CipherName  string   `json:"cipher_name"`
			SNI         string   `json:"sni"`
			ServerCerts []string `json:"server_certs"`
			ClientCerts []string `json:"client_certs"`
			CertRequest bool     `json:"cert_request"`
			DHBits      int      `json:"dh_bits"`
		} `json:"tls"`
		HTTPAuth []struct {
			Scheme string `json:"scheme"`
			Server string `json:"server"`
		} `json:"http_auth"`
		MQTT []struct {
			Server   string `json:"server"`
			Username bool   `json:"username"`
			Password bool   `json:"password"`
		} `json:"mqtt_connect"`
	}
	if err := json.Unmarshal(raw, &caps); err != nil {
		t.Fatal(err)
	}
	for _, want := range caps {
		t.Run(want.File, func(t *testing.T) {
			t.Parallel()
			got := runTshark(t, tshark, filepath.Join(dir, "pcap", want.File), true)
			var wantTLS, gotTLS []string
			for _, w := range want.TLS {
				host, port := splitServer(t, w.Server)
				wantTLS = append(wantTLS, tsHandshake{Host: host, Port: port, SNI: w.SNI, Version: w.Version, Suite: w.CipherName,
					ServerCerts: w.ServerCerts, ClientCerts: w.ClientCerts, CertRequest: w.CertRequest, DHBits: w.DHBits}.key())
			}
			for _, h := range got.Handshakes {
				h.Client = ""
				gotTLS = append(gotTLS, h.key())
			}
			slices.Sort(wantTLS)
			slices.Sort(gotTLS)
			if !slices.Equal(slices.Compact(wantTLS), slices.Compact(gotTLS)) {
				t.Errorf("TLS handshakes:\n got  %q\n want %q", gotTLS, wantTLS)
			}
			var wantAuth, gotAuth []string
			for _, w := range want.HTTPAuth {
				host, port := splitServer(t, w.Server)
				wantAuth = append(wantAuth, w.Scheme+"@"+host+":"+strconv.Itoa(port))
			}
			for _, a := range got.Auth {
				gotAuth = append(gotAuth, a.Scheme+"@"+a.Host+":"+strconv.Itoa(a.Port))
			}
			slices.Sort(wantAuth)
			slices.Sort(gotAuth)
			if !slices.Equal(slices.Compact(wantAuth), slices.Compact(gotAuth)) {
				t.Errorf("HTTP authorizations: got %q, want %q", gotAuth, wantAuth)
			}
			var wantMQTT, gotMQTT []string
			for _, w := range want.MQTT {
				host, port := splitServer(t, w.Server)
				wantMQTT = append(wantMQTT, host+":"+strconv.Itoa(port)+" "+strconv.FormatBool(w.Username)+" "+strconv.FormatBool(w.Password))
			}
			for _, m := range got.MQTT {
				gotMQTT = append(gotMQTT, m.Host+":"+strconv.Itoa(m.Port)+" "+strconv.FormatBool(m.Username)+" "+strconv.FormatBool(m.Password))
			}
			slices.Sort(wantMQTT)
			slices.Sort(gotMQTT)
			if !slices.Equal(slices.Compact(wantMQTT), slices.Compact(gotMQTT)) {
				t.Errorf("MQTT CONNECTs: got %q, want %q", gotMQTT, wantMQTT)
			}
		})
	}
}

// splitServer reads expected.json's "ip:port", where IPv6 is written without brackets.
func splitServer(t *testing.T, s string) (string, int) {
	t.Helper()
	i := strings.LastIndexByte(s, ':')
	port, err := strconv.Atoi(s[i+1:])
	if i < 0 || err != nil {
		t.Fatalf("bad server %q in expected.json", s)
	}
	return s[:i], port
}
