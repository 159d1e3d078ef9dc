package scan

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/certs"
	"github.com/medscan/medscan/fixtures/pcapw"
	"github.com/medscan/medscan/fixtures/tlsrec"
)

// TestSTARTTLSEndToEnd writes a capture of cleartext sessions that upgrade to TLS in place
// (SMTP STARTTLS, IMAP STARTTLS, FTP AUTH TLS), each followed by a real crypto/tls
// handshake, and checks that the whole pipeline records the TLS session on the mail or
// file server's port with its certificate, and the SMTP password sent in clear before an
// upgrade.
func TestSTARTTLSEndToEnd(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	key, err := certs.ECDSAKey("starttls-test")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certs.SelfSigned(certs.Spec{Label: "starttls-test", Subject: pkix.Name{CommonName: "mail.hospital.example.org"},
		DNSNames: []string{"mail.hospital.example.org"}, NotBefore: t0.AddDate(0, -1, 0), NotAfter: t0.AddDate(1, 0, 0),
		Key: key, ServerAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tlsrec.Record("starttls-test",
		&tls.Config{ServerName: "mail.hospital.example.org", RootCAs: certs.Pool(leaf), MaxVersion: tls.VersionTLS12,
			Time: func() time.Time { return t0 }},
		&tls.Config{Certificates: []tls.Certificate{certs.TLSCertificate(leaf)}, Time: func() time.Time { return t0 }},
		[]tlsrec.Message{{Data: []byte("QUIT\r\n")}})
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "starttls.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapw.New(f, t0, pcapw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	peer := func(addr string, last byte) pcapw.Peer {
		return pcapw.Peer{MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, last}, Addr: netip.MustParseAddrPort(addr)}
	}
	type step struct {
		fromServer bool
		line       string
	}
	sessions := []struct {
		server string
		steps  []step
	}{
		{"10.20.0.60:25", []step{{true, "220 mail.hospital.example.org ESMTP Postfix\r\n"}, {false, "EHLO pump-0011\r\n"},
			{true, "250-mail.hospital.example.org\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"},
			{false, "AUTH PLAIN AHB1bXAAUHVtcFNtdHAhMjAyNg==\r\n"}, {true, "235 2.7.0 Authentication successful\r\n"},
			{false, "STARTTLS\r\n"}, {true, "220 2.0.0 Ready to start TLS\r\n"}}},
		{"10.20.0.61:143", []step{{true, "* OK IMAP4rev1 ready\r\n"}, {false, "a1 STARTTLS\r\n"}, {true, "a1 OK Begin TLS negotiation now\r\n"}}},
		{"10.20.0.62:21", []step{{true, "220 FTP server ready\r\n"}, {false, "AUTH TLS\r\n"}, {true, "234 AUTH TLS OK.\r\n"}}},
	}
	for i, s := range sessions {
		conv := w.TCP(peer("10.20.1.11:"+[]string{"40001", "40002", "40003"}[i], 0x11), peer(s.server, byte(0x60+i)), pcapw.TCPOptions{})
		for _, st := range s.steps {
			if st.fromServer {
				conv.ServerSend([]byte(st.line))
			} else {
				conv.ClientSend([]byte(st.line))
			}
		}
		tr.Replay(conv)
		conv.Close()
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	st := openStore(t)
	res, err := Run(context.Background(), st, Options{Pcaps: []string{path}})
	if err != nil || !res.Complete {
		t.Fatalf("complete=%v err=%v", res.Complete, err)
	}
	rep, err := st.Load(context.Background(), res.ScanID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range rep.TLSSessions {
		if s.Version == "TLSv1.2" && s.SNI == "mail.hospital.example.org" && len(s.ServerChain) == 1 {
			seen[netip.AddrPortFrom(netip.MustParseAddr(s.Host), uint16(s.Port)).String()] = true
		}
	}
	for _, s := range sessions {
		if !seen[s.server] {
			t.Errorf("no TLS 1.2 session after the upgrade on %s; sessions: %+v", s.server, rep.TLSSessions)
		}
	}
	var smtpCred bool
	for _, c := range rep.Credentials {
		smtpCred = smtpCred || (c.Host == "10.20.0.60" && c.Port == 25 && c.Kind == "smtp-auth-plain" && c.User == "pump")
	}
	if !smtpCred {
		t.Errorf("the SMTP AUTH PLAIN credential was not recorded: %+v", rep.Credentials)
	}
	var gotFinding bool
	for _, f := range rep.Findings {
		gotFinding = gotFinding || (f.Rule == "cleartext-credentials" && f.Host == "10.20.0.60" && f.Port == 25)
	}
	if !gotFinding {
		t.Error("no cleartext-credentials finding on the SMTP server")
	}
}
