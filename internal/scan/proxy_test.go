package scan

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/certs"
	"github.com/medscan/medscan/fixtures/pcapw"
	"github.com/medscan/medscan/fixtures/tlsrec"
)

// TestProxyTunnelsEndToEnd writes a capture of TLS carried in proxy tunnels (HTTP
// CONNECT to an address and to a name, SOCKS4, SOCKS4a, SOCKS5 with a password and a
// domain name), each a real crypto/tls handshake at TLS 1.0 with a self-signed RSA-1024
// certificate, and checks that the whole pipeline records each session on the tunnel's
// target with the proxy as via, that the TLS and certificate rules fire there, that the
// SOCKS5 password is a masked credential, and that it is nowhere in the store.
func TestProxyTunnelsEndToEnd(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	key, err := certs.RSAKey("proxy-test", 1024)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certs.SelfSigned(certs.Spec{Label: "proxy-test", Subject: pkix.Name{CommonName: "pump.example"},
		DNSNames: []string{"pump.example"}, NotBefore: t0.AddDate(0, -1, 0), NotAfter: t0.AddDate(1, 0, 0),
		Key: key, ServerAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	suite := []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}
	tr, err := tlsrec.Record("proxy-test",
		&tls.Config{ServerName: "pump.example", RootCAs: certs.Pool(leaf), MinVersion: tls.VersionTLS10,
			MaxVersion: tls.VersionTLS10, CipherSuites: suite, Time: func() time.Time { return t0 }},
		&tls.Config{Certificates: []tls.Certificate{certs.TLSCertificate(leaf)}, MinVersion: tls.VersionTLS10,
			MaxVersion: tls.VersionTLS10, CipherSuites: suite, Time: func() time.Time { return t0 }},
		[]tlsrec.Message{{Data: []byte("GET / HTTP/1.1\r\n\r\n")}})
	if err != nil {
		t.Fatal(err)
	}

	const password = "Tunn3lSecret!"
	type step struct {
		fromServer bool
		b          string
	}
	tunnels := []struct {
		name    string
		proxy   string
		steps   []step
		host    string // where the session must be recorded
		port    int
		target  string // the target named by host name, if any
		proxied string // the via_proxy the record must carry
	}{
		{"connect-addr", "10.0.0.5:3128", []step{{false, "CONNECT 10.20.0.9:443 HTTP/1.1\r\nHost: 10.20.0.9:443\r\n\r\n"},
			{true, "HTTP/1.1 200 Connection established\r\n\r\n"}}, "10.20.0.9", 443, "", "10.0.0.5:3128"},
		{"connect-name", "10.0.0.5:3128", []step{{false, "CONNECT pump.example:443 HTTP/1.1\r\nHost: pump.example:443\r\n\r\n"},
			{true, "HTTP/1.1 200 Connection established\r\n\r\n"}}, "10.0.0.5", 3128, "pump.example:443", "10.0.0.5:3128"},
		{"socks4", "10.0.0.6:1080", []step{{false, "\x04\x01\x20\xfb\x0a\x14\x00\x0apump\x00"}, {true, "\x00\x5a\x00\x00\x00\x00\x00\x00"}},
			"10.20.0.10", 8443, "", "10.0.0.6:1080"},
		{"socks4a", "10.0.0.6:1080", []step{{false, "\x04\x01\x01\xbb\x00\x00\x00\x01\x00pacs.example\x00"}, {true, "\x00\x5a\x00\x00\x00\x00\x00\x00"}},
			"10.0.0.6", 1080, "pacs.example:443", "10.0.0.6:1080"},
		{"socks5", "10.0.0.6:1080", []step{{false, "\x05\x02\x00\x02"}, {true, "\x05\x02"}, {false, "\x01\x05nurse\x0d" + password},
			{true, "\x01\x00"}, {false, "\x05\x01\x00\x03\x0cpump.example\x01\xbb"}, {true, "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"}},
			"10.0.0.6", 1080, "pump.example:443", "10.0.0.6:1080"},
	}

	path := filepath.Join(t.TempDir(), "proxies.pcapng")
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
	for i, tn := range tunnels {
		conv := w.TCP(peer("10.20.1.11:"+[]string{"40001", "40002", "40003", "40004", "40005"}[i], 0x11), peer(tn.proxy, byte(0x50+i)), pcapw.TCPOptions{})
		for _, st := range tn.steps {
			if st.fromServer {
				conv.ServerSend([]byte(st.b))
			} else {
				conv.ClientSend([]byte(st.b))
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
	for _, tn := range tunnels {
		found := false
		for _, s := range rep.TLSSessions {
			found = found || (s.Host == tn.host && s.Port == tn.port && s.Target == tn.target && s.Via == tn.proxied &&
				s.Version == "TLSv1.0" && s.SNI == "pump.example" && len(s.ServerChain) == 1)
		}
		if !found {
			t.Errorf("%s: no TLS 1.0 session on %s:%d target %q via %s; sessions: %+v", tn.name, tn.host, tn.port, tn.target, tn.proxied, rep.TLSSessions)
		}
		for _, rule := range []string{"tls-legacy-version", "tls-no-forward-secrecy", "cert-self-signed", "key-weak"} {
			fired := false
			for _, fd := range rep.Findings {
				var vias []string
				if l, ok := fd.Evidence["via_proxy"].([]any); ok {
					for _, v := range l {
						s, _ := v.(string)
						vias = append(vias, s)
					}
				}
				target, _ := fd.Evidence["target"].(string)
				// A certificate finding is one per certificate and endpoint: the one
				// certificate of two targets named behind one proxy (socks4a and socks5
				// here) is one finding at the proxy, naming one of them.
				sameTarget := target == tn.target || (strings.HasPrefix(rule, "cert-") || strings.HasPrefix(rule, "key-")) &&
					tn.target != "" && target != ""
				fired = fired || (fd.Rule == rule && fd.Host == tn.host && fd.Port == tn.port && slices.Contains(vias, tn.proxied) && sameTarget)
			}
			if !fired {
				t.Errorf("%s: %s did not fire on %s:%d target %q via %s", tn.name, rule, tn.host, tn.port, tn.target, tn.proxied)
			}
		}
	}
	var msgs []string
	for _, fd := range rep.Findings {
		if fd.Rule == "tls-legacy-version" {
			msgs = append(msgs, fd.Message)
		}
	}
	slices.Sort(msgs)
	for _, m := range []string{
		"10.20.0.9:443 via proxy 10.0.0.5:3128 negotiated TLSv1.0 with TLS_RSA_WITH_AES_128_CBC_SHA",
		"pump.example:443 via proxy 10.0.0.5:3128 negotiated TLSv1.0 with TLS_RSA_WITH_AES_128_CBC_SHA",
		"pacs.example:443 via proxy 10.0.0.6:1080 negotiated TLSv1.0 with TLS_RSA_WITH_AES_128_CBC_SHA",
	} {
		if !slices.Contains(msgs, m) {
			t.Errorf("no finding says %q; messages: %q", m, msgs)
		}
	}
	var cred bool
	for _, c := range rep.Credentials {
		cred = cred || (c.Host == "10.0.0.6" && c.Port == 1080 && c.Kind == "socks5-password" && c.User == "nurse" && c.Hash != "")
	}
	if !cred {
		t.Errorf("the SOCKS5 password was not recorded as a credential: %+v", rep.Credentials)
	}
	doc, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), password) {
		t.Error("the SOCKS5 password is in the report")
	}
	st.Close()
	files, _ := filepath.Glob(st.Path() + "*") // the database, and a -wal or -shm left over
	if len(files) == 0 {
		t.Fatalf("no store files at %s", st.Path())
	}
	for _, name := range files {
		db, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(db), password) {
			t.Errorf("the SOCKS5 password is in %s", name)
		}
	}
	var services []string
	for _, s := range rep.Services {
		services = append(services, s.Host+":"+itoa(s.Port)+" "+s.Protocol+" "+s.Target+" "+s.Via+" "+s.TLSVersion)
	}
	// The proxies' own services speak no TLS; the targets' do.
	for _, want := range []string{"10.0.0.5:3128 http   ", "10.0.0.6:1080 socks   ", "10.20.0.9:443 tls  10.0.0.5:3128 TLSv1.0",
		"10.0.0.5:3128 tls pump.example:443 10.0.0.5:3128 TLSv1.0"} {
		if !slices.Contains(services, want) {
			t.Errorf("no service %q in %q", want, services)
		}
	}
}

func itoa(n int) string { return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(n)).String()[8:] }
