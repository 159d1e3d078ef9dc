package updatekeep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var (
	server = netip.MustParseAddrPort("10.0.0.5:80")
	pump1  = netip.MustParseAddr("10.0.1.7")
	pump2  = netip.MustParseAddr("10.0.1.8")
)

func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// feed writes b in uneven pieces, as segments arrive.
func feed(body *Body, b []byte) {
	for len(b) > 0 {
		n := min(len(b), 1+len(b)%1460)
		body.Write(b[:n])
		b = b[n:]
	}
}

func read(t *testing.T, f File) []byte {
	t.Helper()
	r, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func counter(k *Keeper, name string) uint64 {
	for _, c := range k.Counters() {
		if c.Name == name {
			return c.Value
		}
	}
	return 0
}

func TestKeptBytesEqualServed(t *testing.T) {
	k := New(Options{MemPerFile: 100 << 10, TempDir: t.TempDir()})
	defer k.Close()
	small := payload(80<<10, 1) // stays in memory
	big := payload(3<<20, 2)    // spilled
	sig := []byte("-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n")
	for _, c := range []struct {
		path string
		kind string
		role Role
		b    []byte
	}{
		{"/fw/pump-2.1.bin", "ext:.bin", RoleImage, big},
		{"/fw/pump-2.1.bin.asc", "", RoleCompanion, sig},
		{"/fw/monitor.img", "ext:.img", RoleImage, small},
		{"/fw/SHA256SUMS", "", RoleCompanion, []byte(hexSum(big) + "  pump-2.1.bin\n")},
		{"/fw/notes.asc", "", RoleCompanion, sig}, // no image called "notes"
		{"/other/x.sig", "", RoleCompanion, sig},  // no image in that directory
	} {
		b := k.Begin(c.role)
		feed(b, c.b)
		b.Finish(Meta{Protocol: "http", Server: server, Client: pump1, Path: c.path, Kind: c.kind})
	}
	files := k.Files()
	var got []string
	for _, f := range files {
		got = append(got, f.Dir+" "+f.Name)
		if f.Origin != "http://10.0.0.5:80" || !slices.Equal(f.Clients, []string{"10.0.1.7"}) {
			t.Errorf("%s: origin %q clients %v", f.Name, f.Origin, f.Clients)
		}
		data := read(t, f)
		if hexSum(data) != f.SHA256 || int64(len(data)) != f.Size || f.Cut {
			t.Errorf("%s: kept %d bytes (sha %s), file says %d bytes sha %s cut %v", f.Name, len(data), hexSum(data),
				f.Size, f.SHA256, f.Cut)
		}
	}
	// Names made of words are kept; one with a number in it is templated.
	want := []string{"/fw SHA256SUMS", "/fw monitor.img", "/fw {id}.bin", "/fw {id}.bin.asc"}
	if !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	if files[2].SHA256 != hexSum(big) {
		t.Errorf("image digest %s, want %s", files[1].SHA256, hexSum(big))
	}
	if n := counter(k, CountUnpaired); n != 2 {
		t.Errorf("unpaired companions %d, want 2", n)
	}
	// The big one went to disk, in a private directory.
	ents, _ := filepath.Glob(filepath.Join(k.Options().TempDir, "medscan-updates-*"))
	if len(ents) != 1 {
		t.Fatalf("temporary directories %v", ents)
	}
	if fi, err := os.Stat(ents[0]); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("temporary directory mode %v (%v)", fi.Mode(), err)
	}
	spilled, _ := filepath.Glob(filepath.Join(ents[0], "*"))
	if len(spilled) != 1 {
		t.Fatalf("spilled files %v, want the big image's alone", spilled)
	}
	if fi, _ := os.Stat(spilled[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("spilled file mode %v", fi.Mode())
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ents[0]); !os.IsNotExist(err) {
		t.Errorf("Close left %s (%v)", ents[0], err)
	}
}

func TestCutAndCounted(t *testing.T) {
	k := New(Options{MaxImage: 200 << 10, MaxCompanion: 1000, MemPerFile: 64 << 10, TempDir: t.TempDir()})
	defer k.Close()
	img := payload(1<<20, 3)
	b := k.Begin(RoleImage)
	feed(b, img)
	b.Finish(Meta{Protocol: "tftp", Server: netip.MustParseAddrPort("10.0.0.5:69"), Client: pump1, Path: "pump.bin", Kind: "ext:.bin"})
	// An FTP body whose role is known only at its end: a long manifest is trimmed.
	man := bytes.Repeat([]byte(hexSum(img)+"  pump.bin\n"), 40)
	b = k.Begin(RoleUnknown)
	feed(b, man)
	b.Finish(Meta{Protocol: "tftp", Server: netip.MustParseAddrPort("10.0.0.5:69"), Client: pump1, Path: "SHA256SUMS"})
	files := k.Files()
	if len(files) != 2 {
		t.Fatalf("files %+v", files)
	}
	f := files[1]
	if f.Name != "pump.bin" || f.Dir != "." || !f.Cut || f.Size != 1<<20 || f.SHA256 != hexSum(img) {
		t.Errorf("cut image: %+v", f)
	}
	if data := read(t, f); !bytes.Equal(data, img[:200<<10]) {
		t.Errorf("cut image kept %d bytes, not the first %d", len(data), 200<<10)
	}
	if m := files[0]; m.Name != "SHA256SUMS" || !m.Cut || !bytes.Equal(read(t, m), man[:1000]) || m.SHA256 != hexSum(man) {
		t.Errorf("cut manifest: %+v", m)
	}
	if counter(k, CountCut) != 1 || counter(k, CountCompCut) != 1 ||
		counter(k, CountBytesCut) != uint64(len(img)-200<<10+len(man)-1000) {
		t.Errorf("counters %v", k.Counters())
	}
}

func TestDropsAndBudget(t *testing.T) {
	k := New(Options{MaxTotal: 300 << 10, MaxFiles: 3, TempDir: t.TempDir()})
	defer k.Close()
	a := k.Begin(RoleImage)
	b := k.Begin(RoleImage)
	c := k.Begin(RoleImage)
	if d := k.Begin(RoleImage); d != nil { // over MaxFiles
		t.Fatal("a fourth body began beyond MaxFiles")
	}
	feed(a, payload(200<<10, 4))
	feed(b, payload(200<<10, 5)) // over MaxTotal: dropped
	c.Drop(CountGap)
	small := k.Begin(RoleImage)
	feed(small, payload(10<<10, 6))
	small.Finish(Meta{Protocol: "http", Server: server, Path: "/a.bin", Kind: "ext:.bin"}) // below MinImage
	a.Finish(Meta{Protocol: "http", Server: server, Client: pump1, Path: "/a.bin", Kind: "ext:.bin"})
	b.Finish(Meta{Protocol: "http", Server: server, Client: pump1, Path: "/b.bin", Kind: "ext:.bin"})
	files := k.Files()
	if len(files) != 1 || files[0].Size != 200<<10 {
		t.Fatalf("files %+v", files)
	}
	for name, want := range map[string]uint64{CountBudget: 2, CountGap: 1, CountSmallImages: 1, CountKept: 1} {
		if got := counter(k, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	// The slots and bytes of the dropped bodies came back.
	if e := k.Begin(RoleImage); e == nil {
		t.Error("no slot after drops")
	}
	var nilKeeper *Keeper
	nb := nilKeeper.Begin(RoleImage)
	nb.Write([]byte("x"))
	nb.Finish(Meta{Kind: "ext:.bin"})
	if nilKeeper.Files() != nil || nilKeeper.Close() != nil {
		t.Error("the nil keeper kept something")
	}
}

func TestDuplicatesAndNames(t *testing.T) {
	k := New(Options{TempDir: t.TempDir()})
	defer k.Close()
	v1, v2 := payload(70<<10, 7), payload(70<<10, 8)
	put := func(p string, client netip.Addr, b []byte) {
		body := k.Begin(RoleUnknown)
		feed(body, b)
		kind := ""
		if strings.HasSuffix(p, ".bin") {
			kind = "ext:.bin"
		}
		body.Finish(Meta{Protocol: "http", Server: server, Client: client, Path: p, Kind: kind})
	}
	put("/fw/pump-2.bin", pump1, v1)
	put("/fw/pump-2.bin", pump2, v1) // the same copy again: merged
	put("/fw/pump-2.bin", pump2, v2) // other contents at the same name: kept apart
	put("/fw/monitor-3.bin", pump1, v2)
	put("/fw/monitor-3.bin.sig", pump1, []byte("sig"))
	put("/patients/4471902/x.bin", pump1, v1)
	put("/patients/5550123/x.bin", pump1, v2)
	var got []string
	for _, f := range k.Files() {
		got = append(got, f.Dir+" "+f.Name+" "+strings.Join(f.Clients, ",")+" "+f.SHA256[:6])
	}
	s1, s2 := hexSum(v1)[:6], hexSum(v2)[:6]
	want := []string{
		"/fw {id}.bin 10.0.1.7 " + s2, // monitor-3.bin (sorted first among the raw names)
		"/fw {id}.bin.sig 10.0.1.7 " + hexSum([]byte("sig"))[:6],
		"/fw {id}~2.bin 10.0.1.7,10.0.1.8 " + s1, // pump-2.bin
		"/fw {id}~2.bin 10.0.1.8 " + s2,
		// One raw name ("x.bin") in two directories: one name, two contents.
		"/patients/{id} {id}~3.bin 10.0.1.7 " + s1,
		"/patients/{id} {id}~3.bin 10.0.1.7 " + s2,
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("files\n%q\nwant\n%q", got, want)
	}
	for _, f := range k.Files() {
		if strings.Contains(f.Dir+f.Name, "4471902") || strings.Contains(f.Dir+f.Name, "pump-2") {
			t.Errorf("a raw path segment left the keeper: %s %s", f.Dir, f.Name)
		}
	}
	if counter(k, CountDuplicate) != 1 {
		t.Errorf("duplicates %d", counter(k, CountDuplicate))
	}
}

func TestSave(t *testing.T) {
	k := New(Options{TempDir: t.TempDir()})
	defer k.Close()
	img := payload(100<<10, 9)
	b := k.Begin(RoleImage)
	feed(b, img)
	b.Finish(Meta{Protocol: "ftp", Server: netip.MustParseAddrPort("[2001:db8::5]:21"), Client: pump1, Path: "/fw/../x.bin", Kind: "ext:.bin"})
	b = k.Begin(RoleCompanion)
	feed(b, []byte("sig"))
	b.Finish(Meta{Protocol: "ftp", Server: netip.MustParseAddrPort("[2001:db8::5]:21"), Client: pump1, Path: "/fw/../x.bin.sig"})
	files := k.Files()
	out := filepath.Join(t.TempDir(), "saved")
	for round := range 2 {
		n, err := Save(out, files)
		if err != nil || n != 2 {
			t.Fatalf("Save: %d, %v", n, err)
		}
		_ = round
	}
	var names []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		rel, _ := filepath.Rel(out, p)
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode().Perm(), want)
		}
		if !d.IsDir() {
			names = append(names, rel)
			data, _ := os.ReadFile(p)
			if strings.HasSuffix(rel, ".bin") && !bytes.Equal(data, img) {
				t.Errorf("%s: saved bytes differ", rel)
			}
		}
		return nil
	})
	// "/fw/../x.bin" is templated to "/fw/{id}/{id}.bin": no ".." reaches the file system.
	want := []string{
		"ftp__2001_db8__5__21/fw/_id_/_id_-2.bin", "ftp__2001_db8__5__21/fw/_id_/_id_.bin",
		"ftp__2001_db8__5__21/fw/_id_/_id_.bin-2.sig", "ftp__2001_db8__5__21/fw/_id_/_id_.bin.sig",
	}
	if !slices.Equal(names, want) {
		t.Errorf("saved %q, want %q (never overwriting)", names, want)
	}
}

func TestCompanion(t *testing.T) {
	for name, want := range map[string]string{
		"pump.bin.sig": ".sig", "pump.bin.ASC": ".asc", "a.p7s": ".p7s", "a.cms": ".cms", "a.gpg": ".gpg",
		"a.sha256": ".sha256", "SHA256SUMS": "manifest", "SHA256SUMS.asc": "manifest", "sha256sums.txt.sig": "manifest",
		"SHA256SUMS.gpg": "manifest", ".sig": "", "pump.bin": "", "MD5SUMS": "manifest", "sha256sums.txt.p7b": "manifest", "a.bin.sign": ".sign", "notes.txt": "", "sig": "",
	} {
		if got := Companion(name); got != want {
			t.Errorf("Companion(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestCloseAll checks that CloseAll, which the CLI calls before exiting at once on a
// second signal, removes the temporary folders of every registered keeper.
func TestCloseAll(t *testing.T) {
	tmp := t.TempDir()
	for i := range 2 {
		k := Register(New(Options{MemPerFile: 1, TempDir: tmp}))
		b := k.Begin(RoleImage)
		b.Write(payload(100, uint64(i)))
	}
	if d, _ := os.ReadDir(tmp); len(d) != 2 {
		t.Fatalf("temporary folders %v, want 2", d)
	}
	CloseAll()
	if d, _ := os.ReadDir(tmp); len(d) != 0 {
		t.Errorf("CloseAll left %v", d)
	}
}
