package codesign

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
)

// newc writes a newc cpio archive of the members (name, data) and its trailer.
func newc(members ...[2]string) []byte {
	var b bytes.Buffer
	add := func(name, data string, mode uint32) {
		fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b.WriteString(name + "\x00")
		b.Write(make([]byte, pad4(int64(cpioHeaderSize+len(name)+1))))
		b.WriteString(data)
		b.Write(make([]byte, pad4(int64(len(data)))))
	}
	for _, m := range members {
		add(m[0], m[1], 0o100644)
	}
	add(cpioTrailer, "", 0)
	return b.Bytes()
}

func TestCpioReader(t *testing.T) {
	a := newc([2]string{"sw-description", "abc"}, [2]string{"x", ""}, [2]string{"rootfs.img", "12345"})
	cr := newCpioReader(bytes.NewReader(a))
	var got []string
	for {
		m, err := cr.next()
		if errors.Is(err, errCpioEnd) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(cr)
		got = append(got, m.name+"="+string(b))
	}
	if want := []string{"sw-description=abc", "x=", "rootfs.img=12345"}; !slices.Equal(got, want) {
		t.Errorf("members %q, want %q", got, want)
	}
	for _, bad := range [][]byte{a[:50], a[:cpioHeaderSize+3], []byte("070701zz"), append([]byte("070707"), a[6:]...)} {
		if _, err := newCpioReader(bytes.NewReader(bad)).next(); err == nil || errors.Is(err, errCpioEnd) {
			t.Errorf("%q: no error", bad[:min(len(bad), 16)])
		}
	}
}

func TestParseSWDescription(t *testing.T) {
	sum := "9727e63b082c7b2e9237b66c073c138257ce003c52b064f98224c97a4337b50e"
	for _, tc := range []struct {
		name, text string
		want       []swEntry
		version    string
		err        bool
	}{
		{name: "libconfig", text: `software = { version = "1.2"; /* c */ images: ( { filename = "a.img"; sha256 = "` + sum + `"; } ); # x
			files: ({ filename = "b"; path = "/x"; }); // y
		};`, want: []swEntry{{"a.img", sum}, {"b", ""}}, version: "1.2"},
		{name: "json", text: `{"software": {"version": "3.0", "pump": {"images": [{"filename": "r\"q.img", "sha256": "` + sum + `"}]}}}`,
			want: []swEntry{{`r"q.img`, sum}}, version: "3.0"},
		{name: "unbalanced", text: `software = { images: ( { filename = "a"; ); };`, err: true},
		{name: "unterminated string", text: `software = { version = "1.2; };`, err: true},
		{name: "unterminated comment", text: `software = { /* };`, err: true},
	} {
		d, err := parseSWDescription([]byte(tc.text))
		if tc.err {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Equal(d.entries, tc.want) || d.version != tc.version {
			t.Errorf("%s: entries %+v version %q, want %+v %q", tc.name, d.entries, d.version, tc.want, tc.version)
		}
	}
}

// TestSWUMismatch checks a handmade image: a description that agrees and is unsigned
// is no signature; one that disagrees (an artifact changed, or missing) is invalid.
func TestSWUMismatch(t *testing.T) {
	art := "the artifact"
	s := sha256.Sum256([]byte(art))
	desc := `software = { images: ( { filename = "rootfs.img"; sha256 = "` + hex.EncodeToString(s[:]) + `"; } ); };`
	for _, tc := range []struct {
		name    string
		archive []byte
		sigs    int
		reason  string
	}{
		{"agrees", newc([2]string{"sw-description", desc}, [2]string{"rootfs.img", art}), 0, ""},
		{"changed", newc([2]string{"sw-description", desc}, [2]string{"rootfs.img", art + "!"}), 1, "differs"},
		{"missing", newc([2]string{"sw-description", desc}), 1, "does not hold"},
	} {
		f := &File{Name: "x.swu", Size: int64(len(tc.archive)), Open: memOpener(tc.archive)}
		sigs, _, ok := examineSWU(f, nil)
		if !ok || len(sigs) != tc.sigs {
			t.Errorf("%s: ok %v, %d signatures %+v, want %d", tc.name, ok, len(sigs), sigs, tc.sigs)
			continue
		}
		if tc.sigs > 0 && (!sigs[0].Checked || sigs[0].Verifies || !bytes.Contains([]byte(sigs[0].Reason), []byte(tc.reason))) {
			t.Errorf("%s: %+v, want checked, not verifying, reason with %q", tc.name, sigs[0], tc.reason)
		}
	}
	if _, _, ok := examineSWU(&File{Name: "x.cpio", Open: memOpener(newc([2]string{"etc/passwd", "x"}))}, nil); ok {
		t.Error("a cpio without sw-description first taken as an SWUpdate image")
	}
}

// menderArtifact builds a minimal format-3 artifact signed with key (nil: unsigned).
func menderArtifact(t testing.TB, payload []byte, key *ecdsa.PrivateKey) []byte {
	var data bytes.Buffer
	zw := gzip.NewWriter(&data)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "rootfs.img", Mode: 0o600, Size: int64(len(payload))})
	tw.Write(payload)
	tw.Close()
	zw.Close()
	version := []byte(`{"format":"mender","version":3}`)
	header := []byte("not really a header.tar.gz")
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	manifest := fmt.Sprintf("%s  data/0000/rootfs.img\n%s  header.tar.gz\n%s  version\n", sum(payload), sum(header), sum(version))
	var out bytes.Buffer
	ow := tar.NewWriter(&out)
	add := func(name string, b []byte) {
		ow.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b))})
		ow.Write(b)
	}
	add("version", version)
	add("manifest", []byte(manifest))
	if key != nil {
		d := sha256.Sum256([]byte(manifest))
		sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
		if err != nil {
			t.Fatal(err)
		}
		add("manifest.sig", []byte(base64.StdEncoding.EncodeToString(sig)))
	}
	add("header.tar.gz", header)
	add("data/0000.tar.gz", data.Bytes())
	ow.Close()
	return out.Bytes()
}

// TestMenderAnchors checks a handmade artifact against PEM public-key anchors: the
// signing key's (verified, trusted), another key's (untrusted, not checked).
func TestMenderAnchors(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := func(k *ecdsa.PrivateKey) []byte {
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	art := menderArtifact(t, []byte("payload bytes"), key)
	f := &File{Name: "a.mender", Size: int64(len(art)), Open: memOpener(art)}
	for _, tc := range []struct {
		anchor          []byte
		verifies        bool
		trust, signerIn string
	}{
		{pub(key), true, TrustTrusted, "vendor.pem"},
		{pub(other), false, TrustUntrusted, ""},
	} {
		a := &Anchors{}
		if err := a.AddFile("vendor.pem", tc.anchor); err != nil {
			t.Fatal(err)
		}
		sigs, ok := examineMender(f, a)
		if !ok || len(sigs) != 1 {
			t.Fatalf("ok %v, signatures %+v", ok, sigs)
		}
		s := sigs[0]
		if s.Verifies != tc.verifies || s.Trust != tc.trust || !bytes.Contains([]byte(s.Signer.Subject), []byte(tc.signerIn)) {
			t.Errorf("anchor %s: %+v, want verifies %v trust %s", tc.signerIn, s, tc.verifies, tc.trust)
		}
	}
	a := &Anchors{}
	if err := a.AddFile("bad.pem", []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Error("a malformed public key accepted as an anchor")
	}
}

// FuzzCpio feeds the cpio reader and the SWUpdate examination arbitrary archives: the
// reader never reads past the data, and nothing verifies without a key.
func FuzzCpio(f *testing.F) {
	f.Add(newc([2]string{"sw-description", `software = { images: ( { filename = "a"; sha256 = "00"; } ); };`}, [2]string{"a", "x"}))
	f.Add(newc([2]string{"sw-description", "{}"}, [2]string{"sw-description.sig", "\x30\x03\x02\x01\x01"}))
	f.Add(newc([2]string{"etc/passwd", "root"}))
	f.Add([]byte("070701"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := newCpioReader(bytes.NewReader(data))
		total := int64(0)
		for range maxCpioMembers + 1 {
			m, err := cr.next()
			if err != nil {
				break
			}
			n, _ := io.Copy(io.Discard, cr)
			if n > m.size {
				t.Fatalf("%d bytes read from a %d-byte member", n, m.size)
			}
			total += n
		}
		if total > int64(len(data)) || cr.off > int64(len(data)) {
			t.Fatalf("%d bytes of data, offset %d, from %d bytes", total, cr.off, len(data))
		}
		sigs, _, _ := examineSWU(&File{Name: "x.swu", Size: int64(len(data)), Open: memOpener(data)}, nil)
		for _, s := range sigs {
			if s.Verifies && s.Signer.Subject == "" {
				t.Fatal("verified without naming the signer")
			}
		}
	})
}

// FuzzSWDescription feeds the sw-description reader arbitrary text: every entry has a
// file name key, and the entries stay bounded.
func FuzzSWDescription(f *testing.F) {
	f.Add([]byte(`software = { version = "1"; images: ( { filename = "a"; sha256 = "b"; } ); };`))
	f.Add([]byte(`{"software": {"images": [{"filename": "a", "sha256": "b"}]}}`))
	f.Add([]byte("# c\n/* d */ // e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseSWDescription(data)
		if err == nil && len(d.entries) > maxSWEntries {
			t.Fatalf("%d entries", len(d.entries))
		}
	})
}

// FuzzTar feeds the Mender artifact reader arbitrary tars: nothing verifies without a
// key, and a signature it reports as checked and verifying names its key.
func FuzzTar(f *testing.F) {
	f.Add(menderArtifact(f, []byte("payload"), nil))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add(menderArtifact(f, []byte("payload"), key))
	f.Add([]byte("version"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sigs, _ := examineMender(&File{Name: "x.mender", Size: int64(len(data)), Open: memOpener(data)}, nil)
		for _, s := range sigs {
			if s.Verifies {
				t.Fatal("verified without any key")
			}
		}
	})
}
