package realsoft

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
)

// certSpec is a certificate made with openssl for TestOpenSSLCertKeys: its key file
// (shared between specs by name), its subject and extensions, its issuer and digest.
type certSpec struct {
	name, key, cn string
	ext           string // the x509v3 extensions, one per line
	days          int
	selfSigned    bool   // signed by its own key; otherwise by the test CA
	digest        string // -sha256 or -sha1
}

// makeCerts writes a test CA and the certificates of specs into dir with openssl:
// name.crt and, per key name, key.key.
func makeCerts(t *testing.T, openssl, dir string, specs []certSpec) {
	t.Helper()
	ossl := func(args ...string) { run(t, 30*time.Second, nil, openssl, args...) }
	in := func(name string) string { return filepath.Join(dir, name) }
	ossl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", in("ca.key"))
	ossl("req", "-x509", "-new", "-key", in("ca.key"), "-subj", "/CN=Ward Device CA", "-days", "7300", "-sha256", "-out", in("ca.crt"))
	keys := map[string]bool{}
	for i, s := range specs {
		if !keys[s.key] {
			keys[s.key] = true
			// RSA, so that the SHA-1 certificates are signed as a 2010s device's were.
			ossl("genrsa", "-out", in(s.key+".key"), "2048")
		}
		if err := os.WriteFile(in(s.name+".ext"), []byte(s.ext), 0o600); err != nil {
			t.Fatal(err)
		}
		ossl("req", "-new", "-key", in(s.key+".key"), "-subj", "/CN="+s.cn, "-out", in(s.name+".csr"))
		args := []string{"x509", "-req", "-in", in(s.name + ".csr"), "-days", strconv.Itoa(s.days), s.digest,
			"-extfile", in(s.name + ".ext"), "-set_serial", strconv.Itoa(1000 + i), "-out", in(s.name + ".crt")}
		if s.selfSigned {
			args = append(args, "-signkey", in(s.key+".key"))
		} else {
			args = append(args, "-CA", in("ca.crt"), "-CAkey", in("ca.key"))
		}
		ossl(args...)
	}
}

// TestOpenSSLCertKeys checks the certificate and key rules' judgement of real
// certificates made by openssl, served by openssl s_server on several loopback addresses
// and presented by s_client, through the medscan binary:
//   - one certificate (one key, one subject and name) on 127.0.0.1 and 127.0.0.2 is one
//     service on two hosts: key-shared at low, each naming the other;
//   - one key in certificates for two different subjects on 127.0.0.3 and 127.0.0.4 is
//     key-shared at high;
//   - a self-signed, non-CA leaf signed with SHA-1 is cert-self-signed, never
//     cert-weak-signature; a SHA-1 leaf the CA signed still is cert-weak-signature;
//   - client certificates are judged by the client limits: five years is within them
//     (the 825 days of server certificates would flag it), fifteen is medium (not the
//     high of a server leaf beyond ten years).
func TestOpenSSLCertKeys(t *testing.T) {
	openssl := requireTool(t, "openssl", "openssl")
	dir := t.TempDir()
	const server = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
	const client = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
	specs := []certSpec{
		{name: "svc", key: "svc", cn: "ehr.ward.example", ext: server + "subjectAltName=DNS:ehr.ward.example\n", days: 365, digest: "-sha256"},
		{name: "pump-a", key: "pump", cn: "pump-0101", ext: server + "subjectAltName=DNS:pump-0101.ward.example\n", days: 365, digest: "-sha256"},
		{name: "pump-b", key: "pump", cn: "pump-0102", ext: server + "subjectAltName=DNS:pump-0102.ward.example\n", days: 365, digest: "-sha256"},
		{name: "selfsha1", key: "monitor", cn: "monitor-0201", ext: server, days: 365, selfSigned: true, digest: "-sha1"},
		{name: "casha1", key: "lab", cn: "lab-0301", ext: server, days: 365, digest: "-sha1"},
		{name: "engine", key: "engine", cn: "engine.ward.example", ext: server, days: 365, digest: "-sha256"},
		{name: "dev5y", key: "dev5y", cn: "analyzer-5y", ext: client, days: 1826, digest: "-sha256"},
		{name: "dev15y", key: "dev15y", cn: "analyzer-15y", ext: client, days: 5479, digest: "-sha256"},
	}
	makeCerts(t, openssl, dir, specs)
	in := func(name string) string { return filepath.Join(dir, name) }

	port := freePort(t)
	capt := startCapture(t, port)
	// serve runs s_server on addr for n connections and a TLS 1.2 s_client for each of
	// clients (extra s_client arguments), then waits for the server to end.
	// SECLEVEL=0 on both sides lets OpenSSL 3 use and accept the SHA-1 certificates.
	serve := func(addr, cert string, serverArgs []string, clients ...[]string) {
		hp := net.JoinHostPort(addr, strconv.Itoa(port))
		args := append([]string{"s_server", "-accept", hp, "-cert", in(cert + ".crt"), "-key", in(specKey(specs, cert) + ".key"),
			"-naccept", strconv.Itoa(len(clients)), "-cipher", "DEFAULT@SECLEVEL=0"}, serverArgs...)
		srv := testproc.StartHoldingStdin(t, openssl, args...)
		srv.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)
		for _, extra := range clients {
			cargs := append([]string{"s_client", "-connect", hp, "-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0"}, extra...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := exec.CommandContext(ctx, openssl, cargs...).CombinedOutput() // stdin is /dev/null
			cancel()
			if err != nil {
				t.Fatalf("s_client %v: %v\n%s\nserver: %s", cargs, err, out, srv.Output())
			}
		}
		if !srv.WaitExit(5 * time.Second) {
			t.Fatalf("s_server on %s did not end after %d connections: %s", hp, len(clients), srv.Output())
		}
	}
	serve("127.0.0.1", "svc", nil, []string{"-servername", "ehr.ward.example"})
	serve("127.0.0.2", "svc", nil, []string{"-servername", "ehr.ward.example"})
	serve("127.0.0.3", "pump-a", nil, nil)
	serve("127.0.0.4", "pump-b", nil, nil)
	serve("127.0.0.5", "selfsha1", nil, nil)
	serve("127.0.0.6", "casha1", nil, nil)
	serve("127.0.0.7", "engine", []string{"-Verify", "1", "-CAfile", in("ca.crt")},
		[]string{"-cert", in("dev5y.crt"), "-key", in("dev5y.key")},
		[]string{"-cert", in("dev15y.crt"), "-key", in("dev15y.key")})
	raw := capt.stop(t)
	pcap := filepath.Join(t.TempDir(), "certkeys.pcap")
	if err := os.WriteFile(pcap, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s := scan(t, pcap)

	// One service on two hosts: low, each naming the other.
	for _, pair := range [][2]string{{"127.0.0.1", "127.0.0.2"}, {"127.0.0.2", "127.0.0.1"}} {
		f := s.finding(t, "key-shared", pair[0], port)
		other := net.JoinHostPort(pair[1], strconv.Itoa(port))
		if f.Severity != findings.Low || findings.EvidenceString(f.Evidence, "shared_as") != "one-service" ||
			!strings.Contains(f.Message, other) || !strings.Contains(f.Message, "CN=ehr.ward.example") {
			t.Errorf("key-shared on %s: %s %q, evidence %v", pair[0], f.Severity, f.Message, f.Evidence)
		}
	}
	// Two identities on one key: high.
	for _, host := range []string{"127.0.0.3", "127.0.0.4"} {
		f := s.finding(t, "key-shared", host, port)
		if f.Severity != findings.High || findings.EvidenceString(f.Evidence, "shared_as") != "different-identities" {
			t.Errorf("key-shared on %s: %s %q, evidence %v", host, f.Severity, f.Message, f.Evidence)
		}
	}
	for _, host := range []string{"127.0.0.5", "127.0.0.6", "127.0.0.7"} {
		s.noFinding(t, "key-shared", host, port)
	}
	// A self-signed SHA-1 leaf: self-signed, not weak-signature; a CA-signed one is.
	s.finding(t, "cert-self-signed", "127.0.0.5", port)
	s.noFinding(t, "cert-weak-signature", "127.0.0.5", port)
	if f := s.finding(t, "cert-weak-signature", "127.0.0.6", port); f.Severity != findings.High {
		t.Errorf("cert-weak-signature on the CA-signed SHA-1 leaf: %s", f.Severity)
	}
	// Client certificates by the client limits: the client is 127.0.0.1, port 0.
	var long []findings.Finding
	for _, f := range s.Findings {
		if f.Rule == "cert-long-lived" && f.Host == "127.0.0.1" && f.Port == 0 {
			long = append(long, f)
		}
	}
	if len(long) != 1 || long[0].Severity != findings.Medium || findings.EvidenceString(long[0].Evidence, "subject") != "CN=analyzer-15y" ||
		findings.EvidenceString(long[0].Evidence, "limit") != "thresholds.client_max_days" {
		t.Errorf("cert-long-lived on the client: %+v; all: %s", long, s.findingList())
	}
	// The client certificates were seen as such (else the check above proves nothing).
	var clientCerts int
	for _, c := range s.Certificates {
		if slices.ContainsFunc(c.SeenOn, func(o findings.Sighting) bool { return o.Role == "client" }) {
			clientCerts++
		}
	}
	if clientCerts != 2 {
		t.Errorf("medscan saw %d client certificates, want 2", clientCerts)
	}
}

// specKey is the key file name of the certificate named name.
func specKey(specs []certSpec, name string) string {
	i := slices.IndexFunc(specs, func(s certSpec) bool { return s.name == name })
	return specs[i].key
}
