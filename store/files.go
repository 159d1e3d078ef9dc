package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotWritable matches (errors.Is) the error of Open for a store this process cannot
// write: a read-only file or mount, a directory it may not create files in, or a file
// beside the store (-wal, -shm) that another user left.
var ErrNotWritable = errors.New("store: cannot be written")

// notWritableError carries the message a user reads and matches ErrNotWritable.
type notWritableError struct{ msg string }

func (e *notWritableError) Error() string        { return e.msg }
func (e *notWritableError) Is(target error) bool { return target == ErrNotWritable }

// sideFiles are the files SQLite keeps beside a store: its write-ahead log and the
// shared memory that indexes it, and the rollback journal where WAL is not possible.
var sideFiles = []string{"-wal", "-shm", "-journal"}

// checkWritable refuses, before SQLite touches anything, a store that could not be
// saved to: so that a scan is refused before hours of capture, not at its end. SQLite
// creates and removes its side files in the store's directory, so that must be
// writable too, and so must every side file already there.
func checkWritable(path, abs string) error {
	dir := filepath.Dir(abs)
	if err := canWrite(dir); err != nil {
		return &notWritableError{fmt.Sprintf("store: %s: cannot be written: directory %s: %v", path, dir, err)}
	}
	for _, suffix := range append([]string{""}, sideFiles...) {
		if _, err := os.Lstat(abs + suffix); err != nil {
			continue // absent: SQLite creates it
		}
		if err := canWrite(abs + suffix); err != nil {
			msg := fmt.Sprintf("store: %s: cannot be written: %v", path+suffix, err)
			if suffix != "" {
				msg = fmt.Sprintf("store: %s: cannot be written: %s: %v (remove it when no medscan is using the store)",
					path, path+suffix, err)
			}
			return &notWritableError{msg}
		}
	}
	return nil
}

// readImmutable decides whether OpenReadOnly reads the file as immutable, so that
// SQLite creates no side file. In WAL mode even a read-only connection creates the -wal
// and -shm files when they are absent and leaves them behind, owned by whoever read: in
// a directory that reader cannot write the open fails, and in one it can, the owner's
// next scan fails on files it may not write. So when either side file is missing and
// the reader may not create it, or is not the store's owner, the store is read as
// immutable, straight from the file. When both exist a writer has the store open (or
// crashed), and the store is read through them, creating nothing.
func readImmutable(abs string) bool {
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Lstat(abs + suffix); err != nil {
			return canWrite(filepath.Dir(abs)) != nil || ownedByOtherPath(abs)
		}
	}
	return false
}

func ownedByOtherPath(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && ownedByOther(fi)
}
