package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/pcapw"
)

// tlsListener serves TLS 1.2 with a self-signed certificate valid for 30 years (a
// device's factory certificate) on addr, counting the connections it accepts.
func tlsListener(t *testing.T, addr string) (port int, accepted *atomic.Int64) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pacs.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(30, 0, 0), DNSNames: []string{"pacs.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	accepted = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					tc.Read(make([]byte, 64))
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port, accepted
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return p
}

type probeReport struct {
	Scan struct {
		Sources  []string `json:"sources"`
		Complete bool     `json:"complete"`
	} `json:"scan"`
	Findings []struct {
		Rule   string `json:"rule"`
		Host   string `json:"host"`
		Port   int    `json:"port"`
		Source string `json:"source"`
	} `json:"findings"`
	Probes []struct {
		Host        string `json:"host"`
		Port        int    `json:"port"`
		Outcome     string `json:"outcome"`
		Connections int    `json:"connections"`
		TLS         *struct {
			Versions []string `json:"versions"`
			Suites   []struct {
				Version string   `json:"version"`
				Suites  []string `json:"suites"`
			} `json:"suites"`
		} `json:"tls"`
	} `json:"probes"`
	ProbeHosts []struct {
		Host        string `json:"host"`
		Connections int    `json:"connections"`
		Skipped     string `json:"skipped"`
	} `json:"probe_hosts"`
	Assets []struct {
		IP   string `json:"ip"`
		Kind string `json:"kind"`
	} `json:"assets"`
}

func parseProbeReport(t *testing.T, s string) probeReport {
	t.Helper()
	var r probeReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%.2000s", err, s)
	}
	return r
}

// TestActiveScan probes a loopback TLS server and a closed port from the CLI: the
// accepted version and suites are listed, the certificate findings carry source active,
// the closed port is a typed outcome, and every connection is accounted for.
func TestActiveScan(t *testing.T) {
	dir := t.TempDir()
	port, accepted := tlsListener(t, "127.0.0.1:0")
	closed := closedPort(t)
	res := medscan(t, dir, nil, "scan", "127.0.0.1", "-p", fmt.Sprintf("%d,%d", port, closed), "--pause", "0",
		"--format", "json", "--db", "m.db")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stderr, res.stdout)
	}
	r := parseProbeReport(t, res.stdout)
	if !r.Scan.Complete || len(r.Scan.Sources) != 1 || r.Scan.Sources[0] != "probe:127.0.0.1" {
		t.Errorf("scan = %+v", r.Scan)
	}
	if len(r.Probes) != 2 {
		t.Fatalf("probes = %+v", r.Probes)
	}
	for _, p := range r.Probes {
		switch p.Port {
		case port:
			if p.Outcome != "tls" || p.TLS == nil || strings.Join(p.TLS.Versions, ",") != "TLSv1.2" ||
				len(p.TLS.Suites) != 1 || len(p.TLS.Suites[0].Suites) < 3 {
				t.Errorf("TLS port: %+v %+v", p, p.TLS)
			}
		case closed:
			if p.Outcome != "refused" || p.Connections != 1 {
				t.Errorf("closed port: %+v", p)
			}
		}
	}
	found := map[string]string{}
	for _, f := range r.Findings {
		if f.Port == port {
			found[f.Rule] = f.Source
		}
	}
	for _, rule := range []string{"cert-long-lived", "cert-self-signed"} {
		if found[rule] != "active" {
			t.Errorf("%s: source %q, want active; findings %v", rule, found[rule], found)
		}
	}
	// Defect 10 of issue 12: the service names the suite of the prober's ordinary
	// handshake, not whichever suite the enumeration happened to try last.
	var doc struct {
		Services []struct {
			Port       int    `json:"port"`
			TLSVersion string `json:"tls_version"`
			Cipher     string `json:"cipher"`
		} `json:"services"`
		Probes []struct {
			Port int `json:"port"`
			TLS  *struct {
				NegotiatedVersion string `json:"negotiated_version"`
				NegotiatedSuite   string `json:"negotiated_suite"`
				Suites            []struct {
					Suites []string `json:"suites"`
				} `json:"suites"`
			} `json:"tls"`
		} `json:"probes"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Probes {
		if p.Port != port {
			continue
		}
		if p.TLS == nil || p.TLS.NegotiatedVersion != "TLSv1.2" || p.TLS.NegotiatedSuite == "" {
			t.Fatalf("probe of the TLS port names no negotiated suite: %+v", p.TLS)
		}
		listed := p.TLS.Suites[0].Suites
		for _, svc := range doc.Services {
			if svc.Port == port && (svc.Cipher != p.TLS.NegotiatedSuite || svc.TLSVersion != "TLSv1.2") {
				t.Errorf("service shows %s %s, want the negotiated %s TLSv1.2 (enumerated last: %s)",
					svc.TLSVersion, svc.Cipher, p.TLS.NegotiatedSuite, listed[len(listed)-1])
			}
		}
	}
	if len(r.ProbeHosts) != 1 || int64(r.ProbeHosts[0].Connections) != accepted.Load()+1 {
		t.Errorf("probe hosts %+v, server accepted %d (+1 refused)", r.ProbeHosts, accepted.Load())
	}
	for _, a := range r.Assets {
		if a.IP != "127.0.0.1" {
			t.Errorf("asset %s: the prober's own address must not become an asset", a.IP)
		}
	}
}

// hl7Capture writes a capture in which 127.0.0.5 sends an HL7 ORU^R01 (an observation
// result: what a pump or monitor sends) to 127.0.0.1, so the inventory calls 127.0.0.5 a
// medical device.
func hl7Capture(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapw.New(f, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), pcapw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dev := pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 5}, Addr: netip.MustParseAddrPort("127.0.0.5:40001")}
	eng := pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Addr: netip.MustParseAddrPort("127.0.0.1:2575")}
	c := w.TCP(dev, eng, pcapw.TCPOptions{})
	c.ClientSend([]byte("\x0bMSH|^~\\&|PUMP|ICU|LIS|HOSP|20260102030405||ORU^R01|1|P|2.5\rOBX|1|NM|RATE||5|mL/h\r\x1c\r"))
	c.ServerSend([]byte("\x0bMSH|^~\\&|LIS|HOSP|PUMP|ICU|20260102030406||ACK^R01|2|P|2.5\rMSA|AA|1\r\x1c\r"))
	c.Close()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestActiveScanSparesMedicalDevices runs captures and probing in one scan: the host
// the capture shows to be a medical device gets no connection at all, and is listed as
// skipped with the reason, until --probe-medical-devices asks for it. Everything stays on
// loopback (127.0.0.5 is a loopback address), so a failure cannot reach a real device.
func TestActiveScanSparesMedicalDevices(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "hl7.pcapng")
	hl7Capture(t, pcap)
	port, accepted := tlsListener(t, "127.0.0.5:0")
	res := medscan(t, dir, nil, "scan", "--pcap", pcap, "127.0.0.5", "-p", fmt.Sprint(port), "--pause", "0",
		"--format", "json", "--db", "m.db")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	r := parseProbeReport(t, res.stdout)
	if accepted.Load() != 0 {
		t.Fatalf("a medical device was contacted %d times", accepted.Load())
	}
	if len(r.ProbeHosts) != 1 || r.ProbeHosts[0].Connections != 0 || !strings.Contains(r.ProbeHosts[0].Skipped, "medical device") {
		t.Errorf("probe hosts = %+v", r.ProbeHosts)
	}
	if len(r.Scan.Sources) != 2 {
		t.Errorf("sources = %v: want the capture and the target", r.Scan.Sources)
	}
	// A later scan without the capture still knows the device from the store.
	res = medscan(t, dir, nil, "scan", "127.0.0.5", "-p", fmt.Sprint(port), "--pause", "0", "--format", "json", "--db", "m.db")
	if res.code != 0 || accepted.Load() != 0 {
		t.Fatalf("second scan: exit %d, %d connections\n%s", res.code, accepted.Load(), res.stderr)
	}
	// A capture in which the device shows up with nothing that identifies it ("unknown")
	// does not undo what the store knows.
	quiet := filepath.Join(dir, "quiet.pcapng")
	quietCapture(t, quiet)
	res = medscan(t, dir, nil, "scan", "--pcap", quiet, "127.0.0.5", "-p", fmt.Sprint(port), "--pause", "0", "--format", "json",
		"--db", "m.db")
	if res.code != 0 || accepted.Load() != 0 {
		t.Fatalf("scan with a capture that sees the device as unknown: exit %d, %d connections\n%s", res.code, accepted.Load(), res.stderr)
	}
	res = medscan(t, dir, nil, "scan", "127.0.0.5", "-p", fmt.Sprint(port), "--pause", "0", "--format", "json", "--db", "m.db",
		"--probe-medical-devices")
	if res.code != 0 || accepted.Load() == 0 {
		t.Fatalf("--probe-medical-devices: exit %d, %d connections\n%s", res.code, accepted.Load(), res.stderr)
	}
}

// TestActiveUsageErrors checks that bad targets, ports and profiles are usage errors
// naming the bad item, made before any store is created.
func TestActiveUsageErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "targets.txt"), []byte("10.0.0.1\n# comment\n10.0.0.300\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "10.0.0.0/33"}, `"10.0.0.0/33"`},
		{[]string{"scan", "10.0.0.9-3"}, `"10.0.0.9-3"`},
		{[]string{"scan", "127.0.0.1", "-p", "0"}, "--ports"},
		{[]string{"scan", "127.0.0.1", "-p", "80,70000"}, "70000"},
		{[]string{"scan", "127.0.0.1", "--profile", "aggressive"}, `"aggressive"`},
		{[]string{"scan", "-l", "targets.txt"}, "targets.txt:3"},
		{[]string{"scan", "127.0.0.1", "--exclude", "10.0.0.0/99"}, "--exclude"},
		{[]string{"scan", "no-such-host.invalid"}, "no-such-host.invalid"},
		{[]string{"scan", "127.0.0.1", "--rate", "0"}, "--rate"},
	} {
		res := medscan(t, dir, nil, append(tc.args, "--db", "m.db")...)
		if res.code != 2 || !strings.Contains(res.stderr, tc.want) || strings.Count(strings.TrimSpace(res.stderr), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %s", tc.args, res.code, res.stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m.db")); err == nil {
		t.Error("a usage error created the store")
	}
}

// TestActiveTargetsFromStdin reads targets from standard input (-l -) and leaves out the
// excluded ones, which get no connection.
func TestActiveTargetsFromStdin(t *testing.T) {
	dir := t.TempDir()
	port, accepted := tlsListener(t, "127.0.0.1:0")
	_, excludedHits := tlsListener(t, "127.0.0.6:"+fmt.Sprint(port))
	res := medscan(t, dir, []byte("127.0.0.1\n127.0.0.6 # excluded below\n"), "scan", "-l", "-", "--exclude", "127.0.0.6",
		"-p", fmt.Sprint(port), "--pause", "0", "--format", "json", "--db", "m.db")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if accepted.Load() == 0 || excludedHits.Load() != 0 {
		t.Errorf("target got %d connections, excluded host %d", accepted.Load(), excludedHits.Load())
	}
	if r := parseProbeReport(t, res.stdout); len(r.ProbeHosts) != 1 || r.ProbeHosts[0].Host != "127.0.0.1" {
		t.Errorf("probe hosts = %+v", r.ProbeHosts)
	}
}

// quietCapture writes a capture in which 127.0.0.5 only sends an unidentifiable datagram.
func quietCapture(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pcapw.New(f, time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC), pcapw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.UDP(pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 5}, Addr: netip.MustParseAddrPort("127.0.0.5:40000")},
		pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Addr: netip.MustParseAddrPort("127.0.0.1:40001")}, 0, []byte("ping"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
