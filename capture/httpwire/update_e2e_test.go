package httpwire_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/medscan/medscan/capture"
	"github.com/medscan/medscan/capture/protocols"
	"github.com/medscan/medscan/findings"
	"github.com/medscan/medscan/fixtures/pcapw"
	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules"
	_ "github.com/medscan/medscan/rules/all"
)

// TestFirmwareDownloadEndToEnd writes a capture of a pump fetching its firmware over plain
// HTTP, reads it with the passive engine and every dissector, and checks that the rules
// report cleartext-update with the digest of exactly what crossed the wire.
func TestFirmwareDownloadEndToEnd(t *testing.T) {
	image := make([]byte, 200<<10)
	copy(image, "\x7fELF\x01\x01\x01\x00")
	for i := 16; i < len(image); i++ {
		image[i] = byte(i*7 + i>>9)
	}
	sum := sha256.Sum256(image)
	want := hex.EncodeToString(sum[:])
	t0 := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

	for _, framing := range []string{"content-length", "chunked"} {
		t.Run(framing, func(t *testing.T) {
			var capFile bytes.Buffer
			w, err := pcapw.New(&capFile, t0, pcapw.Options{})
			if err != nil {
				t.Fatal(err)
			}
			pump := pcapw.Peer{MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x11}, Addr: netip.MustParseAddrPort("10.20.1.11:40001")}
			srv := pcapw.Peer{MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x60}, Addr: netip.MustParseAddrPort("10.20.0.50:8080")}
			conv := w.TCP(pump, srv, pcapw.TCPOptions{Faults: pcapw.Faults{ReorderEvery: 7, RetransmitEvery: 11}})
			conv.ClientSend([]byte("GET /firmware/pump-v2.3.bin?serial=P-0042&token=abc HTTP/1.1\r\n" +
				"Host: updates.vendor.example:8080\r\nUser-Agent: PumpUpdater/2.2\r\n\r\n"))
			head := "HTTP/1.1 200 OK\r\nServer: lighttpd/1.4\r\nContent-Type: application/octet-stream\r\n"
			if framing == "chunked" {
				var body bytes.Buffer
				for rest := image; len(rest) > 0; {
					n := min(3000, len(rest))
					fmt.Fprintf(&body, "%x\r\n", n)
					body.Write(rest[:n])
					body.WriteString("\r\n")
					rest = rest[n:]
				}
				body.WriteString("0\r\n\r\n")
				conv.ServerSend(append([]byte(head+"Transfer-Encoding: chunked\r\n\r\n"), body.Bytes()...))
			} else {
				conv.ServerSend(append([]byte(head+"Content-Length: "+strconv.Itoa(len(image))+"\r\n\r\n"), image...))
			}
			conv.Close()
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}

			set := observe.NewSet()
			e := capture.NewEngine(capture.Config{Dissectors: protocols.All(),
				Secrets: observe.NewSecretHasher([]byte("0123456789abcdef0123456789abcdef"))}, set)
			if err := e.Read("firmware.pcapng", &capFile); err != nil {
				t.Fatal(err)
			}
			e.Finish()

			var got []findings.Finding
			for _, f := range rules.Evaluate(set, nil) {
				if f.Rule == "cleartext-update" {
					got = append(got, f)
				}
			}
			if len(got) != 1 {
				t.Fatalf("cleartext-update findings: %+v (http: %+v, problems %v, counters %v)", got, set.HTTP, set.Problems, set.Counters)
			}
			f := got[0]
			ev := f.Evidence
			if f.Host != "10.20.0.50" || f.Port != 8080 || f.Subject != "/firmware/pump-v2.3.bin" ||
				f.Severity != findings.High || ev["sha256"] != want || ev["size"] != int64(len(image)) ||
				ev["kind"] != "elf" || ev["url"] != "http://updates.vendor.example:8080/firmware/pump-v2.3.bin" ||
				fmt.Sprint(ev["clients"]) != "[10.20.1.11]" {
				t.Fatalf("finding %+v", f)
			}
			if bytes.Contains([]byte(fmt.Sprint(f)), []byte("P-0042")) {
				t.Errorf("a query value reached the finding: %+v", f)
			}
		})
	}
}
