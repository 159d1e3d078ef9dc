package realsoft

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
)

// The lab's hosts, each its own loopback address so that the inventory sees five hosts.
const (
	labPumpA  = "127.0.0.11"
	labPumpB  = "127.0.0.12"
	labEngine = "127.0.0.20"
	labEHR    = "127.0.0.30"
	labClient = "127.0.0.40" // a clinical application with a client certificate
)

// TestLabFlows runs a small clinical network on loopback and requires medscan's flows
// to give each hop its protection, through the built binary:
//   - two pumps send HL7 (socat, from their own addresses) over MLLP in clear to the
//     interface engine (the test's MLLP listener): clear, device to middleware;
//   - the engine forwards HL7 over TLS 1.2 (socat) to the EHR (openssl s_server, no
//     client certificate asked): tls;
//   - a client with a certificate calls the EHR's HTTPS over TLS 1.2 that requires one
//     (s_server -Verify 1 -www): mtls, from the client certificate seen in the capture;
//   - the same client calls the EHR's HTTPS over TLS 1.3 that requires one: passively
//     tls-unknown-client-auth (the request and the certificate travel encrypted), and
//     mtls once the same capture is scanned with the prober on that port (medscan scan
//     --pcap plus the target), which sees the server require a certificate.
//
// The patient planted in the HL7 appears in no output of medscan flows.
func TestLabFlows(t *testing.T) {
	openssl := requireTool(t, "openssl", "openssl")
	socat := requireTool(t, "socat", "socat")
	tcpdump := requireTool(t, "tcpdump", "tcpdump")
	if buildErr != nil {
		t.Fatalf("building medscan: %v", buildErr)
	}
	dir := t.TempDir()
	const server = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
	const client = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
	specs := []certSpec{
		{name: "ehr", key: "ehr", cn: "ehr.lab.example", ext: server + "subjectAltName=DNS:ehr.lab.example\n", days: 365, digest: "-sha256"},
		{name: "app", key: "app", cn: "charting-app", ext: client, days: 365, digest: "-sha256"},
	}
	makeCerts(t, openssl, dir, specs)
	in := func(name string) string { return filepath.Join(dir, name) }

	// One port per hop; the pumps and the engine's HL7 share the engine's.
	mllpPort, hl7TLSPort, mtls12Port, mtls13Port := freePort(t), freePort(t), freePort(t), freePort(t)
	filter := "tcp port " + strconv.Itoa(mllpPort) + " or tcp port " + strconv.Itoa(hl7TLSPort) + " or tcp port " +
		strconv.Itoa(mtls12Port) + " or tcp port " + strconv.Itoa(mtls13Port)
	pcap := filepath.Join(dir, "lab.pcap")
	capt := testproc.StartCapture(t, tcpdump, "lo", filter, pcap, envRequire)

	engine := startMLLPOn(t, net.JoinHostPort(labEngine, strconv.Itoa(mllpPort)))
	var frames []byte
	for _, m := range hl7Messages {
		frames = append(frames, mllpFrame(m)...)
	}
	for _, pump := range []string{labPumpA, labPumpB} {
		run(t, 20*time.Second, bytes.NewReader(frames), socat, "-t", "2", "-",
			"TCP4:"+net.JoinHostPort(labEngine, strconv.Itoa(mllpPort))+",bind="+pump)
	}

	// The EHR's servers: s_server until the test ends, on the EHR's address.
	serve := func(port int, args ...string) *testproc.Process {
		hp := net.JoinHostPort(labEHR, strconv.Itoa(port))
		srv := testproc.StartHoldingStdin(t, openssl, append([]string{"s_server", "-accept", hp, "-cert", in("ehr.crt"),
			"-key", in("ehr.key")}, args...)...)
		srv.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)
		return srv
	}
	serve(hl7TLSPort, "-tls1_2")
	serve(mtls12Port, "-tls1_2", "-Verify", "1", "-CAfile", in("ca.crt"), "-www")
	serve(mtls13Port, "-tls1_3", "-Verify", "1", "-CAfile", in("ca.crt"), "-www")

	tlsTo := func(from string, port int, extra string, stdin []byte) {
		run(t, 20*time.Second, bytes.NewReader(stdin), socat, "-t", "2", "-",
			"OPENSSL:"+net.JoinHostPort(labEHR, strconv.Itoa(port))+",bind="+from+",verify=0"+extra)
	}
	tlsTo(labEngine, hl7TLSPort, "", frames)
	withCert := ",cert=" + in("app.crt") + ",key=" + in("app.key")
	get := []byte("GET / HTTP/1.0\r\nHost: ehr.lab.example\r\n\r\n")
	tlsTo(labClient, mtls12Port, withCert, get)
	tlsTo(labClient, mtls13Port, withCert, get)
	raw := capt.Stop(t)
	keep(t, ".pcap", raw)
	if !bytes.Contains(raw, []byte(hl7Family)) {
		t.Fatal("the capture lacks the planted patient: the HL7 in clear was not captured")
	}
	if got := engine.messages(); len(got) != 2*len(hl7Messages) {
		t.Fatalf("the engine received %d messages, want %d: %q", len(got), 2*len(hl7Messages), got)
	}

	key := func(client string, port int) string {
		return client + " -> " + net.JoinHostPort(labEHR, strconv.Itoa(port)) + "|"
	}
	mllpKey := func(pump string) string {
		return pump + " -> " + net.JoinHostPort(labEngine, strconv.Itoa(mllpPort)) + "|"
	}

	// Passive only.
	passive := labFlows(t, dir, "passive.db", pcap)
	for k, want := range map[string]string{
		mllpKey(labPumpA):          findings.ProtectionClear,
		mllpKey(labPumpB):          findings.ProtectionClear,
		key(labEngine, hl7TLSPort): findings.ProtectionTLS,
		key(labClient, mtls12Port): findings.ProtectionMTLS,
		key(labClient, mtls13Port): findings.ProtectionUnknownClientAuth,
	} {
		f, ok := passive[k]
		if !ok {
			t.Errorf("passive: no flow %s; flows: %v", k, flowKeys(passive))
			continue
		}
		if f.Protection != want {
			t.Errorf("passive: %s: protection %q (%s); want %q", k, f.Protection, f.ProtectionWhy, want)
		}
	}
	pump := passive[mllpKey(labPumpA)]
	if pump.Protocol != "hl7-mllp" || !strings.Contains(strings.Join(pump.HL7Types, " "), "ORU^R01") || pump.Findings.Critical == 0 {
		t.Errorf("pump flow: protocol %q, HL7 %v, findings %+v", pump.Protocol, pump.HL7Types, pump.Findings)
	}
	if f := passive[key(labEngine, hl7TLSPort)]; f.ClientRole != findings.RoleMiddleware {
		t.Errorf("the engine's role is %q (kind %q); want middleware", f.ClientRole, f.ClientKind)
	}
	if f := passive[key(labClient, mtls12Port)]; len(f.ClientCerts) != 1 || !strings.Contains(f.ClientCerts[0], "charting-app") {
		t.Errorf("the mtls flow's client certificates: %q", f.ClientCerts)
	}

	// The same capture with the prober on the TLS 1.3 port: the server requires a
	// client certificate, so the hop is mutual.
	active := labFlows(t, dir, "active.db", pcap, "--profile", "inventory", net.JoinHostPort(labEHR, strconv.Itoa(mtls13Port)))
	f := active[key(labClient, mtls13Port)]
	if f.Protection != findings.ProtectionMTLS || !strings.Contains(f.ProtectionWhy, "prober") ||
		strings.Join(f.Sources, ",") != "passive,active" {
		t.Errorf("with the prober: %s: protection %q (%s), sources %v; want mtls from the prober", key(labClient, mtls13Port),
			f.Protection, f.ProtectionWhy, f.Sources)
	}
	if _, ok := active[labClient+" -> "+net.JoinHostPort(labEHR, strconv.Itoa(mtls13Port))+"|"]; !ok || len(active) != len(passive) {
		t.Errorf("the prober's own connections became flows: %d flows with the prober, %d without", len(active), len(passive))
	}

	// No output of the flows command carries the patient.
	for _, format := range []string{"table", "json", "csv", "dot", "mermaid", "svg"} {
		out := medscanRun(t, dir, "flows", "--db", filepath.Join(dir, "active.db"), "-f", format)
		for _, v := range []string{hl7Family, hl7Given, hl7Patient} {
			if strings.Contains(strings.ToLower(out), strings.ToLower(v)) {
				t.Errorf("flows -f %s carries the planted %q", format, v)
			}
		}
	}
}

// labFlows scans pcap (with any extra scan arguments) into a fresh store db in dir and
// returns its flows by Flow.Key, read with medscan flows -f json.
func labFlows(t *testing.T, dir, db, pcap string, extra ...string) map[string]findings.Flow {
	t.Helper()
	args := append([]string{"scan", "--pcap", pcap, "--db", filepath.Join(dir, db), "-q", "-f", "json", "-o", filepath.Join(dir, db+".json")}, extra...)
	medscanRun(t, dir, args...)
	var flows []findings.Flow
	out := medscanRun(t, dir, "flows", "--db", filepath.Join(dir, db), "-f", "json")
	keep(t, ".flows.json", []byte(out))
	if err := json.Unmarshal([]byte(out), &flows); err != nil {
		t.Fatalf("flows -f json: %v\n%.2000s", err, out)
	}
	by := map[string]findings.Flow{}
	for _, f := range flows {
		by[f.Key()] = f
	}
	return by
}

func flowKeys(m map[string]findings.Flow) []string {
	var out []string
	for k, f := range m {
		out = append(out, k+" "+f.Protection)
	}
	return out
}

// medscanRun runs the medscan binary in dir and returns its standard output; exit 0 and
// 3 (findings at or above --fail-on, never set here) are success.
func medscanRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, medscanBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("medscan %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}
