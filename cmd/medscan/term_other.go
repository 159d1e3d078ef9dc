//go:build !unix

package main

import "os"

// ttyColumns is the width of the terminal f, 0 when unknown ($COLUMNS is read first).
func ttyColumns(f *os.File) int { return 0 }
