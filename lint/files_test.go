package lint

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"testing"
)

// pkcs7 builds a degenerate PKCS #7 SignedData (certificates only), as .p7b files are.
func pkcs7(tb testing.TB, certs ...[]byte) []byte {
	tb.Helper()
	var set []byte
	for _, c := range certs {
		set = append(set, c...)
	}
	sd, err := asn1.Marshal(struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      struct{ Type asn1.ObjectIdentifier }
		Certificates     asn1.RawValue
		SignerInfos      asn1.RawValue
	}{
		Version:          1,
		DigestAlgorithms: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
		ContentInfo:      struct{ Type asn1.ObjectIdentifier }{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: set},
		SignerInfos:      asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true},
	})
	if err != nil {
		tb.Fatal(err)
	}
	out, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{oidSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestReadCerts(t *testing.T) {
	a := mkcert(t, "a", nil, nil).der
	b := mkcert(t, "b", nil, nil).der
	pemOf := func(typ string, d []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d}) }
	p7 := pkcs7(t, a, b)
	tests := []struct {
		name    string
		data    []byte
		want    int
		wantErr bool
		notCert bool
	}{
		{"DER", a, 1, false, false},
		{"PEM bundle with text around", append(append([]byte("subject=a\n"), pemOf("CERTIFICATE", a)...), pemOf("CERTIFICATE", b)...), 2, false, false},
		{"PKCS #7 DER", p7, 2, false, false},
		{"PKCS #7 PEM", pemOf("PKCS7", p7), 2, false, false},
		{"truncated DER is a certificate to describe", a[:len(a)/2], 1, false, false},
		// A key beside the certificates is PKI material FindMaterial counts, not a problem.
		{"PEM with a key block", append(pemOf("CERTIFICATE", a), pemOf("PRIVATE KEY", []byte{1})...), 1, false, false},
		{"PEM with a block of another kind", append(pemOf("CERTIFICATE", a), pemOf("X509 CRL", []byte{1})...), 1, true, false},
		{"only a key", pemOf("PRIVATE KEY", []byte{1}), 0, true, true},
		{"text", []byte("hello"), 0, true, true},
		{"empty", nil, 0, true, true},
		{"DER that is not a certificate", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, 0, true, true},
		{"PEM without END", []byte("-----BEGIN CERTIFICATE-----\nMIIB"), 0, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadCerts(tc.data)
			if len(got) != tc.want || (err != nil) != tc.wantErr || errors.Is(err, ErrNotCertificate) != tc.notCert {
				t.Errorf("%d certs, err %v", len(got), err)
			}
		})
	}
	got, _ := ReadCerts(p7)
	if !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) {
		t.Error("PKCS #7 certificates differ from what was put in")
	}
}

func FuzzReadCerts(f *testing.F) {
	a := mkcert(f, "fuzz", nil, nil).der
	f.Add(a)
	f.Add(pkcs7(f, a, a))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: pkcs7(f, a)}))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff, 0x30})
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ReadCerts(data)
		if len(certs) > MaxFileCerts {
			t.Fatalf("%d certificates", len(certs))
		}
		if err == nil && len(certs) == 0 {
			t.Fatal("no certificate and no error")
		}
		for _, c := range certs {
			f := Facts(c) // every certificate read must be describable without a panic
			if f == nil {
				t.Fatal("nil facts")
			}
		}
	})
}
