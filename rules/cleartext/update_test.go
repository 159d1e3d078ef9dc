package cleartext

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscan/medscan/observe"
	"github.com/medscan/medscan/rules/internal/rulestest"
)

func TestUpdate(t *testing.T) {
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	const sha2 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	dl := func(client, server, path string, size int64, digest string) observe.HTTPRequest {
		return observe.HTTPRequest{Flow: flow(client, server), FirstSeen: rulestest.T0, Method: "GET",
			HostHeader: "updates.vendor.example", Path: path, Status: 200, BodyBytes: size, BodySHA256: digest, BodyKind: "elf"}
	}
	partial := dl("10.0.0.5:40000", "192.0.2.9:80", "/fw.bin", 100000, "")
	partial.BodyPartial = true
	notFound := dl("10.0.0.5:40000", "192.0.2.9:80", "/fw.bin", 100000, sha)
	notFound.Status = 404
	plain := dl("10.0.0.5:40000", "192.0.2.9:80", "/index.html", 100000, "")
	plain.BodyKind = ""
	later := dl("10.0.0.6:40000", "192.0.2.9:80", "/fw.bin", 70000, sha2)
	later.FirstSeen = rulestest.T0.Add(time.Hour)
	tests := []struct {
		name string
		reqs []observe.HTTPRequest
		want []string
	}{
		{"firmware download fires", []observe.HTTPRequest{dl("10.0.0.5:40000", "192.0.2.9:80", "/fw.bin", 204800, sha)},
			[]string{"high 192.0.2.9:80"}},
		{"exactly the threshold fires", []observe.HTTPRequest{dl("10.0.0.5:40000", "192.0.2.9:80", "/fw.bin", MinImageBytes, sha)},
			[]string{"high 192.0.2.9:80"}},
		{"two pumps, two images, one URL: one finding", []observe.HTTPRequest{
			dl("10.0.0.5:40000", "192.0.2.9:80", "/fw.bin", 204800, sha), later}, []string{"high 192.0.2.9:80"}},
		{"two paths: two findings", []observe.HTTPRequest{
			dl("10.0.0.5:40000", "192.0.2.9:80", "/a.bin", 204800, sha), dl("10.0.0.5:40000", "192.0.2.9:80", "/b.bin", 204800, sha)},
			[]string{"high 192.0.2.9:80", "high 192.0.2.9:80"}},
		{"partial capture fires without a digest", []observe.HTTPRequest{partial}, []string{"high 192.0.2.9:80"}},
		{"below the threshold is quiet", []observe.HTTPRequest{dl("10.0.0.5:40000", "192.0.2.9:80", "/fw.bin", MinImageBytes-1, sha)}, nil},
		{"an error page is quiet", []observe.HTTPRequest{notFound}, nil},
		{"a large web page is quiet", []observe.HTTPRequest{plain}, nil},
		{"no HTTP seen: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, r := range tc.reqs {
				set.AddHTTP(r)
			}
			fs := rulestest.Run(t, update{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				ev := f.Evidence
				if !strings.HasPrefix(f.Subject, "/") || ev["url"] != "http://updates.vendor.example"+f.Subject {
					t.Errorf("subject %q url %v", f.Subject, ev["url"])
				}
				if _, err := json.Marshal(f); err != nil {
					t.Fatal(err)
				}
			}
			switch tc.name {
			case "firmware download fires":
				ev := fs[0].Evidence
				if ev["sha256"] != sha || ev["size"] != int64(204800) || ev["kind"] != "elf" || ev["partial"] != false ||
					!slices.Equal(ev["status"].([]int), []int{200}) || !strings.Contains(fs[0].Message, sha) ||
					fs[0].Subject != "/fw.bin" {
					t.Errorf("finding %+v", fs[0])
				}
			case "two pumps, two images, one URL: one finding":
				ev := fs[0].Evidence
				if ev["sha256"] != sha || len(ev["images"].([]map[string]any)) != 2 ||
					!slices.Equal(ev["clients"].([]string), []string{"10.0.0.5", "10.0.0.6"}) ||
					!strings.Contains(fs[0].Message, "2 distinct images") || !fs[0].LastSeen.Equal(later.FirstSeen) {
					t.Errorf("finding %+v", fs[0])
				}
			case "partial capture fires without a digest":
				ev := fs[0].Evidence
				if _, ok := ev["sha256"]; ok || ev["partial"] != true || !strings.Contains(fs[0].Message, "partially captured") {
					t.Errorf("finding %+v", fs[0])
				}
			}
		})
	}
}

func TestUpdateTransfers(t *testing.T) {
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	xf := func(proto, client, server, path string, size int64, upload bool) observe.FileTransfer {
		return observe.FileTransfer{Flow: flow(client, server), FirstSeen: rulestest.T0, Protocol: proto, Path: path,
			URL: proto + "://192.0.2.9/" + path, Bytes: size, SHA256: sha, Kind: "uimage", Upload: upload}
	}
	text := xf("ftp", "10.0.0.5:40000", "192.0.2.9:21", "notes.txt", 200000, false)
	text.Kind = ""
	tests := []struct {
		name string
		xs   []observe.FileTransfer
		want []string
	}{
		{"tftp firmware fetch fires", []observe.FileTransfer{xf("tftp", "10.0.0.5:40000", "192.0.2.9:69", "pump.img", 131072, false)},
			[]string{"high 192.0.2.9:69"}},
		{"ftp firmware fetch fires", []observe.FileTransfer{xf("ftp", "10.0.0.5:40000", "192.0.2.9:21", "fw/pump.bin", 70000, false)},
			[]string{"high 192.0.2.9:21"}},
		{"an upload fires on its own", []observe.FileTransfer{xf("tftp", "10.0.0.5:40000", "192.0.2.9:69", "pump.img", 131072, false),
			xf("tftp", "10.0.0.5:40000", "192.0.2.9:69", "pump.img", 131072, true)},
			[]string{"high 192.0.2.9:69", "high 192.0.2.9:69"}},
		{"below the threshold is quiet", []observe.FileTransfer{xf("tftp", "10.0.0.5:40000", "192.0.2.9:69", "pump.img", MinImageBytes-1, false)}, nil},
		{"not an image is quiet", []observe.FileTransfer{text}, nil},
		{"no transfer seen: not applicable", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, x := range tc.xs {
				set.AddTransfer(x)
			}
			fs := rulestest.Run(t, update{}, set, nil)
			if got := rulestest.Keys(fs); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, f := range fs {
				ev := f.Evidence
				if ev["sha256"] != sha || ev["protocol"] != tc.xs[0].Protocol || ev["url"] != tc.xs[0].URL {
					t.Errorf("evidence %v", ev)
				}
				if _, ok := ev["status"]; ok {
					t.Errorf("a %s transfer has no HTTP status: %v", ev["protocol"], ev)
				}
			}
			if tc.name == "an upload fires on its own" {
				if fs[0].Evidence["direction"] != "download" || fs[1].Evidence["direction"] != "upload" ||
					!strings.Contains(fs[1].Message, "uploaded") {
					t.Errorf("findings %+v", fs)
				}
			}
		})
	}
}

// TestUpdateContentEncoded: an image that came gzip-encoded is named by the digest of the
// decoded image (the one a vendor publishes) when the update keeper decoded it, with the
// digest of the bytes on the wire beside it; one not decoded says its digest is of the
// encoded bytes rather than passing it off as the image's.
func TestUpdateContentEncoded(t *testing.T) {
	const image = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	const gz1 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	const gz2 = "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"
	req := func(client, digest string, size int64, encoded bool) observe.HTTPRequest {
		return observe.HTTPRequest{Flow: flow(client, "192.0.2.9:80"), FirstSeen: rulestest.T0, Method: "GET",
			HostHeader: "fw", Path: "/fw.bin", Status: 200, BodyBytes: size, BodySHA256: digest, BodyKind: "ext:.bin",
			BodyEncoded: encoded}
	}
	kept := func(cut bool, wire ...string) observe.UpdateImage {
		return observe.UpdateImage{Name: "fw.bin", Dir: "/", Origin: "http://192.0.2.9:80", Size: 300000, SHA256: image,
			Format: "raw", Cut: cut, WireSHA256: wire}
	}
	tests := []struct {
		name      string
		reqs      []observe.HTTPRequest
		updates   []observe.UpdateImage
		sha, what string
		size      int64
		wire      []string
		encoded   bool
		images    int
	}{
		{"decoded: the image's digest and size", []observe.HTTPRequest{req("10.0.0.5:40000", gz1, 100000, true)},
			[]observe.UpdateImage{kept(false, gz1)}, image, "SHA-256 " + image + " once decoded from gzip", 300000,
			[]string{gz1}, false, 1},
		{"compressed twice, one image", []observe.HTTPRequest{req("10.0.0.5:40000", gz1, 100000, true),
			req("10.0.0.6:40000", gz2, 100100, true), req("10.0.0.7:40000", image, 300000, false)},
			[]observe.UpdateImage{kept(false, gz1, gz2)}, image, "once decoded from gzip", 300000, []string{gz1, gz2}, false, 1},
		{"not kept: the encoded bytes' digest, said so", []observe.HTTPRequest{req("10.0.0.5:40000", gz1, 100000, true)},
			nil, gz1, "content-encoded, SHA-256 of the encoded bytes " + gz1, 100000, nil, true, 1},
		{"kept but cut: the encoded bytes' digest", []observe.HTTPRequest{req("10.0.0.5:40000", gz1, 100000, true)},
			[]observe.UpdateImage{kept(true, gz1)}, gz1, "SHA-256 of the encoded bytes", 100000, nil, true, 1},
		{"the same bytes encoded and not are two images", []observe.HTTPRequest{req("10.0.0.5:40000", image, 300000, false),
			req("10.0.0.6:40000", image, 300000, true)}, nil, image, "2 distinct images", 300000, nil, false, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := observe.NewSet()
			for _, r := range tc.reqs {
				set.AddHTTP(r)
			}
			for _, u := range tc.updates {
				set.AddUpdate(u)
			}
			fs := rulestest.Run(t, update{}, set, nil)
			if len(fs) != 1 {
				t.Fatalf("%d findings, want 1", len(fs))
			}
			ev := fs[0].Evidence
			wire, _ := ev["wire_sha256"].([]string)
			if ev["sha256"] != tc.sha || ev["size"] != tc.size || !slices.Equal(wire, tc.wire) ||
				(ev["content_encoded"] == true) != tc.encoded || !strings.Contains(fs[0].Message, tc.what) ||
				len(ev["images"].([]map[string]any)) != tc.images {
				t.Errorf("message %q\nevidence %v", fs[0].Message, ev)
			}
		})
	}
}
