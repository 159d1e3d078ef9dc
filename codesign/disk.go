package codesign

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// MaxDiskFiles bounds the files one medscan verify reads (a folder of a vendor delivery
// holds tens, not millions).
const MaxDiskFiles = 100000

// DiskFiles lists the files named (and, for a folder, the regular files under it) as
// Files of origin "file", each in the directory it lies in, hashed. Symbolic links inside
// folders are not followed. A name that does not exist, or is neither a file nor a
// folder, is an error naming it.
func DiskFiles(names []string, at time.Time) ([]File, error) {
	var out []File
	add := func(p string, info fs.FileInfo) error {
		if len(out) >= MaxDiskFiles {
			return fmt.Errorf("more than %d files", MaxDiskFiles)
		}
		p = filepath.Clean(p)
		f := File{Name: filepath.Base(p), Dir: filepath.ToSlash(filepath.Dir(p)), Origin: "file", Size: info.Size(), Time: at}
		path := p
		f.Open = func() (io.ReadSeekCloser, error) { return os.Open(path) }
		sum, n, err := hashFile(&f)
		if err != nil {
			return err
		}
		f.SHA256, f.Size = sum, n
		out = append(out, f)
		return nil
	}
	for _, n := range names {
		info, err := os.Stat(n)
		if err != nil {
			return nil, err
		}
		switch {
		case info.Mode().IsRegular():
			if err := add(n, info); err != nil {
				return nil, err
			}
		case info.IsDir():
			err := filepath.WalkDir(n, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.Type().IsRegular() {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				return add(p, info)
			})
			if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: neither a file nor a folder", n)
		}
	}
	slices.SortFunc(out, func(a, b File) int {
		if a.Dir != b.Dir {
			if a.Dir < b.Dir {
				return -1
			}
			return 1
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	out = slices.CompactFunc(out, func(a, b File) bool { return a.Dir == b.Dir && a.Name == b.Name })
	return out, nil
}

// SHA256Hex is the hex SHA-256 of b.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
