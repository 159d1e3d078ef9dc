//go:debug cryptocustomrand=1

package main

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscan/medscan/fixtures/certs"
	"github.com/medscan/medscan/fixtures/pcapw"
	"github.com/medscan/medscan/fixtures/tlsrec"
	"github.com/medscan/medscan/internal/pgtest"
)

// siteCapture describes one site's capture: a device gateway serving TLS with a
// certificate of its own name (on keyLabel's key: the planted key is one label on two
// sites), and a pump logging in to the site's API with HTTP Basic (password secret).
type siteCapture struct {
	site     string
	net      int // the site's 10.N.0.0/16
	keyLabel string
	secret   string
}

// writeSiteCapture writes the site's capture with a real TLS handshake (tlsrec) and the
// HTTP request, laid out as TCP by pcapw.
func writeSiteCapture(t *testing.T, path string, sc siteCapture) {
	t.Helper()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	key, err := certs.ECDSAKey(sc.keyLabel)
	if err != nil {
		t.Fatal(err)
	}
	name := "gw." + sc.site + ".hospital.example"
	leaf, err := certs.SelfSigned(certs.Spec{Label: "sites-test/" + sc.site, Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: t0.AddDate(0, -1, 0), NotAfter: t0.AddDate(1, 0, 0), Key: key, ServerAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tlsrec.Record("sites-test/"+sc.site,
		&tls.Config{ServerName: name, RootCAs: certs.Pool(leaf), MaxVersion: tls.VersionTLS12, Time: func() time.Time { return t0 }},
		&tls.Config{Certificates: []tls.Certificate{certs.TLSCertificate(leaf)}, Time: func() time.Time { return t0 }},
		[]tlsrec.Message{{Data: []byte("PING\r\n")}})
	if err != nil {
		t.Fatal(err)
	}
	peer := func(host string, port uint16, last byte) pcapw.Peer {
		return pcapw.Peer{MAC: net.HardwareAddr{0x02, 0, 0, byte(sc.net), 0, last},
			Addr: netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("10.%d.%s", sc.net, host)), port)}
	}
	writeCapture(t, path, func(w *pcapw.Writer) {
		conv := w.TCP(peer("1.21", 41000, 0x21), peer("0.50", 443, 0x50), pcapw.TCPOptions{})
		tr.Replay(conv)
		conv.Close()
		api := w.TCP(peer("1.31", 42000, 0x31), peer("0.40", 8080, 0x40), pcapw.TCPOptions{})
		auth := base64.StdEncoding.EncodeToString([]byte("pumpsvc:" + sc.secret))
		api.ClientSend([]byte("GET /api/v1/status HTTP/1.1\r\nHost: api.ward\r\nAuthorization: Basic " + auth + "\r\n\r\n"))
		api.ServerSend([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"))
		api.Close()
		// Every site's pump feeds the health system's interface engine (10.99.0.10, the
		// same host for all); north's sensor also sees the engine send on to the EHR.
		engine := pcapw.Peer{MAC: net.HardwareAddr{0x02, 0, 0, 0x99, 0, 0x10}, Addr: netip.MustParseAddrPort("10.99.0.10:6661")}
		feed := w.TCP(peer("1.41", 43000, 0x41), engine, pcapw.TCPOptions{})
		feed.ClientSend(mllpORU("PUMP", "ENGINE", sc.site))
		feed.Close()
		if sc.site == "north" {
			ehr := pcapw.Peer{MAC: net.HardwareAddr{0x02, 0, 0, 0x99, 0, 0x20}, Addr: netip.MustParseAddrPort("10.99.0.20:2575")}
			on := w.TCP(pcapw.Peer{MAC: engine.MAC, Addr: netip.MustParseAddrPort("10.99.0.10:50000")}, ehr, pcapw.TCPOptions{})
			on.ClientSend(mllpORU("ENGINE", "EHR", sc.site))
			on.Close()
		}
	})
}

// mllpORU is an HL7 v2 ORU^R01 with no patient segment, framed for MLLP.
func mllpORU(from, to, control string) []byte {
	msg := "MSH|^~\\&|" + from + "|WARD|" + to + "|HOSP|20260302090000||ORU^R01|" + control + "|P|2.5\r" +
		"OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|%|||||F\r"
	return append(append([]byte{0x0b}, msg...), 0x1c, 0x0d)
}

// sitesDestinations are the central stores of TestSitesEndToEnd: a SQLite file, and a
// fresh PostgreSQL database (internal/pgtest: the cluster of this test binary, or the
// server MEDSCAN_TEST_POSTGRES names) when one is at hand, which CI requires
// (MEDSCAN_REQUIRE_POSTGRES); the test is the same for both.
func sitesDestinations(t *testing.T, dir string) map[string]string {
	dests := map[string]string{"sqlite": filepath.Join(dir, "central.db")}
	if os.Getenv("MEDSCAN_TEST_POSTGRES") != "" || pgtest.Required() {
		dests["postgres"] = pgtest.Database(t)
	}
	return dests
}

// TestSitesEndToEnd: three sensors with different --site values scan their own captures
// concurrently into one store; a fourth scans into its own SQLite file, which is synced
// into the central store twice (the second adds nothing); "scans" lists the four sites
// once each. A key and a Basic-auth password planted on two sites (north, and west
// through the sync), each on one host there, are reported by a later scan as shared
// across those two sites; a site whose sensor has another key file sends the same
// password and is never compared (its hashes are under another key).
func TestSitesEndToEnd(t *testing.T) {
	work := t.TempDir()
	const sharedKey, sharedSecret = "sites-test/planted-key", "Pl4nted-Fleet-Secret-0427"
	caps := []siteCapture{
		{"north", 21, sharedKey, sharedSecret},
		{"south", 22, "sites-test/south-key", "south-only-secret-1"},
		{"east", 23, "sites-test/east-key", sharedSecret}, // another key file: never compared
		{"west", 24, sharedKey, sharedSecret},
	}
	for _, c := range caps {
		writeSiteCapture(t, filepath.Join(work, c.site+".pcapng"), c)
	}
	siteKey, eastKey := filepath.Join(work, "keys", "health-system.key"), filepath.Join(work, "keys", "east.key")
	for name, dest := range sitesDestinations(t, work) {
		t.Run(name, func(t *testing.T) {
			scanInto := func(site, db, key string) result {
				return medscan(t, work, nil, "scan", "-q", "--pcap", filepath.Join(work, site+".pcapng"), "--site", site,
					"--label", "ward", "--db", db, "--secret-key-file", key, "-f", "json")
			}
			// Three sensors at once into the central store.
			var wg sync.WaitGroup
			results := make([]result, 3)
			for i, c := range caps[:3] {
				key := siteKey
				if c.site == "east" {
					key = eastKey
				}
				wg.Go(func() { results[i] = scanInto(c.site, dest, key) })
			}
			wg.Wait()
			for i, r := range results {
				if r.code != 0 {
					t.Fatalf("sensor %s: exit %d: %s", caps[i].site, r.code, r.stderr)
				}
			}
			// The fourth, cut off from the central store, scans into its own file.
			westDB := filepath.Join(work, name+"-west.db")
			if r := scanInto("west", westDB, siteKey); r.code != 0 {
				t.Fatalf("sensor west: exit %d: %s", r.code, r.stderr)
			}
			first := mustRun(t, work, 0, "sync", "--from", westDB, "--to", dest)
			if !strings.HasPrefix(first.stdout, "1 run(s) copied") {
				t.Errorf("first sync: %q", first.stdout)
			}
			again := mustRun(t, work, 0, "sync", "--from", westDB, "--to", dest)
			if !strings.HasPrefix(again.stdout, "0 run(s) copied") || !strings.Contains(again.stdout, "1 already there") {
				t.Errorf("second sync: %q", again.stdout)
			}

			var list []struct {
				ID   int64  `json:"id"`
				Site string `json:"site"`
				UID  string `json:"uid"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, work, 0, "scans", "--db", dest, "-f", "json").stdout), &list); err != nil {
				t.Fatal(err)
			}
			var sites, uids []string
			for _, s := range list {
				sites, uids = append(sites, s.Site), append(uids, s.UID)
			}
			slices.Sort(sites)
			if !slices.Equal(sites, []string{"east", "north", "south", "west"}) {
				t.Fatalf("scans lists sites %v; want each of the four once", sites)
			}
			slices.Sort(uids)
			if len(slices.Compact(uids)) != 4 || len(uids[0]) != 32 {
				t.Errorf("uids %v: want four distinct", uids)
			}
			var west []struct {
				UID string `json:"uid"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, work, 0, "scans", "--db", westDB, "-f", "json").stdout), &west); err != nil ||
				len(west) != 1 || !slices.Contains(uids, west[0].UID) {
				t.Errorf("west's scan did not keep its uid in the central store: %+v (%v)", west, err)
			}
			if tab := mustRun(t, work, 0, "scans", "--db", dest, "--site", "west").stdout; !strings.Contains(tab, "west") ||
				strings.Contains(tab, "north") {
				t.Errorf("scans --site west:\n%s", tab)
			}

			// North's next scan is judged against every site in the store.
			r := parseReport(t, scanInto("north", dest, siteKey).stdout)
			var keyShared, credShared map[string]any
			var keyMsg, credMsg string
			for _, f := range r.Findings {
				switch {
				case f.Rule == "key-shared" && f.Host == "10.21.0.50":
					keyShared, keyMsg = f.Evidence, f.Message
				case f.Rule == "credential-shared" && f.Host == "10.21.0.40":
					credShared, credMsg = f.Evidence, f.Message
				}
			}
			wantSites := []any{"north", "west"}
			if keyShared == nil || !slices.Equal(keyShared["sites"].([]any), wantSites) ||
				!strings.Contains(keyMsg, "10.24.0.50:443 (site west)") || !strings.Contains(keyMsg, "across sites north, west") {
				t.Errorf("key-shared across sites: evidence %v, message %q (rules: %s)", keyShared, keyMsg, r.rules())
			}
			if credShared == nil || !slices.Equal(credShared["sites"].([]any), wantSites) ||
				!strings.Contains(credMsg, "10.24.1.31 (site west)") || strings.Contains(credMsg, "east") {
				t.Errorf("credential-shared across sites: evidence %v, message %q", credShared, credMsg)
			}
			// Nothing of the secret in the report.
			if b, _ := json.Marshal(r); strings.Contains(string(b), sharedSecret) {
				t.Error("the report carries the planted secret")
			}
			// The history of north pairs north's two scans; --site picks a site's latest.
			var diff struct {
				Previous *struct {
					ID int64 `json:"id"`
				} `json:"previous"`
			}
			if err := json.Unmarshal([]byte(mustRun(t, work, 0, "diff", "--db", dest, "--site", "north", "-f", "json").stdout), &diff); err != nil ||
				diff.Previous == nil {
				t.Fatalf("diff --site north: %v %+v", err, diff)
			}
			var prevSite []struct {
				ID   int64  `json:"id"`
				Site string `json:"site"`
			}
			_ = json.Unmarshal([]byte(mustRun(t, work, 0, "scans", "--db", dest, "-f", "json", "--site", "north").stdout), &prevSite)
			if len(prevSite) != 2 || prevSite[0].ID != diff.Previous.ID {
				t.Errorf("north's diff compares with scan %d; north's scans are %+v", diff.Previous.ID, prevSite)
			}
			// The engine has one sender at north and one at each other site (west's
			// through the sync): middleware across the fleet, in north's inventory.
			engine := mustRun(t, work, 0, "inventory", "--db", dest, "--site", "north", "--kind", "middleware", "-f", "json").stdout
			if !strings.Contains(engine, `"10.99.0.10"`) ||
				!strings.Contains(engine, "from 4 hosts (10.21.1.41, 10.22.1.41 (site south), 10.23.1.41 (site east), 10.24.1.41 (site west)) and sends on to "+
					"10.99.0.20:2575 (HL7); across sites east, north, south, west") {
				t.Errorf("the engine is not middleware across sites in north's inventory:\n%s", engine)
			}
			inv := mustRun(t, work, 0, "inventory", "--db", dest, "--site", "south", "-f", "json").stdout
			if !strings.Contains(inv, "10.22.0.50") || strings.Contains(inv, "10.21.") {
				t.Errorf("inventory --site south is not south's:\n%.400s", inv)
			}
		})
	}
}

// TestSyncRefusals: sync says plainly what is wrong, and never prints the password of a
// store address.
func TestSyncRefusals(t *testing.T) {
	work := t.TempDir()
	mustRun(t, work, 0, "scan", "-q", "--pcap", wardCapture(t), "--site", "north", "--db", "site.db",
		"--secret-key-file", filepath.Join(work, "k.key"), "-o", filepath.Join(work, "out.json"))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sync", "--from", "site.db"}, 2, "give the store to copy from (--from FILE) and the one to copy into (--to DEST)"},
		{[]string{"sync", "--from", "site.db", "--to", "./site.db"}, 2, "--from and --to are the same store"},
		{[]string{"sync", "--from", "missing.db", "--to", "c.db"}, 1, "sync: --from missing.db: no such file or directory"},
		{[]string{"sync", "--from", "site.db", "--to", "postgres://medscan:S3cretPw@db.example/medscan"}, 1, "xxxxx"},
	} {
		res := medscan(t, work, nil, tc.args...)
		if res.code != tc.code || !strings.Contains(res.stderr, tc.want) || strings.Contains(res.stderr+res.stdout, "S3cretPw") {
			t.Errorf("medscan %v: exit %d, stderr %q; want %d with %q", tc.args, res.code, res.stderr, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "c.db")); err == nil {
		t.Error("a failed sync created its destination")
	}
}
