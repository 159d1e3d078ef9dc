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
	labRogue  = "127.0.0.41" // a device with a self-signed client certificate
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
//     --pcap plus the target), which sees the server require a certificate;
//   - a device with a self-signed client certificate calls the TLS 1.2 HTTPS (s_server
//     does not refuse a certificate it cannot verify without -verify_return_error): mtls
//     too, but scanned with a policy whose trust anchor is the lab's CA, the application's
//     hop is "verified" (the EHR's and the application's certificates are the CA's) and
//     the device's "client-unanchored" (self-signed); without anchors both are
//     "not-judged".
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
		{name: "rogue", key: "rogue", cn: "rogue-pump", ext: client, days: 365, digest: "-sha256", selfSigned: true},
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
	tlsTo(labRogue, mtls12Port, ",cert="+in("rogue.crt")+",key="+in("rogue.key"), get)
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
	// One connection; its payload at least the two framed messages and their ACKs.
	if pump.Connections != 1 || pump.Packets < 6 || pump.Bytes < uint64(len(frames)) {
		t.Errorf("pump flow volume: %d connections, %d packets, %d bytes (sent %d)", pump.Connections, pump.Packets, pump.Bytes, len(frames))
	}
	if f := passive[key(labEngine, hl7TLSPort)]; f.ClientRole != findings.RoleMiddleware {
		t.Errorf("the engine's role is %q (kind %q); want middleware", f.ClientRole, f.ClientKind)
	}
	if f := passive[key(labClient, mtls12Port)]; len(f.ClientCerts) != 1 || !strings.Contains(f.ClientCerts[0], "charting-app") {
		t.Errorf("the mtls flow's client certificates: %q", f.ClientCerts)
	}
	// Without trust anchors in the policy, no mutual hop is judged.
	for _, k := range []string{key(labClient, mtls12Port), key(labRogue, mtls12Port)} {
		if f := passive[k]; f.Protection != findings.ProtectionMTLS || f.Anchoring == nil || f.Anchoring.Verdict != findings.AnchoringNotJudged {
			t.Errorf("passive, no anchors: %s: protection %q, anchoring %+v; want mtls not-judged", k, f.Protection, f.Anchoring)
		}
	}

	// With the lab's CA as the site's trust anchor: the application's hop is anchored on
	// both sides, the self-signed device's is not, and the outputs say so.
	policy := filepath.Join(dir, "site-policy.yaml")
	if err := os.WriteFile(policy, []byte("version: 1\ntrust_anchors: ca.crt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	anchored := labFlows(t, dir, "anchored.db", pcap, "--policy", policy)
	for _, tc := range []struct {
		key, verdict, server, client, why string
	}{
		{key(labClient, mtls12Port), findings.AnchoringVerified, "anchored", "anchored", "Ward Device CA"},
		{key(labRogue, mtls12Port), findings.AnchoringClientUnanchored, "anchored", "self-signed", "rogue-pump"},
	} {
		f := anchored[tc.key]
		if a := f.Anchoring; a == nil || a.Verdict != tc.verdict || a.Server != tc.server || a.Client != tc.client ||
			!strings.Contains(a.Why, tc.why) {
			t.Errorf("with anchors: %s: protection %q, anchoring %+v; want %s (server %s, client %s, naming %q)", tc.key,
				f.Protection, a, tc.verdict, tc.server, tc.client, tc.why)
		}
	}
	if f := anchored[key(labEngine, hl7TLSPort)]; f.Anchoring != nil {
		t.Errorf("the tls hop has an anchoring: %+v", *f.Anchoring)
	}
	anchoredDB := filepath.Join(dir, "anchored.db")
	for format, want := range map[string]string{
		"table":   "client-unanchored",
		"csv":     "client-unanchored",
		"dot":     "style=dotted",
		"mermaid": "mtls client-unanchored",
		"svg":     "mtls: a certificate outside the site PKI",
	} {
		if out := medscanRun(t, dir, "flows", "--db", anchoredDB, "-f", format); !strings.Contains(out, want) {
			t.Errorf("flows -f %s with anchors lacks %q:\n%.3000s", format, want, out)
		}
	}

	// The same capture with the prober on the TLS 1.3 port: the server requires a
	// client certificate, so the hop is mutual.
	active := labFlows(t, dir, "active.db", pcap, "--policy", policy, "--profile", "inventory", net.JoinHostPort(labEHR, strconv.Itoa(mtls13Port)))
	f := active[key(labClient, mtls13Port)]
	if f.Protection != findings.ProtectionMTLS || !strings.Contains(f.ProtectionWhy, "prober") ||
		strings.Join(f.Sources, ",") != "passive,active" {
		t.Errorf("with the prober: %s: protection %q (%s), sources %v; want mtls from the prober", key(labClient, mtls13Port),
			f.Protection, f.ProtectionWhy, f.Sources)
	}
	// The prober saw the server's certificate, the capture not the client's (TLS 1.3).
	if a := f.Anchoring; a == nil || a.Server != "anchored" || a.Client != findings.AnchoringNotJudged || a.Verdict != findings.AnchoringNotJudged {
		t.Errorf("with the prober and anchors: %s: anchoring %+v; want server anchored (the prober's view), client not judged",
			key(labClient, mtls13Port), a)
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
