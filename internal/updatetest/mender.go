// Package updatetest holds what the code-signing tests of more than one package do to
// update images: the attacker's edits that a signature must catch.
package updatetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

// TamperMender is what an attacker does to a signed Mender artifact: the payload
// (data/0000.tar.gz) unpacked, one byte in the middle of each of its files changed, and
// packed again, the manifest and its signature left as they were.
func TamperMender(tb testing.TB, artifact []byte) []byte {
	tb.Helper()
	return rewriteTar(tb, artifact, func(name string, b []byte) []byte {
		if name != "data/0000.tar.gz" {
			return b
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			tb.Fatal(err)
		}
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(rewriteTar(tb, mustRead(tb, zr), func(_ string, f []byte) []byte {
			if len(f) > 0 {
				f[len(f)/2] ^= 0x01
			}
			return f
		}))
		if err := zw.Close(); err != nil {
			tb.Fatal(err)
		}
		return out.Bytes()
	})
}

// rewriteTar copies a tar archive, each member's contents through edit.
func rewriteTar(tb testing.TB, archive []byte, edit func(name string, b []byte) []byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		b := edit(h.Name, mustRead(tb, tr))
		h.Size = int64(len(b))
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func mustRead(tb testing.TB, r io.Reader) []byte {
	tb.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
