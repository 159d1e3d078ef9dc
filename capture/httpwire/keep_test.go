package httpwire

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/medscan/medscan/capture/dissect"
	"github.com/medscan/medscan/capture/internal/corpustest"
	"github.com/medscan/medscan/capture/updatekeep"
	"github.com/medscan/medscan/observe"
)

// keptHTTP runs one keep-alive connection of GET requests and their responses through a
// dissector with a keeper, in small segments, and returns the kept files by name.
func keptHTTP(t *testing.T, opt updatekeep.Options, exchanges [][2]string, gap bool) (map[string][]byte, *updatekeep.Keeper) {
	t.Helper()
	out, k, _ := keptHTTPRecords(t, opt, exchanges, gap)
	return out, k
}

// keptHTTPRecords is keptHTTP that also returns the HTTP records the dissector emitted.
func keptHTTPRecords(t *testing.T, opt updatekeep.Options, exchanges [][2]string, gap bool) (map[string][]byte, *updatekeep.Keeper, []observe.HTTPRequest) {
	t.Helper()
	opt.TempDir = t.TempDir()
	k := updatekeep.New(opt)
	t.Cleanup(func() { k.Close() })
	h := corpustest.NewHarness(flow)
	h.Ctx.Keep = k
	d := New(h.Ctx)
	for _, x := range exchanges {
		d.Data(dissect.ClientToServer, []byte(x[0]), t0)
		resp := []byte(x[1])
		for i := 0; i < len(resp); i += 1000 {
			if gap && i == 50000 {
				d.Gap(dissect.ServerToClient, 1000)
				continue
			}
			d.Data(dissect.ServerToClient, resp[i:min(i+1000, len(resp))], t0)
		}
	}
	d.End(t0)
	out := map[string][]byte{}
	for _, f := range k.Files() {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if digest(b) != f.SHA256 && !f.Cut {
			t.Errorf("%s: kept bytes hash to %s, the file says %s", f.Name, digest(b), f.SHA256)
		}
		out[f.Dir+"/"+f.Name] = b
	}
	return out, k, h.Sink.HTTP
}

func get(p string) string { return "GET " + p + " HTTP/1.1\r\nHost: fw\r\n\r\n" }

func ok(headers string, body []byte) string {
	return "HTTP/1.1 200 OK\r\n" + headers + "\r\n" + string(body)
}

func TestKeepImagesAndSignatures(t *testing.T) {
	img := withPrefix("PK\x03\x04", 300<<10)
	exe := peBody(0x80, "PE\x00\x00", 100<<10)
	sig := []byte("-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n")
	sums := []byte(digest(img) + "  update-7.zip\n")
	exe2 := peBody(0x80, "PE\x00\x00", 150<<10)
	gzImg := gzipped(exe2)
	got, k := keptHTTP(t, updatekeep.Options{}, [][2]string{
		{get("/fw/update-7.zip"), ok(fmt.Sprintf("Content-Length: %d\r\n", len(img)), img)},
		{get("/fw/update-7.zip.asc"), ok(fmt.Sprintf("Content-Type: application/pgp-signature\r\nContent-Length: %d\r\n", len(sig)), sig)},
		{get("/fw/SHA256SUMS"), ok("Transfer-Encoding: chunked\r\n", []byte(chunked(sums, 7)))},
		// Identified by its magic alone, chunked: the de-chunked entity is kept.
		{get("/fw/download?id=3"), ok("Transfer-Encoding: chunked\r\n", []byte(chunked(exe, 4000)))},
		// Not an image: not kept.
		{get("/index.html"), ok("Content-Type: text/html\r\nContent-Length: 70000\r\n", filler(70000))},
		// Compressed on the wire with gzip: kept decoded, the vendor's bytes.
		{get("/fw/gz.bin"), ok(fmt.Sprintf("Content-Encoding: gzip\r\nContent-Length: %d\r\n", len(gzImg)), gzImg)},
		// Compressed with another coding: not decoded; counted, not kept.
		{get("/fw/other.zip"), ok(fmt.Sprintf("Content-Encoding: br\r\nContent-Length: %d\r\n", len(img)), img)},
	}, false)
	want := map[string][]byte{
		"/fw/{id}.zip": img, "/fw/{id}.zip.asc": sig, "/fw/SHA256SUMS": sums, "/fw/download": exe, "/fw/{id}.bin": exe2,
	}
	for name, b := range want {
		if string(got[name]) != string(b) {
			t.Errorf("%s: kept %d bytes, want the %d served", name, len(got[name]), len(b))
		}
	}
	if len(got) != len(want) {
		var names []string
		for n := range got {
			names = append(names, n)
		}
		t.Errorf("kept %q", names)
	}
	if n := counterOf(k, updatekeep.CountEncoded); n != 1 {
		t.Errorf("encoded bodies counted %d, want 1", n)
	}
	if n := counterOf(k, updatekeep.CountDecoded); n != 1 {
		t.Errorf("gzip bodies decoded %d, want 1", n)
	}
}

// TestKeepGzipNamesItsImage: a gzip body's record carries the digest of the bytes on the
// wire and says they were encoded; the kept, decoded image lists that digest, so that
// cleartext-update can name the image by the digest a vendor publishes.
func TestKeepGzipNamesItsImage(t *testing.T) {
	exe := peBody(0x80, "PE\x00\x00", 150<<10)
	gz := gzipped(exe)
	_, k, recs := keptHTTPRecords(t, updatekeep.Options{}, [][2]string{
		{get("/fw/gz.bin"), ok(fmt.Sprintf("Content-Encoding: gzip\r\nContent-Length: %d\r\n", len(gz)), gz)},
		{get("/fw/plain.bin"), ok(fmt.Sprintf("Content-Length: %d\r\n", len(exe)), exe)},
		{get("/fw/br.bin"), ok(fmt.Sprintf("Content-Encoding: br\r\nContent-Length: %d\r\n", len(exe)), exe)},
	}, false)
	if len(recs) != 3 {
		t.Fatalf("records %+v", recs)
	}
	var encoded, plain int
	for _, r := range recs {
		switch {
		case r.BodyEncoded && r.BodySHA256 == digest(gz) && r.BodyBytes == int64(len(gz)):
			encoded++
		case r.BodyEncoded && r.BodySHA256 == digest(exe):
			encoded++ // br: not decoded, its digest of the bytes as they came
		case !r.BodyEncoded && r.BodySHA256 == digest(exe):
			plain++
		default:
			t.Errorf("record %s: encoded %v, %d bytes, SHA-256 %s", r.Path, r.BodyEncoded, r.BodyBytes, r.BodySHA256)
		}
	}
	if encoded != 2 || plain != 1 {
		t.Errorf("%d encoded and %d plain records, want 2 and 1", encoded, plain)
	}
	var decoded int
	for _, f := range k.Files() {
		if f.SHA256 != digest(exe) {
			t.Errorf("kept %s with SHA-256 %s, want the image's", f.Name, f.SHA256)
		}
		if len(f.WireSHA256) > 0 {
			decoded++
			if !slices.Equal(f.WireSHA256, []string{digest(gz)}) {
				t.Errorf("kept %s names the wire digests %v, want the gzip stream's %s", f.Name, f.WireSHA256, digest(gz))
			}
		}
	}
	if decoded != 1 {
		t.Errorf("%d kept files name a gzip stream, want 1", decoded)
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestKeepGzipBounded: a gzip body that decodes beyond the image limit (a decompression
// bomb) is cut at the limit, its decoding stopped there, and counted; one that does not
// decode is dropped and counted.
func TestKeepGzipBounded(t *testing.T) {
	bomb := gzipped(make([]byte, 64<<20))
	got, k := keptHTTP(t, updatekeep.Options{MaxImage: 1 << 20}, [][2]string{
		{get("/fw/bomb.bin"), ok(fmt.Sprintf("Content-Encoding: gzip\r\nContent-Length: %d\r\n", len(bomb)), bomb)},
		{get("/fw/bad.bin"), ok("Content-Encoding: gzip\r\nContent-Length: 70000\r\n", filler(70000))},
	}, false)
	if b, ok := got["/fw/{id}.bin"]; !ok || len(b) != 1<<20 {
		t.Errorf("bomb kept %d bytes (present %v), want the first MiB", len(b), ok)
	}
	for _, f := range k.Files() {
		if f.Name == "{id}.bin" && (!f.Cut || f.Size > 1<<20+64<<10) {
			t.Errorf("bomb: cut %v, size %d: decoding went past the limit", f.Cut, f.Size)
		}
	}
	if counterOf(k, updatekeep.CountCut) != 1 || counterOf(k, updatekeep.CountDecodeError) != 1 || len(got) != 1 {
		t.Errorf("kept %d files, counters %v: want the bomb cut and the bad stream dropped", len(got), k.Counters())
	}
}

func TestKeepDropsBodiesWithHoles(t *testing.T) {
	img := withPrefix("PK\x03\x04", 200<<10)
	got, k := keptHTTP(t, updatekeep.Options{}, [][2]string{
		{get("/fw/update-7.zip"), ok(fmt.Sprintf("Content-Length: %d\r\n", len(img)), img)},
	}, true)
	if len(got) != 0 || counterOf(k, updatekeep.CountGap) != 1 {
		t.Errorf("kept %d files after a gap, gap counter %d", len(got), counterOf(k, updatekeep.CountGap))
	}
	got, _ = keptHTTP(t, updatekeep.Options{}, [][2]string{
		{get("/fw/update-7.zip"), "HTTP/1.1 206 Partial Content\r\nContent-Length: 70000\r\n\r\n" + string(img[:70000])},
	}, false)
	if len(got) != 0 {
		t.Errorf("kept a 206 fragment")
	}
}

func TestKeepCut(t *testing.T) {
	img := withPrefix("PK\x03\x04", 300<<10)
	got, k := keptHTTP(t, updatekeep.Options{MaxImage: 100 << 10}, [][2]string{
		{get("/fw/update-7.zip"), ok(fmt.Sprintf("Content-Length: %d\r\n", len(img)), img)},
	}, false)
	if b := got["/fw/{id}.zip"]; string(b) != string(img[:100<<10]) {
		t.Errorf("cut image kept %d bytes", len(b))
	}
	if counterOf(k, updatekeep.CountCut) != 1 {
		t.Errorf("counters %v", k.Counters())
	}
	for _, f := range k.Files() {
		if !f.Cut || f.SHA256 != digest(img) || f.Size != int64(len(img)) {
			t.Errorf("cut file %+v: the digest and size are the whole body's", f)
		}
	}
}

func counterOf(k *updatekeep.Keeper, name string) uint64 {
	for _, c := range k.Counters() {
		if strings.EqualFold(c.Name, name) {
			return c.Value
		}
	}
	return 0
}

// FuzzKeepStream feeds arbitrary responses to a dissector with a keeper, and checks that
// what is kept is exactly what was hashed: every kept file's bytes hash to its digest,
// and every image digest the dissector reports belongs to a kept file (unless the body
// was compressed, which is counted and not kept).
func FuzzKeepStream(f *testing.F) {
	fw := withPrefix("\x7fELF\x01\x01\x01", 1500)
	f.Add([]byte(get("/firmware/pump-v2.3.bin")), []byte(ok("Content-Length: 1500\r\n", fw)), uint16(300), uint16(0))
	f.Add([]byte(get("/fw")), []byte(ok("Transfer-Encoding: chunked\r\n", []byte(chunked(fw, 500)))), uint16(60), uint16(0))
	f.Add([]byte(get("/fw/a.bin")+get("/fw/a.bin.sig")),
		[]byte(ok("Content-Length: 1500\r\n", fw)+ok("Content-Length: 3\r\n", []byte("sig"))), uint16(1600), uint16(0))
	f.Add([]byte(get("/update.tar")), []byte("HTTP/1.0 200 OK\r\n\r\n"+string(tarBody(600))), uint16(20), uint16(5))
	f.Add([]byte(get("/fw/b.zip")), []byte(ok("Content-Encoding: gzip\r\nContent-Length: 4\r\n", []byte("PK\x03\x04"))), uint16(9), uint16(0))
	f.Fuzz(func(t *testing.T, client, server []byte, cut, gap uint16) {
		k := updatekeep.New(updatekeep.Options{MinImage: 1, MaxImage: 4096, MaxCompanion: 512, TempDir: t.TempDir()})
		defer k.Close()
		h := corpustest.NewHarness(flow)
		h.Ctx.Keep = k
		d := New(h.Ctx)
		d.Data(dissect.ClientToServer, client, t0)
		c := int(cut) % (len(server) + 1)
		d.Data(dissect.ServerToClient, server[:c], t0)
		if gap != 0 {
			d.Gap(dissect.ServerToClient, int(gap))
		}
		d.Data(dissect.ServerToClient, server[c:], t0)
		d.End(t0)
		kept := map[string]bool{}
		// A gzip body is kept decoded: its digest is not the one of the bytes hashed on
		// the wire, and a decoded body cut short by the limit keeps what its start decodes to.
		decoded := counterOf(k, updatekeep.CountDecoded)+counterOf(k, updatekeep.CountDecodeError) > 0
		for _, f := range k.Files() {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r)
			r.Close()
			switch {
			case f.Cut && len(b) != 4096 && len(b) != 512 && !decoded:
				t.Fatalf("cut file %s kept %d bytes", f.Name, len(b))
			case !f.Cut && (digest(b) != f.SHA256 || int64(len(b)) != f.Size):
				t.Fatalf("%s: kept %d bytes hashing to %s, the file says %d bytes, %s", f.Name, len(b), digest(b), f.Size, f.SHA256)
			}
			kept[f.SHA256] = true
		}
		encoded := counterOf(k, updatekeep.CountEncoded) > 0 || decoded
		for _, r := range h.Sink.HTTP {
			if r.BodySHA256 != "" && r.BodyBytes >= 1 && !kept[r.BodySHA256] && !encoded { // MinImage is 1
				t.Fatalf("image %s (%d bytes, digest %s) was hashed but not kept; kept %v, counters %v", r.Path, r.BodyBytes,
					r.BodySHA256, kept, k.Counters())
			}
		}
	})
}
