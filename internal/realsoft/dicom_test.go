package realsoft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

// The patient planted in the DICOM object storescu sends: medscan may count patient
// attributes but must never keep them.
const (
	dicomPatientName = "Marchetti-Quist^Zebulon"
	dicomPatientID   = "ZQ-884422"
)

// dicomDump is the CT image, as dcmtk's dump format, that dump2dcm turns into a file:
// just enough for storescp to accept and store it.
const dicomDump = `(0002,0001) OB 00\01
(0002,0002) UI =CTImageStorage
(0002,0003) UI [1.2.826.0.1.3680043.2.1125.1.424242.1]
(0002,0010) UI =LittleEndianExplicit
(0008,0016) UI =CTImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1125.1.424242.1]
(0008,0060) CS [CT]
(0010,0010) PN [` + dicomPatientName + `]
(0010,0020) LO [` + dicomPatientID + `]
(0020,000d) UI [1.2.826.0.1.3680043.2.1125.1.424242.2]
(0020,000e) UI [1.2.826.0.1.3680043.2.1125.1.424242.3]
`

// dcmtkTools are the dcmtk programs the DICOM tests run.
type dcmtkTools struct{ storescp, storescu, echoscu, dump2dcm string }

func requireDCMTK(t *testing.T) dcmtkTools {
	return dcmtkTools{
		storescp: requireTool(t, "storescp", "dcmtk"),
		storescu: requireTool(t, "storescu", "dcmtk"),
		echoscu:  requireTool(t, "echoscu", "dcmtk"),
		dump2dcm: requireTool(t, "dump2dcm", "dcmtk"),
	}
}

// ctImage writes the planted CT image as a DICOM file with dump2dcm.
func ctImage(t *testing.T, tools dcmtkTools, dir string) string {
	t.Helper()
	dump, file := filepath.Join(dir, "ct.dump"), filepath.Join(dir, "ct.dcm")
	if err := os.WriteFile(dump, []byte(dicomDump), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, 15*time.Second, nil, tools.dump2dcm, "+te", dump, file)
	return file
}

// inetd serves storescp on a loopback port the way inetd or systemd socket activation
// does: the test listens on 127.0.0.1 and runs `storescp --inetd` with each accepted
// connection as its standard input and output. storescp itself has no option to choose
// its address and would otherwise listen on every interface of the machine.
type inetd struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	procs []*exec.Cmd
	runs  []string // one line per association served: exit status and output
}

func startInetd(t *testing.T, storescp string, args ...string) *inetd {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &inetd{ln: ln}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			d.wg.Add(1)
			go func() {
				defer d.wg.Done()
				d.serve(conn.(*net.TCPConn), storescp, args)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		d.mu.Lock()
		for _, p := range d.procs {
			syscall.Kill(-p.Process.Pid, syscall.SIGKILL) // a no-op error once it has ended
		}
		d.mu.Unlock()
		d.wg.Wait()
	})
	return d
}

// serve runs one storescp for one connection, bounded in time.
func (d *inetd) serve(conn *net.TCPConn, storescp string, args []string) {
	f, err := conn.File() // a duplicate descriptor, which the child inherits
	conn.Close()
	if err != nil {
		d.note(fmt.Sprintf("passing the connection: %v", err))
		return
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, storescp, append([]string{"--inetd"}, args...)...)
	var errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, f, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		d.note(fmt.Sprintf("starting storescp: %v", err))
		return
	}
	d.mu.Lock()
	d.procs = append(d.procs, cmd)
	d.mu.Unlock()
	err = cmd.Wait()
	d.note(fmt.Sprintf("storescp exit %v: %s", err, strings.TrimSpace(errb.String())))
}

func (d *inetd) note(s string) {
	d.mu.Lock()
	d.runs = append(d.runs, s)
	d.mu.Unlock()
}

// served waits until n associations were served (or 15 s), and returns what each said,
// so that a failure shows storescp's side.
func (d *inetd) served(n int) string {
	deadline := time.Now().Add(15 * time.Second)
	for {
		d.mu.Lock()
		got, out := len(d.runs), strings.Join(d.runs, "\n")
		d.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *inetd) port() int { return d.ln.Addr().(*net.TCPAddr).Port }

// TestDCMTK captures echoscu and storescu talking to storescp in clear, and requires
// medscan to report each association with its AE titles and dcmtk's implementation
// version, to raise cleartext-dicom on the port, and to keep no patient data.
func TestDCMTK(t *testing.T) {
	t.Parallel()
	tools := requireDCMTK(t)
	dir := t.TempDir()
	image := ctImage(t, tools, dir)
	stored := filepath.Join(dir, "stored")
	if err := os.Mkdir(stored, 0o700); err != nil {
		t.Fatal(err)
	}

	d := startInetd(t, tools.storescp, "-aet", "PACS", "+B", "-od", stored)
	port := d.port()
	c := startCapture(t, port)
	p := fmt.Sprint(port)
	run(t, 20*time.Second, nil, tools.echoscu, "-aet", "MODALITY", "-aec", "PACS", "127.0.0.1", p)
	run(t, 20*time.Second, nil, tools.storescu, "-aet", "CT01", "-aec", "PACS", "127.0.0.1", p, image)
	runs := d.served(2)
	pcap := c.stop(t)
	if kept, _ := filepath.Glob(filepath.Join(stored, "*")); len(kept) != 1 {
		t.Fatalf("storescp stored %d files, want the one image: %q\n%s", len(kept), kept, runs)
	}

	s := scan(t, c.path)
	// Verification for echoscu; CT Image Storage among storescu's many storage contexts.
	for _, want := range []struct{ calling, called, syntax string }{
		{"MODALITY", "PACS", "1.2.840.10008.1.1"},
		{"CT01", "PACS", "1.2.840.10008.5.1.4.1.1.2"},
	} {
		i := slices.IndexFunc(s.DICOM, func(a findings.DICOMAssociation) bool {
			return a.CallingAE == want.calling && a.CalledAE == want.called
		})
		if i < 0 {
			t.Errorf("no dicom[] association %s → %s; medscan has %+v", want.calling, want.called, s.DICOM)
			continue
		}
		a := s.DICOM[i]
		if a.Client != "127.0.0.1" || a.Host != "127.0.0.1" || a.Port != port {
			t.Errorf("%s → %s: client %s, server %s:%d; want 127.0.0.1 → 127.0.0.1:%d", want.calling, want.called, a.Client, a.Host, a.Port, port)
		}
		if !strings.HasPrefix(a.ImplVersion, "OFFIS_DCMTK") {
			t.Errorf("%s → %s: impl_version %q, want dcmtk's OFFIS_DCMTK_…", want.calling, want.called, a.ImplVersion)
		}
		// dcmtk's implementation class UID is under OFFIS's root 1.2.276.0.7230010.
		if !strings.HasPrefix(a.ImplClassUID, "1.2.276.0.7230010.") {
			t.Errorf("%s → %s: impl_class_uid %q, want dcmtk's 1.2.276.0.7230010.…", want.calling, want.called, a.ImplClassUID)
		}
		// dcmtk's clients release the association they were granted: the last word on it.
		if !slices.Contains(a.AbstractSyntaxes, want.syntax) || a.Result != "released" || a.AcceptedContexts < 1 {
			t.Errorf("%s → %s: result %q (%d contexts accepted), abstract syntaxes %q; want released after acceptance, with %s",
				want.calling, want.called, a.Result, a.AcceptedContexts, a.AbstractSyntaxes, want.syntax)
		}
	}
	if v := s.service(t, "127.0.0.1", port); v.Protocol != "dicom" || v.TLSVersion != "" {
		t.Errorf("service on %d: protocol %q, TLS %q; want dicom in clear", port, v.Protocol, v.TLSVersion)
	}
	f := s.finding(t, "cleartext-dicom", "127.0.0.1", port)
	if f.Severity < findings.High {
		t.Errorf("cleartext-dicom is %s, want at least high", f.Severity)
	}
	s.private(t, pcap, "Marchetti-Quist", "Zebulon", dicomPatientID)
}

// TestDCMTKTLS captures the same associations over dcmtk's TLS (+tls): with dcmtk's
// default profile (BCP 195, TLS 1.2 or 1.3), and with the retired IHE "AES" profile that
// older PACS still run (TLS 1.2, TLS_RSA_WITH_AES_128_CBC_SHA, no forward secrecy) with
// certificates required of both sides. medscan must see a TLS session on the port, no
// DICOM in clear, and in TLS 1.2 both certificates and the CertificateRequest.
func TestDCMTKTLS(t *testing.T) {
	t.Parallel()
	tools := requireDCMTK(t)
	openssl := requireTool(t, "openssl", "openssl")
	dir := t.TempDir()
	image := ctImage(t, tools, dir)
	key, cert := filepath.Join(dir, "pacs.key"), filepath.Join(dir, "pacs.crt")
	run(t, 60*time.Second, nil, openssl, "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", "90", "-sha256",
		"-subj", "/CN=pacs.example/O=Ward 7", "-addext", "subjectAltName=DNS:pacs.example",
		"-keyout", key, "-out", cert)
	certSHA := pemSHA256(t, cert)

	cases := []struct {
		name  string
		tls   []string // dcmtk's TLS options, the same on both sides
		check func(t *testing.T, s *scanned, ts findings.TLSSession, port int)
	}{
		{
			// One self-signed certificate for both sides, and -ic: neither side verifies
			// its peer, because the test is about what crosses the wire, not about trust.
			name: "bcp195", tls: []string{"+tls", key, cert, "-ic"},
			check: func(t *testing.T, s *scanned, ts findings.TLSSession, port int) {
				if ts.Version != "TLSv1.2" && ts.Version != "TLSv1.3" {
					t.Errorf("TLS version %q, want TLSv1.2 or TLSv1.3 (BCP 195)", ts.Version)
				}
			},
		},
		{
			// Each side requires and verifies the other's certificate (-rc), trusting the
			// one self-signed certificate both present (+cf).
			name: "atna-aes-mutual", tls: []string{"+tls", key, cert, "+pa", "-rc", "+cf", cert},
			check: func(t *testing.T, s *scanned, ts findings.TLSSession, port int) {
				if ts.Version != "TLSv1.2" || ts.Cipher != "TLS_RSA_WITH_AES_128_CBC_SHA" {
					t.Errorf("TLS %s %s, want TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA (the AES profile)", ts.Version, ts.Cipher)
				}
				if !ts.CertRequest || !ts.CertsObservable {
					t.Errorf("cert_request %v, certs_observable %v; want both true: storescp -rc asks for a certificate in TLS 1.2", ts.CertRequest, ts.CertsObservable)
				}
				server, client := chainHex(ts.ServerChain), chainHex(ts.ClientChain)
				if !slices.Equal(server, []string{certSHA}) || !slices.Equal(client, []string{certSHA}) {
					t.Errorf("server_certs %q, client_certs %q; want [%s] for both", server, client, certSHA)
				}
				i := slices.IndexFunc(s.Certificates, func(c findings.Certificate) bool { return c.SHA256 == certSHA })
				if i < 0 {
					t.Errorf("certificates[] lacks %s", certSHA)
				} else if c := s.Certificates[i]; !strings.Contains(c.Subject, "CN=pacs.example") || !c.SelfSigned {
					t.Errorf("certificate: subject %q, self_signed %v; want CN=pacs.example, self-signed", c.Subject, c.SelfSigned)
				}
				s.finding(t, "tls-no-forward-secrecy", "127.0.0.1", port)
				s.finding(t, "cert-self-signed", "127.0.0.1", port)
				s.noFinding(t, "tls-no-client-auth", "127.0.0.1", port)
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			stored := t.TempDir()
			d := startInetd(t, tools.storescp, append([]string{"-aet", "PACS", "+B", "-od", stored}, c.tls...)...)
			port := d.port()
			capt := startCapture(t, port)
			p := fmt.Sprint(port)
			run(t, 20*time.Second, nil, tools.echoscu, append(append([]string{"-aet", "MODALITY", "-aec", "PACS"}, c.tls...), "127.0.0.1", p)...)
			run(t, 20*time.Second, nil, tools.storescu, append(append([]string{"-aet", "CT01", "-aec", "PACS"}, c.tls...), "127.0.0.1", p, image)...)
			runs := d.served(2)
			pcap := capt.stop(t)
			if kept, _ := filepath.Glob(filepath.Join(stored, "*")); len(kept) != 1 {
				t.Fatalf("storescp stored %d files over TLS, want the one image: %q\n%s", len(kept), kept, runs)
			}
			// The capture must not hold the patient or AE titles in clear: else TLS was
			// not in use.
			if bytes.Contains(pcap, []byte("Zebulon")) || bytes.Contains(pcap, []byte("CT01")) {
				t.Fatal("the TLS capture holds the AE title or patient name in clear: dcmtk did not use TLS")
			}

			s := scan(t, capt.path)
			i := slices.IndexFunc(s.TLSSessions, func(x findings.TLSSession) bool { return x.Host == "127.0.0.1" && x.Port == port })
			if i < 0 {
				t.Fatalf("no tls_sessions[] entry on 127.0.0.1:%d; medscan has %+v", port, s.TLSSessions)
			}
			ts := s.TLSSessions[i]
			if ts.Client != "127.0.0.1" || ts.Cipher == "" || ts.Count < 2 {
				t.Errorf("TLS session on %d: client %s, cipher %q, count %d; want 127.0.0.1, a suite, both associations", port, ts.Client, ts.Cipher, ts.Count)
			}
			if v := s.service(t, "127.0.0.1", port); v.Protocol != "tls" || v.TLSVersion != ts.Version {
				t.Errorf("service on %d: protocol %q, TLS %q; want tls, %s", port, v.Protocol, v.TLSVersion, ts.Version)
			}
			s.noFinding(t, "cleartext-dicom", "127.0.0.1", port)
			if slices.ContainsFunc(s.DICOM, func(a findings.DICOMAssociation) bool { return a.Port == port }) {
				t.Errorf("medscan reports DICOM in clear on the TLS port %d: %+v", port, s.DICOM)
			}
			if len(s.Credentials) != 0 {
				t.Errorf("medscan reports credentials in a TLS capture: %+v", s.Credentials)
			}
			c.check(t, s, ts, port)
		})
	}
}

// pemSHA256 is the hex SHA-256 of the DER of a PEM certificate file, as medscan names it.
func pemSHA256(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		t.Fatalf("%s: no PEM certificate", path)
	}
	sum := sha256.Sum256(b.Bytes)
	return hex.EncodeToString(sum[:])
}

// chainHex is a certificate chain as the JSON document writes it: lowercase hex SHA-256
// digests, leaf first.
func chainHex(chain []observe.CertRef) []string {
	out := []string{}
	for _, r := range chain {
		out = append(out, r.String())
	}
	return out
}
