package codesign

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

// fitSeedKeys are the keys of the control DTB mkimage -K wrote when it signed
// testdata/fit-signed.itb (a 64-byte kernel and a 32-byte device tree).
func fitSeedKeys(t testing.TB) []fitKey {
	t.Helper()
	b, err := os.ReadFile("testdata/fit-control.dtb")
	if err != nil {
		t.Fatal(err)
	}
	a := &Anchors{}
	if err := a.AddFile("fit-control.dtb", b); err != nil {
		t.Fatal(err)
	}
	return fitKeys(a)
}

// TestFITRegions checks the signed FIT made by mkimage verifies with its control DTB's
// key, and that a change to any byte the signature or the hashes cover makes it fail:
// the region finder must cover exactly what U-Boot covers.
func TestFITRegions(t *testing.T) {
	data, err := os.ReadFile("testdata/fit-signed.itb")
	if err != nil {
		t.Fatal(err)
	}
	keys := fitSeedKeys(t)
	sigs := func(b []byte) []string {
		tr, err := parseFDT(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return []string{"unparsed: " + err.Error()}
		}
		var out []string
		for _, s := range fitSignatures(tr, int64(len(b)), keys, true) {
			v := "fails: " + s.Reason
			if s.Verifies {
				v = "verifies"
			}
			out = append(out, v)
		}
		return out
	}
	if got := sigs(data); len(got) != 1 || got[0] != "verifies" {
		t.Fatalf("the signed FIT: %v, want one signature that verifies", got)
	}
	tr, _ := parseFDT(bytes.NewReader(data), int64(len(data)))
	conf := tr.root.child("configurations").child("conf-1")
	sn := conf.child("signature-1")
	regions, err := tr.findRegions(sn.strs("hashed-nodes"), fitExcludedProps)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[int64]bool{}
	for _, r := range regions {
		for i := r.off; i < r.off+r.size; i++ {
			covered[i] = true
		}
	}
	hs, _ := sn.prop("hashed-strings")
	for i := int64(0); i < int64(hs.value[7]); i++ {
		covered[int64(tr.hdr.OffStrings)+i] = true
	}
	for _, name := range []string{"kernel-1", "fdt-1"} {
		p, _ := tr.root.child("images").child(name).prop("data")
		for i := p.off; i < p.off+p.size; i++ {
			covered[i] = true
		}
	}
	// Every covered byte, flipped, breaks the image; the header and the signature's
	// own value are not covered (the header is checked by the parser instead).
	broken := 0
	for i := range int64(len(data)) {
		if !covered[i] {
			continue
		}
		b := bytes.Clone(data)
		b[i] ^= 0x01
		if got := sigs(b); len(got) == 1 && got[0] == "verifies" {
			t.Errorf("byte %d flipped: the FIT still verifies", i)
		}
		broken++
	}
	if broken < 200 {
		t.Errorf("only %d bytes covered", broken)
	}
	// A byte of the signature node's own timestamp is not covered: U-Boot does not sign it.
	ts, _ := sn.prop("timestamp")
	b := bytes.Clone(data)
	b[ts.off+3] ^= 0x01
	if got := sigs(b); len(got) != 1 || got[0] != "verifies" {
		t.Errorf("the signature's timestamp changed: %v, want it still verifying", got)
	}
	if got := sigs(data[:len(data)-1]); len(got) != 1 || !strings.HasPrefix(got[0], "unparsed") {
		t.Errorf("a truncated FIT: %v, want it refused", got)
	}
}

// FuzzFDT feeds the FDT parser, the region finder, the FIT signature checks and the
// control-DTB key reader arbitrary bytes: no panic, every property and region inside
// the blob.
func FuzzFDT(f *testing.F) {
	for _, n := range []string{"testdata/fit-signed.itb", "testdata/fit-control.dtb"} {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\xd0\x0d\xfe\xed\x00\x00\x00\x48\x00\x00\x00\x38\x00\x00\x00\x48\x00\x00\x00\x28\x00\x00\x00\x11\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x09"))
	keys := fitSeedKeys(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		controlDTBKeys(data)
		tr, err := parseFDT(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		var walk func(n *fdtNode, depth int)
		walk = func(n *fdtNode, depth int) {
			if depth > fdtMaxDepth {
				t.Fatal("tree deeper than the limit")
			}
			for _, p := range n.props {
				if p.off < 0 || p.off+p.size > int64(len(data)) {
					t.Fatalf("property %q at %d+%d outside a %d-byte blob", p.name, p.off, p.size, len(data))
				}
			}
			for _, c := range n.children {
				walk(c, depth+1)
			}
		}
		walk(tr.root, 0)
		if regions, err := tr.findRegions([]string{"/", "/images", "/configurations/conf-1"}, fitExcludedProps); err == nil {
			for _, r := range regions {
				if r.off < 0 || r.size < 0 || r.off+r.size > int64(len(data)) {
					t.Fatalf("region %d+%d outside a %d-byte blob", r.off, r.size, len(data))
				}
			}
		}
		for _, s := range fitSignatures(tr, int64(len(data)), keys, true) {
			if s.Verifies && !s.Checked {
				t.Fatal("verified without being checked")
			}
		}
	})
}

// TestFITDuplicateNodes checks a FIT with two sibling image nodes of one name is not
// verified: its regions would cover both while a loader takes one.
func TestFITDuplicateNodes(t *testing.T) {
	data, err := os.ReadFile("testdata/fit-signed.itb")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := parseFDT(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	images := tr.root.child("images")
	twin := *images.child("kernel-1")
	images.children = append(images.children, &twin)
	sigs := fitSignatures(tr, int64(len(data)), fitSeedKeys(t), true)
	if len(sigs) != 1 || sigs[0].Verifies || !sigs[0].Checked || !strings.Contains(sigs[0].Reason, "two nodes named /images/kernel-1") {
		t.Errorf("duplicate image nodes: %+v, want a checked signature that fails for them", sigs)
	}
}

// TestAnchorKeyFiles checks the key anchors FIT images use: a PEM public key (PKIX and
// PKCS #1) and a control DTB's keys are read; a device tree without keys is a clear
// error naming the file.
func TestAnchorKeyFiles(t *testing.T) {
	dtb, err := os.ReadFile("testdata/fit-control.dtb")
	if err != nil {
		t.Fatal(err)
	}
	a := &Anchors{}
	if err := a.AddFile("control.dtb", dtb); err != nil {
		t.Fatal(err)
	}
	if len(a.PublicKeys) != 1 || a.PublicKeys[0].Name != "dev" || a.Empty() {
		t.Fatalf("control DTB: keys %+v, want the one named dev", a.PublicKeys)
	}
	rsaKey, ok := a.PublicKeys[0].Key.(*rsa.PublicKey)
	if !ok || rsaKey.N.BitLen() != 2048 || rsaKey.E != 65537 {
		t.Fatalf("control DTB key: %T %v", a.PublicKeys[0].Key, a.PublicKeys[0].Key)
	}
	pkix, _ := x509.MarshalPKIXPublicKey(rsaKey)
	for _, b := range [][]byte{pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rsaKey)})} {
		b2 := &Anchors{}
		if err := b2.AddFile("dev.pub.pem", b); err != nil {
			t.Fatal(err)
		}
		if len(b2.PublicKeys) != 1 || !rsaKey.Equal(b2.PublicKeys[0].Key) {
			t.Errorf("PEM key: %+v", b2.PublicKeys)
		}
	}
	fit, _ := os.ReadFile("testdata/fit-signed.itb")
	err = (&Anchors{}).AddFile("pump.itb", fit)
	if err == nil || !strings.HasPrefix(err.Error(), "pump.itb: U-Boot control DTB: a device tree without a /signature node") {
		t.Errorf("a FIT as an anchor: %v, want an error naming the file", err)
	}
}
