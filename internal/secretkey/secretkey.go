// Package secretkey keeps the key of medscan's credential hashes in a file of its own,
// outside every store: with a store alone, a stored hash cannot be checked against a
// guess of the secret. The file is 32 random bytes, mode 0600, in a directory of mode
// 0700; sensors of one site that share the file (copied to each) hash a secret alike, so
// that their hashes compare.
package secretkey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Size is the length of a key, in bytes.
const Size = 32

// DefaultPath is $XDG_CONFIG_HOME/medscan/secret.key, or ~/.config/medscan/secret.key
// when XDG_CONFIG_HOME is unset (os.UserConfigDir).
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("secret key: no configuration directory for the default key file (%v); give --secret-key-file", err)
	}
	return filepath.Join(dir, "medscan", "secret.key"), nil
}

// Fingerprint names a key without revealing it: the hex of the first 8 bytes of its
// SHA-256. Hashes made under keys of different fingerprints do not compare.
func Fingerprint(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// Read reads the key file at path. A missing file is an error matching fs.ErrNotExist;
// a file that group or others may read, that is not a regular file, or that does not hold
// exactly Size bytes is refused, its error naming the file and what is wrong.
func Read(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, unwrapPath(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret key file %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s: mode %04o lets group or others read it; chmod 600 %s", path, perm, path)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, unwrapPath(err))
	}
	if len(key) != Size {
		return nil, fmt.Errorf("secret key file %s: %d bytes, want %d (not a medscan key file?)", path, len(key), Size)
	}
	return key, nil
}

// Create writes key to a new file at path, mode 0600, creating its directory with mode
// 0700 when absent. It never replaces a file: when one exists (another process may have
// just created it), the error matches fs.ErrExist. The file appears whole or not at all.
func Create(path string, key []byte) error {
	if len(key) != Size {
		return fmt.Errorf("secret key file %s: key is %d bytes, want %d", path, len(key), Size)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("secret key file %s: creating directory: %w", path, unwrapPath(err))
	}
	tmp, err := os.CreateTemp(dir, ".secret.key-*")
	if err != nil {
		return fmt.Errorf("secret key file %s: %w", path, unwrapPath(err))
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; Chmod says so whatever the umask.
	_, err = tmp.Write(key)
	for _, step := range []func() error{func() error { return tmp.Chmod(0o600) }, tmp.Sync, tmp.Close} {
		if err != nil {
			break
		}
		err = step()
	}
	if err != nil {
		tmp.Close()
		return fmt.Errorf("secret key file %s: writing: %w", path, unwrapPath(err))
	}
	// A hard link is an exclusive create of a complete file: it fails when path exists.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("secret key file %s: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("secret key file %s: %w", path, unwrapPath(err))
	}
	return nil
}

// New returns a fresh random key.
func New() ([]byte, error) {
	key := make([]byte, Size)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return key, nil
}

// LoadOrCreate reads the key file at path, or creates it with seed (a new random key
// when seed is nil) when it does not exist; created reports which. Two processes that
// create it at once both end up with the one that won.
func LoadOrCreate(path string, seed []byte) (key []byte, created bool, err error) {
	key, err = Read(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if seed == nil {
		if seed, err = New(); err != nil {
			return nil, false, err
		}
	}
	switch err := Create(path, seed); {
	case errors.Is(err, fs.ErrExist):
		key, err = Read(path)
		return key, false, err
	case err != nil:
		return nil, false, err
	}
	return seed, true, nil
}

// unwrapPath drops the *PathError's own copy of the path, which the message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
