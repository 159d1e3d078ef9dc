package httpwire

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/observe"
)

// filler returns n bytes that match no magic number, deterministic.
func filler(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%23)
	}
	return b
}

// withPrefix returns a body of n bytes starting with p.
func withPrefix(p string, n int) []byte {
	b := filler(n)
	copy(b, p)
	return b
}

func peBody(lfanew uint32, sig string, n int) []byte {
	b := withPrefix("MZ", n)
	binary.LittleEndian.PutUint32(b[0x3c:], lfanew)
	if int(lfanew)+len(sig) <= n {
		copy(b[lfanew:], sig)
	}
	return b
}

func tarBody(n int) []byte {
	b := filler(n)
	copy(b, "firmware/rootfs.img\x00")
	copy(b[257:], "ustar\x0000")
	return b
}

func ihexBody() []byte {
	var b bytes.Buffer
	for addr := 0; addr < 0x200; addr += 16 {
		fmt.Fprintf(&b, ":10%04X00%s%02X\r\n", addr, strings.Repeat("A5", 16), addr&0xff)
	}
	b.WriteString(":00000001FF\r\n")
	return b.Bytes()
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// chunked frames body as chunks of size n.
func chunked(body []byte, n int) string {
	var b strings.Builder
	for len(body) > 0 {
		k := min(n, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", k, body[:k])
		body = body[k:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

func TestImages(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		ctype    string // response Content-Type, "" for none
		encoding string // response Content-Encoding, "" for none
		status   string
		body     []byte
		want     string // BodyKind, "" for no image
	}{
		{"elf magic", "/download", "", "", "200 OK", withPrefix("\x7fELF\x02\x01\x01", 700), "elf"},
		{"pe with its signature", "/get?id=4", "text/plain", "", "200 OK", peBody(0x80, "PE\x00\x00", 700), "pe"},
		{"pe header beyond the window", "/get", "", "", "200 OK", peBody(0x400, "", 700), "pe"},
		{"MZ without a PE header is text", "/get", "", "", "200 OK", peBody(0x80, "XX\x00\x00", 700), ""},
		{"MZ with an absurd offset", "/get", "", "", "200 OK", peBody(0x10, "", 700), ""},
		{"uimage magic", "/fw", "", "", "200 OK", withPrefix("\x27\x05\x19\x56\x00\x00", 700), "uimage"},
		{"intel hex", "/fw", "text/plain", "", "200 OK", ihexBody(), "ihex"},
		{"colon text is not intel hex", "/x", "text/plain", "", "200 OK", withPrefix(":hello there", 700), ""},
		{"gzip magic", "/x", "", "", "200 OK", withPrefix("\x1f\x8b\x08\x00", 700), "gzip"},
		{"tar at 257", "/x", "", "", "200 OK", tarBody(1024), "tar"},
		{"zip magic", "/x", "", "", "200 OK", withPrefix("PK\x03\x04\x14\x00", 700), "zip"},
		{"short body no magic", "/x", "", "", "200 OK", filler(100), ""},
		{"bin extension", "/firmware/pump.BIN", "text/html", "", "200 OK", filler(700), "ext:.bin"},
		{"uimage extension", "/boot/kernel.uimage", "", "", "200 OK", filler(300), "ext:.uimage"},
		{"extension with query", "/dl/setup.exe", "", "", "200 OK", filler(300), "ext:.exe"},
		{"octet-stream type", "/api/blob", "application/octet-stream", "", "200 OK", filler(700), "type:application/octet-stream"},
		{"apk type with parameters", "/x", "Application/vnd.android.package-archive; q=1", "", "200 OK", filler(50),
			"type:application/vnd.android.package-archive"},
		{"magic wins over extension", "/fw/image.bin", "application/octet-stream", "", "200 OK", withPrefix("\x7fELF", 700), "elf"},
		{"compressed web page is not gzip", "/index.html", "text/html", "gzip", "200 OK", withPrefix("\x1f\x8b\x08\x00", 700), ""},
		{"compressed .tgz is still found by name", "/a.tgz", "", "gzip", "200 OK", withPrefix("\x1f\x8b\x08\x00", 700), "ext:.tgz"},
		{"not found page for a .bin", "/missing.bin", "text/html", "", "404 Not Found", filler(300), ""},
		{"plain html", "/index.html", "text/html", "", "200 OK", filler(700), ""},
	}
	for _, tc := range tests {
		for _, framing := range []string{"length", "chunked"} {
			t.Run(tc.name+"/"+framing, func(t *testing.T) {
				client := "GET " + tc.path + " HTTP/1.1\r\nHost: updates.vendor.example\r\n\r\nGET /after HTTP/1.1\r\n\r\n"
				server := "HTTP/1.1 " + tc.status + "\r\nServer: fw-srv\r\n"
				if tc.ctype != "" {
					server += "Content-Type: " + tc.ctype + "\r\n"
				}
				if tc.encoding != "" {
					server += "Content-Encoding: " + tc.encoding + "\r\n"
				}
				if framing == "length" {
					server += "Content-Length: " + itoa(len(tc.body)) + "\r\n\r\n" + string(tc.body)
				} else {
					server += "Transfer-Encoding: chunked\r\n\r\n" + chunked(tc.body, 97)
				}
				server += "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 0\r\n\r\n"
				whole := run([][]byte{[]byte(client)}, [][]byte{[]byte(server)})
				path := tc.path
				if i := strings.IndexByte(path, '?'); i >= 0 {
					path = path[:i]
				}
				path = observe.PathTemplate(path) // what leaves the dissector
				code := tc.status[:3]
				wantStatuses(t, whole, "GET "+path+" "+code, "GET /{id} 200")
				r := whole.Sink.HTTP[0]
				if r.BodyKind != tc.want {
					t.Fatalf("kind %q, want %q", r.BodyKind, tc.want)
				}
				switch {
				case tc.want == "":
					if r.BodyBytes != 0 || r.BodySHA256 != "" || r.BodyPartial {
						t.Errorf("not an image, yet %+v", r)
					}
				case r.BodyBytes != int64(len(tc.body)) || r.BodySHA256 != digest(tc.body) || r.BodyPartial:
					t.Errorf("bytes %d sha %s partial %v, want %d %s", r.BodyBytes, r.BodySHA256, r.BodyPartial,
						len(tc.body), digest(tc.body))
				}
				if a := whole.Sink.HTTP[1]; a.BodyKind != "" {
					t.Errorf("an empty body is not an image: %+v", a)
				}
				want := whole.Sink.Dump()
				for i, parts := range corpustest.Splits([]byte(server)) {
					if got := run([][]byte{[]byte(client)}, parts).Sink.Dump(); got != want {
						t.Fatalf("server split %d differs:\n%s\nwant\n%s", i, got, want)
					}
				}
			})
		}
	}
}

func TestImageLargeAndUnpaired(t *testing.T) {
	body := withPrefix("\x7fELF\x01\x01\x01", 200<<10)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + string(body)
	segments := func(b []byte) [][]byte {
		var out [][]byte
		for off := 0; off < len(b); off += 1460 {
			out = append(out, b[off:min(off+1460, len(b))])
		}
		return out
	}
	t.Run("200 KiB in segments", func(t *testing.T) {
		h := run([][]byte{[]byte("GET /firmware/pump-v2.3.bin HTTP/1.1\r\n\r\n")}, segments([]byte(resp)))
		r := h.Sink.HTTP[0]
		if r.BodyKind != "elf" || r.BodyBytes != 200<<10 || r.BodySHA256 != digest(body) || r.Path != "/firmware/pump-v2.3.bin" {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("response alone, read until close", func(t *testing.T) {
		h := run(nil, segments([]byte("HTTP/1.0 200 OK\r\n\r\n"+string(body))))
		r := h.Sink.HTTP[0]
		if len(h.Sink.HTTP) != 1 || r.Method != "" || r.BodyKind != "elf" || r.BodySHA256 != digest(body) || r.BodyPartial {
			t.Fatalf("%+v", h.Sink.HTTP)
		}
	})
}

func TestImagePartial(t *testing.T) {
	body := withPrefix("PK\x03\x04", 4000)
	head := "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n"
	tests := []struct {
		name      string
		feed      func(d dissect.Stream)
		wantBytes int64
		wantKind  string
	}{
		{"gap inside a known-length body", func(d dissect.Stream) {
			d.Data(dissect.ServerToClient, []byte(head+string(body[:1000])), t0)
			d.Gap(dissect.ServerToClient, 1000)
			d.Data(dissect.ServerToClient, body[2000:], t0)
		}, 3000, "zip"},
		{"gap before the magic was decided", func(d dissect.Stream) {
			d.Data(dissect.ServerToClient, []byte(head+"PK"), t0)
			d.Gap(dissect.ServerToClient, 100)
			d.Data(dissect.ServerToClient, body[102:], t0)
		}, 0, ""},
		{"capture ends inside the body", func(d dissect.Stream) {
			d.Data(dissect.ServerToClient, []byte(head+string(body[:3000])), t0)
		}, 3000, "zip"},
		{"gap past the end of the body", func(d dissect.Stream) {
			d.Data(dissect.ServerToClient, []byte(head+string(body[:3000])), t0)
			d.Gap(dissect.ServerToClient, 5000)
		}, 3000, "zip"},
		{"bad chunk framing", func(d dissect.Stream) {
			d.Data(dissect.ServerToClient, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n"+string(body[:2048])+"\r\nzz\r\n"), t0)
		}, 2048, "zip"},
		{"206 partial content", func(d dissect.Stream) {
			d.Data(dissect.ServerToClient, []byte("HTTP/1.1 206 Partial Content\r\nContent-Length: 4000\r\n\r\n"+string(body)), t0)
		}, 4000, "zip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := corpustest.NewHarness(flow)
			d := New(h.Ctx)
			d.Data(dissect.ClientToServer, []byte("GET /update.zip HTTP/1.1\r\n\r\n"), t0)
			tc.feed(d)
			d.End(t0)
			if len(h.Sink.HTTP) != 1 {
				t.Fatalf("emitted %+v", h.Sink.HTTP)
			}
			r := h.Sink.HTTP[0]
			want := tc.wantKind
			if want == "" {
				want = "ext:.zip"
			}
			if !r.BodyPartial || r.BodySHA256 != "" || r.BodyKind != want || (tc.wantBytes != 0 && r.BodyBytes != tc.wantBytes) {
				t.Fatalf("%+v", r)
			}
		})
	}
	t.Run("gap in a body read until close", func(t *testing.T) {
		h := corpustest.NewHarness(flow)
		d := New(h.Ctx)
		d.Data(dissect.ServerToClient, []byte("HTTP/1.0 200 OK\r\n\r\n"+string(body[:1000])), t0)
		d.Gap(dissect.ServerToClient, 10)
		d.Data(dissect.ServerToClient, body[1010:], t0)
		d.End(t0)
		if r := h.Sink.HTTP[0]; !r.BodyPartial || r.BodySHA256 != "" || r.BodyKind != "zip" || r.BodyBytes != 3990 {
			t.Fatalf("%+v", r)
		}
	})
}

// TestResponseBodiesCostNothing checks that a large response body that is not an image, and
// the streaming of an image through the hash, allocate nothing per segment.
func TestResponseBodiesCostNothing(t *testing.T) {
	const size = 100 << 20
	chunk := bytes.Repeat([]byte("<p>HTTP/1.1 200 OK</p>\r\n"), 2730)
	for _, tc := range []struct{ name, path, first string }{
		{"web page", "/big.html", "<html>"},
		{"firmware", "/fw.bin", "\x7fELF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := corpustest.NewHarness(flow)
			d := New(h.Ctx)
			d.Data(dissect.ClientToServer, []byte("GET "+tc.path+" HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n"), t0)
			d.Data(dissect.ServerToClient, []byte("HTTP/1.1 200 OK\r\nContent-Length: "+itoa(size)+"\r\n\r\n"+tc.first), t0)
			fed := len(tc.first)
			d.Data(dissect.ServerToClient, chunk, t0) // the first segment settles the magic
			fed += len(chunk)
			runs := (size-fed)/len(chunk) - 1
			allocs := testing.AllocsPerRun(runs, func() { d.Data(dissect.ServerToClient, chunk, t0) })
			if allocs != 0 {
				t.Errorf("a response body costs %v allocations per segment", allocs)
			}
			fed += (runs + 1) * len(chunk)
			d.Data(dissect.ServerToClient, bytes.Repeat([]byte("x"), size-fed), t0)
			d.Data(dissect.ServerToClient, []byte("HTTP/1.1 204 No Content\r\n\r\n"), t0)
			d.End(t0)
			wantStatuses(t, h, "GET "+observe.PathTemplate(tc.path)+" 200", "GET /{id} 204")
			if r := h.Sink.HTTP[0]; (tc.name == "firmware") != (r.BodySHA256 != "") || r.BodyPartial {
				t.Errorf("%+v", r)
			}
		})
	}
}

func TestImageHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b.bin": "ext:.bin", "/A.IMG": "ext:.img", "/x.tar.gz": "ext:.gz", "/x.bin/": "", "/x": "",
		"/.deb": "ext:.deb", "/dir.bin/file": "", "/x.binary": "", "/x.verylongextension": "",
	} {
		if got := pathKind(in); got != want {
			t.Errorf("pathKind(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"application/zip": "type:application/zip", " application/x-tar ; x=y": "type:application/x-tar",
		"text/html": "", "": "", "application/octet-streamx": "",
	} {
		if got := typeKind(in); got != want {
			t.Errorf("typeKind(%q) = %q, want %q", in, got, want)
		}
	}
}
