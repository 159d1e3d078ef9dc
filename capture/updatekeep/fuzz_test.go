package updatekeep

import (
	"bytes"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"testing"
)

// FuzzFiles keeps images and companions under arbitrary paths, as requests name them on
// the wire, and checks what Files hands on: directories and names made of the inputs'
// path templates alone (a raw identifier is patient data), no more image names than raw
// file names, and sanitised names that cannot leave --save-updates' folder.
func FuzzFiles(f *testing.F) {
	f.Add([]byte("/fw/pump-2.1.bin\n/fw/pump-2.1.bin.sig\n/fw/SHA256SUMS\n/fw/SHA256SUMS.asc"))
	f.Add([]byte("/patients/4471902/x.bin\n/patients/5550123/x.bin\n/patients/4471902/x.bin.p7s"))
	f.Add([]byte("pump.img\npump.img.asc\n../../etc/passwd.bin\n/a/{id}.bin\n/a/{id}~2.bin"))
	f.Fuzz(func(t *testing.T, list []byte) {
		k := New(Options{MinImage: 1, TempDir: t.TempDir()})
		defer k.Close()
		raws := map[string]bool{}
		for i, p := range bytes.Split(list, []byte("\n")) {
			if i >= 32 {
				break
			}
			kind := ""
			if bytes.HasSuffix(p, []byte(".bin")) || bytes.HasSuffix(p, []byte(".img")) {
				kind = "ext:.bin"
				raws[path.Base(string(p))] = true
			}
			b := k.Begin(RoleUnknown)
			b.Write(append([]byte("x"), p...))
			b.Finish(Meta{Protocol: "http", Server: netip.MustParseAddrPort("10.0.0.5:80"), Path: string(p), Kind: kind})
		}
		// What may leave: the directories and base names of the inputs' path templates.
		dirs, bases := map[string]bool{}, map[string]bool{}
		for _, p := range bytes.Split(list, []byte("\n")) {
			d, n := templated(string(p))
			dirs[d], bases[n] = true, true
		}
		names := map[string]bool{}
		for _, f := range k.Files() {
			name := f.Name
			if f.Companion && !manifestName(name) {
				name = name[:strings.LastIndexByte(name, '.')]
			}
			// Two images of one name are told apart by "~N" before the extension; a "~"
			// in the name as served is kept as it is ("a.~.bin").
			unique := name
			if i := strings.LastIndex(name, "~"); i >= 0 {
				rest := name[i+1:]
				j := strings.IndexByte(rest, '.')
				if j < 0 {
					j = len(rest)
				}
				if _, err := strconv.Atoi(rest[:j]); err == nil {
					name = name[:i] + rest[j:]
				}
			}
			if !dirs[f.Dir] || !bases[name] && !bases[unique] && !manifestName(name) {
				t.Fatalf("%q %q is not made of the inputs' path templates", f.Dir, f.Name)
			}
			if s := sanitize(f.Name); strings.ContainsAny(s, "/\\") || strings.HasPrefix(s, ".") {
				t.Fatalf("sanitised name %q", s)
			}
			if !f.Companion {
				names[f.Name] = true
			}
		}
		if len(names) > len(raws) {
			t.Fatalf("%d image names for %d raw names", len(names), len(raws))
		}
	})
}
