package report

import (
	"bytes"
	"encoding/csv"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/observe"
)

func TestCSVGolden(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		report       func() *findings.Report
	}{
		{"findings.csv.golden", "csv", fixture},
		{"assets.csv.golden", "csv-assets", fixture},
		{"findings_empty.csv.golden", "csv", empty},
		{"assets_empty.csv.golden", "csv-assets", empty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.format, Options{}, tc.report())
			golden(t, tc.name, got)
			if again := render(t, tc.format, Options{}, tc.report()); !bytes.Equal(got, again) {
				t.Fatal("two renders of the same report differ")
			}
		})
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	return rows
}

func TestCSVFindings(t *testing.T) {
	r := fixture()
	rows := readCSV(t, render(t, "csv", Options{}, r))
	if len(rows) != 1+len(r.Findings) {
		t.Fatalf("%d rows for %d findings", len(rows), len(r.Findings))
	}
	if got := strings.Join(rows[0], ","); got != "severity,rule,host,port,subject,message,first_seen,last_seen,fingerprint,source,remediation,file" {
		t.Errorf("header = %s", got)
	}
	want := []string{"high", "cleartext-credentials", "2001:db8::1", "1883", "00112233445566778899aabbccddeeff",
		"MQTT CONNECT carries a user name and password in clear", "2024-03-05T10:20:30Z", "2024-03-05T10:20:30Z",
		r.Findings[2].Fingerprint, "passive", "", ""}
	if got := strings.Join(rows[3], "|"); got != strings.Join(want, "|") {
		t.Errorf("row 3 = %s\nwant    %s", got, strings.Join(want, "|"))
	}
	if rows[1][6] != "2024-03-05T10:20:30Z" || rows[1][7] != "2024-03-05T11:20:30Z" {
		t.Errorf("times = %q %q", rows[1][6], rows[1][7])
	}
}

// TestCSVInjection plants every formula trigger OWASP lists in the cells that carry
// network text, and checks that each is defused and nothing else changes.
func TestCSVInjection(t *testing.T) {
	payloads := []string{"=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
		"\t=1+1", "\r=1+1", "plain, with \"quotes\"\nand a newline", "a=b", ""}
	for _, p := range payloads {
		r := fixture()
		r.Findings = r.Findings[:1]
		f := &r.Findings[0]
		f.Host, f.Subject, f.Message, f.Remediation, f.File = p, p, p, p, p
		r.Assets = []findings.Asset{{MAC: p, Asset: observe.Asset{Addr: netip.MustParseAddr("10.0.0.1"), MACs: []string{p}}}}
		r.Services = []findings.Service{{Host: "10.0.0.1", Port: 1, Service: observe.Service{Protocol: p}, Cipher: p, TLSVersion: p}}
		// Control characters are escaped first (a tab is a space, a carriage return
		// "\x0d"), then whatever still starts like a formula is defused.
		want := observe.Clean(p)
		if want != "" && strings.ContainsRune("=+-@\t\r", rune(want[0])) {
			want = "'" + want
		}
		fr := readCSV(t, render(t, "csv", Options{}, r))
		for _, col := range []int{2, 4, 5, 10, 11} {
			if fr[1][col] != want {
				t.Errorf("findings column %s: %q; want %q", fr[0][col], fr[1][col], want)
			}
		}
		ar := readCSV(t, render(t, "csv-assets", Options{}, r))
		if len(ar) != 2 {
			t.Fatalf("%q: %d asset rows; want the header and one", p, len(ar))
		}
		for _, col := range []int{1, 2, 7, 8, 9} {
			if ar[1][col] != want {
				t.Errorf("assets column %s: %q; want %q", ar[0][col], ar[1][col], want)
			}
		}
		// A service's host comes from the document as text (an address, unless a store
		// was tampered with): defused as well.
		r.Assets, r.Services = nil, []findings.Service{{Host: p, Port: 1}}
		if ar := readCSV(t, render(t, "csv-assets", Options{}, r)); p != "" && ar[1][0] != want {
			t.Errorf("assets column ip: %q; want %q", ar[1][0], want)
		}
	}
	for in, want := range map[string]string{"": "", "=": "'=", "x=1": "x=1", "-": "'-", "@": "'@", "\u00a0=1": "\u00a0=1"} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestCSVAssets(t *testing.T) {
	t1 := time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)
	addr := netip.MustParseAddr
	r := &findings.Report{
		Assets: []findings.Asset{
			{MAC: "aa:aa:aa:aa:aa:aa", Asset: observe.Asset{Addr: addr("10.0.0.10"), MACs: []string{"aa:aa:aa:aa:aa:aa", "bb:bb:bb:bb:bb:bb"},
				FirstSeen: t0, LastSeen: t1, Vendor: "Baxter",
				Names: []observe.AssetName{{Name: "pump-1", Source: "dhcp"}, {Name: "=cmd", Source: "dns"}},
				Kind:  "medical-device", Roles: []string{"hl7-sender", "tls-server"}, Manufacturer: "Baxter", Model: "Sigma",
				Reasons: []string{"sends HL7", "OUI"}}},
			{Asset: observe.Asset{Addr: addr("10.0.0.9")}},
			{Asset: observe.Asset{Addr: addr("2001:db8::1")}},
		},
		Services: []findings.Service{
			{Host: "10.0.0.10", Port: 443, Service: observe.Service{Transport: "tcp", Protocol: "tls", Source: "passive"}, TLSVersion: "TLSv1.2"},
			{Host: "10.0.0.10", Port: 80, Service: observe.Service{Transport: "tcp", Protocol: "http", Source: "passive", FirstSeen: t0, LastSeen: t1}},
			{Host: "10.0.0.200", Port: 22, Service: observe.Service{Transport: "tcp", Protocol: "ssh", Source: "active"}},
		},
	}
	rows := readCSV(t, render(t, "csv-assets", Options{}, r))
	var got []string
	for _, row := range rows[1:] {
		got = append(got, strings.Join(row, "|"))
	}
	const inv = "|Baxter|pump-1 (dhcp); =cmd (dns)|medical-device|hl7-sender tls-server|Baxter|Sigma|sends HL7 | OUI"
	want := []string{
		"10.0.0.9|||||||||||||||||||",
		"10.0.0.10|aa:aa:aa:aa:aa:aa|aa:aa:aa:aa:aa:aa bb:bb:bb:bb:bb:bb|2024-03-05T10:20:30Z|2024-03-05T12:00:00Z|80|tcp|http|||passive|2024-03-05T10:20:30Z|2024-03-05T12:00:00Z" + inv,
		"10.0.0.10|aa:aa:aa:aa:aa:aa|aa:aa:aa:aa:aa:aa bb:bb:bb:bb:bb:bb|2024-03-05T10:20:30Z|2024-03-05T12:00:00Z|443|tcp|tls|TLSv1.2||passive||" + inv,
		"10.0.0.200|||||22|tcp|ssh|||active|||||||||",
		"2001:db8::1|||||||||||||||||||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, row := range rows {
		if len(row) != len(rows[0]) {
			t.Errorf("row %d has %d cells; the header has %d", i, len(row), len(rows[0]))
		}
	}
}
