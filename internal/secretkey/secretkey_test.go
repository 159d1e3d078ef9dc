package secretkey

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateMakesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "medscan", "secret.key")
	key, created, err := LoadOrCreate(path, nil)
	if err != nil || !created || len(key) != Size {
		t.Fatalf("LoadOrCreate = %d bytes, created %v, %v", len(key), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory mode %v, %v; want 0700", di.Mode(), err)
	}
	again, created, err := LoadOrCreate(path, nil)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Fatalf("second LoadOrCreate: created %v, same key %v, %v", created, bytes.Equal(again, key), err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".secret.key-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestLoadOrCreateKeepsSeedAndNeverReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	seed := bytes.Repeat([]byte{7}, Size)
	key, created, err := LoadOrCreate(path, seed)
	if err != nil || !created || !bytes.Equal(key, seed) {
		t.Fatalf("LoadOrCreate(seed) = %x, %v, %v", key, created, err)
	}
	other := bytes.Repeat([]byte{9}, Size)
	key, created, err = LoadOrCreate(path, other)
	if err != nil || created || !bytes.Equal(key, seed) {
		t.Fatalf("an existing file must win over a seed: got %x, created %v, %v", key, created, err)
	}
	if err := Create(path, other); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing file: %v, want ErrExist", err)
	}
}

func TestConcurrentCreateAgrees(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, _, err := LoadOrCreate(path, nil)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent creators ended with different keys")
		}
	}
}

func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := bytes.Repeat([]byte{1}, Size)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"group-readable", write("g.key", good, 0o640), "mode 0640 lets group or others read it"},
		{"world-readable", write("w.key", good, 0o604), "mode 0604"},
		{"short", write("s.key", good[:16], 0o600), "16 bytes, want 32"},
		{"long", write("l.key", append(good, '\n'), 0o600), "33 bytes, want 32"},
		{"directory", dir, "not a regular file"},
		{"missing", filepath.Join(dir, "none.key"), "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("Read(%s) = %v, want an error naming the file and %q", tc.path, err, tc.want)
			}
		})
	}
	if _, err := Read(filepath.Join(dir, "none.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v does not match fs.ErrNotExist", err)
	}
	if k, err := Read(write("ok.key", good, 0o400)); err != nil || !bytes.Equal(k, good) {
		t.Fatalf("Read of a 0400 key: %v", err)
	}
}

func TestDefaultPathFollowsXDG(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/x/cfg")
	if p, err := DefaultPath(); err != nil || p != "/x/cfg/medscan/secret.key" {
		t.Fatalf("DefaultPath = %q, %v", p, err)
	}
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "/home/u")
	if p, err := DefaultPath(); err != nil || p != "/home/u/.config/medscan/secret.key" {
		t.Fatalf("DefaultPath without XDG = %q, %v", p, err)
	}
}

func TestFingerprint(t *testing.T) {
	a, b := Fingerprint(bytes.Repeat([]byte{1}, Size)), Fingerprint(bytes.Repeat([]byte{2}, Size))
	if len(a) != 16 || a == b || a != Fingerprint(bytes.Repeat([]byte{1}, Size)) {
		t.Fatalf("fingerprints %q, %q", a, b)
	}
}
