package realsoft

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
)

// siteCA is a CA made by openssl ca in dir: its configuration, key and certificate.
type siteCA struct {
	openssl, dir, conf, key, cert string
}

// newSiteCA makes a CA the way a hospital's PKI team would with openssl ca: a database,
// a serial file, a CRL number.
func newSiteCA(t *testing.T, openssl, dir string) *siteCA {
	t.Helper()
	for _, f := range []struct{ name, data string }{{"index.txt", ""}, {"serial", "1000\n"}, {"crlnumber", "01\n"}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ca := &siteCA{openssl: openssl, dir: dir, conf: filepath.Join(dir, "ca.cnf"), key: filepath.Join(dir, "ca.key"),
		cert: filepath.Join(dir, "ca.crt")}
	conf := fmt.Sprintf(`[ ca ]
default_ca = site
[ site ]
dir = %s
database = $dir/index.txt
serial = $dir/serial
crlnumber = $dir/crlnumber
new_certs_dir = $dir
certificate = %s
private_key = %s
default_md = sha256
default_days = 365
default_crl_days = 7
policy = any
unique_subject = no
copy_extensions = copy
[ any ]
commonName = supplied
[ server ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
`, dir, ca.cert, ca.key)
	if err := os.WriteFile(ca.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, 60*time.Second, nil, openssl, "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-days", "3650", "-subj", "/CN=Ward Site CA/O=Example Hospital", "-keyout", ca.key, "-out", ca.cert)
	return ca
}

// issue has the CA sign a server certificate for name, and returns its key and
// certificate files.
func (ca *siteCA) issue(t *testing.T, name string) (key, cert string) {
	t.Helper()
	key, cert, csr := filepath.Join(ca.dir, name+".key"), filepath.Join(ca.dir, name+".crt"), filepath.Join(ca.dir, name+".csr")
	run(t, 60*time.Second, nil, ca.openssl, "req", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-subj", "/CN="+name, "-addext", "subjectAltName=DNS:"+name, "-keyout", key, "-out", csr)
	run(t, 60*time.Second, nil, ca.openssl, "ca", "-batch", "-config", ca.conf, "-extensions", "server", "-in", csr, "-out", cert)
	return key, cert
}

// TestOpenSSLRevokedCertificate is issue 19's revocation test with real software: a site
// CA made with openssl ca issues two server certificates and revokes one (keyCompromise);
// openssl s_server presents each in turn to openssl s_client under tcpdump; a policy
// naming the CRL that openssl ca generated makes medscan report cert-revoked on the
// revoked server only, with the CRL verified by the CA's certificate, and a CRL whose
// nextUpdate has passed raises revocation-stale, and nothing else does.
func TestOpenSSLRevokedCertificate(t *testing.T) {
	t.Parallel()
	openssl := requireTool(t, "openssl", "openssl")
	dir := t.TempDir()
	ca := newSiteCA(t, openssl, dir)
	revokedKey, revokedCert := ca.issue(t, "ehr-old.ward.example")
	goodKey, goodCert := ca.issue(t, "ehr.ward.example")
	run(t, 60*time.Second, nil, openssl, "ca", "-batch", "-config", ca.conf, "-revoke", revokedCert, "-crl_reason", "keyCompromise")
	crl := filepath.Join(dir, "site.crl")
	run(t, 60*time.Second, nil, openssl, "ca", "-batch", "-config", ca.conf, "-gencrl", "-out", crl)
	// A list whose nextUpdate has passed: -crlsec makes it due one second after issue.
	stale := filepath.Join(dir, "stale.crl")
	run(t, 60*time.Second, nil, openssl, "ca", "-batch", "-config", ca.conf, "-gencrl",
		"-crlsec", "1", "-out", stale)
	time.Sleep(1500 * time.Millisecond)

	// Each server in turn on one port, so that one capture holds both handshakes.
	port := freePort(t)
	capt := startCapture(t, port)
	for _, srv := range []struct{ key, cert, name string }{{revokedKey, revokedCert, "ehr-old.ward.example"}, {goodKey, goodCert, "ehr.ward.example"}} {
		s := testproc.StartHoldingStdin(t, openssl, "s_server", "-accept", fmt.Sprint(port), "-key", srv.key, "-cert", srv.cert,
			"-cert_chain", ca.cert, "-tls1_2", "-naccept", "1")
		s.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)
		run(t, 20*time.Second, strings.NewReader("Q\n"), openssl, "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port),
			"-servername", srv.name, "-tls1_2", "-CAfile", ca.cert)
		s.WaitExit(10 * time.Second)
		s.Kill()
	}
	pcap := filepath.Join(dir, "revoked.pcap")
	if err := os.WriteFile(pcap, capt.stop(t), 0o600); err != nil {
		t.Fatal(err)
	}

	var lastDB, lastPolicy string
	judge := func(policy string) findings.Report {
		t.Helper()
		p := filepath.Join(dir, "policy-"+fmt.Sprint(time.Now().UnixNano())+".yaml")
		lastDB, lastPolicy = filepath.Join(t.TempDir(), "m.db"), p
		if err := os.WriteFile(p, []byte(policy), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, medscanBin, "scan", "--pcap", pcap, "--policy", p, "-f", "json", "--db", lastDB)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
				t.Fatalf("medscan scan: %v\n%s", err, errb.String())
			}
		}
		var rep findings.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%v\n%.2000s", err, out.Bytes())
		}
		return rep
	}
	count := func(rep findings.Report, rule string) (n int, subjects []string) {
		for _, f := range rep.Findings {
			if f.Rule == rule {
				n++
				subjects = append(subjects, fmt.Sprint(f.Evidence["subject"]))
			}
		}
		return n, subjects
	}

	// The clean run: no CRL in the policy, nothing said of revocation.
	clean := judge("version: 1\n")
	for _, rule := range []string{"cert-revoked", "revocation-stale"} {
		if n, _ := count(clean, rule); n != 0 {
			t.Errorf("without a CRL in the policy: %d %s findings", n, rule)
		}
	}
	// The current CRL: the revoked server alone, its list verified by the CA.
	rep := judge("version: 1\nrevocation:\n  crls: [site.crl]\n")
	n, subjects := count(rep, "cert-revoked")
	if n != 1 || !strings.Contains(subjects[0], "ehr-old.ward.example") {
		t.Fatalf("cert-revoked: %d %v, want the one revoked server; findings: %v", n, subjects, rules(rep))
	}
	for _, f := range rep.Findings {
		if f.Rule != "cert-revoked" {
			continue
		}
		if f.Severity != findings.Critical || f.Evidence["revocation_reason"] != "keyCompromise" ||
			!strings.Contains(fmt.Sprint(f.Evidence["crl_signature"]), "verified with CN=Ward Site CA") {
			t.Errorf("cert-revoked finding: %s %v", f.Severity, f.Evidence)
		}
	}
	if n, _ := count(rep, "revocation-stale"); n != 0 {
		t.Errorf("a CRL due in 7 days was judged stale")
	}
	// medscan certs says the same of each certificate.
	out, err := exec.Command(medscanBin, "certs", "--db", lastDB, "--policy", lastPolicy, "-f", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var inv findings.CertInventory
	if err := json.Unmarshal(out, &inv); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, c := range inv.Certificates {
		status[c.Subject] = c.Revocation
	}
	if !strings.HasPrefix(status["CN=ehr-old.ward.example"], "revoked on ") || !strings.Contains(status["CN=ehr-old.ward.example"], "keyCompromise") ||
		!strings.HasPrefix(status["CN=ehr.ward.example"], "not revoked (") {
		t.Errorf("medscan certs revocation: %q", status)
	}
	// The stale CRL: revocation-stale, and the revoked server still named.
	rep = judge("version: 1\nrevocation:\n  crls: [stale.crl]\n")
	if n, _ := count(rep, "revocation-stale"); n != 1 {
		t.Errorf("revocation-stale: %d findings, want 1; findings: %v", n, rules(rep))
	}
	if n, _ := count(rep, "cert-revoked"); n != 1 {
		t.Errorf("cert-revoked with the stale CRL: %d findings, want 1", n)
	}
	// A CRL file that is not one: one line naming it.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nrevocation:\n  crls: [ca.crt]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(medscanBin, "scan", "--pcap", pcap, "--policy", bad, "--db", filepath.Join(t.TempDir(), "m.db")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "revocation.crls") || !strings.Contains(string(out), "ca.crt") ||
		strings.Count(strings.TrimSpace(string(out)), "\n") > 1 {
		t.Errorf("a certificate given as a CRL: %v\n%s", err, out)
	}
}

// rules lists a report's findings as rule@host:port, for failure messages.
func rules(rep findings.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "%s@%s:%d ", f.Rule, f.Host, f.Port)
	}
	return b.String()
}

// TestOpenSSLStapledOCSP is issue 19's stapling test: openssl ocsp answers for two
// servers of a site CA made with openssl ca, one revoked; openssl s_server staples each
// answer (-status_file) to s_client -status under tcpdump. medscan reads the staples
// passively, with no policy: cert-revoked on the revoked server alone, its response
// verified with the CA the server sent.
func TestOpenSSLStapledOCSP(t *testing.T) {
	t.Parallel()
	openssl := requireTool(t, "openssl", "openssl")
	dir := t.TempDir()
	ca := newSiteCA(t, openssl, dir)
	revokedKey, revokedCert := ca.issue(t, "pacs-old.ward.example")
	goodKey, goodCert := ca.issue(t, "pacs.ward.example")
	run(t, 60*time.Second, nil, openssl, "ca", "-batch", "-config", ca.conf, "-revoke", revokedCert, "-crl_reason", "superseded")
	port := freePort(t)
	capt := startCapture(t, port)
	for _, srv := range []struct{ key, cert, name string }{{revokedKey, revokedCert, "pacs-old.ward.example"}, {goodKey, goodCert, "pacs.ward.example"}} {
		resp := filepath.Join(dir, srv.name+".ocsp")
		run(t, 60*time.Second, nil, openssl, "ocsp", "-index", filepath.Join(dir, "index.txt"), "-rsigner", ca.cert, "-rkey", ca.key,
			"-CA", ca.cert, "-issuer", ca.cert, "-cert", srv.cert, "-respout", resp, "-ndays", "1")
		s := testproc.StartHoldingStdin(t, openssl, "s_server", "-accept", fmt.Sprint(port), "-key", srv.key, "-cert", srv.cert,
			"-cert_chain", ca.cert, "-tls1_2", "-naccept", "1", "-status_file", resp)
		s.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)
		out := run(t, 20*time.Second, strings.NewReader("Q\n"), openssl, "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port),
			"-servername", srv.name, "-tls1_2", "-status", "-CAfile", ca.cert)
		if !strings.Contains(out, "OCSP Response Status: successful") {
			t.Fatalf("s_client saw no stapled response:\n%s", out)
		}
		s.WaitExit(10 * time.Second)
		s.Kill()
	}
	pcap := filepath.Join(dir, "stapled.pcap")
	if err := os.WriteFile(pcap, capt.stop(t), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := scan(t, pcap)
	var revokedSeen int
	for _, f := range rep.Findings {
		if f.Rule != "cert-revoked" {
			continue
		}
		revokedSeen++
		if !strings.Contains(fmt.Sprint(f.Evidence["subject"]), "pacs-old.ward.example") || f.Evidence["revocation_reason"] != "superseded" ||
			f.Evidence["ocsp_signature"] != "verified with the issuer the server sent" {
			t.Errorf("cert-revoked: %v", f.Evidence)
		}
	}
	if revokedSeen != 1 {
		t.Errorf("cert-revoked findings: %d, want 1 (the revoked server's); findings: %s", revokedSeen, rules(rep.Report))
	}
	var staples int
	for _, s := range rep.TLSSessions {
		if st := s.OCSPStaple; st != nil {
			staples++
			if !st.Verified || !st.ForLeaf || (st.Status != "good" && st.Status != "revoked") {
				t.Errorf("staple read as %+v", st)
			}
		}
	}
	if staples != 2 {
		t.Errorf("%d sessions with a staple, want 2", staples)
	}
	// medscan certs, with no policy and so no CRL, says the staple revoked the old
	// server's certificate, and nothing of the good one's.
	out, err := exec.Command(medscanBin, "certs", "--db", rep.db, "-f", "json").Output()
	if err != nil {
		t.Fatalf("medscan certs: %v", err)
	}
	var inv findings.CertInventory
	if err := json.Unmarshal(out, &inv); err != nil {
		t.Fatalf("medscan certs' JSON: %v", err)
	}
	status := map[string]string{}
	for _, c := range inv.Certificates {
		status[c.Subject] = c.Revocation
	}
	var old, good string
	for subj, st := range status {
		switch {
		case strings.Contains(subj, "pacs-old.ward.example"):
			old = st
		case strings.Contains(subj, "pacs.ward.example"):
			good = st
		}
	}
	if !strings.HasPrefix(old, "revoked on ") || !strings.Contains(old, "(superseded) by the OCSP response 127.0.0.1:") || good != "" {
		t.Errorf("certs' revocation: revoked server %q, good server %q; all: %q", old, good, status)
	}
}

// TestProbeStapledOCSP is the prober's stapling check against openssl s_server
// -status_file: three servers of a site CA made with openssl ca (one revoked and
// stapling its revoked response over TLS 1.3, where the staple travels encrypted; one
// good stapling over TLS 1.2; one stapling nothing) are probed by the built binary in
// one scan, the inventory profile (one handshake each: the staple must come with it).
// cert-revoked is raised for the revoked server alone, its response verified with the
// CA the server sent, and each server's profile says whether it staples.
func TestProbeStapledOCSP(t *testing.T) {
	t.Parallel()
	openssl := requireTool(t, "openssl", "openssl")
	if buildErr != nil {
		t.Fatalf("building medscan: %v", buildErr)
	}
	dir := t.TempDir()
	ca := newSiteCA(t, openssl, dir)
	servers := []struct {
		name, version  string
		revoke, staple bool
		port           int
		key, cert      string
	}{
		{name: "pacs-old.ward.example", version: "-tls1_3", revoke: true, staple: true},
		{name: "pacs.ward.example", version: "-tls1_2", staple: true},
		{name: "ris.ward.example", version: "-tls1_3"},
	}
	for i := range servers {
		s := &servers[i]
		s.key, s.cert = ca.issue(t, s.name)
		if s.revoke {
			run(t, 60*time.Second, nil, openssl, "ca", "-batch", "-config", ca.conf, "-revoke", s.cert, "-crl_reason", "superseded")
		}
	}
	var targets []string
	for i := range servers {
		s := &servers[i]
		s.port = freePort(t)
		args := []string{"s_server", "-accept", fmt.Sprint(s.port), "-key", s.key, "-cert", s.cert, "-cert_chain", ca.cert,
			s.version, "-naccept", "1"}
		if s.staple {
			resp := filepath.Join(dir, s.name+".ocsp")
			run(t, 60*time.Second, nil, openssl, "ocsp", "-index", filepath.Join(dir, "index.txt"), "-rsigner", ca.cert, "-rkey", ca.key,
				"-CA", ca.cert, "-issuer", ca.cert, "-cert", s.cert, "-respout", resp, "-ndays", "1")
			args = append(args, "-status_file", resp)
		}
		srv := testproc.StartHoldingStdin(t, openssl, args...)
		srv.WaitFor(t, "stdout", "ACCEPT", 15*time.Second)
		t.Cleanup(srv.Kill)
		targets = append(targets, fmt.Sprintf("127.0.0.1:%d", s.port))
	}
	medscanRun(t, dir, append([]string{"scan", "--db", filepath.Join(dir, "m.db"), "-q", "--profile", "inventory", "--pause", "0",
		"-f", "json", "-o", filepath.Join(dir, "probe.json")}, targets...)...)
	raw, err := os.ReadFile(filepath.Join(dir, "probe.json"))
	if err != nil {
		t.Fatal(err)
	}
	keep(t, ".json", raw)
	var rep findings.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	var revoked []string
	for _, f := range rep.Findings {
		if f.Rule != "cert-revoked" {
			continue
		}
		revoked = append(revoked, fmt.Sprintf("%s:%d", f.Host, f.Port))
		if !strings.Contains(fmt.Sprint(f.Evidence["subject"]), "pacs-old.ward.example") || f.Evidence["revocation_reason"] != "superseded" ||
			f.Evidence["ocsp_signature"] != "verified with the issuer the server sent" || f.Source != "active" {
			t.Errorf("cert-revoked: source %s, evidence %v", f.Source, f.Evidence)
		}
	}
	if want := fmt.Sprintf("127.0.0.1:%d", servers[0].port); len(revoked) != 1 || revoked[0] != want {
		t.Errorf("cert-revoked at %v, want only %s; findings: %s", revoked, want, rules(rep))
	}
	stapling := map[int]string{}
	for _, p := range rep.Probes {
		if p.TLS != nil {
			stapling[p.Port] = p.TLS.OCSPStapling
		}
	}
	for _, s := range servers {
		want := map[bool]string{true: "yes", false: "no"}[s.staple]
		if stapling[s.port] != want {
			t.Errorf("%s (%s): ocsp_stapling %q, want %q", s.name, s.version, stapling[s.port], want)
		}
	}
	var staples int
	for _, s := range rep.TLSSessions {
		if st := s.OCSPStaple; st != nil {
			staples++
			if !st.Verified || !st.ForLeaf || (st.Status != "good" && st.Status != "revoked") {
				t.Errorf("staple read as %+v", st)
			}
		}
	}
	if staples != 2 {
		t.Errorf("%d sessions with a staple, want 2 (the revoked and the good server's)", staples)
	}
}
