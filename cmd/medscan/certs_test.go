package main

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/certs"
	"github.com/medscan/medscan/fixtures/pcapw"
	"github.com/medscan/medscan/fixtures/tlsrec"
)

// writeTLSCapture writes a capture of one TLS 1.2 handshake at t0, from a device to
// server, in which the server presents leaf.
func writeTLSCapture(t *testing.T, path string, t0 time.Time, server string, leaf *certs.Issued) {
	t.Helper()
	writeTLSChainCapture(t, path, t0, server, leaf, leaf)
}

// writeTLSChainCapture is writeTLSCapture of a server that sends its leaf with the
// chain above it, root the client trusts.
func writeTLSChainCapture(t *testing.T, path string, t0 time.Time, server string, root, leaf *certs.Issued, chain ...*certs.Issued) {
	t.Helper()
	tr, err := tlsrec.Record(filepath.Base(path),
		&tls.Config{ServerName: "ehr.hospital.example", RootCAs: certs.Pool(root), MaxVersion: tls.VersionTLS12,
			Time: func() time.Time { return t0 }},
		&tls.Config{Certificates: []tls.Certificate{certs.TLSCertificate(leaf, chain...)}, Time: func() time.Time { return t0 }},
		[]tlsrec.Message{{Data: []byte("GET / HTTP/1.1\r\n\r\n")}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapw.New(f, t0, pcapw.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conv := w.TCP(pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x11}, Addr: netip.MustParseAddrPort("10.30.1.11:40001")},
		pcapw.Peer{MAC: net.HardwareAddr{2, 0, 0, 0, 0, 0x05}, Addr: netip.MustParseAddrPort(server)}, pcapw.TCPOptions{})
	tr.Replay(conv)
	conv.Close()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// certsJSON is the part of medscan certs -f json the test reads.
type certsJSON struct {
	Certificates []struct {
		SHA256   string `json:"sha256"`
		Subject  string `json:"subject"`
		ChainEnd string `json:"chain_end"`
		Days     int    `json:"days_left"`
		Places   []struct {
			Where string `json:"where"`
			Scans int    `json:"scans"`
		} `json:"places"`
		ScanIDs  []int64 `json:"scan_ids"`
		Verdicts []struct {
			Rule string `json:"rule"`
		} `json:"verdicts"`
	} `json:"certificates"`
	WithoutIdentity []struct {
		Host   string `json:"host"`
		Reason string `json:"reason"`
	} `json:"without_identity"`
	Endpoints []struct {
		Endpoint  string `json:"endpoint"`
		KeyKept   bool   `json:"key_kept"`
		Presented []struct {
			CertSHA256 string `json:"cert_sha256"`
			SPKISHA256 string `json:"spki_sha256"`
		} `json:"presented"`
	} `json:"endpoints"`
}

// TestCertsAcrossScans is issue 19's certificate inventory and rotation history through
// the binary, over three stored scans of one EHR endpoint: a certificate, its renewal
// that kept the key, then a renewal with a new key; and the ward beside them. Every
// certificate is listed once with every scan it was seen in; the endpoint's history is
// in order with the kept key marked; the filters narrow it.
func TestCertsAcrossScans(t *testing.T) {
	work := t.TempDir()
	db := filepath.Join(work, "m.db")
	const server = "10.30.0.5:443"
	oldKey, err := certs.ECDSAKey("rotation-old")
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := certs.ECDSAKey("rotation-new")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(24 * time.Hour)
	steps := []struct {
		label      string
		key        crypto.Signer
		at         time.Time
		days       int
		notRotated bool // the scan raises key-not-rotated
	}{
		{"ehr-2024", oldKey, now.AddDate(0, 0, -900), 200, false},
		{"ehr-2026a", oldKey, now.AddDate(0, 0, -60), 400, true}, // renewed on the same key, 840 days after the first
		{"ehr-2026b", newKey, now.AddDate(0, 0, -10), 60, false}, // renewed on a new key: expires within 90 days of now
	}
	var shas []string
	for i, s := range steps {
		leaf, err := certs.SelfSigned(certs.Spec{Label: s.label, Subject: pkix.Name{CommonName: "ehr.hospital.example"},
			DNSNames: []string{"ehr.hospital.example"}, NotBefore: s.at.AddDate(0, 0, -1), NotAfter: s.at.AddDate(0, 0, s.days),
			Key: s.key, ServerAuth: true})
		if err != nil {
			t.Fatal(err)
		}
		shas = append(shas, sha256Hex(leaf.DER))
		path := filepath.Join(work, s.label+".pcapng")
		writeTLSCapture(t, path, s.at, server, leaf)
		out := filepath.Join(work, s.label+".json")
		if res := medscan(t, work, nil, "scan", "-q", "--db", db, "--pcap", path, "-o", out); res.code != 0 {
			t.Fatalf("scan %d: %d %s", i, res.code, res.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		rep := parseReport(t, string(b))
		if got := rep.hasFinding("key-not-rotated", "10.30.0.5", 443); got != s.notRotated {
			t.Errorf("scan %d (%s): key-not-rotated %v, want %v; rules: %s", i, s.label, got, s.notRotated, rep.rules())
		}
	}
	if res := medscan(t, work, nil, "scan", "-q", "--db", db, "--pcap", wardCapture(t), "-o", filepath.Join(work, "r.json")); res.code != 0 {
		t.Fatalf("ward scan: %d %s", res.code, res.stderr)
	}

	res := medscan(t, work, nil, "certs", "--db", db, "-f", "json")
	if res.code != 0 {
		t.Fatalf("certs: %d %s", res.code, res.stderr)
	}
	var inv certsJSON
	if err := json.Unmarshal([]byte(res.stdout), &inv); err != nil {
		t.Fatal(err)
	}
	if len(inv.Certificates) != 8+len(steps) {
		t.Errorf("%d certificates, want the ward's 8 and the endpoint's %d", len(inv.Certificates), len(steps))
	}
	for i, sha := range shas {
		found := false
		for _, c := range inv.Certificates {
			if c.SHA256 != sha {
				continue
			}
			found = true
			if len(c.ScanIDs) != 1 || c.ScanIDs[0] != int64(i+1) || len(c.Places) != 1 || c.Places[0].Where != server ||
				c.ChainEnd != "self-signed" {
				t.Errorf("certificate %d: %+v", i, c)
			}
			if len(c.Verdicts) == 0 {
				t.Errorf("certificate %d has no verdict (a self-signed server certificate has findings)", i)
			}
		}
		if !found {
			t.Errorf("certificate %d (%s) is not listed", i, sha)
		}
	}
	var history bool
	for _, h := range inv.Endpoints {
		if h.Endpoint != server {
			continue
		}
		history = true
		if !h.KeyKept || len(h.Presented) != 3 {
			t.Fatalf("history of %s: %+v", server, h)
		}
		for i, p := range h.Presented {
			if p.CertSHA256 != shas[i] {
				t.Errorf("presented %d is %s, want %s (oldest first)", i, p.CertSHA256, shas[i])
			}
		}
		if h.Presented[0].SPKISHA256 != h.Presented[1].SPKISHA256 || h.Presented[1].SPKISHA256 == h.Presented[2].SPKISHA256 {
			t.Errorf("keys: %+v", h.Presented)
		}
	}
	if !history {
		t.Fatalf("no history for %s: %+v", server, inv.Endpoints)
	}
	// The ward's devices without an identity of their own: a monitor that presents no
	// certificate, a pump with a self-signed one; not the device with a site
	// certificate (10.20.1.31).
	why := map[string]string{}
	for _, d := range inv.WithoutIdentity {
		why[d.Host] = d.Reason
	}
	if why["10.20.1.21"] != "no certificate" || why["10.20.1.11"] != "self-signed only" || why["10.20.1.31"] != "" {
		t.Errorf("without identity: %v", why)
	}

	table := medscanEnv(t, work, []string{"MEDSCAN_DB=", "NO_COLOR=1", "COLUMNS=200"}, nil, "certs", "--db", db, "--host", "10.30.0.5")
	for _, want := range []string{"Self-signed: each certificate signed by its own key", "same key as before: renewed, not rotated",
		"Expiry calendar", "CN=ehr.hospital.example"} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("certs table lacks %q:\n%s", want, table.stdout)
		}
	}
	if strings.Contains(table.stdout, "pump-0011") {
		t.Errorf("--host 10.30.0.5 listed a pump's certificate:\n%s", table.stdout)
	}

	// --expiring 90d: the expired ward certificates and the newest EHR certificate (it
	// ends within 90 days), not the 30-year pumps.
	res = medscan(t, work, nil, "certs", "--db", db, "--expiring", "90d", "-f", "json")
	inv = certsJSON{}
	if err := json.Unmarshal([]byte(res.stdout), &inv); err != nil {
		t.Fatal(err, res.stderr)
	}
	var newest bool
	for _, c := range inv.Certificates {
		if c.Days > 90 {
			t.Errorf("--expiring 90d listed %s, %d days left", c.Subject, c.Days)
		}
		newest = newest || c.SHA256 == shas[2]
	}
	if !newest || len(inv.Certificates) == 0 {
		t.Errorf("--expiring 90d missed the EHR certificate ending in 30 days: %+v", inv.Certificates)
	}
	if res := medscan(t, work, nil, "certs", "--db", db, "--expiring", "soon"); res.code != 2 {
		t.Errorf("--expiring soon: %d, want a usage error", res.code)
	}
	csv := medscan(t, work, nil, "certs", "--db", db, "--issuer", "example health", "-f", "csv")
	if lines := strings.Count(csv.stdout, "\n"); csv.code != 0 || lines != 1+4 {
		t.Errorf("--issuer 'example health' as CSV: %d rows, want a header and the 4 certificates Example Health issued:\n%s",
			lines, csv.stdout)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
