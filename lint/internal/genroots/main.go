// Command genroots writes lint/webpki_roots.txt: the SHA-256 of the subject name (DER) of
// every root in a PEM bundle of public WebPKI roots, with the name for readers. lint
// matches issuer names against it to decide that a chain belongs to the public WebPKI.
//
//	go run ./lint/internal/genroots -in /etc/ssl/certs/ca-certificates.crt -o lint/webpki_roots.txt
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

func main() {
	in := flag.String("in", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of public roots (Mozilla's, as Debian's ca-certificates ships it)")
	out := flag.String("o", "lint/webpki_roots.txt", "output file")
	source := flag.String("source", "Debian ca-certificates 20230311+deb12u1 (Mozilla root store)", "where the bundle came from, for the header")
	flag.Parse()
	if err := run(*in, *out, *source); err != nil {
		fmt.Fprintln(os.Stderr, "genroots:", err)
		os.Exit(1)
	}
}

func run(in, out, source string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var lines []string
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		sum := sha256.Sum256(c.RawSubject)
		name := strings.ReplaceAll(c.Subject.String(), "\n", " ")
		lines = append(lines, fmt.Sprintf("%x %s", sum, name))
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s: no certificate", in)
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Public WebPKI root names: SHA-256 of the subject name DER, then the name.\n")
	fmt.Fprintf(&b, "# From %s; regenerate with go run ./lint/internal/genroots.\n", source)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}
