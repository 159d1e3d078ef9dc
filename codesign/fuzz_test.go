package codesign

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"testing"

	"github.com/medscan/medscan/observe"
)

// FuzzCMS feeds parseCMS and the signer verification arbitrary bytes: no panic, and a
// parsed SignedData always has a signer.
func FuzzCMS(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0x00, 0x00, 0x00, 0x00})
	f.Add([]byte("-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n"))
	f.Add([]byte("MIME-Version: 1.0\nContent-Type: multipart/signed; boundary=\"b\"\n\n--b\n\nx\n--b\nContent-Type: application/pkcs7-signature\n\nMAA=\n--b--\n"))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		p7, err := parseCMS(data)
		if err != nil {
			return
		}
		if len(p7.Signers) == 0 {
			t.Fatal("parsed SignedData without a signer")
		}
		content := []byte("image")
		for _, v := range viewsOf(p7) {
			r := verifySigner(v, p7.Certificates, func(h crypto.Hash) ([]byte, error) { return memDigest(content, h), nil })
			if r.verifies && r.cert == nil {
				t.Fatal("verified without a certificate")
			}
			checkTimestamp(v, p7.Certificates, nil)
		}
	})
}

// FuzzOpenPGP feeds the OpenPGP signature reader and the key reader arbitrary bytes.
func FuzzOpenPGP(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP SIGNATURE-----\n\niQ==\n=AAAA\n-----END PGP SIGNATURE-----\n"))
	f.Add([]byte{0x88, 0x04, 0x04, 0x00, 0x08, 0x01})
	f.Add([]byte{0xc2, 0x05, 0x04, 0x00, 0x08, 0x16, 0x00})
	f.Add([]byte{0x99, 0x00, 0x0d, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		sig := checkOpenPGP(emptySig(), data, memOpener([]byte("image")), nil, &keyring{})
		if sig.Verifies {
			t.Fatal("verified without any key")
		}
		readKeys(data)
		isOpenPGPPublicKey(data)
		sigKindOf(data)
	})
}

// FuzzPECertTable feeds the certificate-table walk and the PE layout reader arbitrary
// bytes: entries stay within the table.
func FuzzPECertTable(f *testing.F) {
	entry := make([]byte, 16)
	binary.LittleEndian.PutUint32(entry, 12)
	binary.LittleEndian.PutUint16(entry[4:], 0x200)
	binary.LittleEndian.PutUint16(entry[6:], 2)
	f.Add(entry)
	f.Add([]byte("MZ\x90\x00"))
	f.Add(append([]byte("MZ"), make([]byte, 200)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		sigs, _ := peSignatures(data)
		total := 0
		for _, s := range sigs {
			total += len(s)
		}
		if total > len(data) {
			t.Fatalf("%d signature bytes from a %d-byte table", total, len(data))
		}
		r := bytes.NewReader(data)
		if l, err := readPELayout(r, int64(len(data))); err == nil && l.certOff != 0 && l.certOff+l.certSize > int64(len(data)) {
			t.Fatal("certificate table beyond the file accepted")
		}
		f := &File{Name: "x.exe", Size: int64(len(data)), Open: memOpener(data)}
		examineAuthenticode(f, nil)
	})
}

// FuzzManifest feeds the checksum-list parser arbitrary text: every entry has a digest
// of its hash's length.
func FuzzManifest(f *testing.F) {
	f.Add([]byte("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.bin\n"))
	f.Add([]byte("SHA256 (pump.bin) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"))
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nd41d8cd98f00b204e9800998ecf8427e *a\n-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, e := range parseManifest(data) {
			if name == "" || len(e.sum) != 2*e.hash.Size() {
				t.Fatalf("entry %q: %d hex digits for %v", name, len(e.sum), e.hash)
			}
		}
		c := &classified{f: &File{Name: "SHA256SUMS.asc", Size: int64(len(data)), Open: memOpener(data)}}
		m := readManifest(c, nil, &keyring{})
		if s := m.sigFor(nil); s != nil && s.Verifies {
			t.Fatal("a manifest verified without any key")
		}
		versionFromName(string(data))
	})
}

func emptySig() observe.UpdateSignature { return observe.UpdateSignature{Trust: TrustNotJudged} }

// FuzzRAUC feeds the RAUC trailer reader arbitrary files: a signature it returns lies
// within the file, and a verified one names its signer.
func FuzzRAUC(f *testing.F) {
	seed := append([]byte("hsqs"), make([]byte, 5000)...)
	seed = append(seed, 0x30, 0x03, 0x02, 0x01, 0x01)
	seed = binary.BigEndian.AppendUint64(seed, 5)
	f.Add(seed)
	f.Add(binary.BigEndian.AppendUint64(append([]byte("hsqs"), make([]byte, 4200)...), 100))
	f.Fuzz(func(t *testing.T, data []byte) {
		sig, payload, ok := raucTrailer(bytes.NewReader(data), int64(len(data)))
		if ok && (payload < 0 || payload+int64(len(sig))+8 != int64(len(data))) {
			t.Fatalf("signature of %d bytes after a %d-byte payload in %d bytes", len(sig), payload, len(data))
		}
		for _, s := range examineRAUC(&File{Name: "x.raucb", Size: int64(len(data)), Open: memOpener(data)}, nil) {
			if s.Verifies && s.Signer.Subject == "" {
				t.Fatal("verified without naming the signer")
			}
		}
	})
}
