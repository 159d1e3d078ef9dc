package lint

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
)

// Limits on what one certificate file may hold, so that an enormous bundle or a
// crafted PKCS #7 cannot exhaust memory; what lies beyond is reported, not read.
const (
	MaxFileCerts = 10000
	MaxCertBytes = 1 << 20
)

// ErrNotCertificate says a file holds no certificate in any format medscan reads.
var ErrNotCertificate = errors.New("not a certificate file (PEM, DER or PKCS #7)")

// oidSignedData is PKCS #7 / CMS SignedData (RFC 5652 §5.1).
var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// ReadCerts splits the contents of a certificate file into DER certificates: PEM (any
// number of CERTIFICATE, TRUSTED CERTIFICATE, X509 CERTIFICATE or PKCS7 blocks, text
// around them ignored), a DER certificate, or DER PKCS #7 SignedData (.p7b, .p7c).
// Certificates are returned as found, however broken: a truncated or malformed
// certificate is for Facts to describe. The error is ErrNotCertificate when nothing in
// the file is a certificate, or says what was skipped (a damaged PEM block, a PKCS #7
// that could not be read, too many certificates) while the certificates read are
// still returned.
func ReadCerts(data []byte) ([][]byte, error) {
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return readPEM(data)
	}
	if len(data) == 0 || data[0] != 0x30 {
		return nil, ErrNotCertificate
	}
	if certs, ok, err := readPKCS7(data); ok {
		if len(certs) == 0 {
			return nil, fmt.Errorf("%w: %v", ErrNotCertificate, err)
		}
		return certs, err
	}
	// A DER private key (encrypted PKCS #8) or request starts the way a certificate
	// does, a SEQUENCE in a SEQUENCE: it is no broken certificate.
	if !looksLikeCert(data) || len(FindMaterial(data)) > 0 {
		return nil, ErrNotCertificate
	}
	if len(data) > MaxCertBytes {
		return nil, fmt.Errorf("a certificate of %d bytes, beyond the limit of %d", len(data), MaxCertBytes)
	}
	return [][]byte{bytes.Clone(data)}, nil
}

// looksLikeCert reports whether DER starts the way a certificate does: a SEQUENCE whose
// first element is a SEQUENCE (the TBSCertificate), however truncated.
func looksLikeCert(data []byte) bool {
	_, hdr, ok := derHeader(data)
	return ok && hdr < len(data) && data[hdr] == 0x30
}

// derHeader reads a DER tag and length: the content length and the header size. A
// length running past the data is allowed (a truncated certificate).
func derHeader(b []byte) (n, hdr int, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	l := int(b[1])
	if l < 0x80 {
		return l, 2, true
	}
	k := l & 0x7f
	if k == 0 || k > 4 || len(b) < 2+k {
		return 0, 0, false
	}
	l = 0
	for _, c := range b[2 : 2+k] {
		l = l<<8 | int(c)
	}
	return l, 2 + k, true
}

func readPEM(data []byte) ([][]byte, error) {
	var out [][]byte
	var problems []string
	for len(data) > 0 {
		b, rest := pem.Decode(data)
		if b == nil {
			if i := bytes.Index(data, []byte("-----BEGIN ")); i >= 0 && bytes.Contains(data[i:], []byte("-----END")) {
				problems = append(problems, "a damaged PEM block was skipped")
			} else if i >= 0 {
				problems = append(problems, "a PEM block without its END line was skipped")
			}
			break
		}
		data = rest
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
			out = append(out, b.Bytes)
		case "PKCS7", "CMS":
			certs, ok, err := readPKCS7(b.Bytes)
			if !ok {
				problems = append(problems, "a "+b.Type+" block is not SignedData")
			}
			if err != nil {
				problems = append(problems, err.Error())
			}
			out = append(out, certs...)
		default:
			// A private key or a request beside the certificates is what a folder of
			// PKI material holds (FindMaterial counts them); anything else is a problem.
			if _, material := pemMaterial[b.Type]; !material {
				problems = append(problems, "a "+b.Type+" block is not a certificate")
			}
		}
		if len(out) > MaxFileCerts {
			out = out[:MaxFileCerts]
			problems = append(problems, fmt.Sprintf("more than %d certificates; the rest were not read", MaxFileCerts))
			break
		}
	}
	if len(out) == 0 {
		if len(problems) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrNotCertificate, problems[0])
		}
		return nil, ErrNotCertificate
	}
	if len(problems) > 0 {
		return out, errors.New(joinProblems(problems))
	}
	return out, nil
}

func joinProblems(p []string) string {
	var b bytes.Buffer
	for i, s := range p {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// readPKCS7 reads the certificates of a PKCS #7 SignedData (RFC 2315 §9.1, RFC 5652
// §5.1): ContentInfo { contentType, [0] EXPLICIT SignedData { version, digestAlgorithms,
// encapContentInfo, [0] IMPLICIT certificates OPTIONAL, ... } }. ok is false when the
// data is not a SignedData ContentInfo at all. Each certificate is returned as its raw
// element; one that is not a SEQUENCE stops reading with an error.
func readPKCS7(data []byte) (certs [][]byte, ok bool, err error) {
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,optional,tag:0"`
	}
	rest, perr := asn1.Unmarshal(data, &ci)
	if perr != nil || !ci.Type.Equal(oidSignedData) {
		return nil, false, nil
	}
	if len(rest) > 0 {
		err = fmt.Errorf("%d bytes after the PKCS #7 structure were ignored", len(rest))
	}
	var sd struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      asn1.RawValue
		Certificates     asn1.RawValue `asn1:"optional,tag:0"`
		CRLs             asn1.RawValue `asn1:"optional,tag:1"`
		SignerInfos      asn1.RawValue
	}
	if _, perr := asn1.Unmarshal(ci.Content.Bytes, &sd); perr != nil {
		return nil, true, fmt.Errorf("PKCS #7 SignedData does not parse: %v", perr)
	}
	in := sd.Certificates.Bytes
	for len(in) > 0 {
		var raw asn1.RawValue
		next, perr := asn1.Unmarshal(in, &raw)
		if perr != nil {
			return certs, true, fmt.Errorf("PKCS #7 certificate %d does not parse: %v", len(certs)+1, perr)
		}
		in = next
		if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence {
			// [0] extendedCertificate, [1] attribute certificates...: not X.509, skipped.
			continue
		}
		if len(certs) >= MaxFileCerts {
			return certs, true, fmt.Errorf("more than %d certificates; the rest were not read", MaxFileCerts)
		}
		certs = append(certs, bytes.Clone(raw.FullBytes))
	}
	if len(certs) == 0 && err == nil {
		err = errors.New("PKCS #7 SignedData without certificates")
	}
	return certs, true, err
}
