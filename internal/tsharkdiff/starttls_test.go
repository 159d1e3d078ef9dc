package tsharkdiff

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/internal/pgtest"
	"github.com/medscan/medscan/internal/testproc"
)

// This file captures real servers that upgrade a cleartext protocol to TLS in place —
// MariaDB (SSL Request), PostgreSQL (SSLRequest), OpenLDAP's slapd (StartTLS) and
// Prosody (XMPP <starttls/>) — with their own clients (mariadb, psql, ldapsearch) or, for
// XMPP, a client written here that speaks the protocol up to and through the TLS
// handshake. Each server has a self-signed certificate and stops at TLS 1.2 (in TLS 1.3
// the certificate is encrypted, so neither tshark nor medscan could compare it); slapd
// also allows only TLS 1.1:
// medscan must find the TLS session behind each upgrade, agree with tshark (which reads
// each protocol with its own STARTTLS code, told the port with -d), name the service by
// its protocol, raise the findings the legacy settings call for, and report the login
// each client also makes in clear without ever writing the password out.

// upgrade is what the tests of this file share for one server.
type upgrade struct {
	dir      string // a directory the server's user may read
	crt, key string // the server's self-signed certificate and key (PEM)
	certSHA  string // the certificate's SHA-256, as medscan and tshark name it
	port     int
}

// newUpgrade makes the server's directory and certificate, and picks its port.
func newUpgrade(t *testing.T, cn string) *upgrade {
	t.Helper()
	// t.TempDir is private to root; servers that drop privileges must read this one.
	dir, err := os.MkdirTemp("", "medscan-starttls")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u := &upgrade{dir: dir, crt: filepath.Join(dir, "server.crt"), key: filepath.Join(dir, "server.key"),
		port: testproc.FreePort(t, "tcp4", "127.0.0.1")}
	// RSA: slapd's GnuTLS signs TLS 1.1 key exchanges with it (an ECDSA key there needs
	// SHA-1 signatures GnuTLS no longer makes).
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{"Ward 7"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(400 * 24 * time.Hour), DNSNames: []string{cn},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	u.certSHA = hex.EncodeToString(sum[:])
	if err := os.WriteFile(u.crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(u.key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return u
}

// chown gives the server's files to a user the server runs as.
func (u *upgrade) chown(t *testing.T, name string) {
	t.Helper()
	usr, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	uid, _ := strconv.Atoi(usr.Uid)
	gid, _ := strconv.Atoi(usr.Gid)
	err = filepath.Walk(u.dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitPort waits, bounded, until the server accepts connections on its port.
func (u *upgrade) waitPort(t *testing.T, srv *testproc.Process, limit time.Duration) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(u.port))
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp4", addr, time.Second); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("the server did not listen on %s within %v: %s", addr, limit, srv.Output())
}

// client runs a client program to its end within limit, with extra environment
// variables, and fails the test with its output if it fails.
func client(t *testing.T, limit time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = os.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// upgradeService is one services[] entry.
type upgradeService struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	Software string `json:"software"`
	StartTLS string `json:"starttls"`
}

// upgradeReport is the part of medscan's JSON report these tests read beyond msReport.
type upgradeReport struct {
	Services    []upgradeService `json:"services"`
	Credentials []struct {
		Host    string `json:"host"`
		Port    int    `json:"port"`
		Kind    string `json:"kind"`
		User    string `json:"user"`
		Preview string `json:"preview"`
		Hash    string `json:"hash"`
	} `json:"credentials"`
}

// check is what every upgrade test requires of a capture: tshark read a TLS handshake
// with the server's certificate behind the upgrade on the port; medscan agrees with
// tshark, names the service by its protocol (with the software it announced, when it
// does, and STARTTLS offered), raises the findings, reports the
// credential (kind, user, and whether it carries a secret) and writes none of the
// secrets out, in its report or its store.
func (u *upgrade) check(t *testing.T, tshark string, c *liveCapture, dissector, protocol, software string,
	findings []string, credKind, credUser string, credSecret bool, secrets []string, inCapture bool) {
	t.Helper()
	ts := runTshark(t, tshark, c.path, true, "-d", fmt.Sprintf("tcp.port==%d,%s", u.port, dissector))
	if !slices.ContainsFunc(ts.Handshakes, func(h tsHandshake) bool {
		return h.Port == u.port && slices.Equal(h.ServerCerts, []string{u.certSHA})
	}) {
		t.Fatalf("tshark saw no TLS handshake with the server's certificate on port %d (the upgrade failed?): %+v", u.port, ts.Handshakes)
	}
	work := t.TempDir()
	ms := runMedscanIn(t, c.path, work)
	if !ms.Scan.Complete || len(ms.Scan.Problems) > 0 {
		t.Errorf("medscan did not read the capture completely: %+v", ms.Scan.Problems)
	}
	t.Logf("compared %s", compareOrFail(t, c.path, ts, ms))
	if !slices.ContainsFunc(ms.TLSSessions, func(s msSession) bool {
		return s.Port == u.port && slices.Equal(s.ServerCerts, []string{u.certSHA})
	}) {
		t.Errorf("medscan has no TLS session with the server's certificate on port %d: %+v", u.port, ms.TLSSessions)
	}
	wantFindings(t, ms, "127.0.0.1", u.port, findings)

	// The report again, for what msReport does not hold, and the store's files.
	out := runMedscanJSON(t, c.path, t.TempDir())
	var r upgradeReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(r.Services, func(s upgradeService) bool { return s.Port == u.port }); i < 0 ||
		r.Services[i].Protocol != protocol || r.Services[i].StartTLS != "offered" || !strings.HasPrefix(r.Services[i].Software, software) {
		t.Errorf("service on port %d: want protocol %s, starttls offered, software %q…; services %+v", u.port, protocol, software, r.Services)
	}
	found := false
	for _, cr := range r.Credentials {
		if cr.Port != u.port || cr.Kind != credKind {
			continue
		}
		found = true
		if cr.User != credUser || (cr.Hash != "") != credSecret || (cr.Preview != "") != credSecret {
			t.Errorf("%s credential: user %q, preview %q, hash %q; want user %q and a secret: %v", credKind, cr.User, cr.Preview, cr.Hash, credUser, credSecret)
		}
	}
	if !found {
		t.Errorf("medscan reports no %s credential on port %d: %+v", credKind, u.port, r.Credentials)
	}
	pcap, err := os.ReadFile(c.path)
	if err != nil {
		t.Fatal(err)
	}
	var store []byte
	files, _ := filepath.Glob(filepath.Join(work, "m.db*"))
	if len(files) == 0 {
		t.Fatalf("medscan wrote no store in %s", work)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		store = append(store, b...)
	}
	for _, s := range secrets {
		if inCapture && !bytes.Contains(pcap, []byte(s)) {
			t.Errorf("the capture does not hold %q: the cleartext login did not carry it, so the privacy check proves nothing", s)
		}
		for what, b := range map[string][]byte{"the JSON report": out, "the store": store} {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s))) {
				t.Errorf("%q, planted in the traffic, is written out in %s", s, what)
			}
		}
	}
}

// runMedscanJSON runs medscan over a capture into a store in work and returns its JSON.
func runMedscanJSON(t *testing.T, file, work string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, medscanBinary(t), "scan", "--pcap", file, "--format", "json", "--db", filepath.Join(work, "m.db"), "-q")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "MEDSCAN_DB=", "NO_COLOR=1")
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("medscan on %s: %v", file, err)
	}
	return out
}

// The secrets planted in the cleartext logins.
const (
	mariadbPassword  = "My-S3cret-5521"
	postgresPassword = "Pg-S3cret-9914"
	ldapPassword     = "Ldap-S3cret-3307"
	xmppPassword     = "Xmpp-S3cret-4410"
)

// TestMariaDBUpgrade: mariadbd with a self-signed certificate; the mariadb client logs
// in once with --ssl (the SSL Request, then TLS) and once with --skip-ssl, whose login
// names the user in clear (the password never crosses: only a scramble does).
func TestMariaDBUpgrade(t *testing.T) {
	tshark := requireTshark(t)
	mariadbd := requireTool(t, "mariadbd", "Debian/Ubuntu package mariadb-server")
	install := requireTool(t, "mariadb-install-db", "Debian/Ubuntu package mariadb-server")
	mariadb := requireTool(t, "mariadb", "Debian/Ubuntu package mariadb-client")
	u := newUpgrade(t, "db.hosp.local")
	data, sock := filepath.Join(u.dir, "data"), filepath.Join(u.dir, "mysqld.sock")
	who := "--user=" + currentUser(t)
	client(t, 2*time.Minute, nil, install, "--no-defaults", "--datadir="+data, who,
		"--auth-root-authentication-method=normal", "--skip-test-db")
	srv := testproc.Start(t, mariadbd, "--no-defaults", "--datadir="+data, who, "--bind-address=127.0.0.1",
		"--port="+strconv.Itoa(u.port), "--socket="+sock, "--pid-file="+filepath.Join(u.dir, "m.pid"),
		"--ssl-cert="+u.crt, "--ssl-key="+u.key, "--tls-version=TLSv1.2", "--skip-log-bin", "--innodb-buffer-pool-size=8M", "--skip-name-resolve")
	u.waitPort(t, srv, time.Minute)
	client(t, 30*time.Second, nil, mariadb, "--no-defaults", "-S", sock, "-uroot", "-e",
		"CREATE USER 'pump_rw'@'127.0.0.1' IDENTIFIED BY '"+mariadbPassword+"'; GRANT SELECT ON *.* TO 'pump_rw'@'127.0.0.1';")

	c := startCapture(t, u.port, false)
	base := []string{"--no-defaults", "-h127.0.0.1", "-P" + strconv.Itoa(u.port), "-upump_rw", "-p" + mariadbPassword}
	out := client(t, 30*time.Second, nil, mariadb, append(base, "--ssl", "--ssl-verify-server-cert=0", "-e", "SHOW STATUS LIKE 'Ssl_version'")...)
	if !strings.Contains(out, "TLSv1") {
		t.Fatalf("the --ssl session did not use TLS: %s", out)
	}
	client(t, 30*time.Second, nil, mariadb, append(base, "--skip-ssl", "-e", "SELECT 1")...)
	c.stop(t)
	u.check(t, tshark, c, "mysql", "mysql", "5.5.5-10.", []string{"cert-self-signed", "cleartext-credentials"},
		"mysql-login", "pump_rw", false, []string{mariadbPassword}, false)
}

// TestPostgreSQLUpgrade: postgres with ssl=on and a self-signed certificate; psql logs
// in with sslmode=require (SSLRequest answered 'S', then TLS) and once with
// sslmode=disable to a hostnossl rule with password authentication, which sends the
// password in clear.
func TestPostgreSQLUpgrade(t *testing.T) {
	tshark := requireTshark(t)
	if pgtest.BinDir() == "" {
		requireTool(t, "/usr/lib/postgresql/*/bin/postgres", "Debian/Ubuntu package postgresql")
	}
	psql := requireTool(t, "psql", "Debian/Ubuntu package postgresql-client")
	u := newUpgrade(t, "db.hosp.local")
	pwfile, data := filepath.Join(u.dir, "pw"), filepath.Join(u.dir, "data")
	if err := os.WriteFile(pwfile, []byte(postgresPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// postgres refuses to run as root: as root, run it as the postgres user.
	if os.Geteuid() == 0 {
		u.chown(t, "postgres")
	}
	cmd := func(name string, args ...string) (string, []string) {
		all := pgtest.AsServerUser(name, args...)
		return all[0], all[1:]
	}
	name, args := cmd("initdb", "-D", data, "-U", "ris_app", "--pwfile="+pwfile, "-A", "scram-sha-256", "--no-sync")
	client(t, 2*time.Minute, nil, name, args...)
	conf := fmt.Sprintf("listen_addresses='127.0.0.1'\nport=%d\nunix_socket_directories='%s'\nssl=on\nssl_max_protocol_version='TLSv1.2'\nssl_cert_file='%s'\nssl_key_file='%s'\nfsync=off\n",
		u.port, u.dir, u.crt, u.key)
	hba := "hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 password\n"
	for f, s := range map[string]string{"postgresql.auto.conf": conf, "pg_hba.conf": hba} {
		if err := os.WriteFile(filepath.Join(data, f), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		u.chown(t, "postgres")
	}
	name, args = cmd("postgres", "-D", data)
	srv := testproc.Start(t, name, args...)
	u.waitPort(t, srv, time.Minute)

	c := startCapture(t, u.port, false)
	env := []string{"PGPASSWORD=" + postgresPassword, "PGCONNECT_TIMEOUT=10"}
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=ris_app dbname=postgres", u.port)
	out := client(t, 30*time.Second, env, psql, dsn+" sslmode=require", "-Atc", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
	if !strings.Contains(out, "t") {
		t.Fatalf("the sslmode=require session did not use TLS: %s", out)
	}
	client(t, 30*time.Second, env, psql, dsn+" sslmode=disable", "-Atc", "SELECT 1")
	c.stop(t)
	u.check(t, tshark, c, "pgsql", "postgresql", "1", []string{"cert-self-signed", "cleartext-credentials"},
		"postgresql-password", "ris_app", true, []string{postgresPassword}, true)
}

// TestSlapdStartTLS: slapd with a self-signed certificate that allows only TLS 1.1;
// ldapsearch -ZZ upgrades with StartTLS, and ldapwhoami makes a simple bind in clear.
func TestSlapdStartTLS(t *testing.T) {
	tshark := requireTshark(t)
	slapd := requireTool(t, "slapd", "Debian/Ubuntu package slapd")
	ldapsearch := requireTool(t, "ldapsearch", "Debian/Ubuntu package ldap-utils")
	ldapwhoami := requireTool(t, "ldapwhoami", "Debian/Ubuntu package ldap-utils")
	u := newUpgrade(t, "ldap.hosp.local")
	db := filepath.Join(u.dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := strings.Join([]string{
		"include /etc/ldap/schema/core.schema",
		"pidfile " + filepath.Join(u.dir, "slapd.pid"),
		"modulepath /usr/lib/ldap",
		"moduleload back_mdb",
		"TLSCertificateFile " + u.crt,
		"TLSCertificateKeyFile " + u.key,
		// GnuTLS priorities: TLS 1.1 only, the legacy setting medscan must flag.
		"TLSCipherSuite NORMAL:-VERS-ALL:+VERS-TLS1.1",
		"database mdb",
		"maxsize 10485760",
		`suffix "dc=hosp,dc=local"`,
		`rootdn "cn=admin,dc=hosp,dc=local"`,
		"rootpw " + ldapPassword,
		"directory " + db,
	}, "\n") + "\n"
	confFile := filepath.Join(u.dir, "slapd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("ldap://127.0.0.1:%d", u.port)
	srv := testproc.Start(t, slapd, "-f", confFile, "-h", url+"/", "-d", "0")
	u.waitPort(t, srv, 30*time.Second)

	c := startCapture(t, u.port, false)
	env := []string{"LDAPTLS_REQCERT=never"}
	out := client(t, 30*time.Second, env, ldapsearch, "-x", "-ZZ", "-H", url, "-b", "", "-s", "base", "namingContexts")
	if !strings.Contains(out, "result: 0 Success") {
		t.Fatalf("ldapsearch -ZZ: %s", out)
	}
	client(t, 30*time.Second, env, ldapwhoami, "-x", "-H", url, "-D", "cn=admin,dc=hosp,dc=local", "-w", ldapPassword)
	c.stop(t)
	u.check(t, tshark, c, "ldap", "ldap", "", []string{"cert-self-signed", "tls-legacy-version", "cleartext-credentials"},
		"ldap-simple-bind", "cn=admin,dc=hosp,dc=local", true, []string{ldapPassword}, true)
}

// TestProsodyStartTLS: prosody with a self-signed certificate; a client written here
// negotiates <starttls/> and completes the TLS handshake on one connection, and
// authenticates with SASL PLAIN in clear on another (the server allows it).
func TestProsodyStartTLS(t *testing.T) {
	tshark := requireTshark(t)
	prosody := requireTool(t, "prosody", "Debian/Ubuntu package prosody")
	prosodyctl := requireTool(t, "prosodyctl", "Debian/Ubuntu package prosody")
	u := newUpgrade(t, "hosp.local")
	for _, d := range []string{"data", "certs"} {
		if err := os.Mkdir(filepath.Join(u.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`pidfile = %[1]q
data_path = %[2]q
certificates = %[3]q
run_as_root = true
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { %[4]d }
c2s_direct_tls_ports = { }
s2s_ports = { }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
log = { { levels = { min = "info" }, to = "console" } }
modules_enabled = { "tls"; "saslauth"; "disco"; "ping" }
modules_disabled = { "s2s"; "admin_shell" }
ssl = { certificate = %[5]q; key = %[6]q }
VirtualHost "hosp.local"
  ssl = { certificate = %[5]q; key = %[6]q }
`, filepath.Join(u.dir, "prosody.pid"), filepath.Join(u.dir, "data"), filepath.Join(u.dir, "certs"), u.port, u.crt, u.key)
	confFile := filepath.Join(u.dir, "prosody.cfg.lua")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	client(t, 30*time.Second, nil, prosodyctl, "--config", confFile, "register", "nurse7", "hosp.local", xmppPassword)
	srv := testproc.Start(t, prosody, "--config", confFile, "-F")
	u.waitPort(t, srv, 30*time.Second)

	c := startCapture(t, u.port, false)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(u.port))
	if err := xmppStartTLS(addr); err != nil {
		t.Fatalf("XMPP STARTTLS: %v\nserver: %s", err, srv.Output())
	}
	if err := xmppPlain(addr, "nurse7", xmppPassword); err != nil {
		t.Fatalf("XMPP SASL PLAIN: %v\nserver: %s", err, srv.Output())
	}
	c.stop(t)
	u.check(t, tshark, c, "xmpp", "xmpp", "", []string{"cert-self-signed", "cleartext-credentials"},
		"xmpp-sasl-plain", "nurse7", true, []string{xmppPassword}, false)
}

const xmppHeader = "<?xml version='1.0'?><stream:stream to='hosp.local' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"

// xmppRead reads from the server until one of the markers appears, bounded in time and size.
func xmppRead(c net.Conn, r *bufio.Reader, markers ...string) (string, error) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	for len(got) < 64<<10 {
		b, err := r.ReadByte()
		if err != nil {
			return string(got), fmt.Errorf("reading (have %q): %w", got, err)
		}
		got = append(got, b)
		for _, m := range markers {
			if bytes.Contains(got, []byte(m)) {
				return string(got), nil
			}
		}
	}
	return string(got), fmt.Errorf("no %q in %d bytes", markers, len(got))
}

// xmppStartTLS opens a stream, asks for STARTTLS and completes the TLS handshake.
func xmppStartTLS(addr string) error {
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if _, err := c.Write([]byte(xmppHeader)); err != nil {
		return err
	}
	if _, err := xmppRead(c, r, "</stream:features>"); err != nil {
		return err
	}
	if _, err := c.Write([]byte("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")); err != nil {
		return err
	}
	if got, err := xmppRead(c, r, "<proceed", "<failure"); err != nil || !strings.Contains(got, "<proceed") {
		return fmt.Errorf("no <proceed/>: %q %v", got, err)
	}
	if _, err := xmppRead(c, r, ">"); err != nil { // the rest of the <proceed/> tag
		return err
	}
	if r.Buffered() > 0 {
		return fmt.Errorf("server bytes after <proceed/>")
	}
	tc := tls.Client(c, &tls.Config{ServerName: "hosp.local", InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12})
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return err
	}
	tr := bufio.NewReader(tc)
	if _, err := tc.Write([]byte(xmppHeader)); err != nil {
		return err
	}
	if _, err := xmppRead(tc, tr, "</stream:features>"); err != nil {
		return err
	}
	tc.Write([]byte("</stream:stream>"))
	return nil
}

// xmppPlain opens a stream and authenticates with SASL PLAIN without TLS.
func xmppPlain(addr, user, password string) error {
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if _, err := c.Write([]byte(xmppHeader)); err != nil {
		return err
	}
	if got, err := xmppRead(c, r, "</stream:features>"); err != nil || !strings.Contains(got, "PLAIN") {
		return fmt.Errorf("no PLAIN offered in clear: %q %v", got, err)
	}
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	if _, err := c.Write([]byte("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + resp + "</auth>")); err != nil {
		return err
	}
	if got, err := xmppRead(c, r, "<success", "<failure"); err != nil || !strings.Contains(got, "<success") {
		return fmt.Errorf("authentication failed: %q %v", got, err)
	}
	c.Write([]byte("</stream:stream>"))
	return nil
}

// currentUser is the name mariadbd must be told to run as (root refuses otherwise).
func currentUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}
