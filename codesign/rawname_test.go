package codesign

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestRawNameMatchesPolicy: an image kept off the wire is named by its path template,
// and the policy's image patterns match the raw name it was served under, which is
// never copied into what Examine returns.
func TestRawNameMatchesPolicy(t *testing.T) {
	img := image(70_000, 4)
	files := []File{
		{Name: "{id}.bin", Dir: "/fw", Origin: "http://10.0.0.5:80", RawName: "acme-pump-7731.bin", Open: memOpener(img)},
		{Name: "{id}~2.bin", Dir: "/fw", Origin: "http://10.0.0.5:80", RawName: "other-7731.bin", Open: memOpener(img)},
	}
	pol := &Policy{MustSign: []string{"nothing-*"}, Vendors: []Vendor{{Name: "acme", Images: []string{"acme-pump-*.bin"}, MustSign: []string{"acme-*"}}}}
	imgs, err := Examine(context.Background(), files, pol, Options{Source: "passive"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 {
		t.Fatalf("%d images", len(imgs))
	}
	byName := map[string]Image{}
	for _, im := range imgs {
		byName[im.Name] = im
	}
	if a := byName["{id}.bin"]; a.Vendor != "acme" || !a.Required {
		t.Errorf("{id}.bin: vendor %q required %v, want acme's and required (its raw name matches acme-pump-*.bin)", a.Vendor, a.Required)
	}
	if o := byName["{id}~2.bin"]; o.Vendor != "" || o.Required {
		t.Errorf("{id}~2.bin: vendor %q required %v, want no vendor and not required", o.Vendor, o.Required)
	}
	out, _ := json.Marshal(imgs)
	if strings.Contains(string(out), "7731") || strings.Contains(string(out), "acme-pump") {
		t.Errorf("a raw name leaked into the examined images: %s", out)
	}
	// Without a raw name (medscan verify's files), the name itself is matched.
	files[0].RawName, files[0].Name = "", "acme-pump-2.bin"
	imgs, _ = Examine(context.Background(), files[:1], pol, Options{})
	if imgs[0].Vendor != "acme" {
		t.Errorf("a file's own name not matched: vendor %q", imgs[0].Vendor)
	}
}
