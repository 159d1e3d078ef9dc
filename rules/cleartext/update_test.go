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
