package realsoft

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/internal/testproc"
)

// The signs of interception (rules/intercept), raised by real attacks on a small
// Ethernet segment: a bridge in a "switch" namespace and a namespace per host, each
// joined to it by a veth pair, captured by tcpdump on the bridge as a SPAN port would.
// Each attack has a clean twin (the same hosts and traffic without the attack), on
// which the sign must stay quiet. Traffic never leaves the namespaces; every process is
// bounded in time and killed by PID when its test ends (testproc).

// lan is one segment: the switch namespace and its hosts.
type lan struct {
	t     *testing.T
	ip    string
	sw    string
	hosts map[string]string // host name -> namespace
	n     int
	cap   *testproc.Capturer
	dir   string
}

// newLAN makes the switch namespace with its bridge, and deletes every namespace it
// made when the test ends.
func newLAN(t *testing.T) *lan {
	t.Helper()
	if os.Geteuid() != 0 {
		if testproc.Required(envRequire) {
			t.Fatal("network namespaces need root")
		}
		t.Skip("skipping: network namespaces need root")
	}
	l := &lan{t: t, ip: requireTool(t, "ip", "iproute2"), hosts: map[string]string{}, dir: t.TempDir()}
	l.sw = l.netns("sw")
	l.cmd("-n", l.sw, "link", "add", "br0", "type", "bridge")
	l.cmd("-n", l.sw, "link", "set", "br0", "up")
	return l
}

// netns makes a namespace named after the test's process and role.
func (l *lan) netns(role string) string {
	ns := fmt.Sprintf("medscan-i%d-%s", os.Getpid(), role)
	l.cmd("netns", "add", ns)
	l.t.Cleanup(func() { exec.Command(l.ip, "netns", "del", ns).Run() })
	l.cmd("-n", ns, "link", "set", "lo", "up")
	return ns
}

// host adds a host with a MAC and address (CIDR, "" for none) on the segment.
func (l *lan) host(name, mac, addr string) string {
	l.t.Helper()
	ns := l.netns(name)
	l.n++
	port := fmt.Sprintf("p%d", l.n)
	l.cmd("-n", l.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.cmd("-n", l.sw, "link", "set", port, "master", "br0")
	l.cmd("-n", l.sw, "link", "set", port, "up")
	l.cmd("-n", ns, "link", "set", "eth0", "address", mac)
	if addr != "" {
		l.cmd("-n", ns, "addr", "add", addr, "dev", "eth0")
	}
	l.cmd("-n", ns, "link", "set", "eth0", "up")
	l.hosts[name] = ns
	return ns
}

func (l *lan) cmd(args ...string) {
	l.t.Helper()
	if out, err := ipRun(l.ip, args...); err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func ipRun(ip string, args ...string) (string, error) {
	out, err := exec.Command(ip, args...).CombinedOutput()
	return string(out), err
}

// in runs a program in a host's namespace to its end, within limit.
func (l *lan) in(host string, limit time.Duration, name string, args ...string) string {
	l.t.Helper()
	return run(l.t, limit, nil, l.ip, append([]string{"netns", "exec", l.hosts[host], name}, args...)...)
}

// start starts a long-running program in a host's namespace; it is killed by PID when
// the test ends.
func (l *lan) start(host string, name string, args ...string) *testproc.Process {
	l.t.Helper()
	return testproc.Start(l.t, l.ip, append([]string{"netns", "exec", l.hosts[host], name}, args...)...)
}

// capture starts tcpdump on the bridge (promiscuous: every frame the switch forwards).
func (l *lan) capture(filter string) {
	l.t.Helper()
	tcpdump := requireTool(l.t, "tcpdump", "tcpdump")
	wrapper := filepath.Join(l.dir, "tcpdump")
	script := "#!/bin/sh\nexec " + l.ip + " netns exec " + l.sw + " " + tcpdump + ` "$@"` + "\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		l.t.Fatal(err)
	}
	l.cap = testproc.StartCapture(l.t, wrapper, "br0", filter, filepath.Join(l.dir, "lan.pcap"), envRequire)
}

// scan stops the capture and scans it with the built binary.
func (l *lan) scan() *scanned {
	l.t.Helper()
	raw := l.cap.Stop(l.t)
	keep(l.t, ".pcap", raw)
	return scan(l.t, l.cap.Path)
}

// rule lists the findings of one rule.
func (s *scanned) rule(id string) []findings.Finding {
	var out []findings.Finding
	for _, f := range s.Findings {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

const (
	macMW      = "02:00:5e:00:00:05"
	macDevice  = "02:00:5e:00:00:07"
	macAttack  = "02:00:5e:00:00:66"
	macServer2 = "02:00:5e:00:00:02"
)

// TestARPSpoofing poisons a device's ARP cache for the middleware's address (and the
// middleware's for the device's) with arpspoof from dsniff, while the middleware keeps
// claiming its address: arp-spoofing must name the attacker's MAC on the middleware's
// address; the clean twin raises nothing.
func TestARPSpoofing(t *testing.T) {
	for _, attack := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean", true: "arpspoof"}[attack], func(t *testing.T) {
			arping := requireTool(t, "arping", "iputils-arping")
			var arpspoof string
			if attack {
				arpspoof = requireTool(t, "arpspoof", "dsniff")
			}
			l := newLAN(t)
			l.host("mw", macMW, "10.9.0.5/24")
			l.host("dev", macDevice, "10.9.0.7/24")
			l.host("att", macAttack, "10.9.0.66/24")
			l.capture("arp")
			// Both hosts keep asking for each other, as hosts that talk do: each request
			// claims its sender's address.
			mw := l.start("mw", arping, "-c", "7", "-i", "1", "-I", "eth0", "10.9.0.7")
			dev := l.start("dev", arping, "-c", "7", "-i", "1", "-I", "eth0", "10.9.0.5")
			time.Sleep(1500 * time.Millisecond)
			if attack {
				spoof := l.start("att", arpspoof, "-i", "eth0", "-r", "-t", "10.9.0.7", "10.9.0.5")
				time.Sleep(3 * time.Second)
				spoof.Kill() // killed, not interrupted: no re-ARP of the true bindings
			}
			mw.WaitExit(15 * time.Second)
			dev.WaitExit(15 * time.Second)
			s := l.scan()
			got := s.rule("arp-spoofing")
			if !attack {
				if len(got) > 0 {
					t.Fatalf("arp-spoofing raised on a clean segment: %s", s.findingList())
				}
				return
			}
			f := s.finding(t, "arp-spoofing", "10.9.0.5", 0)
			if f.Subject != macAttack || findings.EvidenceString(f.Evidence, "suspect_mac") != macAttack {
				t.Errorf("suspect %q, evidence %v; want the attacker's MAC %s", f.Subject, f.Evidence, macAttack)
			}
			if !strings.Contains(f.Message, "10.9.0.7") {
				t.Errorf("message %q does not say the attacker claims the device's address too", f.Message)
			}
			for _, g := range got {
				if g.Subject != macAttack {
					t.Errorf("arp-spoofing blamed %s on %s: %s", g.Subject, g.Host, g.Message)
				}
			}
		})
	}
}

// TestDHCPRogue runs the segment's dnsmasq and, in the attack, a second one handing out
// itself as the gateway; a busybox udhcpc client asks for a lease. dhcp-rogue must name
// the second server; with one server it is quiet.
func TestDHCPRogue(t *testing.T) {
	for _, attack := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean", true: "two-servers"}[attack], func(t *testing.T) {
			dnsmasq := requireTool(t, "dnsmasq", "dnsmasq-base")
			busybox := requireTool(t, "busybox", "busybox")
			l := newLAN(t)
			l.host("dhcp", macServer2, "10.9.0.2/24")
			l.host("dev", macDevice, "")
			if attack {
				l.host("att", macAttack, "10.9.0.66/24")
			}
			l.capture("udp port 67 or udp port 68")
			serve := func(host, rng, router string) {
				l.start(host, dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=eth0", "--bind-interfaces",
					"--dhcp-range="+rng+",255.255.255.0,1h", "--dhcp-option=3,"+router, "--no-resolv", "--no-hosts",
					"--leasefile-ro", "--pid-file="+filepath.Join(l.dir, host+".pid"), "--user=root", "--log-facility=-")
			}
			serve("dhcp", "10.9.0.100,10.9.0.150", "10.9.0.1")
			if attack {
				serve("att", "10.9.0.200,10.9.0.250", "10.9.0.66")
			}
			time.Sleep(time.Second) // the servers bind
			l.in("dev", 30*time.Second, busybox, "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", "/bin/true")
			time.Sleep(time.Second) // the second server's offer, if it came last
			s := l.scan()
			got := s.rule("dhcp-rogue")
			if !attack {
				if len(got) > 0 {
					t.Fatalf("dhcp-rogue raised with one server: %s", s.findingList())
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("dhcp-rogue: want one finding, got %s", s.findingList())
			}
			f := got[0]
			if f.Host != "10.9.0.2" && f.Host != "10.9.0.66" {
				t.Errorf("dhcp-rogue on %s: %s", f.Host, f.Message)
			}
			if len(findings.EvidenceStrings(f.Evidence, "clients")) != 1 || !strings.Contains(f.Message, "10.9.0.") {
				t.Errorf("evidence %v, message %q", f.Evidence, f.Message)
			}
		})
	}
}

// tlsFiles writes a site CA, a server certificate it issued for ehr.site.example, and a
// self-signed certificate for the same name (what an intercepting proxy presents), each
// with its key, as PEM files in dir.
func tlsFiles(t *testing.T, dir string) {
	t.Helper()
	now := time.Now()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name string, der []byte, k *ecdsa.PrivateKey) {
		kd, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tmpl := func(serial int64, cn string, ca bool) *x509.Certificate {
		c := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(200 * 24 * time.Hour), BasicConstraintsValid: true, IsCA: ca}
		if ca {
			c.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
		} else {
			c.DNSNames, c.ExtKeyUsage = []string{"ehr.site.example"}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			c.KeyUsage = x509.KeyUsageDigitalSignature
		}
		return c
	}
	caKey, srvKey, mitmKey := key(), key(), key()
	ca := tmpl(1, "Site Root", true)
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvDER, err := x509.CreateCertificate(rand.Reader, tmpl(2, "ehr.site.example", false), caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	m := tmpl(3, "ehr.site.example", false)
	mitmDER, err := x509.CreateCertificate(rand.Reader, m, m, &mitmKey.PublicKey, mitmKey)
	if err != nil {
		t.Fatal(err)
	}
	write("ca", caDER, caKey)
	write("server", srvDER, srvKey)
	write("mitm", mitmDER, mitmKey)
	// The server sends its chain: leaf and CA.
	chain, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err := os.WriteFile(filepath.Join(dir, "chain.crt"), chain, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTLSCertSubstituted has two clients talk TLS 1.2 to the EHR's address; in the
// attack, between their handshakes, the address moves to a host whose openssl s_server
// answers with a self-signed key for the same name (announced with gratuitous ARP, as a
// takeover does). tls-cert-substituted must name that key on the EHR's endpoint; the
// clean twin, in which both clients reach the EHR, raises nothing.
func TestTLSCertSubstituted(t *testing.T) {
	for _, attack := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean", true: "substituted"}[attack], func(t *testing.T) {
			openssl := requireTool(t, "openssl", "openssl")
			arping := requireTool(t, "arping", "iputils-arping")
			l := newLAN(t)
			l.host("ehr", macMW, "10.9.0.20/24")
			l.host("c1", "02:00:5e:00:00:31", "10.9.0.31/24")
			l.host("c2", "02:00:5e:00:00:32", "10.9.0.32/24")
			l.host("att", macAttack, "")
			tlsFiles(t, l.dir)
			l.capture("tcp port 4443 or arp")
			server := func(host, name string, extra ...string) {
				args := append([]string{"s_server", "-accept", "4443", "-cert", filepath.Join(l.dir, name+".crt"),
					"-key", filepath.Join(l.dir, name+".key"), "-no_tls1_3", "-quiet"}, extra...)
				testproc.StartHoldingStdin(t, l.ip, append([]string{"netns", "exec", l.hosts[host], openssl}, args...)...)
			}
			server("ehr", "server", "-cert_chain", filepath.Join(l.dir, "chain.crt"))
			server("att", "mitm")
			time.Sleep(time.Second)
			hello := func(client string) {
				l.in(client, 20*time.Second, "sh", "-c", openssl+" s_client -connect 10.9.0.20:4443 -servername ehr.site.example -tls1_2 </dev/null >/dev/null 2>&1; true")
			}
			hello("c1")
			if attack {
				l.cmd("-n", l.hosts["ehr"], "addr", "del", "10.9.0.20/24", "dev", "eth0")
				l.cmd("-n", l.hosts["att"], "addr", "add", "10.9.0.20/24", "dev", "eth0")
				l.in("att", 10*time.Second, arping, "-U", "-c", "1", "-I", "eth0", "10.9.0.20")
				l.cmd("-n", l.hosts["c2"], "neigh", "flush", "all")
			}
			hello("c2")
			hello("c1")
			s := l.scan()
			if n := len(s.TLSSessions); n == 0 {
				t.Fatalf("no TLS session captured: %s", s.findingList())
			}
			got := s.rule("tls-cert-substituted")
			if !attack {
				if len(got) > 0 {
					t.Fatalf("tls-cert-substituted raised without an attack: %s", s.findingList())
				}
				return
			}
			f := s.finding(t, "tls-cert-substituted", "10.9.0.20", 4443)
			if findings.EvidenceString(f.Evidence, "reason") != "self-signed" || !strings.Contains(f.Message, "10.9.0.32") {
				t.Errorf("message %q, evidence %v", f.Message, f.Evidence)
			}
		})
	}
}

// smtpServer is a small SMTP server offering STARTTLS (RFC 3207): argv certificate,
// key, address, port. Each connection is served in a thread, bounded by a timeout.
const smtpServer = `import socket, ssl, sys, threading
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ls = socket.create_server((sys.argv[3], int(sys.argv[4])))
print("listening", flush=True)
def serve(c):
    c.settimeout(10)
    tls = False
    r = c.makefile("rb")
    c.sendall(b"220 mx.site.example ESMTP ready\r\n")
    data = False
    while True:
        line = r.readline(4096)
        if not line:
            break
        if data:
            if line in (b".\r\n", b".\n"):
                data = False
                c.sendall(b"250 2.0.0 queued\r\n")
            continue
        verb = line.split(b" ")[0].strip().upper()
        if verb == b"EHLO":
            c.sendall(b"250-mx.site.example\r\n" + (b"" if tls else b"250-STARTTLS\r\n") + b"250 8BITMIME\r\n")
        elif verb == b"STARTTLS" and not tls:
            c.sendall(b"220 2.0.0 ready to start TLS\r\n")
            c = ctx.wrap_socket(c, server_side=True)
            r = c.makefile("rb")
            tls = True
        elif verb == b"DATA":
            data = True
            c.sendall(b"354 go ahead\r\n")
        elif verb == b"QUIT":
            c.sendall(b"221 bye\r\n")
            break
        else:
            c.sendall(b"250 ok\r\n")
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`

// stripProxy relays argv[1]'s ports to the server's loopback ports (argv[2], pairs
// front:back); for the clients named in the rest of argv it deletes the offer of
// STARTTLS from what the server says, as a downgrading box in the middle does: SMTP's
// EHLO line, the IMAP capability lists (the greeting's [CAPABILITY ...] and
// "* CAPABILITY") and the STLS line of POP3's CAPA answer. Every relay is bounded: it
// exits after two minutes.
const stripProxy = `import re, socket, sys, threading
addr = sys.argv[1]
pairs = [tuple(int(x) for x in p.split(":")) for p in sys.argv[2].split(",")]
strip = set(sys.argv[3:])
cap = re.compile(rb"^(\* (?:OK \[)?CAPABILITY .*?) STARTTLS\b", re.I)
offers = (b"250-STARTTLS", b"250 STARTTLS", b"STLS")
def pump(src, dst, filt):
    buf = b""
    try:
        while True:
            b = src.recv(4096)
            if not b:
                break
            if filt:
                buf += b
                lines = buf.split(b"\r\n")
                buf = lines.pop()
                out = [cap.sub(rb"\1", l) for l in lines if l.upper() not in offers]
                b = b"".join(l + b"\r\n" for l in out)
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def relay(c, peer, back):
    c.settimeout(10)
    s = socket.create_connection(("127.0.0.1", back), timeout=10)
    threading.Thread(target=pump, args=(c, s, False), daemon=True).start()
    pump(s, c, peer[0] in strip)
def serve(front, back):
    ls = socket.create_server((addr, front))
    while True:
        c, peer = ls.accept()
        threading.Thread(target=relay, args=(c, peer, back), daemon=True).start()
for front, back in pairs:
    threading.Thread(target=serve, args=(front, back), daemon=True).start()
print("listening", flush=True)
threading.Event().wait(120)
`

// smtpClient sends one message, upgrading with STARTTLS when the server offers it, as
// most mail clients and devices that send reports by mail do (opportunistic TLS).
const smtpClient = `import smtplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10)
s.ehlo("pump")
if s.has_extn("starttls"):
    s.starttls(context=ctx)
    s.ehlo("pump")
s.sendmail("pump@site.example", ["ehr@site.example"], "Subject: observations\r\n\r\nvital signs\r\n")
s.quit()
`

// TestTLSStripped sends mail from two devices through the mail server's front (a relay
// in the server's namespace, standing for whatever sits on the path); in the attack the
// relay deletes STARTTLS from the EHLO reply for the second device, which then sends in
// clear. tls-stripped must name the server; with STARTTLS left alone it is quiet.
func TestTLSStripped(t *testing.T) {
	for _, attack := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean", true: "stripped"}[attack], func(t *testing.T) {
			python := requireTool(t, "python3", "python3")
			l := newLAN(t)
			l.host("mx", macMW, "10.9.0.25/24")
			l.host("c1", "02:00:5e:00:00:31", "10.9.0.31/24")
			l.host("c2", "02:00:5e:00:00:32", "10.9.0.32/24")
			tlsFiles(t, l.dir)
			for name, src := range map[string]string{"server.py": smtpServer, "proxy.py": stripProxy, "client.py": smtpClient} {
				if err := os.WriteFile(filepath.Join(l.dir, name), []byte(src), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			l.capture("tcp port 2525")
			srv := l.start("mx", python, "-u", filepath.Join(l.dir, "server.py"), filepath.Join(l.dir, "server.crt"),
				filepath.Join(l.dir, "server.key"), "127.0.0.1", "2626")
			srv.WaitFor(t, "stdout", "listening", 15*time.Second)
			args := []string{"-u", filepath.Join(l.dir, "proxy.py"), "10.9.0.25", "2525:2626"}
			if attack {
				args = append(args, "10.9.0.32")
			}
			proxy := l.start("mx", python, args...)
			proxy.WaitFor(t, "stdout", "listening", 15*time.Second)
			for _, c := range []string{"c1", "c2", "c1"} {
				l.in(c, 30*time.Second, python, filepath.Join(l.dir, "client.py"), "10.9.0.25", "2525")
			}
			s := l.scan()
			got := s.rule("tls-stripped")
			if !attack {
				if len(got) > 0 {
					t.Fatalf("tls-stripped raised without an attack: %s", s.findingList())
				}
				if len(s.StartTLSGreetings) == 0 {
					t.Fatal("no EHLO reply was read: the clean run proves nothing")
				}
				return
			}
			f := s.finding(t, "tls-stripped", "10.9.0.25", 2525)
			if !strings.Contains(f.Message, "not to 10.9.0.32") {
				t.Errorf("message %q does not name the client that saw no STARTTLS", f.Message)
			}
		})
	}
}
