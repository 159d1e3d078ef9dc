package updatekeep

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medscan/medscan/observe"
)

// File is one kept file as package codesign takes it (codesign.File has the same
// fields): the scan converts one into the other.
type File struct {
	Name    string // base name, templated ("{id}.bin", "{id}.bin.sig", "SHA256SUMS.asc")
	Dir     string // the directory of the templated URL path or file name ("/fw", "/", ".")
	Origin  string // "http://10.0.0.5:80", "ftp://10.0.0.5:21", "tftp://10.0.0.5:69"
	Size    int64  // bytes of the whole transfer
	SHA256  string // hex, of the whole transfer (also when Cut)
	Cut     bool   // only the first MaxImage (or MaxCompanion) bytes were kept: Open gives those
	Open    func() (io.ReadSeekCloser, error)
	Clients []string // the devices that received it, sorted
	// WireSHA256 lists, sorted, the SHA-256 of each gzip stream (an HTTP body under
	// Content-Encoding: gzip) that decoded to these bytes: the digest a dissector took
	// of the bytes on the wire, which names this image. Empty when it came as it is.
	WireSHA256 []string
	// Companion is true for a signature, digest or manifest kept for an image beside it.
	Companion bool
	Time      time.Time // when it was first fetched (capture time)
	// RawName is the base name as served ("pump-2.1.bin"), for matching the policy's
	// image patterns (code_signing must_sign, a vendor's images) in memory, at
	// examination time. It may carry identifiers (patient data): it is never stored,
	// printed, saved or used as a name; Name is.
	RawName string
}

// Files pairs the kept bodies and names them. It returns every image of at least
// MinImage bytes, and every companion fetched from the same server and directory as one
// of them: a signature or digest named after an image (its name plus a suffix from
// sigSuffixes), or a checksum manifest. Companions with no image beside them are
// dropped (counted once, here). The result is sorted by origin, directory, name and
// SHA-256. The files stay readable until Close.
func (k *Keeper) Files() []File {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	type group struct {
		origin, rawDir string
		images         []*entry
		companions     []*entry
	}
	groups := map[string]*group{}
	for _, e := range k.kept {
		origin := e.proto + "://" + e.server.String()
		dir := rawDir(e.path)
		key := origin + "\x00" + dir
		g := groups[key]
		if g == nil {
			g = &group{origin: origin, rawDir: dir}
			groups[key] = g
		}
		if e.role == RoleImage {
			g.images = append(g.images, e)
		} else {
			g.companions = append(g.companions, e)
		}
	}
	keys := make([]string, 0, len(groups))
	for key := range groups {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	// Each distinct raw image name gets one name for the whole scan, its template told
	// apart from the others' by "~2", "~3"... in the order of the raw names: the same
	// file name on two servers stays one name (update-inconsistent compares images by
	// name), and two names that share a template stay two.
	firstPath := map[string]string{}
	for _, e := range k.kept {
		if e.role != RoleImage {
			continue
		}
		b := path.Base(e.path)
		if p, ok := firstPath[b]; !ok || e.path < p {
			firstPath[b] = e.path
		}
	}
	raws := make([]string, 0, len(firstPath))
	for b := range firstPath {
		raws = append(raws, b)
	}
	slices.Sort(raws)
	names := make(map[string]string, len(raws))
	taken := map[string]bool{}
	for _, raw := range raws {
		_, n := templated(firstPath[raw])
		name := n
		for j := 2; taken[name]; j++ {
			name = withSuffix(n, "~"+strconv.Itoa(j))
		}
		taken[name] = true
		names[raw] = name
	}
	var out []File
	unpaired := uint64(0)
	for _, key := range keys {
		g := groups[key]
		if len(g.images) == 0 {
			unpaired += uint64(len(g.companions))
			continue
		}
		tdir, _ := templated(g.images[0].path)
		var here []string // the raw image names of this directory
		for _, e := range g.images {
			if b := path.Base(e.path); !slices.Contains(here, b) {
				here = append(here, b)
			}
		}
		for _, e := range g.images {
			out = append(out, e.asFile(g.origin, tdir, names[path.Base(e.path)], false))
		}
		for _, c := range g.companions {
			base := path.Base(c.path)
			var name string
			if manifestName(base) {
				name = base // one of a fixed set of names: nothing personal
			} else {
				for _, raw := range here {
					suffix := base[min(len(raw), len(base)):]
					if len(base) > len(raw) && base[:len(raw)] == raw && slices.Contains(sigSuffixes, strings.ToLower(suffix)) {
						name = names[raw] + strings.ToLower(suffix)
						break
					}
				}
			}
			if name == "" {
				unpaired++
				continue
			}
			out = append(out, c.asFile(g.origin, tdir, name, true))
		}
	}
	k.counts[CountUnpaired] = unpaired // set, not added: Files may be asked twice
	k.counts[CountKept] = uint64(len(out))
	slices.SortFunc(out, func(a, b File) int {
		return cmp.Or(cmp.Compare(a.Origin, b.Origin), cmp.Compare(a.Dir, b.Dir), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.SHA256, b.SHA256))
	})
	return out
}

func (e *entry) asFile(origin, dir, name string, companion bool) File {
	return File{Name: name, Dir: dir, Origin: origin, Size: e.size, SHA256: e.sha256, Cut: e.cut, Open: e.open,
		Clients: slices.Clone(e.clients), WireSHA256: slices.Clone(e.wire), Companion: companion, Time: e.time, RawName: path.Base(e.path)}
}

// rawDir is the directory of a raw path, "." when it has none (a TFTP file name).
func rawDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		if i == 0 {
			return "/"
		}
		return p[:i]
	}
	return "."
}

// templated splits the path template of p into its directory and base name.
func templated(p string) (dir, name string) {
	t := observe.PathTemplate(p)
	if p == "" || !strings.Contains(p, "/") {
		// A bare file name (TFTP, an FTP path relative to the session's directory).
		t = strings.TrimPrefix(observe.PathTemplate("/"+p), "/")
	}
	return rawDir(t), path.Base(t)
}

// withSuffix inserts s before a name's extension ("{id}.bin" -> "{id}~2.bin").
func withSuffix(name, s string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i] + s + name[i:]
	}
	return name + s
}

// Save writes files under dir (made with mode 0700 when missing): each in a folder named
// after its origin and templated directory, under a sanitised name, mode 0600, never
// overwriting a file (a name taken gets "-2", "-3"... before its extension). It returns
// how many files it wrote.
func Save(dir string, files []File) (int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("--save-updates %s: %w", dir, errors.Unwrap(err))
	}
	n := 0
	for _, f := range files {
		sub := filepath.Join(dir, sanitize(strings.Replace(f.Origin, "://", "_", 1)))
		for _, seg := range strings.Split(f.Dir, "/") {
			if seg != "" && seg != "." && seg != ".." {
				sub = filepath.Join(sub, sanitize(seg))
			}
		}
		if err := os.MkdirAll(sub, 0o700); err != nil {
			return n, fmt.Errorf("--save-updates %s: %w", sub, errors.Unwrap(err))
		}
		if err := saveOne(sub, sanitize(f.Name), f); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// maxNameTries bounds the search for a free name.
const maxNameTries = 1000

func saveOne(dir, name string, f File) error {
	r, err := f.Open()
	if err != nil {
		return fmt.Errorf("--save-updates: %s: %w", name, err)
	}
	defer r.Close()
	var out *os.File
	for i := 1; i <= maxNameTries; i++ {
		n := name
		if i > 1 {
			n = withSuffix(name, "-"+strconv.Itoa(i))
		}
		out, err = os.OpenFile(filepath.Join(dir, n), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("--save-updates: %s: %w", filepath.Join(dir, name), err)
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("--save-updates: %s: %w", out.Name(), err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("--save-updates: %s: %w", out.Name(), err)
	}
	return nil
}

// sanitize makes a safe file name: letters, digits, '.', '-' and '_' kept, anything
// else '_', never empty and never starting with a dot.
func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			b[i] = '_'
		}
	}
	s = string(b)
	if s == "" || s[0] == '.' {
		s = "_" + s
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
