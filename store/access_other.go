//go:build !unix

package store

import "os"

// canWrite is left to SQLite where the kernel cannot be asked as on Unix.
func canWrite(string) error { return nil }

// ownedByOther: files have no Unix owner here.
func ownedByOther(os.FileInfo) bool { return false }
